"""The export form of the CHSI page; the rules live in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xueji.accounts.models import User
from xueji.exchange.chsi.files import ExportFormat
from xueji.exchange.chsi.selectors import chsi_colleges_for
from xueji.org.models import Cohort


class ChsiExportForm(forms.Form):
    cohort = forms.TypedChoiceField(label=_("年级"), required=False, coerce=int, empty_value=None)
    # A plain number, not a choice: a college outside the caller's scope must reach the
    # selector and come back as 404, not as a form error that confirms it exists.
    college = forms.IntegerField(label=_("学院"), required=False)
    format = forms.ChoiceField(
        label=_("文件格式"), choices=ExportFormat.CHOICES, initial=ExportFormat.XLSX, required=False
    )
    purpose = forms.CharField(label=_("导出用途"), max_length=200, required=False)
    full_id = forms.BooleanField(label=_("包含完整证件号码（上报学信网需要）"), required=False)
    valid_only = forms.BooleanField(
        label=_("仅导出无误的记录（有问题的学生不导出，结果中列出）"), required=False
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        colleges = chsi_colleges_for(user)
        only_own = not user.is_registrar
        self.college_choices = [
            *([] if only_own else [("", _("全部学院"))]),
            *[(c.pk, c.name) for c in colleges],
        ]
        self.fields["cohort"].choices = [
            ("", _("全部年级")),
            *[(c.year, str(c)) for c in Cohort.objects.order_by("-year")],
        ]
        if not user.can_view_full_id:
            del self.fields["full_id"]

    def clean_format(self) -> str:
        return self.cleaned_data.get("format") or ExportFormat.XLSX
