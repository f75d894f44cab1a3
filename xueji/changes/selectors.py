"""Reads of status-change requests, scoped like every student read."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from xueji.accounts.models import Role, User
from xueji.changes.models import ChangeRequest, ChangeType
from xueji.core.exceptions import NotFound
from xueji.students.models import Student
from xueji.students.selectors import scope_filter

REQUEST_VIEWER_ROLES = (
    Role.REGISTRAR,
    Role.COLLEGE_ADMIN,
    Role.COUNSELLOR,
    Role.AUDITOR,
    Role.STUDENT,
)


def change_requests_visible_to(user: User) -> QuerySet[ChangeRequest]:
    """Requests about students the user may see, plus those the user applied for."""
    # A parent's consent covers the record, not the child's applications.
    students = Student.objects.filter(scope_filter(user, roles=REQUEST_VIEWER_ROLES)).values("pk")
    condition = Q(student__in=students)
    if user.is_authenticated:
        condition |= Q(applicant=user)
    return ChangeRequest.objects.filter(condition).select_related(
        "student", "student__college", "change_type", "applicant", "flow"
    )


def change_request_list(
    user: User,
    *,
    status: str = "",
    change_type: str = "",
    college: int | None = None,
    query: str = "",
) -> QuerySet[ChangeRequest]:
    rows = change_requests_visible_to(user)
    if status:
        rows = rows.filter(status=status)
    if change_type:
        rows = rows.filter(change_type__code=change_type)
    if college:
        rows = rows.filter(student__college_id=college)
    if query:
        rows = rows.filter(
            Q(number__iexact=query)
            | Q(student__student_number__startswith=query)
            | Q(student__name__startswith=query)
        )
    return rows.order_by("-submitted_at", "-id")


def get_change_for(user: User, number: str) -> ChangeRequest:
    """The request if `user` may see it; NotFound otherwise (out of scope reads as missing)."""
    request = change_requests_visible_to(user).filter(number=number).first()
    if request is None:
        raise NotFound("未找到该异动申请，或您无权查看。")
    return request


def change_types_for_applicant(user: User, student: Student) -> QuerySet[ChangeType]:
    """Active types the user may start for this student, in catalogue order."""
    from xueji.changes.permissions import initiator_for

    initiator = initiator_for(user, student)
    if initiator is None:
        return ChangeType.objects.none()
    types = ChangeType.objects.filter(is_active=True).order_by("order", "code")
    return types.filter(pk__in=[t.pk for t in types if initiator in t.initiators])


def change_history_of(student: Student) -> QuerySet[ChangeRequest]:
    """All requests of one student, newest first (the caller has already checked access)."""
    return student.change_requests.select_related("change_type", "applicant").order_by(
        "-submitted_at"
    )


def sees_change_list(user: User) -> bool:
    return user.has_role(Role.REGISTRAR, Role.COLLEGE_ADMIN, Role.COUNSELLOR, Role.AUDITOR)
