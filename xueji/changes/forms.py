"""Form rendering helpers for the application page and the before → after table."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from xueji.changes.fields import APPLICANT_FIELDS, FieldKind
from xueji.changes.models import ChangeType
from xueji.org.models import Cohort, College, Major, SchoolClass
from xueji.students.models import RegistryStatus, Student, StudentStatus

_FK_OPTIONS = {
    "target_college": lambda: College.objects.filter(is_active=True).order_by("code"),
    "target_major": lambda: Major.objects.filter(valid_to__isnull=True).select_related("college"),
    "target_class": lambda: SchoolClass.objects.filter(is_active=True).order_by("code"),
    "target_cohort": lambda: Cohort.objects.order_by("-year"),
}


def applicant_field_specs(
    change_type: ChangeType, student: Student, values: Any, errors: dict[str, list[str]]
) -> list[dict[str, Any]]:
    """The inputs of the application form for this type, in a fixed order, with their values."""
    specs: list[dict[str, Any]] = [
        {
            "name": "effective_date",
            "label": _("生效日期"),
            "kind": FieldKind.DATE,
            "required": True,
        }
    ]
    names = list(change_type.applicant_fields)
    if change_type.has_period and "end_date" not in names:
        names.insert(0, "end_date")
    for name in names:
        field = APPLICANT_FIELDS.get(name)
        if field is None or field.filled_by != "applicant":
            continue
        spec: dict[str, Any] = {
            "name": name,
            "label": field.label,
            "kind": field.kind,
            "help": field.help_text,
            "required": name == "end_date" and change_type.has_period,
        }
        if field.kind == FieldKind.FK:
            spec["options"] = [(obj.pk, str(obj)) for obj in _FK_OPTIONS[name]()]
        elif field.kind == FieldKind.CHOICE:
            spec["options"] = field.choice_list()
        specs.append(spec)
    specs.append({"name": "reason", "label": _("异动原因"), "kind": "textarea", "required": True})
    for spec in specs:
        spec["value"] = values.get(spec["name"], "") if values else ""
        spec["errors"] = errors.get(spec["name"], [])
    return specs


_LABELS = {
    "status": _("在校状态"),
    "registry_status": _("学籍状态"),
    "college": _("学院"),
    "major": _("专业"),
    "school_class": _("班级"),
    "cohort": _("年级"),
    "expected_graduation_date": _("预计毕业日期"),
    "max_study_date": _("最长学习年限截止"),
}
_MODELS = {"college": College, "major": Major, "school_class": SchoolClass, "cohort": Cohort}


def _text(field: str, value: Any) -> str:
    if value in (None, ""):
        return "—"
    if field == "status":
        return str(StudentStatus(value).label)
    if field == "registry_status":
        return str(RegistryStatus(value).label)
    if field in _MODELS:
        obj = _MODELS[field].objects.filter(pk=value).first()
        return str(obj) if obj else str(value)
    return str(value)


def display_effects(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of (label, before, after) for the fields the change moves."""
    rows = []
    for field, label in _LABELS.items():
        if field not in after or after[field] == before.get(field):
            continue
        rows.append(
            {
                "label": label,
                "before": _text(field, before.get(field)),
                "after": _text(field, after[field]),
            }
        )
    return rows


def display_details(details: dict[str, Any]) -> list[tuple[Any, str]]:
    """(label, text) for the extra fields stored in a request's `details`."""
    rows = []
    for code, value in details.items():
        field = APPLICANT_FIELDS.get(code)
        if field is None or value in (None, ""):
            continue
        if field.kind == FieldKind.BOOL:
            text = str(_("是") if value else _("否"))
        elif field.kind == FieldKind.CHOICE:
            text = str(dict(field.choice_list()).get(value, value))
        else:
            text = str(value)
        rows.append((field.label, text))
    return rows
