"""Home-page panels: pending approvals, my applications, term registration, department events.

Each provider returns None when the panel does not concern the user, so a page shows only
what its reader acts on.
"""

from __future__ import annotations

from typing import Any

from xueji.accounts.models import Role, User
from xueji.changes.models import ChangeStatus
from xueji.changes.selectors import change_requests_visible_to
from xueji.exchange import selectors as exchange_selectors
from xueji.registration import selectors as registration_selectors
from xueji.students.models import Student
from xueji.workflow.selectors import pending_summary

APPROVERS = (Role.REGISTRAR, Role.COLLEGE_ADMIN, Role.COUNSELLOR)


def workbench_panel(user: User) -> dict[str, Any] | None:
    if not user.has_role(*APPROVERS):
        return None
    summary = pending_summary(user)
    return {"template": "dashboard/_workbench.html", "summary": summary}


def my_changes_panel(user: User) -> dict[str, Any] | None:
    if not user.has_role(Role.STUDENT):
        return None
    rows = change_requests_visible_to(user).filter(student__user=user)
    open_rows = rows.filter(
        status__in=(ChangeStatus.IN_REVIEW, ChangeStatus.RETURNED, ChangeStatus.APPROVED)
    )
    return {
        "template": "dashboard/_my_changes.html",
        "open_changes": list(open_rows[:5]),
        "returned": open_rows.filter(status=ChangeStatus.RETURNED).count(),
    }


def registration_panel(user: User) -> dict[str, Any] | None:
    term = registration_selectors.term_for(None)
    if term is None:
        return None
    if user.has_role(Role.STUDENT):
        student = Student.objects.filter(user=user).first()
        if student is None:
            return None
        mine = registration_selectors.my_registration(student, term)
        return {"template": "dashboard/_my_registration.html", "term": term, "mine": mine}
    if user.has_role(*APPROVERS):
        rows = registration_selectors.registration_progress(user, term)
        if not rows:
            return None
        totals = registration_selectors.progress_totals(rows)
        return {"template": "dashboard/_registration.html", "term": term, "totals": totals}
    return None


def departments_panel(user: User) -> dict[str, Any] | None:
    inbox = exchange_selectors.inbox_count(user)
    overdue = exchange_selectors.overdue_count(user)
    if not inbox and not overdue:
        return None
    return {"template": "dashboard/_departments.html", "inbox": inbox, "overdue": overdue}
