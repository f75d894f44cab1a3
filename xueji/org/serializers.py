"""Read-only API representations of the organisation and the code tables."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from xueji.org.models import (
    AcademicYear,
    CodeItem,
    CodeTableVersion,
    Cohort,
    College,
    Major,
    SchoolClass,
    Term,
)
from xueji.org.selectors import code_names


class CodeValueSerializer(serializers.Serializer):
    """A coded value as both its code and its name, e.g. {"code": "1", "name": "男"}."""

    code = serializers.CharField()
    name = serializers.CharField()


def code_value(table: str, code: Any) -> dict[str, str] | None:
    """{"code", "name"} for a code of `table`, or None for a blank code."""
    if code in (None, ""):
        return None
    text = str(code)
    return {"code": text, "name": code_names(table).get(text, "")}


def choice_value(labels: dict[str, Any], value: str) -> dict[str, str]:
    """{"code", "name"} for a `TextChoices` value, the name translated."""
    return {"code": value, "name": str(labels.get(value, ""))}


@extend_schema_field(CodeValueSerializer)
class CodeField(serializers.Field):
    """A code from one code table, shown as {"code", "name"}; a blank code is null.

    Names come from `code_names(table)`, a per-process dict, so a list costs no query per row.
    """

    def __init__(self, table: str, **kwargs: Any) -> None:
        self.table = table
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> dict[str, str] | None:
        return code_value(self.table, value)


@extend_schema_field(CodeValueSerializer)
class ChoiceCodeField(serializers.Field):
    """A `TextChoices` value shown as {"code", "name"} with its (translated) label."""

    def __init__(self, choices: Any, **kwargs: Any) -> None:
        self.labels = dict(choices.choices)
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> dict[str, str]:
        return choice_value(self.labels, value)


class CollegeRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = College
        fields = ["id", "code", "name"]


class MajorRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Major
        fields = ["id", "code", "national_code", "name"]


class ClassRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = SchoolClass
        fields = ["id", "code", "name"]


class CohortSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True, help_text="如“2024级”")

    class Meta:
        model = Cohort
        fields = ["id", "year", "name"]


class CollegeSerializer(serializers.ModelSerializer):
    class Meta:
        model = College
        fields = ["id", "code", "name", "name_en", "is_active"]


class MajorSerializer(serializers.ModelSerializer):
    college = CollegeRefSerializer(read_only=True)
    level = CodeField("education_level")
    duration = serializers.DecimalField(max_digits=3, decimal_places=1, coerce_to_string=True)
    replaced_by = serializers.SlugRelatedField(
        slug_field="code",
        read_only=True,
        allow_null=True,
        help_text="替代本专业的校内专业代码（目录调整时），无则为 null",
    )

    class Meta:
        model = Major
        fields = [
            "id",
            "code",
            "national_code",
            "name",
            "name_en",
            "college",
            "level",
            "duration",
            "catalogue_year",
            "valid_from",
            "valid_to",
            "replaced_by",
        ]


class SchoolClassSerializer(serializers.ModelSerializer):
    college = CollegeRefSerializer(read_only=True)
    major = MajorRefSerializer(read_only=True)
    cohort = CohortSerializer(read_only=True)

    class Meta:
        model = SchoolClass
        fields = ["id", "code", "name", "college", "major", "cohort", "is_active"]


class AcademicYearRefSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = AcademicYear
        fields = ["id", "start_year", "name", "start_date", "end_date"]


class TermSerializer(serializers.ModelSerializer):
    academic_year = AcademicYearRefSerializer(read_only=True)
    name = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = Term
        fields = [
            "id",
            "academic_year",
            "number",
            "name",
            "start_date",
            "end_date",
            "registration_deadline",
        ]


class CodeTableVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = CodeTableVersion
        fields = ["version", "source", "rows", "loaded_at"]


class CodeTableSerializer(serializers.Serializer):
    table = serializers.CharField(help_text="代码表标识，用于 /code-tables/<table>/")
    label = serializers.CharField()
    version = CodeTableVersionSerializer(allow_null=True, help_text="未载入时为 null")


class CodeItemSerializer(serializers.ModelSerializer):
    is_current = serializers.BooleanField(read_only=True, help_text="现行代码（未停用）")

    class Meta:
        model = CodeItem
        fields = [
            "code",
            "name",
            "name_en",
            "parent",
            "valid_from",
            "valid_to",
            "is_current",
            "extra",
        ]
