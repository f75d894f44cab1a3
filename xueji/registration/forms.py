"""Forms of the registration pages: they parse input; the services decide the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xueji.registration.models import FinanceState, RegistrationState
from xueji.registration.selectors import FINANCE_NONE
from xueji.students.forms import StyledForm


class RegistrationFilterForm(StyledForm):
    """Filters of the registration list (GET, all optional)."""

    search = forms.CharField(
        label=_("搜索"),
        required=False,
        max_length=60,
        widget=forms.TextInput(attrs={"placeholder": _("学号或姓名")}),
    )
    school_class = forms.TypedChoiceField(label=_("班级"), required=False, coerce=int)
    state = forms.ChoiceField(
        label=_("注册状态"),
        required=False,
        choices=[("", _("全部状态")), *RegistrationState.choices],
    )
    finance = forms.ChoiceField(
        label=_("缴费状态"),
        required=False,
        choices=[("", _("全部")), *FinanceState.choices, (FINANCE_NONE, _("财务未报送"))],
    )

    def __init__(self, *args: Any, classes: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["school_class"].choices = [("", _("全部班级")), *classes]

    def filters(self) -> dict[str, Any]:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "search": data["search"],
            "school_class": data["school_class"] or None,
            "state": data["state"],
            "finance": data["finance"],
        }


class RegistrationSetForm(StyledForm):
    state = forms.ChoiceField(label=_("办理为"), choices=RegistrationState.choices)
    reason = forms.CharField(
        label=_("原因"),
        required=False,
        max_length=400,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("暂缓注册、撤销注册，或为学费未缴清的学生办理注册时必填。"),
    )
    defer_until = forms.DateField(
        label=_("暂缓注册截止日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("仅暂缓注册时填写：学生须在此日期前完成注册。"),
    )

    def add_domain_errors(self, errors: dict[str, list[str]]) -> None:
        for field, messages in errors.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)


class FinanceStatusForm(StyledForm):
    state = forms.ChoiceField(label=_("缴费状态"), choices=FinanceState.choices)
    amount_due = forms.DecimalField(
        label=_("欠缴金额（元）"), max_digits=10, decimal_places=2, min_value=0, initial=0
    )
    note = forms.CharField(label=_("备注"), required=False, max_length=200)

    def add_domain_errors(self, errors: dict[str, list[str]]) -> None:
        for field, messages in errors.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)


class RegistrationOpenForm(StyledForm):
    term = forms.IntegerField(widget=forms.HiddenInput)
