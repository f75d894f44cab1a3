"""Who may read the audit chain."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Annotation only: audit sits below accounts (every app's services write audit events).
    from xueji.accounts.models import User


def can_view_audit(user: User) -> bool:
    """The registrar, and auditors with a school-wide grant, read and verify the audit chain.

    A college-scoped auditor is refused: events are not partitioned by college, so the page
    would show changes to students of every college.
    """
    if not (user.is_authenticated and user.is_active):
        return False
    return user.is_registrar or user.is_school_auditor
