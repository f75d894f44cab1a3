"""Who may export to CHSI: the school's registrar (whole school) and a college's academic admin
(own college only; scope is the selector's job)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from xueji.accounts.models import Role

if TYPE_CHECKING:
    from xueji.accounts.models import User

EXPORT_ROLES = frozenset({Role.REGISTRAR, Role.COLLEGE_ADMIN})


def can_export_chsi(user: User) -> bool:
    return user.is_authenticated and user.has_role(*EXPORT_ROLES)


def can_export_full_id(user: User) -> bool:
    """Unmasked 证件号码 in a file need the explicit full-ID grant (the purpose is required of
    every export anyway)."""
    return user.is_authenticated and user.can_view_full_id
