"""Reads of a user's own notifications."""

from __future__ import annotations

from django.db.models import QuerySet

from xueji.accounts.models import User
from xueji.notifications.models import Notification


def notifications_for(user: User, *, unread_only: bool = False) -> QuerySet[Notification]:
    rows = Notification.objects.filter(user=user)
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    return rows


def unread_count(user: User) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
