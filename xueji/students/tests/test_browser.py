"""Browser tests in Debian's Chromium through Playwright: what a counsellor and a student see.

Playwright's sync API runs an event loop in the test thread, so Django's async-safety check
is relaxed for this module; the live server runs in its own thread as usual.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from playwright.sync_api import sync_playwright

from xueji.audit.models import AuditEvent
from xueji.conftest import PASSWORD, Cast, build_cast
from xueji.core.context import Actor
from xueji.core.masking import mask_id_number
from xueji.org.selectors import code_cache_clear
from xueji.org.services import code_tables_load
from xueji.students.tests.factories import fast_password_hashing  # noqa: F401

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(django_settings.BASE_DIR) / "test-artifacts"
MASKED_ID = re.compile(r"\b\d{3}\*{11}[\dX]{4}\b")


@pytest.fixture(scope="module")
def browser():
    # Never skip: a missing browser fails the run (the test command checks for it up front).
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is not installed (apt-get install chromium fonts-noto-cjk)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def live_cast(transactional_db) -> Cast:
    """The usual cast, for tests whose database is flushed afterwards: the session's code
    tables are gone after the first flush, so load them again first."""
    code_tables_load(actor=Actor.system())
    code_cache_clear()
    return build_cast()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")


def test_counsellor_searches_opens_a_student_and_sees_only_the_masked_id(
    page, live_server, live_cast
):
    student = live_cast.student
    log_in(page, live_server, "counsellor")
    shot(page, "counsellor-home")
    page.get_by_role("link", name="学生", exact=True).click()
    page.wait_for_url(re.compile(r"/students/$"))
    page.get_by_label("搜索").fill("shanxiao")
    # htmx swaps the results table in place while typing.
    page.wait_for_url(re.compile(r"q=shanxiao"))
    table = page.locator("#student-table")
    assert table.locator("tbody tr").count() == 1
    assert "单小明" in table.inner_text()
    shot(page, "counsellor-search")
    page.get_by_role("link", name=student.student_number).click()
    page.wait_for_url(re.compile(rf"/students/{student.student_number}/$"))
    id_text = page.locator("#id-number-value").inner_text()
    assert MASKED_ID.fullmatch(id_text)
    assert id_text == mask_id_number(student.id_number)
    assert student.id_number not in page.content()
    assert page.locator("#reveal-id").count() == 0
    shot(page, "counsellor-student-detail")


def test_counsellor_search_for_another_class_finds_nothing(page, live_server, live_cast):
    log_in(page, live_server, "counsellor")
    page.goto(f"{live_server.url}/students/?q={live_cast.classmate_b.student_number}")
    assert page.locator("#student-table tbody tr").count() == 1
    assert "没有符合条件的学生" in page.locator("#student-table").inner_text()


def test_student_is_sent_to_their_own_record_and_others_are_not_found(page, live_server, live_cast):
    log_in(page, live_server, "student")
    page.goto(f"{live_server.url}/students/")
    page.wait_for_url(f"{live_server.url}/me/")
    assert "单小明" in page.locator("#student-card").inner_text()
    assert live_cast.student.id_number not in page.content()
    shot(page, "student-own-record")
    response = page.goto(f"{live_server.url}/students/{live_cast.other_student.student_number}/")
    assert response is not None and response.status == 404
    assert "王五" not in page.content()


def test_registrar_reveals_the_full_id_in_place_and_the_view_is_audited(
    page, live_server, live_cast
):
    student = live_cast.student
    log_in(page, live_server, "registrar")
    page.goto(f"{live_server.url}/students/{student.student_number}/")
    page.locator("#reveal-id").click()
    page.locator("#id-number-cell").get_by_text(student.id_number).wait_for()
    assert page.url.endswith(f"/students/{student.student_number}/")
    assert AuditEvent.objects.filter(action="student.view_id", actor_id=live_cast.registrar.pk)
    shot(page, "registrar-revealed-id")
