"""Registration and finance writes: who may, the rules of 第十二条, and that a refusal changes
nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from xueji.audit.models import AuditEvent
from xueji.conftest import Cast
from xueji.core.exceptions import DomainError, NotFound, PermissionDenied, ValidationFailed
from xueji.notifications.models import Notification
from xueji.org.models import Term
from xueji.registration.models import (
    FinanceState,
    FinanceStatus,
    RegistrationState,
    RegistrationVia,
    TermRegistration,
)
from xueji.registration.rules import UNPAID_MESSAGE
from xueji.registration.services import (
    FinanceRow,
    finance_status_bulk_set,
    finance_status_set,
    registration_open,
    registration_self,
    registration_set,
)
from xueji.registration.tests.conftest import move_deadline, row
from xueji.students.models import StudentStatus

pytestmark = pytest.mark.django_db


def set_finance(cast: Cast, student, term: Term, state: str, amount: str = "0") -> None:
    finance_status_set(
        actor=cast.actor(cast.registrar),
        student=student,
        term=term,
        state=state,
        amount_due=Decimal(amount),
    )


def in_days(days: int):
    return timezone.localdate() + timedelta(days=days)


# --- opening ---------------------------------------------------------------------------------


def test_registrar_opens_registration_with_one_unregistered_row_per_student_in_school(
    cast: Cast, term: Term
) -> None:
    created = registration_open(actor=cast.actor(cast.registrar), term=term)

    assert created == 3
    rows = TermRegistration.objects.filter(term=term)
    assert {r.student_id for r in rows} == {
        cast.student.pk,
        cast.classmate_b.pk,
        cast.other_student.pk,
    }
    assert {r.state for r in rows} == {RegistrationState.UNREGISTERED}
    event = AuditEvent.objects.get(action="registration.open")
    assert '"created":3' in event.after.replace(" ", "")


def test_opening_again_adds_only_new_students_and_keeps_existing_states(
    cast: Cast, opened: Term
) -> None:
    registration_self(actor=cast.actor(cast.student_user), term=opened)
    from xueji.conftest import make_student

    newcomer = make_student(
        college=cast.cs,
        major=cast.cs_major,
        school_class=cast.class_a,
        cohort=cast.cohort,
        serial=40,
        name="新同学",
    )

    created = registration_open(actor=cast.actor(cast.registrar), term=opened)

    assert created == 1
    assert row(newcomer, opened).state == RegistrationState.UNREGISTERED
    assert row(cast.student, opened).state == RegistrationState.REGISTERED
    assert registration_open(actor=cast.actor(cast.registrar), term=opened) == 0


def test_a_suspended_student_gets_no_registration_row(cast: Cast, term: Term) -> None:
    cast.classmate_b.status = StudentStatus.SUSPENDED
    cast.classmate_b.save()

    assert registration_open(actor=cast.actor(cast.registrar), term=term) == 2
    assert not TermRegistration.objects.filter(student=cast.classmate_b).exists()


@pytest.mark.parametrize("who", ["college_admin", "counsellor", "student_user", "auditor"])
def test_only_the_registrar_can_open_registration(cast: Cast, term: Term, who: str) -> None:
    with pytest.raises(PermissionDenied):
        registration_open(actor=cast.actor(getattr(cast, who)), term=term)
    assert not TermRegistration.objects.exists()


def test_registration_cannot_be_opened_for_a_term_that_has_ended(cast: Cast, term: Term) -> None:
    term.end_date = in_days(-1)
    term.save()

    with pytest.raises(DomainError, match="结束"):
        registration_open(actor=cast.actor(cast.registrar), term=term)
    assert not TermRegistration.objects.exists()


# --- self-registration -----------------------------------------------------------------------


def test_student_registers_themselves(cast: Cast, opened: Term) -> None:
    registration = registration_self(actor=cast.actor(cast.student_user), term=opened)

    assert registration.state == RegistrationState.REGISTERED
    assert registration.via == RegistrationVia.SELF
    assert registration.decided_by == cast.student_user
    assert AuditEvent.objects.filter(action="registration.self").count() == 1


def test_unpaid_tuition_blocks_self_registration_with_a_message_saying_what_to_do(
    cast: Cast, opened: Term
) -> None:
    set_finance(cast, cast.student, opened, FinanceState.UNPAID, "5200")

    with pytest.raises(DomainError) as refused:
        registration_self(actor=cast.actor(cast.student_user), term=opened)

    assert refused.value.message == UNPAID_MESSAGE
    assert "绿色通道" in refused.value.message
    assert row(cast.student, opened).state == RegistrationState.UNREGISTERED
    assert not AuditEvent.objects.filter(action="registration.self").exists()


@pytest.mark.parametrize("state", [FinanceState.AID, FinanceState.PAID])
def test_aid_arranged_or_paid_tuition_allows_self_registration(
    cast: Cast, opened: Term, state: str
) -> None:
    set_finance(cast, cast.student, opened, state, "5200" if state == FinanceState.AID else "0")

    registration = registration_self(actor=cast.actor(cast.student_user), term=opened)

    assert registration.state == RegistrationState.REGISTERED


def test_self_registration_after_the_deadline_is_refused(cast: Cast, opened: Term) -> None:
    move_deadline(opened, -1)

    with pytest.raises(DomainError, match="截止"):
        registration_self(actor=cast.actor(cast.student_user), term=opened)
    assert row(cast.student, opened).state == RegistrationState.UNREGISTERED


def test_self_registration_on_the_deadline_day_is_accepted(cast: Cast, opened: Term) -> None:
    move_deadline(opened, 0)

    assert registration_self(actor=cast.actor(cast.student_user), term=opened).state == (
        RegistrationState.REGISTERED
    )


def test_a_deferred_student_may_register_after_the_deadline_until_the_deferral_ends(
    cast: Cast, opened: Term
) -> None:
    registration_set(
        actor=cast.actor(cast.counsellor),
        registration=row(cast.student, opened),
        state=RegistrationState.DEFERRED,
        reason="因病住院",
        defer_until=in_days(20),
    )
    move_deadline(opened, -1)

    assert registration_self(actor=cast.actor(cast.student_user), term=opened).state == (
        RegistrationState.REGISTERED
    )


def test_self_registration_before_registration_is_opened_is_refused(cast: Cast, term: Term) -> None:
    with pytest.raises(DomainError, match="尚未开放"):
        registration_self(actor=cast.actor(cast.student_user), term=term)


def test_a_student_not_in_school_cannot_register(cast: Cast, opened: Term) -> None:
    cast.student.status = StudentStatus.SUSPENDED
    cast.student.save()

    with pytest.raises(DomainError, match="休学"):
        registration_self(actor=cast.actor(cast.student_user), term=opened)


def test_registering_twice_is_refused(cast: Cast, opened: Term) -> None:
    registration_self(actor=cast.actor(cast.student_user), term=opened)

    with pytest.raises(DomainError, match="已注册"):
        registration_self(actor=cast.actor(cast.student_user), term=opened)


def test_staff_without_a_student_record_cannot_self_register(cast: Cast, opened: Term) -> None:
    with pytest.raises(NotFound):
        registration_self(actor=cast.actor(cast.counsellor), term=opened)


# --- staff set -------------------------------------------------------------------------------


def test_counsellor_registers_a_student_of_their_class_and_the_student_is_told(
    cast: Cast, opened: Term
) -> None:
    updated = registration_set(
        actor=cast.actor(cast.counsellor),
        registration=row(cast.student, opened),
        state=RegistrationState.REGISTERED,
    )

    assert updated.state == RegistrationState.REGISTERED
    assert updated.via == RegistrationVia.STAFF
    assert updated.decided_by == cast.counsellor
    assert Notification.objects.filter(user=cast.student_user, title__contains="已注册").exists()
    assert AuditEvent.objects.filter(action="registration.set").count() == 1


def test_counsellor_cannot_set_the_registration_of_a_student_of_another_class(
    cast: Cast, opened: Term
) -> None:
    with pytest.raises(PermissionDenied):
        registration_set(
            actor=cast.actor(cast.counsellor),
            registration=row(cast.classmate_b, opened),
            state=RegistrationState.REGISTERED,
        )
    assert row(cast.classmate_b, opened).state == RegistrationState.UNREGISTERED


def test_college_admin_cannot_set_the_registration_of_another_college(
    cast: Cast, opened: Term
) -> None:
    with pytest.raises(PermissionDenied):
        registration_set(
            actor=cast.actor(cast.college_admin),
            registration=row(cast.other_student, opened),
            state=RegistrationState.REGISTERED,
        )


@pytest.mark.parametrize("who", ["auditor", "advisor", "student_user"])
def test_read_only_roles_cannot_set_a_registration(cast: Cast, opened: Term, who: str) -> None:
    with pytest.raises(PermissionDenied):
        registration_set(
            actor=cast.actor(getattr(cast, who)),
            registration=row(cast.student, opened),
            state=RegistrationState.REGISTERED,
        )


@pytest.mark.parametrize(
    ("reason", "defer_until", "field"),
    [
        ("", 20, "reason"),
        ("因病住院", None, "defer_until"),
        ("因病住院", 0, "defer_until"),
        ("因病住院", -3, "defer_until"),
        ("因病住院", 200, "defer_until"),
    ],
)
def test_deferral_needs_a_reason_and_a_date_after_today_within_the_term(
    cast: Cast, opened: Term, reason: str, defer_until: int | None, field: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        registration_set(
            actor=cast.actor(cast.counsellor),
            registration=row(cast.student, opened),
            state=RegistrationState.DEFERRED,
            reason=reason,
            defer_until=None if defer_until is None else in_days(defer_until),
        )

    assert field in refused.value.errors
    assert row(cast.student, opened).state == RegistrationState.UNREGISTERED


def test_deferral_with_reason_and_date_is_recorded(cast: Cast, opened: Term) -> None:
    updated = registration_set(
        actor=cast.actor(cast.college_admin),
        registration=row(cast.classmate_b, opened),
        state=RegistrationState.DEFERRED,
        reason="参加国际竞赛",
        defer_until=in_days(14),
    )

    assert (updated.state, updated.reason, updated.defer_until) == (
        RegistrationState.DEFERRED,
        "参加国际竞赛",
        in_days(14),
    )


def test_registering_an_unpaid_student_needs_a_reason(cast: Cast, opened: Term) -> None:
    set_finance(cast, cast.student, opened, FinanceState.UNPAID, "5200")

    with pytest.raises(ValidationFailed) as refused:
        registration_set(
            actor=cast.actor(cast.counsellor),
            registration=row(cast.student, opened),
            state=RegistrationState.REGISTERED,
        )
    assert "学费未缴清" in refused.value.errors["reason"][0]

    updated = registration_set(
        actor=cast.actor(cast.counsellor),
        registration=row(cast.student, opened),
        state=RegistrationState.REGISTERED,
        reason="已办理生源地助学贷款",
    )
    assert updated.state == RegistrationState.REGISTERED


def test_setting_a_registration_back_to_unregistered_needs_a_reason(
    cast: Cast, opened: Term
) -> None:
    registration_self(actor=cast.actor(cast.student_user), term=opened)

    with pytest.raises(ValidationFailed):
        registration_set(
            actor=cast.actor(cast.registrar),
            registration=row(cast.student, opened),
            state=RegistrationState.UNREGISTERED,
        )
    updated = registration_set(
        actor=cast.actor(cast.registrar),
        registration=row(cast.student, opened),
        state=RegistrationState.UNREGISTERED,
        reason="误操作，学生尚未返校",
    )
    assert updated.state == RegistrationState.UNREGISTERED


def test_staff_cannot_register_a_student_who_is_no_longer_in_school(
    cast: Cast, opened: Term
) -> None:
    cast.student.status = StudentStatus.SUSPENDED
    cast.student.save()

    with pytest.raises(DomainError, match="休学"):
        registration_set(
            actor=cast.actor(cast.registrar),
            registration=row(cast.student, opened),
            state=RegistrationState.REGISTERED,
        )


def test_an_unknown_state_is_refused(cast: Cast, opened: Term) -> None:
    with pytest.raises(ValidationFailed):
        registration_set(
            actor=cast.actor(cast.registrar),
            registration=row(cast.student, opened),
            state="enrolled",
        )


# --- finance ---------------------------------------------------------------------------------


def test_registrar_records_and_updates_a_finance_status(cast: Cast, term: Term) -> None:
    set_finance(cast, cast.student, term, FinanceState.UNPAID, "5200.5")
    set_finance(cast, cast.student, term, FinanceState.AID, "5200.5")

    status = FinanceStatus.objects.get(student=cast.student, term=term)
    assert (status.state, status.amount_due) == (FinanceState.AID, Decimal("5200.50"))
    assert AuditEvent.objects.filter(action="finance_status.set").count() == 2


@pytest.mark.parametrize("who", ["college_admin", "counsellor", "student_user"])
def test_only_the_registrar_sets_finance_status(cast: Cast, term: Term, who: str) -> None:
    with pytest.raises(PermissionDenied):
        finance_status_set(
            actor=cast.actor(getattr(cast, who)),
            student=cast.student,
            term=term,
            state=FinanceState.PAID,
            amount_due=0,
        )
    assert not FinanceStatus.objects.exists()


@pytest.mark.parametrize(
    ("state", "amount", "field"),
    [
        (FinanceState.PAID, "100", "amount_due"),
        (FinanceState.UNPAID, "0", "amount_due"),
        (FinanceState.UNPAID, "-1", "amount_due"),
        (FinanceState.UNPAID, "abc", "amount_due"),
        ("owed", "100", "state"),
    ],
)
def test_inconsistent_finance_input_is_refused(
    cast: Cast, term: Term, state: str, amount: str, field: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        finance_status_set(
            actor=cast.actor(cast.registrar),
            student=cast.student,
            term=term,
            state=state,
            amount_due=amount,
        )
    assert field in refused.value.errors
    assert not FinanceStatus.objects.exists()


def test_bulk_finance_set_creates_and_updates_in_one_go(cast: Cast, term: Term) -> None:
    set_finance(cast, cast.student, term, FinanceState.UNPAID, "5200")

    written = finance_status_bulk_set(
        actor=cast.actor(cast.registrar),
        term=term,
        rows=[
            FinanceRow(cast.student.student_number, FinanceState.PAID, "0"),
            FinanceRow(cast.classmate_b.student_number, FinanceState.UNPAID, "4800", "欠住宿费"),
        ],
    )

    assert written == 2
    states = dict(FinanceStatus.objects.values_list("student_id", "state"))
    assert states == {cast.student.pk: FinanceState.PAID, cast.classmate_b.pk: FinanceState.UNPAID}
    assert AuditEvent.objects.filter(action="finance_status.bulk_set").count() == 1


def test_bulk_finance_set_with_one_bad_row_changes_nothing_and_names_the_row(
    cast: Cast, term: Term
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        finance_status_bulk_set(
            actor=cast.actor(cast.registrar),
            term=term,
            rows=[
                FinanceRow(cast.student.student_number, FinanceState.PAID, "0"),
                FinanceRow("2099999999", FinanceState.PAID, "0"),
                FinanceRow(cast.student.student_number, FinanceState.PAID, "0"),
            ],
        )

    assert "2099999999" in refused.value.errors["第 2 行"][0]
    assert "重复" in refused.value.errors["第 3 行"][0]
    assert not FinanceStatus.objects.exists()


def test_bulk_finance_set_is_for_the_registrar_only(cast: Cast, term: Term) -> None:
    with pytest.raises(PermissionDenied):
        finance_status_bulk_set(
            actor=cast.actor(cast.college_admin),
            term=term,
            rows=[FinanceRow(cast.student.student_number, FinanceState.PAID, "0")],
        )
