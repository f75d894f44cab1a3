"""Forms for the school's own structure. They parse input only: saving is the services' job."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from xueji.core.exceptions import DomainError, ValidationFailed
from xueji.org import selectors
from xueji.org.models import CodeTable, Major


class BootstrapForm(forms.Form):
    """Gives every widget its Bootstrap 5 class and marks fields with errors as invalid."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self) -> None:
        super().full_clean()
        self._mark_invalid()

    def _mark_invalid(self) -> None:
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                if "is-invalid" not in widget.attrs.get("class", ""):
                    widget.attrs["class"] += " is-invalid"

    def add_domain_error(self, exc: DomainError) -> None:
        """Show a service's refusal next to the field it concerns (or above the form)."""
        if isinstance(exc, ValidationFailed):
            for field, messages in exc.errors.items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
        else:
            self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        self._mark_invalid()


EMPTY_LABEL = _("请选择")


def _code_choices(table: str) -> list[tuple[str, Any]]:
    return [("", EMPTY_LABEL)] + [
        (code, f"{code} {name}") for code, name in selectors.code_names(table).items()
    ]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class SchoolForm(BootstrapForm):
    code = forms.CharField(
        label=_("学校代码"),
        max_length=5,
        validators=[RegexValidator(r"^[0-9]{5}$", _("学校代码应为 5 位数字"))],
        help_text=_("教育部 5 位学校标识码"),
    )
    name = forms.CharField(label=_("学校名称"), max_length=100)
    name_en = forms.CharField(label=_("英文名称"), max_length=200, required=False)
    school_type = forms.CharField(
        label=_("办学类型码"),
        max_length=1,
        validators=[RegexValidator(r"^[0-9]$", _("办学类型码应为 1 位数字"))],
        help_text=_("毕业证书编号第 6 位：1 普通高等教育，5 成人高等教育，7 网络教育"),
    )
    president_name = forms.CharField(
        label=_("校（院）长姓名"),
        max_length=60,
        required=False,
        help_text=_("印在毕（结）业证书上，并作为学历电子注册的校（院）长姓名上报"),
    )
    degree_chair_name = forms.CharField(
        label=_("学位评定委员会主席姓名"),
        max_length=60,
        required=False,
        help_text=_("随学位授予信息上报"),
    )


class CollegeForm(BootstrapForm):
    code = forms.CharField(label=_("学院代码"), max_length=20)
    name = forms.CharField(label=_("学院名称"), max_length=100)
    name_en = forms.CharField(label=_("英文名称"), max_length=200, required=False)
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)


class MajorForm(BootstrapForm):
    college = forms.ModelChoiceField(
        label=_("学院"), queryset=selectors.college_list(), empty_label=EMPTY_LABEL
    )
    national_code = forms.CharField(
        label=_("国家专业代码"),
        max_length=7,
        help_text=_("《普通高等学校本科专业目录（2024年）》中的专业代码，不含 T/K 后缀"),
    )
    code = forms.CharField(label=_("校内专业代码"), max_length=20)
    name = forms.CharField(label=_("专业名称"), max_length=100)
    name_en = forms.CharField(label=_("英文名称"), max_length=200, required=False)
    level = forms.ChoiceField(label=_("层次"))
    duration = forms.ChoiceField(label=_("学制"))
    catalogue_year = forms.IntegerField(
        label=_("目录年份"), min_value=1998, max_value=2100, initial=2024
    )
    valid_from = forms.DateField(label=_("启用日期"), required=False, widget=DateInput())
    valid_to = forms.DateField(label=_("停用日期"), required=False, widget=DateInput())
    replaced_by = forms.ModelChoiceField(
        label=_("由此专业替代"),
        queryset=selectors.major_list(),
        required=False,
        empty_label=_("无"),
        help_text=_("专业停办或更名后，旧专业指向接续它的新专业"),
    )

    def __init__(self, *args: Any, major: Major | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        level = self.fields["level"]
        duration = self.fields["duration"]
        assert isinstance(level, forms.ChoiceField) and isinstance(duration, forms.ChoiceField)
        level.choices = _code_choices(CodeTable.EDUCATION_LEVEL)
        duration.choices = _code_choices(CodeTable.STUDY_DURATION)
        replaced_by = self.fields["replaced_by"]
        assert isinstance(replaced_by, forms.ModelChoiceField)
        if major is not None:
            replaced_by.queryset = selectors.major_list().exclude(pk=major.pk)
        national = self.fields["national_code"]
        national.widget.attrs.update({"autocomplete": "off", "inputmode": "numeric"})

    def clean_duration(self) -> Decimal:
        return Decimal(self.cleaned_data["duration"])

    def clean_national_code(self) -> str:
        return str(self.cleaned_data["national_code"]).strip().upper().rstrip("TK")


class ClassForm(BootstrapForm):
    code = forms.CharField(label=_("班号"), max_length=30)
    name = forms.CharField(label=_("班级名称"), max_length=100)
    college = forms.ModelChoiceField(
        label=_("学院"), queryset=selectors.college_list(), empty_label=EMPTY_LABEL
    )
    major = forms.ModelChoiceField(
        label=_("专业"), queryset=selectors.major_list(), empty_label=EMPTY_LABEL
    )
    cohort = forms.ModelChoiceField(
        label=_("年级"), queryset=selectors.cohort_list(), empty_label=EMPTY_LABEL
    )
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)


class CohortForm(BootstrapForm):
    year = forms.IntegerField(label=_("年级"), min_value=1950, max_value=2100)


class AcademicYearForm(BootstrapForm):
    start_year = forms.IntegerField(
        label=_("起始年份"),
        min_value=1950,
        max_value=2100,
        help_text=_("如 2025 表示 2025-2026 学年（9 月 1 日至次年 8 月 31 日，含两个学期）"),
    )
