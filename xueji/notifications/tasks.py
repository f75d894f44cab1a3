"""E-mail copies of notifications, sent by the background worker."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.tasks import task
from django.utils import timezone

from xueji.notifications.models import Notification


@task
def notification_email_send(ids: list[int]) -> int:
    """Send each not-yet-emailed notification to its user's address; returns how many were sent.

    A notification is marked emailed only after the SMTP server accepted it, so a failed run
    can be retried without sending duplicates of the ones that went through.
    """
    sent = 0
    rows = Notification.objects.filter(pk__in=ids, emailed_at__isnull=True).select_related("user")
    for row in rows:
        link = f"\n\n{settings.BASE_URL}{row.url}" if row.url else ""
        send_mail(
            subject=f"[学籍] {row.title}",
            message=f"{row.body}{link}\n\n—— 学籍管理系统（请勿直接回复）",
            from_email=None,
            recipient_list=[row.user.email],
        )
        Notification.objects.filter(pk=row.pk).update(emailed_at=timezone.now())
        sent += 1
    return sent
