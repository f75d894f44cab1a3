"""Who may start, see and manage status-change requests."""

from __future__ import annotations

from xueji.accounts.models import Role, User
from xueji.changes.models import ChangeRequest, ChangeType, Initiator
from xueji.students.models import Student
from xueji.students.permissions import grant_covers

# The staff roles in the order of precedence when one person holds several grants.
_STAFF_INITIATORS = (
    (Role.REGISTRAR, Initiator.REGISTRAR),
    (Role.COLLEGE_ADMIN, Initiator.COLLEGE),
    (Role.COUNSELLOR, Initiator.COUNSELLOR),
)


def initiator_for(user: User, student: Student) -> str | None:
    """The capacity in which `user` may start a request for `student` (None = may not)."""
    if not user.is_authenticated:
        return None
    if student.user_id is not None and student.user_id == user.pk and user.has_role(Role.STUDENT):
        return Initiator.STUDENT
    for role, initiator in _STAFF_INITIATORS:
        if grant_covers(user, student, role):
            return initiator
    return None


def can_initiate(user: User, student: Student, change_type: ChangeType) -> bool:
    initiator = initiator_for(user, student)
    return initiator is not None and initiator in change_type.initiators and change_type.is_active


def is_registrar_for(user: User, student: Student) -> bool:
    return grant_covers(user, student, Role.REGISTRAR)


def can_override_rules(user: User, request: ChangeRequest) -> bool:
    """Only the registrar may set a rule aside, and only with a recorded reason."""
    return is_registrar_for(user, request.student)


def can_apply_now(user: User, request: ChangeRequest) -> bool:
    return grant_covers(user, request.student, Role.REGISTRAR)


def is_staff_in_scope(user: User, student: Student) -> bool:
    return any(
        grant_covers(user, student, role)
        for role in (Role.REGISTRAR, Role.COLLEGE_ADMIN, Role.COUNSELLOR, Role.AUDITOR)
    )
