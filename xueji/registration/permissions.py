"""Who may do what in term registration. Visibility itself is the selectors' job."""

from __future__ import annotations

from xueji.accounts.models import Role, Scope, User
from xueji.students.models import Student
from xueji.students.permissions import grant_covers

# Roles that handle registrations of students in their scope (辅导员 for their classes, the
# college for its students, the registrar for everyone).
DECIDING_ROLES = (Role.REGISTRAR, Role.COLLEGE_ADMIN, Role.COUNSELLOR)


def is_registrar(user: User) -> bool:
    return user.is_authenticated and any(
        g.role == Role.REGISTRAR and g.scope == Scope.SCHOOL for g in user.active_grants
    )


def can_open_registration(user: User) -> bool:
    return is_registrar(user)


def can_set_finance_status(user: User) -> bool:
    # Finance data comes from the finance office through the registrar (or an import).
    return is_registrar(user)


def can_set_registration(user: User, student: Student) -> bool:
    return user.is_authenticated and any(
        grant_covers(user, student, role) for role in DECIDING_ROLES
    )


def can_view_registrations(user: User) -> bool:
    return user.is_authenticated and user.is_staff_member


def can_view_candidates(user: User) -> bool:
    """The list of 退学 candidates is for those who start that procedure: the registrar and
    college admins (each within their scope)."""
    return user.is_authenticated and user.has_role(Role.REGISTRAR, Role.COLLEGE_ADMIN)


def can_self_register(user: User, student: Student) -> bool:
    return user.is_authenticated and student.user_id == user.pk and user.has_role(Role.STUDENT)
