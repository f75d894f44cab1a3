"""Who may do what with departments, events and deliveries. Visibility is the selectors' job."""

from __future__ import annotations

from xueji.accounts.models import Role, Scope, User
from xueji.exchange.models import Delivery, Department


def _active(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active)


def can_manage_departments(user: User) -> bool:
    """The registrar configures departments, rotates secrets and re-sends failed deliveries."""
    return _active(user) and user.has_role(Role.REGISTRAR)


def can_view_all_events(user: User) -> bool:
    """The registrar and school-wide auditors see every event and every department's state.

    A college-scoped auditor is refused: deliveries are per department, not per college.
    """
    if not _active(user):
        return False
    return any(
        grant.role == Role.REGISTRAR or (grant.role == Role.AUDITOR and grant.scope == Scope.SCHOOL)
        for grant in user.active_grants
    )


def is_department_member(user: User, department: Department) -> bool:
    return _active(user) and department.members.filter(pk=user.pk).exists()


def has_department(user: User) -> bool:
    return _active(user) and user.exchange_departments.exists()  # type: ignore[attr-defined]


def can_acknowledge(user: User, delivery: Delivery) -> bool:
    """A member of the receiving department, or the registrar on the department's behalf."""
    return can_manage_departments(user) or is_department_member(user, delivery.department)


def can_retry(user: User) -> bool:
    return can_manage_departments(user)
