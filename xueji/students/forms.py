"""Forms for the student pages. They parse input; the services decide and validate the rest."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xueji.core.masking import mask_address, mask_id_number, mask_phone
from xueji.org.models import CodeTable
from xueji.org.selectors import code_item_list, code_name
from xueji.students import permissions
from xueji.students.models import CorrectionStatus, Student, StudentStatus
from xueji.students.services import field_label

DATE_WIDGET = {"type": "date"}
# Sensitive values shown masked when the user may not edit them (never in full read-only).
MASKED_WHEN_READ_ONLY = {
    "phone": mask_phone,
    "emergency_phone": mask_phone,
    "address": mask_address,
}
# Which code table each coded field of the record draws its options from.
CODE_CHOICE_FIELDS = {
    "gender": CodeTable.GENDER,
    "id_type": CodeTable.ID_TYPE,
    "political_status": CodeTable.POLITICAL_STATUS,
    "ethnicity": CodeTable.ETHNICITY,
    "level": CodeTable.EDUCATION_LEVEL,
    "study_form": CodeTable.STUDY_FORM,
    "duration": CodeTable.STUDY_DURATION,
}


def _code_choices(table: str, current: str | None) -> list[tuple[str, str]]:
    choices = [
        (code, f"{code} {name}")
        for code, name in code_item_list(table=table, include_historical=False).values_list(
            "code", "name"
        )
    ]
    # A record may still carry a code that has since been retired; keep it selectable.
    if current and current not in {code for code, _name in choices}:
        choices.append((current, f"{current} {code_name(table, current)}（已停用）"))
    return [("", "—"), *choices]


def _duration_code(value: Any) -> str:
    if value in (None, ""):
        return ""
    return format(Decimal(str(value)).normalize(), "f")


def _style(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            continue
        css = "form-select" if isinstance(widget, forms.Select) else "form-control"
        if css not in widget.attrs.get("class", ""):
            widget.attrs["class"] = (widget.attrs.get("class", "") + " " + css).strip()


class StyledForm(forms.Form):
    """Bootstrap classes on every widget, and `is-invalid` on fields that carry errors."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                if "is-invalid" not in widget.attrs.get("class", ""):
                    widget.attrs["class"] = widget.attrs.get("class", "") + " is-invalid"


CLASS_OPTION_LIMIT = 200


class StudentFilterForm(StyledForm):
    """The search box and filters of the student list (all optional, GET)."""

    q = forms.CharField(
        label=_("搜索"),
        required=False,
        max_length=60,
        widget=forms.TextInput(
            attrs={
                "placeholder": _("姓名 / 拼音 / 学号 / 考生号 / 身份证号"),
                "type": "search",
                "autocomplete": "off",
            }
        ),
    )
    college = forms.ModelChoiceField(label=_("学院"), queryset=None, required=False)
    major = forms.ModelChoiceField(label=_("专业"), queryset=None, required=False)
    school_class = forms.ModelChoiceField(label=_("班级"), queryset=None, required=False)
    cohort = forms.ModelChoiceField(label=_("年级"), queryset=None, required=False)
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部状态")), *StudentStatus.choices]
    )

    def __init__(self, *args: Any, options: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["college"].queryset = options["colleges"]
        self.fields["major"].queryset = options["majors"]
        self.fields["cohort"].queryset = options["cohorts"]
        for name, label in (
            ("college", _("全部学院")),
            ("major", _("全部专业")),
            ("school_class", _("全部班级")),
            ("cohort", _("全部年级")),
        ):
            self.fields[name].empty_label = label
        classes = options["classes"]
        if classes.count() > CLASS_OPTION_LIMIT:
            # Thousands of classes make an unusable (and slow) menu: ask to narrow first,
            # keeping a class chosen through a link selectable.
            chosen = self.data.get("school_class", "")
            classes = classes.filter(pk=int(chosen)) if chosen.isdigit() else classes.none()
            self.fields["school_class"].empty_label = _("请先选择学院、专业或年级")
        self.fields["school_class"].queryset = classes

    def search_arguments(self) -> dict[str, Any]:
        """Keyword arguments for `selectors.student_search`; invalid filters are dropped."""
        data: dict[str, Any] = {}
        if self.is_bound:
            self.is_valid()  # fields that fail to clean are simply absent from cleaned_data
            data = self.cleaned_data

        def pk(name: str) -> int | None:
            value = data.get(name)
            return value.pk if value is not None else None

        return {
            "query": data.get("q", "") or "",
            "college": pk("college"),
            "major": pk("major"),
            "school_class": pk("school_class"),
            "cohort": pk("cohort"),
            "status": data.get("status", "") or "",
        }


class StudentEditForm(StyledForm):
    """Every editable field of the record; those the user may not edit are disabled (shown
    read-only and ignored on submit). A reason is required and goes into the version history."""

    candidate_number = forms.CharField(max_length=18)
    name = forms.CharField(max_length=60)
    name_pinyin = forms.CharField(max_length=120, required=False)
    gender = forms.ChoiceField()
    birth_date = forms.DateField(widget=forms.DateInput(attrs=DATE_WIDGET, format="%Y-%m-%d"))
    id_type = forms.ChoiceField()
    id_number = forms.CharField(max_length=30)
    political_status = forms.ChoiceField()
    ethnicity = forms.ChoiceField()
    native_region = forms.CharField(max_length=6, required=False)
    college = forms.ModelChoiceField(queryset=None)
    department = forms.CharField(max_length=60, required=False)
    major = forms.ModelChoiceField(queryset=None)
    school_class = forms.ModelChoiceField(queryset=None, required=False)
    cohort = forms.ModelChoiceField(queryset=None)
    level = forms.ChoiceField()
    study_form = forms.ChoiceField()
    duration = forms.ChoiceField()
    enrollment_date = forms.DateField(widget=forms.DateInput(attrs=DATE_WIDGET, format="%Y-%m-%d"))
    expected_graduation_date = forms.DateField(
        widget=forms.DateInput(attrs=DATE_WIDGET, format="%Y-%m-%d")
    )
    max_study_date = forms.DateField(
        required=False, widget=forms.DateInput(attrs=DATE_WIDGET, format="%Y-%m-%d")
    )
    phone = forms.CharField(max_length=20, required=False)
    email = forms.EmailField(required=False)
    address = forms.CharField(max_length=200, required=False)
    emergency_contact = forms.CharField(max_length=60, required=False)
    emergency_phone = forms.CharField(max_length=20, required=False)
    advisor = forms.ModelChoiceField(queryset=None, required=False)
    reason = forms.CharField(
        label=_("修改原因"),
        max_length=200,
        help_text=_("记入档案版本历史和审计链，例如“依据户籍证明更正”。"),
        widget=forms.TextInput(attrs={"placeholder": _("必填")}),
    )

    # How the form groups fields on the page (the same groups as the detail page).
    GROUPS = (
        (
            _("基本信息"),
            (
                "name",
                "name_pinyin",
                "gender",
                "birth_date",
                "id_type",
                "id_number",
                "political_status",
                "ethnicity",
                "native_region",
            ),
        ),
        (
            _("学籍信息"),
            (
                "candidate_number",
                "college",
                "department",
                "major",
                "school_class",
                "cohort",
                "level",
                "study_form",
                "duration",
                "enrollment_date",
                "expected_graduation_date",
                "max_study_date",
                "advisor",
            ),
        ),
        (_("联系方式"), ("phone", "email", "address", "emergency_contact", "emergency_phone")),
    )

    def __init__(
        self,
        *args: Any,
        student: Student,
        editable: frozenset[str],
        options: dict[str, Any],
        **kwargs: Any,
    ) -> None:
        initial = {f: getattr(student, f) for f in permissions.EDITABLE_FIELDS}
        initial["duration"] = _duration_code(student.duration)
        # The full 证件号码 is never put into the page: only a granted, audited read shows it.
        initial["id_number"] = ""
        for name, masker in MASKED_WHEN_READ_ONLY.items():
            if name not in editable:
                initial[name] = masker(initial[name])
        super().__init__(*args, initial=initial, **kwargs)
        self.student = student
        self.editable = editable
        for name, table in CODE_CHOICE_FIELDS.items():
            self.fields[name].choices = _code_choices(table, initial.get(name))
        for name, key in (
            ("college", "colleges"),
            ("major", "majors"),
            ("school_class", "classes"),
            ("cohort", "cohorts"),
            ("advisor", "advisors"),
        ):
            self.fields[name].queryset = options[key]
        for name in permissions.EDITABLE_FIELDS:
            field = self.fields[name]
            field.label = field_label(name)
            if name not in editable:
                field.disabled = True
                field.required = False
            if name == "native_region":
                field.help_text = _("6 位行政区划代码")
        if "school_class" in editable:
            self.fields["school_class"].help_text = _("列出本专业的班级；转专业后再调整班级。")
        id_field = self.fields["id_number"]
        id_field.required = False
        id_field.widget.attrs["placeholder"] = mask_id_number(student.id_number)
        id_field.widget.attrs["autocomplete"] = "off"
        if "id_number" in editable:
            id_field.help_text = _("留空表示不修改；更正时请输入完整的新号码。")

    def clean_duration(self) -> Decimal | None:
        value = self.cleaned_data.get("duration")
        if value in (None, ""):
            return None
        try:
            return Decimal(value)
        except InvalidOperation as exc:
            raise forms.ValidationError(_("学制应为数字，如 4 或 2.5")) from exc

    def changes(self) -> dict[str, Any]:
        """The submitted values of the fields this user may edit (disabled ones left out)."""
        changes = {
            name: self.cleaned_data.get(name)
            for name in permissions.EDITABLE_FIELDS
            if name in self.editable
        }
        if not changes.get("id_number"):
            changes.pop("id_number", None)  # left blank: keep the current number
        return changes

    def grouped(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [(title, [self[name] for name in names]) for title, names in self.GROUPS]

    def add_domain_errors(self, errors: dict[str, list[str]]) -> None:
        """Show a service's {field: [message]} errors next to their fields."""
        for field, messages in errors.items():
            target = field if field in self.fields else None
            for message in messages:
                if target is None and field in {f.name for f in Student._meta.fields}:
                    message = f"{field_label(field)}：{message}"
                self.add_error(target, message)


class CorrectionForm(StyledForm):
    """A student's correction request for one field of their own record."""

    field = forms.ChoiceField(label=_("需更正的字段"))
    requested_value = forms.CharField(
        label=_("更正为"),
        max_length=200,
        help_text=_("日期请按 YYYY-MM-DD 填写；代码类字段填写代码，如民族“01”。"),
    )
    reason = forms.CharField(
        label=_("理由"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("姓名、出生日期、证件号码等须附法定证明，提交后请将材料交辅导员。"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = [
            ("", "—"),
            *((name, field_label(name)) for name in permissions.CORRECTABLE_FIELDS),
        ]

    def add_domain_error(self, field: str | None, message: str) -> None:
        self.add_error(field if field in self.fields else None, message)


class CorrectionFilterForm(StyledForm):
    status = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[("", _("全部状态")), *CorrectionStatus.choices],
    )

    def status_value(self) -> str:
        return self.cleaned_data.get("status", "") if self.is_valid() else ""


class CorrectionDecisionForm(StyledForm):
    decision = forms.ChoiceField(choices=[("approve", _("通过")), ("reject", _("驳回"))])
    note = forms.CharField(
        label=_("审核意见"),
        required=False,
        max_length=400,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("驳回时必填")}),
    )
