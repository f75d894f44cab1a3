"""Reminders: tuition (to the student and consenting parents) and the approaching deadline,
at most once a day per student however often the sweep runs."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from xueji.audit.models import AuditEvent
from xueji.conftest import Cast
from xueji.core.periodic import jobs
from xueji.notifications.models import Notification
from xueji.org.models import Term
from xueji.registration.models import FinanceState, RegistrationState
from xueji.registration.services import (
    finance_status_set,
    registration_self,
    registration_send_reminders,
)
from xueji.registration.tests.conftest import move_deadline

pytestmark = pytest.mark.django_db


def owe(cast: Cast, student, term: Term) -> None:
    finance_status_set(
        actor=cast.actor(cast.registrar),
        student=student,
        term=term,
        state=FinanceState.UNPAID,
        amount_due=Decimal("5200"),
    )


def titles(user) -> list[str]:
    return list(Notification.objects.filter(user=user).values_list("title", flat=True))


def test_an_unpaid_unregistered_student_and_their_parent_get_a_tuition_reminder(
    cast: Cast, opened: Term
) -> None:
    move_deadline(opened, 20)
    owe(cast, cast.student, opened)

    sent = registration_send_reminders(term=opened, now=timezone.now())

    assert sent == 1
    assert titles(cast.student_user) == [f"学费缴纳提醒：{opened}"]
    assert titles(cast.parent) == [f"学费缴纳提醒：{opened}"]
    body = Notification.objects.get(user=cast.student_user).body
    assert "5200.00" in body and "绿色通道" in body
    # other_student has paid nothing but finance has not reported: no tuition reminder.
    assert titles(cast.other_student_user) == []
    assert AuditEvent.objects.filter(action="registration.remind").count() == 1


def test_reminders_go_at_most_once_a_day(cast: Cast, opened: Term) -> None:
    owe(cast, cast.student, opened)
    now = timezone.now()

    assert registration_send_reminders(term=opened, now=now) == 1
    assert registration_send_reminders(term=opened, now=now + timedelta(minutes=5)) == 0
    assert len(titles(cast.student_user)) == 1
    assert registration_send_reminders(term=opened, now=now + timedelta(days=1)) == 1
    assert len(titles(cast.student_user)) == 2


def test_students_near_the_deadline_get_a_deadline_reminder(cast: Cast, opened: Term) -> None:
    move_deadline(opened, 10)
    assert registration_send_reminders(term=opened, now=timezone.now()) == 0

    move_deadline(opened, 3)
    assert registration_send_reminders(term=opened, now=timezone.now()) == 2  # both with accounts
    assert titles(cast.student_user) == [f"学期注册提醒：{opened}"]
    assert titles(cast.parent) == []  # parents hear about tuition only


def test_registered_students_get_no_reminder(cast: Cast, opened: Term) -> None:
    move_deadline(opened, 1)
    registration_self(actor=cast.actor(cast.student_user), term=opened)

    registration_send_reminders(term=opened, now=timezone.now())

    assert titles(cast.student_user) == []
    assert titles(cast.other_student_user) == [f"学期注册提醒：{opened}"]


def test_no_reminders_after_the_deadline(cast: Cast, opened: Term) -> None:
    owe(cast, cast.student, opened)
    move_deadline(opened, -1)

    assert registration_send_reminders(term=opened, now=timezone.now()) == 0


def test_the_periodic_sweep_is_registered_and_sends_through_run_periodic(
    cast: Cast, opened: Term
) -> None:
    assert "registration.reminders" in {job.name for job in jobs()}
    owe(cast, cast.student, opened)

    call_command("run_periodic", "--once")
    call_command("run_periodic", "--once")

    assert titles(cast.student_user) == [f"学费缴纳提醒：{opened}"]
    assert opened.registrations.get(student=cast.student).state == RegistrationState.UNREGISTERED
