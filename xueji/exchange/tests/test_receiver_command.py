"""The demo receiver (`manage.py webhook_receiver`): verifies signatures, reports duplicates,
and acknowledges through the real API of a live server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from xueji.accounts.services import api_token_issue
from xueji.conftest import Cast, build_cast, make_user
from xueji.core.context import Actor
from xueji.exchange.management.commands.webhook_receiver import DemoReceiver
from xueji.exchange.models import Delivery, DeliveryState, Department
from xueji.exchange.services import delivery_attempt
from xueji.exchange.tests.conftest import emit
from xueji.org.selectors import code_cache_clear
from xueji.org.services import code_tables_load


class Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.acknowledged = threading.Event()

    def __call__(self, line: str) -> None:
        self.lines.append(line)
        if line.startswith(("acknowledged", "ack failed")):
            self.acknowledged.set()


@contextmanager
def demo_receiver(secret: str, **options: str) -> Iterator[tuple[str, Lines]]:
    lines = Lines()
    server = DemoReceiver(("127.0.0.1", 0), secrets=[secret], say=lines, **options)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", lines
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.django_db
def test_the_demo_receiver_reports_a_repeated_event_as_a_duplicate(cast: Cast):
    department, _ = Department.objects.update_or_create(code="finance", defaults={})
    with demo_receiver(department.secret) as (url, lines):
        Department.objects.filter(pk=department.pk).update(webhook_url=url)
        event = emit(cast)
        delivery = Delivery.objects.get(event=event, department=department)
        delivery_attempt(delivery.pk)
        Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.PENDING)
        delivery_attempt(delivery.pk, now=event.occurred_at.replace(year=2100))

    assert [line.split()[0] for line in lines.lines] == ["received", "duplicate"]
    assert str(event.event_id) in lines.lines[1]


@pytest.mark.django_db
def test_the_demo_receiver_refuses_a_wrong_signature(cast: Cast):
    department, _ = Department.objects.update_or_create(code="finance", defaults={})
    with demo_receiver("some-other-secret") as (url, lines):
        Department.objects.filter(pk=department.pk).update(webhook_url=url)
        event = emit(cast)
        delivery = delivery_attempt(Delivery.objects.get(event=event, department=department).pk)

    assert lines.lines == ["bad signature"]
    assert delivery is not None
    assert (delivery.state, delivery.last_status_code) == (DeliveryState.PENDING, 401)


@pytest.mark.django_db(transaction=True)
def test_the_demo_receiver_acknowledges_through_the_api(live_server):
    code_tables_load(actor=Actor.system())
    code_cache_clear()
    cast = build_cast()
    clerk = make_user("finance-clerk")
    department, _ = Department.objects.update_or_create(code="finance", defaults={"name": "财务处"})
    department.members.add(clerk)
    _, token = api_token_issue(actor=Actor.system(), user=clerk)

    with demo_receiver(department.secret, ack_token=token, api=f"{live_server.url}/api/v1") as (
        url,
        lines,
    ):
        Department.objects.filter(pk=department.pk).update(webhook_url=url)
        event = emit(cast)
        delivery_attempt(Delivery.objects.get(event=event, department=department).pk)
        assert lines.acknowledged.wait(timeout=60)

    delivery = Delivery.objects.get(event=event, department=department)
    assert lines.lines[-1].startswith(f"acknowledged {event.event_id}"), lines.lines
    assert delivery.state == DeliveryState.ACKNOWLEDGED
    assert delivery.acknowledged_by == clerk
    assert delivery.delivered_at is not None
