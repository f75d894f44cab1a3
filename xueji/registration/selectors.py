"""Reads of term registration, always within the caller's scope (out of scope = NotFound)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from xueji.accounts.models import User
from xueji.core.exceptions import NotFound
from xueji.org.models import SchoolClass, Term
from xueji.org.selectors import term_current
from xueji.registration.models import (
    FinanceState,
    FinanceStatus,
    RegistrationState,
    TermRegistration,
)
from xueji.registration.rules import self_registration_refusal
from xueji.students.models import Student, StudentStatus
from xueji.students.selectors import scope_filter

# Finance filter value for "finance has not reported on this student".
FINANCE_NONE = "none"


def _students_in_scope(user: User) -> QuerySet[Student]:
    return Student.objects.filter(scope_filter(user)).values("pk")


def _finance_state_of_row(term: Term) -> Subquery:
    return Subquery(
        FinanceStatus.objects.filter(student_id=OuterRef("student_id"), term=term).values("state")[
            :1
        ]
    )


def term_list_for_registration() -> QuerySet[Term]:
    return Term.objects.select_related("academic_year").order_by("-start_date")


def term_for(term_id: int | None, today: date | None = None) -> Term | None:
    """The term asked for, else the current term, else the latest one that has started.

    Raises NotFound for an id that does not exist.
    """
    if term_id is not None:
        term = Term.objects.select_related("academic_year").filter(pk=term_id).first()
        if term is None:
            raise NotFound("未找到该学期。")
        return term
    day = today or timezone.localdate()
    current = term_current(day)
    if current is not None:
        return current
    return term_list_for_registration().filter(start_date__lte=day).first()


def registration_progress(user: User, term: Term) -> list[dict[str, Any]]:
    """Counts per class in `user`'s scope for `term`, in one grouped query.

    Each row: school_class (id, or None for students without a class), class_name, class_code,
    college_name, total, registered, deferred, unregistered, unpaid and `percent` (registered
    or deferred, of the total; deferral is a lawful state, see 第十二条).
    """
    unpaid = Exists(
        FinanceStatus.objects.filter(
            student_id=OuterRef("student_id"), term=term, state=FinanceState.UNPAID
        )
    )
    rows = (
        TermRegistration.objects.filter(term=term, student__in=_students_in_scope(user))
        .values(
            "student__school_class",
            "student__school_class__name",
            "student__school_class__code",
            "student__college__name",
        )
        .annotate(
            total=Count("pk"),
            registered=Count("pk", filter=Q(state=RegistrationState.REGISTERED)),
            deferred=Count("pk", filter=Q(state=RegistrationState.DEFERRED)),
            unregistered=Count("pk", filter=Q(state=RegistrationState.UNREGISTERED)),
            unpaid=Count("pk", filter=Q(unpaid)),
        )
        .order_by("student__college__code", "student__school_class__code")
    )
    result = []
    for row in rows:
        total = row["total"]
        result.append(
            {
                "school_class": row["student__school_class"],
                "class_name": row["student__school_class__name"] or "",
                "class_code": row["student__school_class__code"] or "",
                "college_name": row["student__college__name"],
                "total": total,
                "registered": row["registered"],
                "deferred": row["deferred"],
                "unregistered": row["unregistered"],
                "unpaid": row["unpaid"],
                "percent": _percent(row["registered"], total),
                "deferred_percent": _percent(row["deferred"], total),
            }
        )
    return result


def progress_totals(rows: list[dict[str, Any]]) -> dict[str, int]:
    totals = {
        key: sum(row[key] for row in rows)
        for key in ("total", "registered", "deferred", "unregistered", "unpaid")
    }
    totals["percent"] = _percent(totals["registered"], totals["total"])
    totals["deferred_percent"] = _percent(totals["deferred"], totals["total"])
    return totals


def _percent(part: int, whole: int) -> int:
    return round(part * 100 / whole) if whole else 0


def registrations_visible_to(
    user: User, term: Term, filters: dict[str, Any] | None = None
) -> QuerySet[TermRegistration]:
    """Registrations for `term` of students `user` may see, with `finance_state` annotated.

    Filters (all optional): college (id), school_class (id), state, finance (a FinanceState
    value, or "none" for no report), search (学号 exactly, or a prefix of the name).
    """
    filters = filters or {}
    rows = (
        TermRegistration.objects.filter(term=term, student__in=_students_in_scope(user))
        .select_related(
            "student",
            "student__school_class",
            "student__college",
            "term",
            "term__academic_year",
            "decided_by",
        )
        .annotate(finance_state=_finance_state_of_row(term))
    )
    if filters.get("college"):
        rows = rows.filter(student__college_id=filters["college"])
    if filters.get("school_class"):
        rows = rows.filter(student__school_class_id=filters["school_class"])
    if filters.get("state"):
        rows = rows.filter(state=filters["state"])
    finance = filters.get("finance")
    if finance == FINANCE_NONE:
        rows = rows.filter(finance_state__isnull=True)
    elif finance:
        rows = rows.filter(finance_state=finance)
    search = (filters.get("search") or "").strip()
    if search:
        rows = rows.filter(
            Q(student__student_number=search)
            | Q(student__name__gte=search, student__name__lt=search + "\uffff")
        )
    return rows.order_by("student__school_class__code", "student__student_number")


def get_registration_for(user: User, pk: int) -> TermRegistration:
    """The registration if its student is in `user`'s scope; otherwise NotFound (never 403)."""
    registration = (
        TermRegistration.objects.filter(pk=pk, student__in=_students_in_scope(user))
        .select_related("student", "student__school_class", "term", "term__academic_year")
        .first()
    )
    if registration is None:
        raise NotFound("未找到该注册记录，或您无权查看。")
    registration.finance_state = finance_state_of(registration.student, registration.term)  # type: ignore[attr-defined]
    return registration


def finance_state_of(student: Student, term: Term) -> str | None:
    return (
        FinanceStatus.objects.filter(student=student, term=term)
        .values_list("state", flat=True)
        .first()
    )


def finance_status_for(student: Student, term: Term) -> FinanceStatus | None:
    return FinanceStatus.objects.filter(student=student, term=term).first()


def withdrawal_candidates(user: User, term: Term, today: date) -> QuerySet[TermRegistration]:
    """Students in scope who are candidates for the 退学 procedure (第三十条): past the term's
    registration deadline, still in school, and either unregistered or deferred to a date
    that has passed. Only a list: nothing here withdraws anyone.
    """
    if term.registration_deadline is None or today <= term.registration_deadline:
        return TermRegistration.objects.none()
    lapsed = Q(state=RegistrationState.UNREGISTERED) | Q(
        state=RegistrationState.DEFERRED, defer_until__lt=today
    )
    return (
        registrations_visible_to(user, term)
        .filter(lapsed, student__status=StudentStatus.IN_SCHOOL)
        .order_by(
            "student__college__name", "student__school_class__code", "student__student_number"
        )
    )


@dataclass(frozen=True)
class MyRegistration:
    term: Term
    registration: TermRegistration | None
    finance: FinanceStatus | None
    refusal: str | None

    @property
    def can_register(self) -> bool:
        return self.refusal is None


def my_registration(student: Student, term: Term, today: date | None = None) -> MyRegistration:
    """A student's own registration for `term`, their finance status, and — if they cannot
    register themselves — the reason, worded for them."""
    registration = TermRegistration.objects.filter(student=student, term=term).first()
    finance = finance_status_for(student, term)
    refusal = self_registration_refusal(
        student=student,
        term=term,
        registration=registration,
        finance_state=finance.state if finance else None,
        today=today or timezone.localdate(),
    )
    return MyRegistration(term=term, registration=registration, finance=finance, refusal=refusal)


def term_registration_counts(terms: QuerySet[Term]) -> dict[int, int]:
    """Number of registration rows per term id (for the registrar's "open" page)."""
    return dict(
        TermRegistration.objects.filter(term__in=terms)
        .values("term")
        .annotate(n=Count("pk"))
        .values_list("term", "n")
    )


def class_choices_for(user: User) -> list[tuple[int, str]]:
    """Classes with students in `user`'s scope, as (id, "code name") for the list filter."""
    return [
        (pk, f"{name}")
        for pk, name in SchoolClass.objects.filter(
            pk__in=Student.objects.filter(scope_filter(user)).values("school_class_id")
        )
        .order_by("code")
        .values_list("pk", "name")
    ]
