"""Permission predicates for the organisation pages and the code tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Annotation only: org sits below accounts (grants are scoped to colleges and classes).
    from xueji.accounts.models import User


def can_view_org(user: User) -> bool:
    """Staff (any staff role) read the school's structure; students and parents do not."""
    return user.is_authenticated and user.is_active and user.is_staff_member


def can_manage_org(user: User) -> bool:
    """Only the school registrar edits colleges, majors, classes, cohorts and academic years."""
    return user.is_authenticated and user.is_active and user.is_registrar


def can_browse_codes(user: User) -> bool:
    """Any staff member may browse the national and CHSI code tables."""
    return can_view_org(user)
