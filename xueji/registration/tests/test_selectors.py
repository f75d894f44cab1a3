"""Registration reads: progress counts per class within scope (in one query), the filtered
list, and exactly who is a candidate for the 退学 procedure."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from xueji.conftest import Cast, make_student
from xueji.org.models import Term
from xueji.registration.models import FinanceState, RegistrationState
from xueji.registration.rules import UNPAID_MESSAGE
from xueji.registration.selectors import (
    my_registration,
    registration_progress,
    registrations_visible_to,
    withdrawal_candidates,
)
from xueji.registration.services import finance_status_set, registration_open, registration_set
from xueji.registration.tests.conftest import move_deadline, row
from xueji.students.models import StudentStatus
from xueji.students.selectors import scope_filter

pytestmark = pytest.mark.django_db


def in_days(days: int):
    return timezone.localdate() + timedelta(days=days)


@pytest.fixture
def busy(cast: Cast, opened: Term) -> Term:
    """计科2401: student registered + a second student unregistered and unpaid;
    计科2402: classmate_b deferred; 英语2401: other_student unregistered and unpaid."""
    second = make_student(
        college=cast.cs,
        major=cast.cs_major,
        school_class=cast.class_a,
        cohort=cast.cohort,
        serial=41,
        name="赵六",
    )
    registration_open(actor=cast.actor(cast.registrar), term=opened)
    registrar = cast.actor(cast.registrar)
    registration_set(
        actor=registrar,
        registration=row(cast.student, opened),
        state=RegistrationState.REGISTERED,
    )
    registration_set(
        actor=registrar,
        registration=row(cast.classmate_b, opened),
        state=RegistrationState.DEFERRED,
        reason="因病",
        defer_until=in_days(10),
    )
    for student in (second, cast.other_student):
        finance_status_set(
            actor=registrar,
            student=student,
            term=opened,
            state=FinanceState.UNPAID,
            amount_due=Decimal("5000"),
        )
    return opened


def counts(rows) -> dict[str, tuple[int, int, int, int, int]]:
    return {
        r["class_name"]: (
            r["total"],
            r["registered"],
            r["deferred"],
            r["unregistered"],
            r["unpaid"],
        )
        for r in rows
    }


def test_counsellor_sees_the_progress_of_their_own_class_only(cast: Cast, busy: Term) -> None:
    assert counts(registration_progress(cast.counsellor, busy)) == {"计科2401": (2, 1, 0, 1, 1)}


def test_college_admin_sees_the_progress_of_every_class_of_the_college(
    cast: Cast, busy: Term
) -> None:
    assert counts(registration_progress(cast.college_admin, busy)) == {
        "计科2401": (2, 1, 0, 1, 1),
        "计科2402": (1, 0, 1, 0, 0),
    }


def test_registrar_sees_every_class_and_the_percentages(cast: Cast, busy: Term) -> None:
    rows = registration_progress(cast.registrar, busy)

    assert counts(rows)["英语2401"] == (1, 0, 0, 1, 1)
    assert {r["class_name"]: r["percent"] for r in rows} == {
        "计科2401": 50,
        "计科2402": 0,
        "英语2401": 0,
    }


def test_progress_is_one_grouped_query(cast: Cast, busy: Term) -> None:
    Term.objects.get(pk=busy.pk)
    scope_filter(cast.registrar)  # grants are read once per request, before

    with CaptureQueriesContext(connection) as queries:
        registration_progress(cast.registrar, busy)

    assert len(queries) == 1


def test_a_student_and_a_parent_see_no_class_progress_beyond_their_own_scope(
    cast: Cast, busy: Term
) -> None:
    assert counts(registration_progress(cast.student_user, busy)) == {"计科2401": (1, 1, 0, 0, 0)}
    assert counts(registration_progress(cast.other_student_user, busy)) == {
        "英语2401": (1, 0, 0, 1, 1)
    }


def numbers(rows) -> set[str]:
    return {r.student.student_number for r in rows}


def test_the_list_filters_by_state_finance_class_and_search(cast: Cast, busy: Term) -> None:
    user = cast.registrar
    unpaid = registrations_visible_to(user, busy, {"finance": FinanceState.UNPAID})
    assert numbers(unpaid) == {"2024000041", cast.other_student.student_number}
    assert numbers(registrations_visible_to(user, busy, {"finance": "none"})) == {
        cast.student.student_number,
        cast.classmate_b.student_number,
    }
    assert numbers(registrations_visible_to(user, busy, {"state": "deferred"})) == {
        cast.classmate_b.student_number
    }
    assert numbers(registrations_visible_to(user, busy, {"school_class": cast.class_a.pk})) == {
        cast.student.student_number,
        "2024000041",
    }
    assert numbers(registrations_visible_to(user, busy, {"search": "王"})) == {
        cast.other_student.student_number
    }


def test_the_list_of_a_counsellor_holds_only_their_class(cast: Cast, busy: Term) -> None:
    assert numbers(registrations_visible_to(cast.counsellor, busy)) == {
        cast.student.student_number,
        "2024000041",
    }


# --- 退学 candidates --------------------------------------------------------------------------


def test_there_are_no_candidates_before_the_deadline_has_passed(cast: Cast, busy: Term) -> None:
    move_deadline(busy, 0)
    assert not withdrawal_candidates(cast.registrar, busy, timezone.localdate()).exists()
    move_deadline(busy, None)
    assert not withdrawal_candidates(cast.registrar, busy, timezone.localdate()).exists()


def test_candidates_are_the_unregistered_and_the_lapsed_deferrals_still_in_school(
    cast: Cast, busy: Term
) -> None:
    move_deadline(busy, -5)
    # classmate_b was deferred to in_days(10): not lapsed today, lapsed in 11 days.
    suspended = make_student(
        college=cast.cs,
        major=cast.cs_major,
        school_class=cast.class_a,
        cohort=cast.cohort,
        serial=42,
        name="钱七",
    )
    registration_open(actor=cast.actor(cast.registrar), term=busy)
    suspended.status = StudentStatus.SUSPENDED
    suspended.save()
    today = timezone.localdate()

    assert numbers(withdrawal_candidates(cast.registrar, busy, today)) == {
        "2024000041",
        cast.other_student.student_number,
    }
    assert numbers(withdrawal_candidates(cast.registrar, busy, today + timedelta(days=11))) == {
        "2024000041",
        cast.other_student.student_number,
        cast.classmate_b.student_number,
    }


def test_a_college_admin_sees_only_candidates_of_their_college(cast: Cast, busy: Term) -> None:
    move_deadline(busy, -1)
    assert numbers(withdrawal_candidates(cast.college_admin, busy, timezone.localdate())) == {
        "2024000041"
    }


# --- my registration -------------------------------------------------------------------------


def test_my_registration_explains_why_an_unpaid_student_cannot_register(
    cast: Cast, busy: Term
) -> None:
    mine = my_registration(cast.other_student, busy)

    assert not mine.can_register
    assert mine.refusal == UNPAID_MESSAGE
    assert mine.finance is not None and mine.finance.amount_due == Decimal("5000")


def test_my_registration_before_opening_says_it_is_not_open(cast: Cast, term: Term) -> None:
    mine = my_registration(cast.student, term)

    assert mine.registration is None
    assert "尚未开放" in (mine.refusal or "")
