"""Who may import freshmen: the registrar (the whole school) and a college's 教务员 (only
their college's majors; the row check refuses the rest)."""

from __future__ import annotations

from xueji.accounts.models import Role, User


def can_import_freshmen(user: User) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and any(g.role in (Role.REGISTRAR, Role.COLLEGE_ADMIN) for g in user.active_grants)
    )
