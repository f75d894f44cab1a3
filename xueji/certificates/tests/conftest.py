"""A current term with the cast's `student` registered, PDFs stored under a temporary media
root, and a fresh cache (the public page's rate limit counts there)."""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from pypdf import PdfReader

from xueji.conftest import Cast
from xueji.org.models import Term
from xueji.registration.models import RegistrationState, TermRegistration
from xueji.registration.services import registration_open
from xueji.registration.tests.conftest import term  # noqa: F401  (the same current term)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.BASE_URL = "https://xueji.example.edu.cn"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def fresh_cache(request):
    # The cache is a database table: only tests with database access have one to clear.
    uses = {"db", "transactional_db"} & set(request.fixturenames)
    if not uses:
        yield
        return
    request.getfixturevalue(sorted(uses)[-1])  # set the database up first
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def registered(cast: Cast, term: Term) -> Cast:  # noqa: F811 (the fixture above)
    """Registration opened for the term; `student` and `classmate_b` have registered,
    `other_student` has not."""
    registration_open(actor=cast.actor(cast.registrar), term=term)
    TermRegistration.objects.filter(term=term, student__in=[cast.student, cast.classmate_b]).update(
        state=RegistrationState.REGISTERED
    )
    return cast


def pdf_text(content: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
