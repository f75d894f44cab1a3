"""Forms of the graduation-record pages: numbering diplomas for a year, conferring degrees."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from xueji.org.forms import BootstrapForm, DateInput
from xueji.org.models import College
from xueji.students.certificate_numbers import FIRST_YEAR, LAST_YEAR
from xueji.students.models import DegreeLevel


class YearField(forms.IntegerField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("毕（结）业年份"))
        super().__init__(min_value=FIRST_YEAR, max_value=LAST_YEAR, **kwargs)


class DiplomaAssignForm(BootstrapForm):
    year = YearField(help_text=_("学籍状态在这一年变为毕业、结业或肄业的学生"))
    issue_date = forms.DateField(
        label=_("发证日期"),
        widget=DateInput(),
        help_text=_("学历证书发证日期一般与毕业日期一致，不能早于毕（结）业日期"),
    )
    college = forms.ModelChoiceField(
        label=_("学院"),
        queryset=College.objects.none(),
        required=False,
        empty_label=_("全部学院"),
    )

    def __init__(self, *args: Any, colleges: QuerySet[College], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["college"].queryset = colleges  # type: ignore[attr-defined]


class GraduationFilterForm(forms.Form):
    """The year/college filter of the list pages (GET)."""

    year = YearField(required=False)
    college = forms.ModelChoiceField(
        label=_("学院"), queryset=College.objects.none(), required=False, empty_label=_("全部学院")
    )

    def __init__(self, *args: Any, colleges: QuerySet[College], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["college"].queryset = colleges  # type: ignore[attr-defined]
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs["class"] = f"{css} form-control-sm"


class DegreeConferForm(BootstrapForm):
    level = forms.ChoiceField(
        label=_("学位级别"), choices=DegreeLevel.choices, initial=DegreeLevel.BACHELOR
    )
    conferral_date = forms.DateField(label=_("获学位日期"), widget=DateInput())
    decision_number = forms.CharField(
        label=_("学位评定委员会决议文号"),
        max_length=100,
        help_text=_("如：校学位〔2028〕3号"),
    )
