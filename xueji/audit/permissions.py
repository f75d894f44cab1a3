"""Who may read the audit chain."""

from __future__ import annotations

from xueji.accounts.models import Role, Scope, User


def can_view_audit(user: User) -> bool:
    """The registrar, and auditors with a school-wide grant, read and verify the audit chain.

    A college-scoped auditor is refused: events are not partitioned by college, so the page
    would show changes to students of every college.
    """
    if not (user.is_authenticated and user.is_active):
        return False
    return any(
        grant.role == Role.REGISTRAR or (grant.role == Role.AUDITOR and grant.scope == Scope.SCHOOL)
        for grant in user.active_grants
    )
