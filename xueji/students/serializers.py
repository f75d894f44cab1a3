"""API representation of the student record.

Sensitive fields go through `xueji.core.masking` for every caller; the unmasked 证件号码 has its
own audited endpoint. Coded fields carry both code and name, resolved from per-process code-table
dicts, so a page of students costs no query per row (the selector joins the org relations).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from xueji.core.masking import mask_address, mask_id_number, mask_phone
from xueji.org.models import CodeTable
from xueji.org.serializers import (
    ChoiceCodeField,
    ClassRefSerializer,
    CodeField,
    CohortSerializer,
    CollegeRefSerializer,
    MajorRefSerializer,
    choice_value,
    code_value,
)
from xueji.students.models import RegistryStatus, Student, StudentStatus


@extend_schema_field(OpenApiTypes.STR)
class MaskedField(serializers.Field):
    """A sensitive value passed through the one masking rule (never the full value)."""

    def __init__(self, mask: Callable[[str | None], str], **kwargs: Any) -> None:
        self.mask = mask
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str:
        return self.mask(value)


def duration_code(value: Any) -> str | None:
    """学制 as the CHSI text value: Decimal("4.0") → "4", Decimal("2.5") → "2.5"."""
    if value is None:
        return None
    return format(Decimal(value).normalize(), "f")


class DurationCodeField(CodeField):
    """学制 with its name from the study_duration table."""

    def to_representation(self, value: Any) -> dict[str, str] | None:
        return super().to_representation(duration_code(value))


_DATE = serializers.DateField()
_DATETIME = serializers.DateTimeField()
_REGISTRY_LABELS = dict(RegistryStatus.choices)
_STATUS_LABELS = dict(StudentStatus.choices)


def _date(value: date | None) -> str | None:
    return None if value is None else _DATE.to_representation(value)


class StudentSerializer(serializers.Serializer):
    """One student as the API shows it (the same for list rows and the detail)."""

    student_number = serializers.CharField(help_text="学号")
    candidate_number = serializers.CharField(help_text="考生号")
    name = serializers.CharField(help_text="姓名")
    name_pinyin = serializers.CharField(help_text="姓名拼音")
    gender = CodeField(CodeTable.GENDER, help_text="性别（GB/T 2261.1）")
    birth_date = serializers.DateField(help_text="出生日期")
    id_type = CodeField(CodeTable.ID_TYPE, help_text="证件类型")
    id_number = MaskedField(
        mask_id_number,
        help_text="证件号码（脱敏）。完整号码见 id-number 接口，需授权且留痕",
    )
    political_status = CodeField(CodeTable.POLITICAL_STATUS, help_text="政治面貌（GB/T 4762）")
    ethnicity = CodeField(CodeTable.ETHNICITY, help_text="民族（GB 3304）")
    native_region = CodeField(
        CodeTable.REGION, allow_null=True, help_text="生源地（GB/T 2260），未填时为 null"
    )
    college = CollegeRefSerializer(read_only=True, help_text="学院")
    department = serializers.CharField(help_text="系所")
    major = MajorRefSerializer(read_only=True, help_text="专业")
    school_class = ClassRefSerializer(
        source="school_class", read_only=True, allow_null=True, help_text="班级"
    )
    cohort = CohortSerializer(read_only=True, help_text="年级")
    level = CodeField(CodeTable.EDUCATION_LEVEL, help_text="层次")
    study_form = CodeField(CodeTable.STUDY_FORM, help_text="学习形式")
    duration = DurationCodeField(CodeTable.STUDY_DURATION, help_text="学制（学信网取值）")
    enrollment_date = serializers.DateField(help_text="入学日期")
    expected_graduation_date = serializers.DateField(help_text="预计毕业日期")
    max_study_date = serializers.DateField(allow_null=True, help_text="最长学习年限截止")
    registry_status = ChoiceCodeField(RegistryStatus, help_text="学籍状态")
    status = ChoiceCodeField(StudentStatus, help_text="在校状态")
    phone = MaskedField(mask_phone, help_text="手机（脱敏）")
    email = serializers.CharField(help_text="电子邮箱")
    address = MaskedField(mask_address, help_text="家庭地址（脱敏）")
    emergency_contact = serializers.CharField(help_text="紧急联系人")
    emergency_phone = MaskedField(mask_phone, help_text="紧急联系电话（脱敏）")
    created_at = serializers.DateTimeField(help_text="建档时间")
    dateLastModified = serializers.DateTimeField(
        source="updated_at", help_text="最后修改时间（OneRoster dateLastModified）"
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        # "class" is the word integrators expect, but a Python keyword cannot name an attribute.
        return {
            ("class" if name == "school_class" else name): field
            for name, field in super().get_fields().items()
        }

    def to_representation(self, instance: Student) -> dict[str, Any]:
        # Written out instead of walking the declared fields: DRF deep-copies every declared
        # field for each serializer instance, which was most of the cost of /students/me/
        # (benchmarked against a bare Django view). The declared fields above still define the
        # OpenAPI schema; test_api checks that both name the same keys.
        s = instance
        klass = s.school_class
        return {
            "student_number": s.student_number,
            "candidate_number": s.candidate_number,
            "name": s.name,
            "name_pinyin": s.name_pinyin,
            "gender": code_value(CodeTable.GENDER, s.gender),
            "birth_date": _date(s.birth_date),
            "id_type": code_value(CodeTable.ID_TYPE, s.id_type),
            "id_number": mask_id_number(s.id_number),
            "political_status": code_value(CodeTable.POLITICAL_STATUS, s.political_status),
            "ethnicity": code_value(CodeTable.ETHNICITY, s.ethnicity),
            "native_region": code_value(CodeTable.REGION, s.native_region),
            "college": {"id": s.college.pk, "code": s.college.code, "name": s.college.name},
            "department": s.department,
            "major": {
                "id": s.major.pk,
                "code": s.major.code,
                "national_code": s.major.national_code,
                "name": s.major.name,
            },
            "class": None
            if klass is None
            else {"id": klass.pk, "code": klass.code, "name": klass.name},
            "cohort": {"id": s.cohort.pk, "year": s.cohort.year, "name": str(s.cohort)},
            "level": code_value(CodeTable.EDUCATION_LEVEL, s.level),
            "study_form": code_value(CodeTable.STUDY_FORM, s.study_form),
            "duration": code_value(CodeTable.STUDY_DURATION, duration_code(s.duration)),
            "enrollment_date": _date(s.enrollment_date),
            "expected_graduation_date": _date(s.expected_graduation_date),
            "max_study_date": _date(s.max_study_date),
            "registry_status": choice_value(_REGISTRY_LABELS, s.registry_status),
            "status": choice_value(_STATUS_LABELS, s.status),
            "phone": mask_phone(s.phone),
            "email": s.email,
            "address": mask_address(s.address),
            "emergency_contact": s.emergency_contact,
            "emergency_phone": mask_phone(s.emergency_phone),
            "created_at": _DATETIME.to_representation(s.created_at),
            "dateLastModified": _DATETIME.to_representation(s.updated_at),
        }


class IdNumberSerializer(serializers.Serializer):
    id_number = serializers.CharField(help_text="完整证件号码（本次查看已记入审计链）")
