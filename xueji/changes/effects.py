"""What a change does to the record: computed from the type's declarations and the request.

Pure functions over values (no writes): the services apply the result, and the request page
shows it as a before → after preview while the request is still under review.
"""

from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal
from typing import Any

from xueji.changes.models import ChangeRequest, DateEffect, RuleParameters
from xueji.students.models import Student, registry_for

# The fields a change may move, in the order they are shown.
EFFECT_FIELDS = (
    "status",
    "registry_status",
    "college",
    "major",
    "school_class",
    "cohort",
    "expected_graduation_date",
    "max_study_date",
)


def add_months(day: date, months: int) -> date:
    """`day` moved by whole months, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def add_years(day: date, years: Decimal) -> date:
    return add_months(day, int((years * 12).to_integral_value()))


def default_max_study_date(student: Student, params: RuleParameters) -> date:
    """第二十五条: 最长学习年限 = 学制 + the school's extra years, counted from enrolment."""
    return add_years(student.enrollment_date, student.duration + params.max_extra_years)


def snapshot(student: Student) -> dict[str, Any]:
    """The effect fields as plain values (ids and ISO dates), for before/after records."""
    return {
        "status": student.status,
        "registry_status": student.registry_status,
        "college": student.college_id,
        "major": student.major_id,
        "school_class": student.school_class_id,
        "cohort": student.cohort_id,
        "expected_graduation_date": student.expected_graduation_date.isoformat(),
        "max_study_date": student.max_study_date.isoformat() if student.max_study_date else None,
    }


def _shift(day: date, effect: str, request: ChangeRequest, cohort_years: int) -> date:
    if effect == DateEffect.SHIFT_BY_PERIOD and request.end_date:
        return day + (request.end_date - request.effective_date)
    if effect == DateEffect.SHIFT_BY_YEARS and request.years:
        return add_years(day, request.years)
    if effect == DateEffect.RECOMPUTE:
        return add_months(day, 12 * cohort_years)
    return day


def compute_after(
    student: Student, request: ChangeRequest, params: RuleParameters
) -> dict[str, Any]:
    """The effect fields after `request` is applied to `student`, as model values.

    Returns a dict of attribute names (`college`, `major`, … as model instances; dates as
    dates) holding only what the type declares it changes.
    """
    kind = request.change_type
    after: dict[str, Any] = {}
    if kind.target_status:
        after["status"] = kind.target_status
        after["registry_status"] = registry_for(kind.target_status)
    if kind.moves_org and request.target_major_id:
        major = request.target_major
        after["major"] = major
        after["college"] = request.target_college or major.college
        if request.target_class_id:
            after["school_class"] = request.target_class
    cohort_years = 0
    if kind.moves_cohort and request.target_cohort_id:
        after["cohort"] = request.target_cohort
        cohort_years = request.target_cohort.year - student.cohort.year
        if request.target_class_id:
            after["school_class"] = request.target_class
    graduation = _shift(
        student.expected_graduation_date, kind.graduation_effect, request, cohort_years
    )
    if graduation != student.expected_graduation_date:
        after["expected_graduation_date"] = graduation
    current_max = student.max_study_date or default_max_study_date(student, params)
    maximum = _shift(current_max, kind.max_study_effect, request, cohort_years)
    if maximum != student.max_study_date:
        after["max_study_date"] = maximum
    return after


def as_plain(values: dict[str, Any]) -> dict[str, Any]:
    """Model values → JSON-friendly values (ids, ISO dates)."""
    plain: dict[str, Any] = {}
    for key, value in values.items():
        if hasattr(value, "pk"):
            plain[key] = value.pk
        elif isinstance(value, date):
            plain[key] = value.isoformat()
        else:
            plain[key] = value
    return plain
