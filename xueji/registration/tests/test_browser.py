"""Registration in Chromium: an unpaid student is told why they cannot register, aid is
recorded, they register, and the counsellor's progress bar moves. Screenshots are kept in
test-artifacts/."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from xueji.conftest import Cast
from xueji.org.models import AcademicYear, Term
from xueji.registration.models import FinanceState, RegistrationState
from xueji.registration.services import finance_status_set, registration_open
from xueji.students.tests import test_browser as base

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.browser

# The students app's Chromium and live-cast fixtures, shared rather than copied.
browser = base.browser
live_cast = base.live_cast
log_in = base.log_in
shot = base.shot


def open_term(cast: Cast) -> Term:
    today = timezone.localdate()
    year = AcademicYear.objects.create(
        start_year=today.year,
        start_date=today - timedelta(days=40),
        end_date=today + timedelta(300),
    )
    term = Term.objects.create(
        academic_year=year,
        number=1,
        start_date=today - timedelta(days=10),
        end_date=today + timedelta(days=100),
        registration_deadline=today + timedelta(days=5),
    )
    registration_open(actor=cast.actor(cast.registrar), term=term)
    finance_status_set(
        actor=cast.actor(cast.registrar),
        student=cast.student,
        term=term,
        state=FinanceState.UNPAID,
        amount_due=Decimal("5200"),
    )
    return term


def test_unpaid_student_is_told_then_registers_after_aid_and_the_counsellor_sees_it(
    browser, live_server, live_cast
) -> None:
    term = open_term(live_cast)

    student_page = browser.new_context(locale="zh-CN").new_page()
    log_in(student_page, live_server, "student")
    student_page.goto(f"{live_server.url}/registration/")
    assert "本学期学费未缴清，不能自助注册" in student_page.locator("#refusal").inner_text()
    assert student_page.locator("#register-button").count() == 0
    shot(student_page, "registration-student-unpaid")

    finance_status_set(
        actor=live_cast.actor(live_cast.registrar),
        student=live_cast.student,
        term=term,
        state=FinanceState.AID,
        amount_due=Decimal("5200"),
        note="绿色通道",
    )
    student_page.reload()
    student_page.locator("#register-button").click()
    student_page.wait_for_url(re.compile(r"/registration/\?term="))
    assert "注册成功" in student_page.content()
    assert student_page.get_by_test_id("registration-state").inner_text() == "已注册"
    shot(student_page, "registration-student-registered")
    assert term.registrations.get(student=live_cast.student).state == RegistrationState.REGISTERED

    staff_page = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    counsellor = staff_page.new_page()
    log_in(counsellor, live_server, "counsellor")
    counsellor.goto(f"{live_server.url}/registration/progress/?term={term.pk}")
    table = counsellor.locator("#progress-table")
    assert table.locator("tbody tr").count() == 1
    assert "100%" in table.inner_text()
    shot(counsellor, "registration-counsellor-progress")
