"""Helpers shared by the domain tests: valid student input, and a record of "what exists" to
prove that a refused action changed nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from xueji.audit.models import AuditEvent
from xueji.conftest import Cast, base_student_values
from xueji.conftest import fast_password_hashing as fast_password_hashing  # re-exported
from xueji.students.models import (
    CorrectionRequest,
    ParentLink,
    StatusLedgerEntry,
    Student,
    StudentState,
)


def new_student_values(cast: Cast, serial: int = 50, **overrides: Any) -> dict[str, Any]:
    """Valid `student_create` input for a new student in 计科2401."""
    values = base_student_values(
        college=cast.cs,
        major=cast.cs_major,
        school_class=cast.class_a,
        cohort=cast.cohort,
        serial=serial,
        name="曾小明",
    )
    values.update(overrides)
    return values


@dataclass(frozen=True)
class World:
    """Row counts of everything a student service may write, plus the students' own values."""

    students: int
    states: int
    ledger: int
    history: int
    audit: int
    corrections: int
    parent_links: int
    records: tuple[tuple[Any, ...], ...]


def world() -> World:
    return World(
        students=Student.objects.count(),
        states=StudentState.objects.count(),
        ledger=StatusLedgerEntry.objects.count(),
        history=Student.history.count(),
        audit=AuditEvent.objects.count(),
        corrections=CorrectionRequest.objects.count(),
        parent_links=ParentLink.objects.count(),
        records=tuple(
            Student.objects.order_by("pk").values_list(
                "pk",
                "name",
                "name_pinyin",
                "gender",
                "birth_date",
                "id_number",
                "phone",
                "status",
                "registry_status",
                "major_id",
                "college_id",
                "school_class_id",
                "updated_at",
            )
        ),
    )
