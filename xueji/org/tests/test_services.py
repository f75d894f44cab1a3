"""Writes to the school's own structure: who may make them, what is refused, what is audited."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from xueji.audit.models import AuditEvent
from xueji.audit.selectors import audit_chain_verify
from xueji.core.exceptions import DomainError, PermissionDenied, ValidationFailed
from xueji.org.models import AcademicYear, College, Major, SchoolClass, Term
from xueji.org.services import academic_year_save, class_save, college_save, major_save

pytestmark = pytest.mark.django_db


def major_values(cast, **overrides):
    values = {
        "college": cast.cs,
        "national_code": "080902",
        "code": "SE01",
        "name": "软件工程",
        "level": cast.cs_major.level,
        "duration": Decimal("4"),
        "catalogue_year": 2024,
    }
    values.update(overrides)
    return values


def test_registrar_creates_a_major_with_a_catalogue_code_and_it_is_audited(cast):
    major = major_save(actor=cast.actor(cast.registrar), values=major_values(cast))

    assert Major.objects.get(code="SE01").national_code == "080902"
    event = AuditEvent.objects.get(action="org.major.save", target_id=str(major.pk))
    assert event.actor_username == "registrar"
    assert '"national_code":"080902"' in event.after


def test_a_major_whose_national_code_is_not_in_the_catalogue_is_refused_and_nothing_is_saved(cast):
    events_before = AuditEvent.objects.count()

    with pytest.raises(ValidationFailed) as refused:
        major_save(
            actor=cast.actor(cast.registrar), values=major_values(cast, national_code="089999")
        )

    assert refused.value.errors["national_code"] == [
        "国家专业代码“089999”不在 2024 年本科专业目录中"
    ]
    assert not Major.objects.filter(code="SE01").exists()
    assert AuditEvent.objects.count() == events_before


def test_a_major_that_stops_before_it_starts_is_refused(cast):
    with pytest.raises(ValidationFailed) as refused:
        major_save(
            actor=cast.actor(cast.registrar),
            values=major_values(cast, valid_from=date(2024, 9, 1), valid_to=date(2020, 7, 1)),
        )

    assert "valid_to" in refused.value.errors


def test_an_old_major_can_point_to_the_major_that_replaces_it(cast):
    actor = cast.actor(cast.registrar)
    new = major_save(actor=actor, values=major_values(cast))

    old = major_save(
        actor=actor,
        major=cast.cs_major,
        values={"valid_to": date(2025, 8, 31), "replaced_by": new},
    )

    old.refresh_from_db()
    assert old.replaced_by == new
    assert list(new.replaces.all()) == [old]


def test_college_admin_cannot_change_the_school_structure(cast):
    with pytest.raises(PermissionDenied):
        college_save(actor=cast.actor(cast.college_admin), values={"code": "09", "name": "新学院"})

    assert not College.objects.filter(code="09").exists()


def test_a_duplicate_college_name_gets_a_message_on_the_name_field(cast):
    with pytest.raises(ValidationFailed) as refused:
        college_save(actor=cast.actor(cast.registrar), values={"code": "09", "name": "计算机学院"})

    assert "name" in refused.value.errors


def test_a_class_whose_major_belongs_to_another_college_is_refused(cast):
    with pytest.raises(ValidationFailed) as refused:
        class_save(
            actor=cast.actor(cast.registrar),
            values={
                "code": "JK2403",
                "name": "计科2403",
                "college": cast.cs,
                "major": cast.fl_major,
                "cohort": cast.cohort,
            },
        )

    assert refused.value.errors["major"] == ["专业“英语”不属于计算机学院"]
    assert not SchoolClass.objects.filter(code="JK2403").exists()


def test_an_academic_year_is_created_with_two_terms_and_only_once(cast):
    actor = cast.actor(cast.registrar)

    year = academic_year_save(actor=actor, start_year=2025)

    assert (year.start_date, year.end_date) == (date(2025, 9, 1), date(2026, 8, 31))
    assert list(
        Term.objects.filter(academic_year=year)
        .order_by("number")
        .values_list("number", "start_date")
    ) == [(1, date(2025, 9, 1)), (2, date(2026, 2, 15))]
    with pytest.raises(DomainError, match="2025-2026学年已存在"):
        academic_year_save(actor=actor, start_year=2025)
    assert AcademicYear.objects.filter(start_year=2025).count() == 1


def test_every_organisation_write_keeps_the_audit_chain_intact(cast):
    actor = cast.actor(cast.registrar)
    college = college_save(actor=actor, values={"code": "09", "name": "数学学院"})
    college_save(actor=actor, college=college, values={"name_en": "School of Mathematics"})
    academic_year_save(actor=actor, start_year=2026)

    report = audit_chain_verify()

    assert report.ok, report.problem
    assert (
        AuditEvent.objects.filter(action="org.college.save", target_id=str(college.pk)).count() == 2
    )
