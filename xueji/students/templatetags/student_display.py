"""Display helpers for student pages: masking (the one rule in core.masking), code names and
status badges. Presentation only; no queries beyond the cached code tables."""

from __future__ import annotations

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.utils.html import format_html
from django.utils.safestring import SafeString

from xueji.core import masking
from xueji.org.selectors import code_name
from xueji.students.models import CorrectionStatus, Student, StudentStatus

register = template.Library()

STATUS_COLOURS = {
    StudentStatus.IN_SCHOOL: "success",
    StudentStatus.SUSPENDED: "warning",
    StudentStatus.RESERVED: "info",
    StudentStatus.ADMISSION_RESERVED: "info",
    StudentStatus.GRADUATED: "primary",
    StudentStatus.COMPLETED: "primary",
    StudentStatus.NON_COMPLETION: "secondary",
}
CORRECTION_COLOURS = {
    CorrectionStatus.PENDING: "warning",
    CorrectionStatus.APPROVED: "success",
    CorrectionStatus.REJECTED: "danger",
    CorrectionStatus.WITHDRAWN: "secondary",
}


@register.filter
def mask_id(value: str | None) -> str:
    return masking.mask_id_number(value)


@register.filter
def mask_phone(value: str | None) -> str:
    return masking.mask_phone(value)


@register.filter
def mask_address(value: str | None) -> str:
    return masking.mask_address(value)


@register.filter
def code_label(value: str | None, table: str) -> str:
    """`{{ student.gender|code_label:"gender" }}` → 男; unknown codes show the code itself."""
    if not value:
        return ""
    return code_name(table, value) or value


@register.simple_tag
def status_badge(status: str) -> SafeString:
    label = StudentStatus(status).label if status in StudentStatus.values else status
    colour = STATUS_COLOURS.get(status, "danger")
    return format_html('<span class="badge text-bg-{}">{}</span>', colour, label)


@register.simple_tag
def correction_badge(status: str) -> SafeString:
    label = CorrectionStatus(status).label if status in CorrectionStatus.values else status
    colour = CORRECTION_COLOURS.get(status, "secondary")
    return format_html('<span class="badge text-bg-{}">{}</span>', colour, label)


@register.filter
def field_label(field: str) -> str:
    """The Chinese label of a student record field (`"birth_date"` → 出生日期)."""
    try:
        return str(Student._meta.get_field(field).verbose_name)
    except FieldDoesNotExist:
        return field


MASKERS = {
    "id_number": masking.mask_id_number,
    "phone": masking.mask_phone,
    "emergency_phone": masking.mask_phone,
    "address": masking.mask_address,
}


@register.filter
def masked_value(value: str | None, field: str) -> str:
    """A value of record field `field`, masked when the field is a sensitive one."""
    masker = MASKERS.get(field)
    return masker(value) if masker else (value or "")
