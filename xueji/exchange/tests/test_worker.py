"""Deliveries run by a real `manage.py db_worker` process against the test database, posting
to the thread receiver."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django_tasks_db.models import DBTaskResult

from xueji.audit.tests.test_tasks import run_worker
from xueji.conftest import Cast, build_cast
from xueji.core.context import Actor
from xueji.exchange.models import Delivery, DeliveryState, Department
from xueji.exchange.services import deliveries_sweep
from xueji.exchange.tests.conftest import Receiver, emit
from xueji.org.selectors import code_cache_clear
from xueji.org.services import code_tables_load

TASK_PATH = "xueji.exchange.tasks.delivery_attempt_task"


@pytest.fixture
def cast(transactional_db) -> Cast:
    """The cast for a test whose database is flushed afterwards: an earlier flush emptied the
    session's code tables, so load them again first."""
    code_tables_load(actor=Actor.system())
    code_cache_clear()
    return build_cast()


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_an_emitted_event_to_the_receiver(
    cast: Cast, finance: Department, receiver: Receiver
):
    event = emit(cast)  # commits: the delivery task is queued on commit

    finished = run_worker()

    assert finished.returncode == 0, finished.stderr
    delivery = Delivery.objects.get(event=event, department=finance)
    assert delivery.state == DeliveryState.DELIVERED
    assert [(r.event_id, r.signature_ok) for r in receiver.requests] == [
        (str(event.event_id), True)
    ]
    assert DBTaskResult.objects.get(task_path=TASK_PATH).return_value == "delivered"


@pytest.mark.django_db(transaction=True)
def test_a_failed_attempt_in_the_worker_queues_a_deferred_retry_and_the_sweep_delivers_it(
    cast: Cast, finance: Department, receiver: Receiver
):
    receiver.statuses.append(503)
    event = emit(cast)

    finished = run_worker()

    assert finished.returncode == 0, finished.stderr
    delivery = Delivery.objects.get(event=event, department=finance)
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("pending", 1, 503)
    # The retry waits in the queue until its time (the batch worker leaves it there).
    retry = DBTaskResult.objects.filter(task_path=TASK_PATH, status="READY").get()
    assert retry.args_kwargs["args"] == [delivery.pk]
    assert retry.run_after == delivery.next_attempt_at
    assert delivery.next_attempt_at is not None
    assert delivery.next_attempt_at - event.occurred_at >= timedelta(seconds=60)

    # Had that task been lost, the periodic sweep still delivers once it is due.
    assert deliveries_sweep(delivery.next_attempt_at) == 1
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DELIVERED
    assert receiver.event_ids == [str(event.event_id)] * 2
    assert len(receiver.stored) == 1
