"""Forms of the workbench and the flow panel. They parse input; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xueji.workflow.handlers import registered_kinds


def _style(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select")
        else:
            widget.attrs.setdefault("class", "form-control")


class ApproveForm(forms.Form):
    comment = forms.CharField(label=_("审批意见"), required=False, max_length=2000)
    expected_version = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    minute_number = forms.CharField(label=_("校长办公会纪要编号"), required=False, max_length=60)
    minute_date = forms.DateField(
        label=_("会议日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class ReasonForm(forms.Form):
    """Reject or return: a reason is required (the service says so in its own words)."""

    reason = forms.CharField(label=_("理由"), required=False, max_length=2000)
    expected_version = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)


class CommentForm(forms.Form):
    text = forms.CharField(label=_("留言"), required=False, max_length=2000)


class ResubmitForm(forms.Form):
    comment = forms.CharField(label=_("补充说明"), required=False, max_length=2000)


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("撤回原因"), required=False, max_length=2000)


class AttachmentForm(forms.Form):
    label = forms.CharField(label=_("材料名称"), max_length=100)
    file = forms.FileField(label=_("文件"), help_text=_("PDF、JPG 或 PNG，不超过 10 MB"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)


class WorkbenchFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("事项类别"), required=False)
    college = forms.TypedChoiceField(label=_("学院"), required=False, coerce=int, empty_value=None)
    overdue = forms.BooleanField(label=_("仅看已超期"), required=False)

    def __init__(self, *args: Any, colleges: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("全部类别")), *registered_kinds()]
        self.fields["college"].choices = [("", _("全部学院")), *((c.pk, c.name) for c in colleges)]
        _style(self)

    def values(self) -> dict[str, Any]:
        if not self.is_valid():
            return {"kind": "", "college": None, "overdue": False}
        data = self.cleaned_data
        return {
            "kind": data.get("kind") or "",
            "college": data.get("college"),
            "overdue": bool(data.get("overdue")),
        }


class DelegationForm(forms.Form):
    deputy = forms.CharField(label=_("代理人用户名"), max_length=150, help_text=_("须为教职工账号"))
    starts_on = forms.DateField(label=_("开始日期"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("结束日期"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("说明"), required=False, max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)
