"""The export form of a CHSI export kind: the kind's filters, format, purpose and the two
options. It parses only; the rules live in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xueji.accounts.models import User
from xueji.exchange.chsi.files import ExportFormat
from xueji.exchange.chsi.kinds import ExportKind, Filters
from xueji.exchange.chsi.selectors import FORM_FIELDS, chsi_colleges_for
from xueji.org.models import Cohort, Term


class ChsiExportForm(forms.Form):
    cohort = forms.TypedChoiceField(label=_("年级"), required=False, coerce=int, empty_value=None)
    # A plain number, not a choice: a college outside the caller's scope must reach the
    # selector and come back as 404, not as a form error that confirms it exists.
    college = forms.IntegerField(label=_("学院"), required=False)
    term = forms.TypedChoiceField(label=_("学期"), required=False, coerce=int, empty_value=None)
    date_from = forms.DateField(label=_("起始日期"), required=False)
    date_to = forms.DateField(label=_("截止日期"), required=False)
    year = forms.IntegerField(label=_("年份"), required=False, min_value=1990, max_value=2100)
    format = forms.ChoiceField(
        label=_("文件格式"), choices=ExportFormat.CHOICES, initial=ExportFormat.XLSX, required=False
    )
    purpose = forms.CharField(label=_("导出用途"), max_length=200, required=False)
    full_id = forms.BooleanField(label=_("包含完整证件号码（上报学信网需要）"), required=False)
    valid_only = forms.BooleanField(
        label=_("仅导出无误的记录（有问题的记录不导出，结果中列出）"), required=False
    )

    def __init__(self, *args: Any, kind: ExportKind, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        shown = {FORM_FIELDS[name] for name in kind.filters}
        for name in FORM_FIELDS.values():
            if name not in shown:
                del self.fields[name]
        self.college_choices: list[tuple[Any, Any]] = []
        if "college" in self.fields:
            colleges = chsi_colleges_for(user)
            only_own = not user.is_registrar
            self.college_choices = [
                *([] if only_own else [("", _("全部学院"))]),
                *[(c.pk, c.name) for c in colleges],
            ]
        if "cohort" in self.fields:
            self.fields["cohort"].choices = [  # type: ignore[attr-defined]
                ("", _("全部年级")),
                *[(c.year, str(c)) for c in Cohort.objects.order_by("-year")],
            ]
        if "term" in self.fields:
            terms = Term.objects.select_related("academic_year").order_by("-start_date")
            self.fields["term"].choices = [  # type: ignore[attr-defined]
                ("", _("请选择学期")),
                *[(t.pk, str(t)) for t in terms],
            ]
        for name, label in kind.filter_labels:
            if FORM_FIELDS[name] in self.fields:
                self.fields[FORM_FIELDS[name]].label = _(label)
        if not kind.dbf:
            self.fields["format"].choices = [  # type: ignore[attr-defined]
                c for c in ExportFormat.CHOICES if c[0] == ExportFormat.XLSX
            ]
        if not user.can_view_full_id or not kind.masked_columns:
            del self.fields["full_id"]

    def clean_format(self) -> str:
        return self.cleaned_data.get("format") or ExportFormat.XLSX

    def filters(self) -> Filters:
        """The kind's filters from the cleaned data (call after is_valid())."""
        data = self.cleaned_data
        return Filters(
            **{name: data.get(field) for name, field in FORM_FIELDS.items() if field in data}
        )
