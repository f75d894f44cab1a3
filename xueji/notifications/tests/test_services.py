"""Notifications: rows in the caller's transaction, e-mail copies through a real SMTP server."""

from __future__ import annotations

import socket

import pytest
from aiosmtpd.controller import Controller
from django.db import transaction

from xueji.conftest import Cast
from xueji.notifications import selectors, services
from xueji.notifications.models import Notification
from xueji.notifications.tasks import notification_email_send


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), envelope.content.decode("utf-8", "replace")))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings):
    inbox = Inbox()
    with socket.socket() as probe:  # aiosmtpd needs a concrete port: take a free one
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": controller.port, "timeout": 5},
        }
    }
    yield inbox
    controller.stop()


def test_a_notice_reaches_the_user_in_app_and_by_smtp(cast: Cast, smtp_server: Inbox) -> None:
    cast.counsellor.email = "counsellor@example.edu.cn"
    cast.counsellor.save()
    rows = services.notify(
        users=[cast.counsellor, cast.counsellor], title="待审批：休学", body="请处理"
    )
    assert len(rows) == 1
    assert selectors.unread_count(cast.counsellor) == 1
    assert notification_email_send.call([rows[0].pk]) == 1
    assert len(smtp_server.messages) == 1
    recipients, content = smtp_server.messages[0]
    assert recipients == ["counsellor@example.edu.cn"]
    assert "Subject:" in content
    rows[0].refresh_from_db()
    assert rows[0].emailed_at is not None
    # Sending again does not repeat a message the server already accepted.
    assert notification_email_send.call([rows[0].pk]) == 0
    assert len(smtp_server.messages) == 1


def test_a_rolled_back_transaction_leaves_no_notice(cast: Cast) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        services.notify(users=[cast.registrar], title="不会留下")
        raise RuntimeError("rollback")
    assert not Notification.objects.filter(user=cast.registrar).exists()


def test_marking_read_touches_only_the_users_own_notices(cast: Cast) -> None:
    mine = services.notify(users=[cast.registrar], title="a", email=False)[0]
    theirs = services.notify(users=[cast.counsellor], title="b", email=False)[0]
    assert services.notification_mark_read(user=cast.registrar, ids=[mine.pk, theirs.pk]) == 1
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_notification_page_lists_only_my_notices(client, cast: Cast) -> None:
    services.notify(users=[cast.registrar], title="给学籍管理员", email=False)
    services.notify(users=[cast.counsellor], title="给辅导员", email=False)
    client.force_login(cast.counsellor)
    body = client.get("/notifications/").content.decode()
    assert "给辅导员" in body and "给学籍管理员" not in body
    assert client.post("/notifications/read/").status_code == 302
    assert selectors.unread_count(cast.counsellor) == 0


def test_the_notification_pages_need_a_login(client) -> None:
    assert client.get("/notifications/").status_code == 302
    assert client.post("/notifications/read/").status_code == 302


def test_the_notification_api_is_per_user(cast: Cast) -> None:
    from xueji.students.tests.test_api import api_as

    services.notify(users=[cast.student_user], title="给学生", email=False)
    assert api_as(cast.registrar).get("/api/v1/notifications/").json()["results"] == []
    rows = api_as(cast.student_user).get("/api/v1/notifications/?unread=1").json()["results"]
    assert [r["title"] for r in rows] == ["给学生"]
    marked = api_as(cast.student_user).post("/api/v1/notifications/read/", {}, format="json")
    assert marked.json() == {"marked": 1}
