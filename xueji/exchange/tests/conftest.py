"""A real HTTP receiver in a thread, and departments pointing at it."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from xueji.conftest import Cast
from xueji.exchange.models import Department, OutboxEvent
from xueji.exchange.services import event_emit


@dataclass
class Received:
    event_id: str
    signature_ok: bool
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class Receiver:
    """Answers each POST with the next queued status (200 when the queue is empty), records
    every request, and stores each event id once, as an idempotent receiver would — also when
    it then answers with an error (it stored the event but the answer got lost)."""

    secret: str = ""
    statuses: deque[int] = field(default_factory=deque)
    requests: list[Received] = field(default_factory=list)
    stored: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def verify(self, timestamp: str, body: bytes, header: str) -> bool:
        # Computed here independently of xueji.exchange.signing, as a receiver would.
        expected = hmac.new(
            self.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
        ).hexdigest()
        return hmac.compare_digest(f"sha256={expected}", header)

    @property
    def event_ids(self) -> list[str]:
        return [r.event_id for r in self.requests]


def _handler_for(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            ok = receiver.verify(
                self.headers.get("X-Xueji-Timestamp", ""),
                body,
                self.headers.get("X-Xueji-Signature", ""),
            )
            event_id = self.headers.get("X-Xueji-Event-Id", "")
            with receiver.lock:
                status = receiver.statuses.popleft() if receiver.statuses else 200
                envelope = json.loads(body)
                receiver.requests.append(
                    Received(event_id, ok, status, envelope, dict(self.headers.items()))
                )
                if ok:
                    receiver.stored.setdefault(envelope["event_id"], envelope)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(made))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    made.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/xueji"
    yield made
    server.shutdown()
    server.server_close()


def closed_port_url() -> str:
    """A URL on which nothing listens: connection refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks"


@pytest.fixture
def finance(receiver: Receiver, cast: Cast) -> Department:
    """财务处, pushed to the thread receiver, with one member."""
    from xueji.conftest import make_user

    # The session seeds the shipped departments (a flushed transactional test has none).
    department, _ = Department.objects.update_or_create(
        code="finance",
        defaults={"name": "财务处", "webhook_url": receiver.url, "change_types": ["suspension"]},
    )
    receiver.secret = department.secret
    department.members.add(make_user("finance-clerk"))
    return department


@pytest.fixture
def dormitory(cast: Cast) -> Department:
    """宿舍管理中心: no URL, acknowledges on the page; receives every type."""
    from xueji.conftest import make_user

    department, _ = Department.objects.update_or_create(
        code="dormitory", defaults={"name": "宿舍管理中心", "ack_hours": 48}
    )
    department.members.add(make_user("dorm-clerk"))
    return department


def emit(cast: Cast, change_type: str = "suspension", **kwargs: Any) -> OutboxEvent:
    return event_emit(
        actor=cast.actor(cast.registrar),
        kind="status_change.applied",
        student=cast.student,
        effective_date=kwargs.pop("effective_date", date(2026, 3, 1)),
        change_type=change_type,
        payload=kwargs.pop(
            "payload",
            {
                "number": "YD2026000001",
                "type": change_type,
                "type_name": "休学",
                "before": {"status": "in_school"},
                "after": {"status": "suspended"},
            },
        ),
        **kwargs,
    )
