"""Forms of the exchange pages: they parse input; the rules live in the services."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.apps import apps
from django.utils.translation import gettext_lazy as _

from xueji.accounts.models import User
from xueji.exchange.models import DeliveryState, Department


class EventFilterForm(forms.Form):
    overdue = forms.BooleanField(label=_("只看逾期未确认"), required=False)
    state = forms.ChoiceField(
        label=_("投递状态"), required=False, choices=[("", _("全部状态")), *DeliveryState.choices]
    )
    department = forms.ModelChoiceField(
        label=_("部门"),
        required=False,
        queryset=Department.objects.order_by("code"),
        empty_label=_("全部部门"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["state"].widget.attrs["class"] = "form-select"
        self.fields["department"].widget.attrs["class"] = "form-select"
        self.fields["overdue"].widget.attrs["class"] = "form-check-input"

    def filters(self) -> dict[str, Any]:
        if not self.is_valid():
            return {"overdue_only": False, "state": "", "department": None}
        data = self.cleaned_data
        department = data.get("department")
        return {
            "overdue_only": bool(data.get("overdue")),
            "state": data.get("state") or "",
            "department": department.pk if department else None,
        }


class AckForm(forms.Form):
    note = forms.CharField(label=_("备注"), required=False, max_length=400)


def change_type_choices() -> list[tuple[str, str]]:
    """The change-type catalogue, looked up through the app registry: `changes` sits above
    `exchange` (it emits the events), so importing its models here would make a cycle."""
    try:
        model = apps.get_model("changes", "ChangeType")
    except LookupError:
        return []
    return [(t.code, f"{t.name}（{t.code}）") for t in model.objects.order_by("order", "code")]


class DepartmentForm(forms.Form):
    code = forms.CharField(
        label=_("部门代码"),
        max_length=40,
        help_text=_("小写字母、数字、下划线，如 finance；创建后不能修改。"),
    )
    name = forms.CharField(label=_("部门名称"), max_length=60)
    webhook_url = forms.CharField(
        label=_("接收地址"),
        required=False,
        max_length=400,
        help_text=_("部门系统接收事件的 http(s) 地址；留空则只在页面上查看并确认。"),
    )
    is_active = forms.BooleanField(label=_("启用"), required=False)
    change_types = forms.MultipleChoiceField(
        label=_("订阅的异动类型"),
        required=False,
        help_text=_("不选表示接收全部类型。"),
        widget=forms.CheckboxSelectMultiple,
    )
    ack_hours = forms.IntegerField(label=_("确认时限（小时）"), min_value=1, initial=72)
    members = forms.CharField(
        label=_("部门经办人"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "用户名，以逗号或换行分隔；经办人在“部门收件箱”确认收到，或用本人的 API 令牌确认。"
        ),
    )

    def __init__(self, *args: Any, department: Department | None = None, **kwargs: Any) -> None:
        if department is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "code": department.code,
                "name": department.name,
                "webhook_url": department.webhook_url,
                "is_active": department.is_active,
                "change_types": list(department.change_types),
                "ack_hours": department.ack_hours,
                "members": "\n".join(
                    department.members.order_by("username").values_list("username", flat=True)
                ),
            }
        super().__init__(*args, **kwargs)
        choices = change_type_choices()
        known = {code for code, _label in choices}
        extra = [(c, c) for c in (department.change_types if department else []) if c not in known]
        self.fields["change_types"].choices = choices + extra  # type: ignore[attr-defined]
        if department is not None:
            self.fields["code"].disabled = True
        for name, field in self.fields.items():
            if name in ("is_active", "change_types"):
                continue
            field.widget.attrs.setdefault("class", "form-control")

    def clean_members(self) -> list[User]:
        names = [n for n in re.split(r"[\s,，]+", self.cleaned_data["members"]) if n]
        users = {u.username: u for u in User.objects.filter(username__in=names, is_active=True)}
        missing = [n for n in names if n not in users]
        if missing:
            raise forms.ValidationError(
                _("找不到这些用户（或已停用）：%(names)s") % {"names": "、".join(missing)}
            )
        return list(users.values())
