"""A term for registration tests: started ten days ago, registration deadline in five days."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from xueji.conftest import Cast
from xueji.org.models import AcademicYear, Term
from xueji.registration.models import TermRegistration
from xueji.registration.services import registration_open


@pytest.fixture
def term(db) -> Term:
    today = timezone.localdate()
    year = AcademicYear.objects.create(
        start_year=today.year,
        start_date=today - timedelta(days=40),
        end_date=today + timedelta(days=300),
    )
    return Term.objects.create(
        academic_year=year,
        number=1,
        start_date=today - timedelta(days=10),
        end_date=today + timedelta(days=100),
        registration_deadline=today + timedelta(days=5),
    )


@pytest.fixture
def opened(cast: Cast, term: Term) -> Term:
    """Registration opened by the registrar: 未注册 rows for the three students of the cast."""
    registration_open(actor=cast.actor(cast.registrar), term=term)
    return term


def row(student, term: Term) -> TermRegistration:
    return TermRegistration.objects.get(student=student, term=term)


def move_deadline(term: Term, days_from_today: int | None) -> None:
    term.registration_deadline = (
        None if days_from_today is None else timezone.localdate() + timedelta(days=days_from_today)
    )
    term.save(update_fields=["registration_deadline"])
