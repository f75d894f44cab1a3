"""A current term with the cast's `student` registered, PDFs stored under a temporary media
root, and a fresh cache (the public page's rate limit counts there)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from pypdf import PdfReader

from xueji.conftest import Cast
from xueji.org.models import AcademicYear, Term
from xueji.registration.models import RegistrationState, TermRegistration
from xueji.registration.services import registration_open


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.BASE_URL = "https://xueji.example.edu.cn"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


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
def registered(cast: Cast, term: Term) -> Cast:
    """Registration opened for the term; `student` and `classmate_b` have registered,
    `other_student` has not."""
    registration_open(actor=cast.actor(cast.registrar), term=term)
    TermRegistration.objects.filter(term=term, student__in=[cast.student, cast.classmate_b]).update(
        state=RegistrationState.REGISTERED
    )
    return cast


def pdf_text(content: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
