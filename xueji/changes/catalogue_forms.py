"""Forms for the catalogue editor and the rule parameters. They parse only; the services in
`xueji.changes.catalogue` validate against the regulation and save."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xueji.changes.catalogue import CHSI_CATEGORIES, PARAMETER_FIELDS
from xueji.changes.fields import field_choices
from xueji.changes.models import ChangeType, DateEffect, Initiator, RuleParameters
from xueji.changes.rules import rule_choices
from xueji.org.forms import BootstrapForm
from xueji.students.models import StudentStatus
from xueji.workflow.models import StepKind


class CheckboxListField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple


class ChangeTypeForm(BootstrapForm):
    code = forms.SlugField(
        label=_("代码"),
        max_length=40,
        help_text=_("小写字母、数字、下划线；创建后不能修改"),
    )
    name = forms.CharField(label=_("名称"), max_length=40)
    name_en = forms.CharField(label=_("英文名称"), max_length=80, required=False)
    description = forms.CharField(
        label=_("说明"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("给申请人和审批人看的说明，可写明依据的条款"),
    )
    is_active = forms.BooleanField(label=_("启用"), required=False)
    order = forms.IntegerField(label=_("排序"), min_value=0, max_value=32767)
    chsi_category = forms.ChoiceField(
        label=_("学信网异动类别码"),
        required=False,
        choices=[("", _("无（本校自定义）")), *CHSI_CATEGORIES.items()],
        help_text=_("学籍异动上报学信网时使用的类别"),
    )
    target_status = forms.ChoiceField(
        label=_("变更后在校状态"),
        required=False,
        choices=[("", _("不变")), *StudentStatus.choices],
    )
    from_statuses = CheckboxListField(
        label=_("适用的当前状态"),
        required=False,
        choices=StudentStatus.choices,
        help_text=_("不选表示所有保留学籍的状态（在校、休学、保留学籍）"),
    )
    moves_org = forms.BooleanField(label=_("变更学院/专业/班级"), required=False)
    moves_cohort = forms.BooleanField(label=_("变更年级"), required=False)
    graduation_effect = forms.ChoiceField(label=_("预计毕业日期"), choices=DateEffect.choices)
    max_study_effect = forms.ChoiceField(
        label=_("最长学习年限截止日期"),
        choices=DateEffect.choices,
        help_text=_("第二十五条：最长学习年限含休学和保留学籍的时间，一般选“不变”"),
    )
    has_period = forms.BooleanField(
        label=_("有起止期限"), required=False, help_text=_("申请人须填写截止日期")
    )
    applicant_fields = CheckboxListField(
        label=_("申请填写项"), required=False, choices=field_choices()
    )
    required_attachments = forms.CharField(
        label=_("必交材料"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("每行一种材料"),
    )
    initiators = CheckboxListField(label=_("可发起人"), choices=Initiator.choices)
    steps = CheckboxListField(
        label=_("审批环节"),
        choices=StepKind.choices,
        help_text=_("按所列顺序依次审批；退学、取消学籍、开除学籍须含“校长办公会决定”"),
    )
    college_may_finish = forms.BooleanField(
        label=_("授权学院终审"),
        required=False,
        help_text=_("学院审核同意即办结，跳过学校学籍管理部门审核；校长办公会环节不会跳过"),
    )
    batch_approvable = forms.BooleanField(label=_("允许批量审批"), required=False)
    step_days = forms.IntegerField(label=_("每步办理期限（天）"), min_value=1, max_value=60)
    rules = CheckboxListField(label=_("校验规则"), required=False, choices=rule_choices())
    notify_departments = forms.BooleanField(label=_("通知相关部门"), required=False)

    def __init__(self, *args: Any, instance: ChangeType | None = None, **kwargs: Any) -> None:
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_from(instance)
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxSelectMultiple):
                field.widget.attrs["class"] = "form-check-input"
        if instance is not None:
            self.fields["code"].disabled = True

    @staticmethod
    def initial_from(instance: ChangeType) -> dict[str, Any]:
        initial = {name: getattr(instance, name) for name in ChangeTypeForm.base_fields}
        initial["required_attachments"] = "\n".join(instance.required_attachments)
        return initial

    def declarations(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["required_attachments"] = [
            line.strip() for line in data["required_attachments"].splitlines() if line.strip()
        ]
        # Steps are ordered by the engine's canonical order (counsellor → … → 校长办公会).
        order = [kind.value for kind in StepKind]
        data["steps"] = sorted(data["steps"], key=order.index)
        if self.fields["code"].disabled:
            data.pop("code")
        return data


class RuleParametersForm(BootstrapForm):
    max_extra_years = forms.DecimalField(
        label=RuleParameters._meta.get_field("max_extra_years").verbose_name,
        max_digits=3,
        decimal_places=1,
        help_text=_("第二十五条：最长学习年限 = 学制 + 此年数（含休学和保留学籍）"),
    )
    suspension_max_times = forms.IntegerField(
        label=_("休学次数上限"), min_value=0, help_text=_("第二十五条：休学次数由学校规定")
    )
    suspension_max_months = forms.IntegerField(label=_("每次休学最长（月）"), min_value=1)
    suspension_total_months = forms.IntegerField(label=_("累计休学最长（月）"), min_value=1)
    military_keep_years = forms.IntegerField(
        label=_("入伍保留学籍：退役后年数"),
        min_value=0,
        help_text=_("第二十七条：保留学籍至退役后 2 年"),
    )
    military_keep_years_2005 = forms.IntegerField(
        label=_("入伍保留学籍：退役后年数（2005 年规定）"),
        min_value=0,
        help_text=_("2017 年 9 月 1 日前入学的学生适用教育部令第21号：退役后 1 年"),
    )
    recheck_months = forms.IntegerField(
        label=_("入学复查期限（月）"), min_value=1, help_text=_("第十一条：入学后 3 个月内复查")
    )
    major_change_max_times = forms.IntegerField(label=_("转专业次数上限"), min_value=0)
    major_change_min_terms = forms.IntegerField(
        label=_("转专业前至少完成学期数"),
        min_value=0,
        help_text=_("第二十一条：转专业的具体办法由学校制定"),
    )

    @staticmethod
    def initial_from(params: RuleParameters) -> dict[str, Any]:
        return {name: getattr(params, name) for name in PARAMETER_FIELDS}
