"""How a student record is laid out on the detail page: groups of (label, value) rows with code
values turned into names and sensitive values masked by the one rule in `core.masking`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from xueji.core.masking import mask_address, mask_id_number, mask_phone
from xueji.org.models import CodeTable
from xueji.org.selectors import code_name
from xueji.students.models import Student
from xueji.students.permissions import LOCKED_FIELDS


@dataclass(frozen=True)
class Row:
    field: str
    label: str
    value: str
    masked: bool = False
    locked: bool = False


def _label(field: str) -> str:
    return str(Student._meta.get_field(field).verbose_name)


def _code(table: str, value: str) -> str:
    if not value:
        return ""
    name = code_name(table, value)
    return f"{name}（{value}）" if name else value


def _date(value: object) -> str:
    return date_format(value, "Y-m-d") if value else ""


def _duration(value: Decimal | None) -> str:
    if value is None:
        return ""
    years = format(value.normalize(), "f")
    return f"{code_name(CodeTable.STUDY_DURATION, years) or years}（{years} 年）"


def record_sections(student: Student) -> list[tuple[str, list[Row]]]:
    """The record in three groups: 基本信息, 学籍信息, 联系方式. Masked values only."""
    s = student
    values: dict[str, tuple[str, bool]] = {
        "student_number": (s.student_number, False),
        "name": (s.name, False),
        "name_pinyin": (s.name_pinyin, False),
        "gender": (_code(CodeTable.GENDER, s.gender), False),
        "birth_date": (_date(s.birth_date), False),
        "id_type": (_code(CodeTable.ID_TYPE, s.id_type), False),
        "id_number": (mask_id_number(s.id_number), True),
        "political_status": (_code(CodeTable.POLITICAL_STATUS, s.political_status), False),
        "ethnicity": (_code(CodeTable.ETHNICITY, s.ethnicity), False),
        "native_region": (_code(CodeTable.REGION, s.native_region), False),
        "candidate_number": (s.candidate_number, False),
        "college": (s.college.name, False),
        "department": (s.department, False),
        "major": (f"{s.major.name}（{s.major.national_code}）", False),
        "school_class": (s.school_class.name if s.school_class else "", False),
        "cohort": (str(s.cohort), False),
        "level": (_code(CodeTable.EDUCATION_LEVEL, s.level), False),
        "study_form": (_code(CodeTable.STUDY_FORM, s.study_form), False),
        "duration": (_duration(s.duration), False),
        "enrollment_date": (_date(s.enrollment_date), False),
        "expected_graduation_date": (_date(s.expected_graduation_date), False),
        "max_study_date": (_date(s.max_study_date), False),
        "advisor": (str(s.advisor) if s.advisor_id else "", False),
        "phone": (mask_phone(s.phone), True),
        "email": (s.email, False),
        "address": (mask_address(s.address), True),
        "emergency_contact": (s.emergency_contact, False),
        "emergency_phone": (mask_phone(s.emergency_phone), True),
    }
    groups = (
        (_("基本信息"), ("student_number", "name", "name_pinyin", "gender", "birth_date",
                       "id_type", "id_number", "political_status", "ethnicity", "native_region")),
        (_("学籍信息"), ("candidate_number", "college", "department", "major", "school_class",
                       "cohort", "level", "study_form", "duration", "enrollment_date",
                       "expected_graduation_date", "max_study_date", "advisor")),
        (_("联系方式"), ("phone", "email", "address", "emergency_contact", "emergency_phone")),
    )  # fmt: skip
    return [
        (
            str(title),
            [
                Row(
                    field=f,
                    label=_label(f),
                    value=values[f][0],
                    masked=values[f][1],
                    locked=f in LOCKED_FIELDS,
                )
                for f in fields
            ],
        )
        for title, fields in groups
    ]
