"""Emitting events and delivering them as signed webhooks to a real receiver in a thread."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from xueji.audit.models import AuditEvent
from xueji.conftest import Cast, make_user
from xueji.core.exceptions import DomainError, PermissionDenied, ValidationFailed
from xueji.exchange import services
from xueji.exchange.models import Delivery, DeliveryState, Department, OutboxEvent
from xueji.exchange.services import (
    MAX_ATTEMPTS,
    deliveries_sweep,
    delivery_acknowledge,
    delivery_attempt,
    delivery_retry,
    department_save,
    department_secret_rotate,
    departments_seed,
    retry_delay,
)
from xueji.exchange.tests.conftest import Receiver, closed_port_url, emit

pytestmark = pytest.mark.django_db


def delivery_of(event: OutboxEvent, department: Department) -> Delivery:
    return Delivery.objects.get(event=event, department=department)


# --- emitting ------------------------------------------------------------------------------


def test_an_event_gets_one_delivery_per_active_subscribed_department(
    cast: Cast, finance: Department, dormitory: Department
):
    Department.objects.update_or_create(code="library", defaults={"is_active": False})
    Department.objects.update_or_create(code="card", defaults={"change_types": ["withdrawal"]})
    Department.objects.update_or_create(code="student_affairs", defaults={"change_types": []})

    event = emit(cast, "suspension")

    assert sorted(event.deliveries.values_list("department__code", flat=True)) == [
        "dormitory",
        "finance",
        "student_affairs",
    ]
    assert event.student_data["student_number"] == cast.student.student_number
    assert "id_number" not in event.student_data
    assert AuditEvent.objects.filter(action="event.emit", target_id=str(event.pk)).exists()


def test_a_department_without_url_has_its_delivery_in_the_inbox_at_once(
    cast: Cast, dormitory: Department
):
    event = emit(cast)

    delivery = delivery_of(event, dormitory)
    assert delivery.state == DeliveryState.DELIVERED
    assert delivery.next_attempt_at is None
    assert delivery.ack_due_at == event.occurred_at + timedelta(hours=48)


def test_an_event_written_in_a_rolled_back_transaction_is_not_emitted(
    cast: Cast, finance: Department
):
    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        emit(cast)
        raise Boom

    assert not OutboxEvent.objects.exists()
    assert not Delivery.objects.exists()


def test_emitting_queues_a_delivery_task_on_commit(
    cast: Cast, finance: Department, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    with django_capture_on_commit_callbacks(execute=True):
        event = emit(cast)

    delivery = delivery_of(event, finance)
    queued = DBTaskResult.objects.filter(task_path="xueji.exchange.tasks.delivery_attempt_task")
    assert [row.args_kwargs["args"] for row in queued] == [[delivery.pk]]


# --- delivering ----------------------------------------------------------------------------


def test_a_delivered_event_carries_a_signature_the_receiver_verifies(
    cast: Cast, finance: Department, receiver: Receiver
):
    event = emit(cast)

    delivery = delivery_attempt(delivery_of(event, finance).pk)

    assert delivery is not None
    assert delivery.state == DeliveryState.DELIVERED
    assert delivery.last_status_code == 200
    assert delivery.attempts == 1
    [request] = receiver.requests
    assert request.signature_ok
    assert request.event_id == str(event.event_id)
    body = request.body
    assert body["event_id"] == str(event.event_id)
    assert body["kind"] == "status_change.applied"
    assert body["change_type"] == "suspension"
    assert body["effective_date"] == "2026-03-01"
    assert body["student"]["student_number"] == cast.student.student_number
    assert body["student"]["college"] == "计算机学院"
    assert body["payload"]["after"] == {"status": "suspended"}
    assert body["department"] == "finance"
    assert body["ack_url"].endswith(f"/api/v1/deliveries/{delivery.pk}/ack/")


def test_a_body_signed_with_another_secret_does_not_verify(
    cast: Cast, finance: Department, receiver: Receiver
):
    receiver.secret = "not-the-department-secret"
    event = emit(cast)

    delivery_attempt(delivery_of(event, finance).pk)

    assert [r.signature_ok for r in receiver.requests] == [False]


def test_a_receiver_that_is_down_gets_the_event_later_with_backoff_and_nothing_is_lost(
    cast: Cast, finance: Department, receiver: Receiver
):
    good_url = finance.webhook_url
    Department.objects.filter(pk=finance.pk).update(webhook_url=closed_port_url())
    event = emit(cast)
    delivery = delivery_of(event, finance)
    t0 = event.occurred_at

    # 1: nothing listens on the port.
    after = delivery_attempt(delivery.pk, now=t0)
    assert after is not None
    assert (after.state, after.attempts, after.last_status_code) == ("pending", 1, None)
    assert "无法连接" in after.last_error
    assert after.next_attempt_at == t0 + timedelta(seconds=60)

    # 2: the receiver is up but answers 503.
    Department.objects.filter(pk=finance.pk).update(webhook_url=good_url)
    receiver.statuses.append(503)
    second = t0 + timedelta(seconds=60)
    after = delivery_attempt(delivery.pk, now=second)
    assert after is not None
    assert (after.state, after.attempts, after.last_status_code) == ("pending", 2, 503)
    assert after.next_attempt_at == second + timedelta(seconds=120)

    # Not due yet: no request goes out.
    assert deliveries_sweep(second + timedelta(seconds=119)) == 0
    assert len(receiver.requests) == 1

    # 3: due, the receiver answers 200.
    assert deliveries_sweep(second + timedelta(seconds=120)) == 1
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DELIVERED
    assert delivery.attempts == 3
    assert receiver.event_ids == [str(event.event_id), str(event.event_id)]
    assert list(receiver.stored) == [str(event.event_id)]
    # Once delivered, a later sweep sends nothing more.
    assert deliveries_sweep(second + timedelta(days=1)) == 0
    assert len(receiver.requests) == 2


def test_a_retry_after_an_error_answer_sends_the_same_event_id_so_the_receiver_stores_it_once(
    cast: Cast, finance: Department, receiver: Receiver
):
    receiver.statuses.extend([500, 500])
    event = emit(cast)
    delivery = delivery_of(event, finance)
    t = event.occurred_at

    for _ in range(3):
        attempted = delivery_attempt(delivery.pk, now=t)
        assert attempted is not None
        t = attempted.next_attempt_at or t

    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DELIVERED
    assert [r.status for r in receiver.requests] == [500, 500, 200]
    assert set(receiver.event_ids) == {str(event.event_id)}
    assert all(r.body == receiver.requests[0].body for r in receiver.requests)
    assert len(receiver.stored) == 1


def test_the_backoff_doubles_from_a_minute_and_stops_at_six_hours():
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 9, 10, 14)] == [
        60,
        120,
        240,
        15360,
        21600,
        21600,
    ]


def test_a_delivery_fails_after_fifteen_attempts_and_the_registrar_can_send_it_again(
    cast: Cast, finance: Department, receiver: Receiver
):
    receiver.statuses.extend([502] * MAX_ATTEMPTS)
    event = emit(cast)
    delivery = delivery_of(event, finance)
    t = event.occurred_at
    for _ in range(MAX_ATTEMPTS):
        deliveries_sweep(t)
        delivery.refresh_from_db()
        t = delivery.next_attempt_at or t

    assert delivery.state == DeliveryState.FAILED
    assert delivery.attempts == MAX_ATTEMPTS
    assert deliveries_sweep(t + timedelta(days=30)) == 0
    assert AuditEvent.objects.filter(action="delivery.failed").count() == 1

    with pytest.raises(PermissionDenied):
        delivery_retry(actor=cast.actor(cast.college_admin), delivery=delivery)
    delivery_retry(actor=cast.actor(cast.registrar), delivery=delivery)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("pending", 0)
    deliveries_sweep(timezone.now())
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DELIVERED
    assert len(receiver.stored) == 1


def test_only_a_failed_delivery_can_be_sent_again(cast: Cast, finance: Department):
    delivery = delivery_of(emit(cast), finance)

    with pytest.raises(DomainError, match="只有送达失败的投递可以重新推送"):
        delivery_retry(actor=cast.actor(cast.registrar), delivery=delivery)


def test_an_attempt_claimed_by_one_worker_is_skipped_by_another(
    cast: Cast, finance: Department, receiver: Receiver
):
    event = emit(cast)
    delivery = delivery_of(event, finance)
    Delivery.objects.filter(pk=delivery.pk).update(
        attempts=1, next_attempt_at=event.occurred_at + timedelta(seconds=60)
    )

    delivery_attempt(delivery.pk, now=event.occurred_at)

    assert receiver.requests == []


def test_a_rotated_secret_signs_the_next_delivery(
    cast: Cast, finance: Department, receiver: Receiver
):
    old = finance.secret
    rotated = department_secret_rotate(actor=cast.actor(cast.registrar), department=finance)
    assert rotated.secret != old
    event = emit(cast)

    delivery_attempt(delivery_of(event, finance).pk)
    assert [r.signature_ok for r in receiver.requests] == [False]  # receiver still has the old
    audit = AuditEvent.objects.get(action="department.secret_rotate")
    assert rotated.secret not in audit.summary + audit.after


# --- acknowledging -------------------------------------------------------------------------


def test_a_department_member_acknowledges_once_and_again_without_effect(
    cast: Cast, dormitory: Department
):
    clerk = dormitory.members.get()
    delivery = delivery_of(emit(cast), dormitory)

    first = delivery_acknowledge(actor=cast.actor(clerk), delivery=delivery, note="已办理退宿")
    again = delivery_acknowledge(actor=cast.actor(cast.registrar), delivery=delivery, note="x")

    assert first.state == again.state == DeliveryState.ACKNOWLEDGED
    assert again.acknowledged_by == clerk
    assert again.acknowledged_at == first.acknowledged_at
    assert again.ack_note == "已办理退宿"
    assert AuditEvent.objects.filter(action="delivery.acknowledge").count() == 1


def test_the_registrar_may_acknowledge_on_a_departments_behalf(cast: Cast, dormitory: Department):
    delivery = delivery_of(emit(cast), dormitory)

    delivery_acknowledge(actor=cast.actor(cast.registrar), delivery=delivery, note="电话确认")

    audit = AuditEvent.objects.get(action="delivery.acknowledge")
    assert "代为确认" in audit.summary


@pytest.mark.parametrize("who", ["other-clerk", "college_admin", "auditor", "student_user"])
def test_only_members_and_the_registrar_may_acknowledge(
    cast: Cast, dormitory: Department, finance: Department, who: str
):
    user = finance.members.get() if who == "other-clerk" else getattr(cast, who)
    delivery = delivery_of(emit(cast), dormitory)

    with pytest.raises(PermissionDenied):
        delivery_acknowledge(actor=cast.actor(user), delivery=delivery)
    delivery.refresh_from_db()
    assert delivery.acknowledged_at is None


def test_an_acknowledgement_during_a_pending_push_stops_the_retries(
    cast: Cast, finance: Department, receiver: Receiver
):
    receiver.statuses.append(503)
    event = emit(cast)
    delivery = delivery_of(event, finance)
    delivery_attempt(delivery.pk, now=event.occurred_at)

    delivery_acknowledge(actor=cast.actor(finance.members.get()), delivery=delivery)

    assert deliveries_sweep(event.occurred_at + timedelta(days=1)) == 0
    assert len(receiver.requests) == 1


# --- departments ---------------------------------------------------------------------------


def test_the_registrar_creates_a_department_and_members_are_set(cast: Cast):
    clerk = make_user("archives-clerk")

    department = department_save(
        actor=cast.actor(cast.registrar),
        department=None,
        data={
            "code": "archives",
            "name": "档案馆",
            "webhook_url": "https://archives.example.edu.cn/xueji",
            "change_types": "withdrawal, suspension",
            "ack_hours": 24,
            "is_active": True,
            "members": [clerk],
        },
    )

    assert department.change_types == ["suspension", "withdrawal"]
    assert list(department.members.all()) == [clerk]
    assert len(department.secret) >= 40
    assert AuditEvent.objects.filter(action="department.create").exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"webhook_url": "ftp://x.example/"}, "webhook_url", "http:// 或 https://"),
        ({"webhook_url": "file:///etc/passwd"}, "webhook_url", "http:// 或 https://"),
        ({"webhook_url": "https://u:p@x.example/"}, "webhook_url", "用户名或密码"),
        ({"code": "Finance Office"}, "code", "小写字母"),
        ({"name": ""}, "name", "部门名称"),
        ({"ack_hours": 0}, "ack_hours", "确认时限"),
        ({"change_types": ["休 学"]}, "change_types", "异动类型代码无效"),
    ],
)
def test_bad_department_settings_are_refused_naming_the_field(
    cast: Cast, data: dict, field: str, message: str
):
    base = {"code": "archives", "name": "档案馆", "ack_hours": 72}

    with pytest.raises(ValidationFailed) as caught:
        department_save(actor=cast.actor(cast.registrar), department=None, data={**base, **data})

    assert message in caught.value.errors[field][0]
    assert not Department.objects.filter(code="archives").exists()


def test_a_department_code_cannot_change_once_created(cast: Cast, dormitory: Department):
    with pytest.raises(ValidationFailed) as caught:
        department_save(
            actor=cast.actor(cast.registrar),
            department=dormitory,
            data={"code": "dorm", "name": "宿舍", "ack_hours": 72},
        )
    assert "code" in caught.value.errors


@pytest.mark.parametrize("who", ["college_admin", "auditor", "counsellor"])
def test_only_the_registrar_configures_departments(cast: Cast, dormitory: Department, who: str):
    actor = cast.actor(getattr(cast, who))
    with pytest.raises(PermissionDenied):
        department_save(
            actor=actor, department=None, data={"code": "x", "name": "x", "ack_hours": 1}
        )
    with pytest.raises(PermissionDenied):
        department_secret_rotate(actor=actor, department=dormitory)


def test_seeding_creates_the_shipped_departments_once(cast: Cast):
    Department.objects.all().delete()  # the session seeded them already
    first = departments_seed(actor=cast.actor(None))
    again = departments_seed(actor=cast.actor(None))

    assert [d.name for d in first] == [name for _code, name in services.DEFAULT_DEPARTMENTS]
    assert again == []
    assert all(d.is_active and not d.webhook_url for d in Department.objects.all())
