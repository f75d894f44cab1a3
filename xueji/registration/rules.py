"""The registration rules of 教育部令第41号 as plain functions, shared by the services (which
enforce them) and the pages (which explain them before the student presses a button)."""

from __future__ import annotations

from datetime import date

from xueji.org.models import Term
from xueji.registration.models import FinanceState, RegistrationState, TermRegistration
from xueji.students.models import Student, StudentStatus

UNPAID_MESSAGE = "本学期学费未缴清，不能自助注册。请先缴费，或向学生资助中心申请缓缴（绿色通道）。"
# Reminders about the deadline start this many days before it (and include the day itself).
DEADLINE_REMINDER_DAYS = 3


def self_registration_refusal(
    *,
    student: Student,
    term: Term,
    registration: TermRegistration | None,
    finance_state: str | None,
    today: date,
) -> str | None:
    """Why the student cannot register themselves for `term` today, or None if they can.

    Checked in this order, so the student reads the reason that matters first: registration
    not open, not in school, already registered, past the deadline (a deferral extends it to
    its own date), tuition unpaid (第十二条; aid arranged counts as settled).
    """
    if registration is None:
        return "本学期注册尚未开放，请等待学校通知。"
    if student.status != StudentStatus.IN_SCHOOL:
        return (
            f"您当前的在校状态为“{student.get_status_display()}”，不参加本学期注册。"
            "如有疑问请联系辅导员。"
        )
    if registration.state == RegistrationState.REGISTERED:
        return "您本学期已注册，无需重复注册。"
    deadline = effective_deadline(term, registration)
    if deadline is not None and today > deadline:
        return (
            f"本学期注册已于 {deadline:%Y-%m-%d} 截止，不能自助注册。"
            "请尽快联系辅导员办理补注册或暂缓注册。"
        )
    if finance_state == FinanceState.UNPAID:
        return UNPAID_MESSAGE
    return None


def effective_deadline(term: Term, registration: TermRegistration) -> date | None:
    """The last day this student may still register: the term's deadline, or the end of an
    approved deferral when that is later."""
    deadline = term.registration_deadline
    until = registration.defer_until
    if (
        registration.state == RegistrationState.DEFERRED
        and until is not None
        and (deadline is None or until > deadline)
    ):
        return until
    return deadline
