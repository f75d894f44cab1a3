"""Writes of term registration and finance status. Each service checks permission, runs in one
transaction and writes its audit event there; notifications are rows in the same transaction
whose e-mail copies go out after commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from xueji.accounts.models import User
from xueji.audit.services import audit_record
from xueji.core.context import Actor
from xueji.core.exceptions import DomainError, NotFound, PermissionDenied, ValidationFailed
from xueji.notifications.services import notify
from xueji.org.models import Term
from xueji.registration import permissions
from xueji.registration.models import (
    FinanceState,
    FinanceStatus,
    RegistrationState,
    RegistrationVia,
    TermRegistration,
)
from xueji.registration.rules import DEADLINE_REMINDER_DAYS, self_registration_refusal
from xueji.students.models import ParentLink, Student, StudentStatus
from xueji.students.selectors import student_for_user

MAX_AMOUNT = Decimal("99999999.99")


def _snapshot(registration: TermRegistration) -> dict[str, Any]:
    return {
        "state": registration.state,
        "reason": registration.reason,
        "defer_until": registration.defer_until.isoformat() if registration.defer_until else None,
        "via": registration.via,
    }


# --- opening ---------------------------------------------------------------------------------


def registration_open(*, actor: Actor, term: Term) -> int:
    """Open registration for `term`: one 未注册 row for every student currently 在校.

    Idempotent: students who already have a row keep it (and its state); running it again
    later adds only students who have come into school since. Returns the number of rows
    created. Raises PermissionDenied for anyone but the registrar, DomainError for a term
    that has ended. One audit event carries the count.
    """
    user = actor.require_user()
    if not permissions.can_open_registration(user):
        raise PermissionDenied("只有校级学籍管理员可以开放学期注册。")
    today = timezone.localdate()
    if term.end_date < today:
        raise DomainError(
            f"{term}已于 {term.end_date:%Y-%m-%d} 结束，不能再开放注册。", field="term"
        )
    with transaction.atomic():
        existing = TermRegistration.objects.filter(term=term)
        before = existing.count()
        missing = (
            Student.objects.filter(status=StudentStatus.IN_SCHOOL)
            .exclude(pk__in=existing.values("student_id"))
            .values_list("pk", flat=True)
        )
        TermRegistration.objects.bulk_create(
            [TermRegistration(student_id=pk, term=term) for pk in missing.iterator()],
            batch_size=1000,
            # Two registrars pressing the button at once: the second insert skips rows the
            # first one made, instead of failing on the unique constraint.
            ignore_conflicts=True,
        )
        created = existing.count() - before
        audit_record(
            actor=actor,
            action="registration.open",
            target=term,
            summary=f"开放{term}注册：新增 {created} 名在校学生的注册记录",
            after={"term": term.pk, "created": created, "total": before + created},
        )
    return created


# --- a student registers themselves ----------------------------------------------------------


def registration_self(*, actor: Actor, term: Term) -> TermRegistration:
    """The acting student registers for `term`.

    Refused (DomainError, message for the student) when registration is not open, the student
    is not 在校, already registered, past the deadline (or the end of their deferral), or the
    tuition is unpaid (第十二条; 已办理缓缴或资助 counts as settled).
    """
    user = actor.require_user()
    student = student_for_user(user)  # NotFound for an account without a record
    if not permissions.can_self_register(user, student):
        raise NotFound("当前账号没有关联的学生档案。")
    today = timezone.localdate()
    with transaction.atomic():
        registration = (
            TermRegistration.objects.select_for_update().filter(student=student, term=term).first()
        )
        finance = FinanceStatus.objects.filter(student=student, term=term).first()
        refusal = self_registration_refusal(
            student=student,
            term=term,
            registration=registration,
            finance_state=finance.state if finance else None,
            today=today,
        )
        if refusal is not None:
            raise DomainError(refusal, field="state")
        assert registration is not None  # the refusal covers a missing row
        before = _snapshot(registration)
        registration.state = RegistrationState.REGISTERED
        registration.via = RegistrationVia.SELF
        registration.decided_by = user
        registration.decided_at = timezone.now()
        registration.save(update_fields=["state", "via", "decided_by", "decided_at"])
        audit_record(
            actor=actor,
            action="registration.self",
            target=registration,
            summary=f"{student.student_number} {student.name} 自助注册{term}",
            before=before,
            after=_snapshot(registration),
        )
    return registration


# --- staff set a registration ----------------------------------------------------------------


def registration_set(
    *,
    actor: Actor,
    registration: TermRegistration,
    state: str,
    reason: str = "",
    defer_until: date | None = None,
) -> TermRegistration:
    """A counsellor, college admin or the registrar (in scope) registers a student, defers the
    registration (暂缓注册) or sets it back to 未注册.

    Rules: deferral needs a reason and a defer_until after today and within the term;
    registering a student whose tuition is unpaid needs a reason (the aid arranged: 绿色通道,
    助学贷款); setting back to 未注册 needs a reason; a student not 在校 cannot be registered or
    deferred. Raises PermissionDenied, ValidationFailed (field errors) or DomainError.
    The student is told of the change in the app.
    """
    user = actor.require_user()
    if not permissions.can_set_registration(user, registration.student):
        raise PermissionDenied(
            "您无权办理该学生的注册（仅限所带班级的辅导员、本学院教务员或校级学籍管理员）。"
        )
    if state not in RegistrationState.values:
        raise ValidationFailed({"state": [f"注册状态“{state}”无效。"]})
    reason = (reason or "").strip()
    today = timezone.localdate()
    term = registration.term
    with transaction.atomic():
        locked = (
            TermRegistration.objects.select_for_update(of=("self",))
            .select_related("student", "student__user", "term")
            .get(pk=registration.pk)
        )
        student = locked.student
        errors: dict[str, list[str]] = {}
        if state != RegistrationState.UNREGISTERED and student.status != StudentStatus.IN_SCHOOL:
            raise DomainError(
                f"{student.name}当前的在校状态为“{student.get_status_display()}”，"
                "不能办理注册或暂缓注册。",
                field="state",
            )
        if state == RegistrationState.REGISTERED:
            if locked.state == RegistrationState.REGISTERED:
                raise DomainError(f"{student.name}本学期已注册。", field="state")
            finance = FinanceStatus.objects.filter(student=student, term=term).first()
            if finance is not None and finance.state == FinanceState.UNPAID and not reason:
                errors["reason"] = [
                    "该生本学期学费未缴清，为其办理注册须填写原因（如已办理绿色通道、助学贷款）。"
                ]
        elif state == RegistrationState.DEFERRED:
            if not reason:
                errors["reason"] = ["暂缓注册须填写原因。"]
            if defer_until is None:
                errors["defer_until"] = ["暂缓注册须填写截止日期。"]
            elif defer_until <= today:
                errors["defer_until"] = ["暂缓注册截止日期须晚于今天。"]
            elif defer_until > term.end_date:
                errors["defer_until"] = [
                    f"暂缓注册截止日期不能晚于学期结束日期 {term.end_date:%Y-%m-%d}。"
                ]
        else:
            if locked.state == RegistrationState.UNREGISTERED:
                raise DomainError(f"{student.name}本学期本来就是未注册状态。", field="state")
            if not reason:
                errors["reason"] = ["撤销注册或暂缓注册须填写原因。"]
        if errors:
            raise ValidationFailed(errors)
        before = _snapshot(locked)
        locked.state = state
        locked.reason = reason
        locked.defer_until = defer_until if state == RegistrationState.DEFERRED else None
        locked.via = RegistrationVia.STAFF
        locked.decided_by = user
        locked.decided_at = timezone.now()
        locked.save(
            update_fields=["state", "reason", "defer_until", "via", "decided_by", "decided_at"]
        )
        label = RegistrationState(state).label
        audit_record(
            actor=actor,
            action="registration.set",
            target=locked,
            summary=f"{student.student_number} {student.name} {term}注册状态改为{label}",
            before=before,
            after=_snapshot(locked),
        )
        if student.user_id is not None:
            body = f"您{term}的注册状态已由{user}办理为“{label}”。"
            if locked.defer_until:
                body += f"暂缓至 {locked.defer_until:%Y-%m-%d}，请在此前完成注册。"
            notify(
                users=[student.user],
                title=f"学期注册：{label}",
                body=body,
                url=reverse("registration-home"),
            )
    return locked


# --- finance status --------------------------------------------------------------------------


def _validate_finance(state: str, amount_due: Any) -> tuple[Decimal | None, dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    if state not in FinanceState.values:
        errors["state"] = [f"缴费状态“{state}”无效，应为 paid、unpaid 或 aid。"]
    try:
        amount = Decimal(str(amount_due)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        errors["amount_due"] = ["欠缴金额应为数字，单位元，如 5200.00。"]
        return None, errors
    if amount < 0 or amount > MAX_AMOUNT:
        errors["amount_due"] = ["欠缴金额应在 0 至 99999999.99 元之间。"]
    elif state == FinanceState.PAID and amount != 0:
        errors["amount_due"] = ["已缴清时欠缴金额应为 0。"]
    elif state == FinanceState.UNPAID and amount == 0:
        errors["amount_due"] = ["未缴清时请填写欠缴金额（大于 0）。"]
    return amount, errors


def finance_status_set(
    *,
    actor: Actor,
    student: Student,
    term: Term,
    state: str,
    amount_due: Decimal | str | int,
    note: str = "",
) -> FinanceStatus:
    """Record a student's tuition status for a term (the registrar, on finance's word).

    Raises PermissionDenied or ValidationFailed (state, amount_due).
    """
    user = actor.require_user()
    if not permissions.can_set_finance_status(user):
        raise PermissionDenied("只有校级学籍管理员可以修改学费缴纳状态。")
    amount, errors = _validate_finance(state, amount_due)
    note = (note or "").strip()
    if len(note) > 200:
        errors["note"] = ["备注最长 200 字。"]
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        current = (
            FinanceStatus.objects.select_for_update().filter(student=student, term=term).first()
        )
        before = _finance_snapshot(current) if current else None
        status = current or FinanceStatus(student=student, term=term)
        status.state = state
        status.amount_due = amount  # type: ignore[assignment]
        status.note = note
        status.updated_by = user
        status.save()
        audit_record(
            actor=actor,
            action="finance_status.set",
            target=status,
            summary=(
                f"{student.student_number} {student.name} {term}"
                f"缴费状态：{status.get_state_display()}"
            ),
            before=before,
            after=_finance_snapshot(status),
        )
    return status


def _finance_snapshot(status: FinanceStatus) -> dict[str, Any]:
    return {
        "student": status.student_id,
        "term": status.term_id,
        "state": status.state,
        "amount_due": str(status.amount_due),
        "note": status.note,
    }


@dataclass(frozen=True)
class FinanceRow:
    """One line of finance input (e.g. a row of the finance office's spreadsheet)."""

    student_number: str
    state: str
    amount_due: Decimal | str | int = Decimal("0")
    note: str = ""


def finance_status_bulk_set(*, actor: Actor, term: Term, rows: Sequence[FinanceRow]) -> int:
    """Set many students' finance status for `term` at once (for the finance import).

    All or nothing: every row is checked first; any bad row raises ValidationFailed keyed
    "第 N 行" (1-based) and nothing changes. Set-based: one query to find students, one for
    existing rows, one bulk update and one bulk insert. One audit event with the count.
    Returns the number of rows written.
    """
    user = actor.require_user()
    if not permissions.can_set_finance_status(user):
        raise PermissionDenied("只有校级学籍管理员可以修改学费缴纳状态。")
    numbers = [row.student_number.strip() for row in rows]
    students = dict(
        Student.objects.filter(student_number__in=set(numbers)).values_list("student_number", "pk")
    )
    errors: dict[str, list[str]] = {}
    parsed: dict[int, tuple[str, Decimal, str]] = {}
    seen: dict[str, int] = {}
    for index, (row, number) in enumerate(zip(rows, numbers, strict=True), start=1):
        key = f"第 {index} 行"
        messages: list[str] = []
        if number not in students:
            messages.append(f"学号“{number}”不存在。")
        elif number in seen:
            messages.append(f"学号“{number}”与第 {seen[number]} 行重复。")
        else:
            seen[number] = index
        amount, field_errors = _validate_finance(row.state, row.amount_due)
        messages += [m for ms in field_errors.values() for m in ms]
        if len(row.note) > 200:
            messages.append("备注最长 200 字。")
        if messages:
            errors[key] = messages
        elif amount is not None:
            parsed[students[number]] = (row.state, amount, row.note.strip())
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        existing = {
            status.student_id: status
            for status in FinanceStatus.objects.select_for_update().filter(
                term=term, student_id__in=list(parsed)
            )
        }
        to_update: list[FinanceStatus] = []
        to_create: list[FinanceStatus] = []
        now = timezone.now()
        for student_id, (state, amount, note) in parsed.items():
            status = existing.get(student_id)
            if status is None:
                to_create.append(
                    FinanceStatus(
                        student_id=student_id,
                        term=term,
                        state=state,
                        amount_due=amount,
                        note=note,
                        updated_by=user,
                    )
                )
            else:
                status.state, status.amount_due, status.note = state, amount, note
                status.updated_by, status.updated_at = user, now
                to_update.append(status)
        FinanceStatus.objects.bulk_create(to_create, batch_size=1000)
        FinanceStatus.objects.bulk_update(
            to_update, ["state", "amount_due", "note", "updated_by", "updated_at"], batch_size=1000
        )
        audit_record(
            actor=actor,
            action="finance_status.bulk_set",
            target=term,
            summary=(
                f"批量更新{term}缴费状态 {len(parsed)} 人"
                f"（新增 {len(to_create)}，更新 {len(to_update)}）"
            ),
            after={"term": term.pk, "created": len(to_create), "updated": len(to_update)},
        )
    return len(parsed)


# --- reminders -------------------------------------------------------------------------------


def registration_send_reminders(*, term: Term, now: datetime) -> int:
    """Remind 在校 students who are still 未注册 for `term`: those whose tuition is unpaid
    (with their consenting parents) and those within DEADLINE_REMINDER_DAYS of the deadline.

    At most one reminder per student per day, whatever the number of runs: the day is stored
    on the registration row, which is locked while the reminder is written. Nothing is sent
    after the deadline (those students are then 退学 candidates, handled by staff). Returns the
    number of students reminded; one audit event per run that reminded anyone.
    """
    today = timezone.localdate(now)
    deadline = term.registration_deadline
    if term.end_date < today or (deadline is not None and today > deadline):
        return 0
    near_deadline = deadline is not None and (deadline - today).days <= DEADLINE_REMINDER_DAYS
    unpaid_ids = FinanceStatus.objects.filter(term=term, state=FinanceState.UNPAID).values(
        "student_id"
    )
    due = TermRegistration.objects.filter(
        term=term,
        state=RegistrationState.UNREGISTERED,
        student__status=StudentStatus.IN_SCHOOL,
        student__user__isnull=False,
    ).filter(Q(reminded_on__isnull=True) | Q(reminded_on__lt=today))
    if not near_deadline:
        due = due.filter(student_id__in=unpaid_ids)
    with transaction.atomic():
        rows = list(due.select_for_update(of=("self",)).select_related("student", "student__user"))
        if not rows:
            return 0
        amounts = dict(
            FinanceStatus.objects.filter(
                term=term, state=FinanceState.UNPAID, student_id__in=[r.student_id for r in rows]
            ).values_list("student_id", "amount_due")
        )
        parents: dict[int, list[User]] = {}
        for link in ParentLink.objects.filter(
            student_id__in=list(amounts),
            consent_given_at__isnull=False,
            consent_revoked_at__isnull=True,
        ).select_related("parent"):
            parents.setdefault(link.student_id, []).append(link.parent)
        url = reverse("registration-home")
        deadline_text = f"注册截止日期为 {deadline:%Y-%m-%d}。" if deadline else ""
        for row in rows:
            student = row.student
            if row.student_id in amounts:
                title = f"学费缴纳提醒：{term}"
                body = (
                    f"{student.name}同学，您{term}的学费尚未缴清"
                    f"（欠缴 {amounts[row.student_id]} 元），"
                    "缴清前不能注册。请尽快缴费；家庭经济困难的，可向学生资助中心申请缓缴"
                    f"（绿色通道）或办理助学贷款。{deadline_text}"
                )
                users = [student.user, *parents.get(row.student_id, [])]
            else:
                title = f"学期注册提醒：{term}"
                body = (
                    f"{student.name}同学，您尚未完成{term}注册。{deadline_text}"
                    "逾期未注册又未办理暂缓注册的，将按学籍管理规定处理。"
                )
                users = [student.user]
            notify(users=users, title=title, body=body, url=url)
        TermRegistration.objects.filter(pk__in=[r.pk for r in rows]).update(reminded_on=today)
        audit_record(
            actor=Actor.system(via="periodic"),
            action="registration.remind",
            target=term,
            summary=f"{term}注册提醒：{len(rows)} 名学生（其中欠费 {len(amounts)} 名）",
            after={"term": term.pk, "reminded": len(rows), "unpaid": len(amounts)},
        )
    return len(rows)


def registration_reminders_sweep(now: datetime) -> int:
    """The periodic job: reminders for every term whose registration is open and running."""
    today = timezone.localdate(now)
    terms = Term.objects.filter(end_date__gte=today, registrations__isnull=False).filter(
        Q(registration_deadline__isnull=True) | Q(registration_deadline__gte=today)
    )
    return sum(registration_send_reminders(term=term, now=now) for term in terms.distinct())
