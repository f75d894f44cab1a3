"""Who may load admission data, run the cross-check and settle its differences."""

from __future__ import annotations

from xueji.accounts.models import Role, Scope, User
from xueji.exchange.models import Discrepancy


def _active(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active)


def can_load(user: User) -> bool:
    """Admission data is school-wide: only the registrar loads it and runs the comparison."""
    return _active(user) and user.has_role(Role.REGISTRAR)


def can_view_queue(user: User) -> bool:
    """The registrar, college admins (their college's differences) and school auditors."""
    if not _active(user):
        return False
    return any(
        grant.role in (Role.REGISTRAR, Role.COLLEGE_ADMIN)
        or (grant.role == Role.AUDITOR and grant.scope == Scope.SCHOOL)
        for grant in user.active_grants
    )


def resolver_colleges(user: User) -> set[int] | None:
    """Colleges whose differences `user` may settle; None means every college (registrar)."""
    if not _active(user):
        return set()
    if user.has_role(Role.REGISTRAR):
        return None
    return {
        grant.college_id
        for grant in user.active_grants
        if grant.role == Role.COLLEGE_ADMIN and grant.scope == Scope.COLLEGE and grant.college_id
    }


def can_resolve(user: User, discrepancy: Discrepancy) -> bool:
    colleges = resolver_colleges(user)
    return colleges is None or discrepancy.college_id in colleges
