"""Telling people: in-app notifications, with an e-mail copy queued after commit."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from xueji.accounts.models import User
from xueji.notifications.models import Notification


def notify(
    *, users: Iterable[User], title: str, body: str = "", url: str = "", email: bool = True
) -> list[Notification]:
    """Create one notification per distinct active user, in the caller's transaction.

    When the transaction commits, users with an e-mail address get a copy through the
    `notification_email_send` background task; a rollback sends nothing.
    """
    seen: set[int] = set()
    rows: list[Notification] = []
    for user in users:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        rows.append(Notification(user=user, title=title[:200], body=body, url=url[:300]))
    created = Notification.objects.bulk_create(rows)
    if email:
        ids = [n.pk for n in created if n.user.email]
        if ids:
            from xueji.notifications.tasks import notification_email_send

            transaction.on_commit(lambda: notification_email_send.enqueue(ids))
    return created


def notification_mark_read(*, user: User, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications read (all unread ones when `ids` is None)."""
    rows = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=timezone.now())
