"""Writes of the exchange app: emitting events, delivering them as signed webhooks, and the
departments' acknowledgements.

Delivery never holds a database transaction open across the HTTP call: the attempt is claimed
(attempt counted, next attempt scheduled) in one short transaction, the POST happens outside,
and the outcome is written in a second short transaction. A worker that dies mid-call leaves a
delivery that the periodic sweep attempts again once its next attempt is due, so no event is
lost; a receiver that answers late (or acknowledges by API while answering) cannot block
anyone.
"""

from __future__ import annotations

import http.client
import json
import re
import time
import urllib.error
import urllib.request
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from xueji.accounts.models import User
from xueji.audit.services import audit_record
from xueji.core.context import Actor
from xueji.core.exceptions import DomainError, PermissionDenied, ValidationFailed
from xueji.exchange import permissions
from xueji.exchange.models import Delivery, DeliveryState, Department, OutboxEvent, new_secret
from xueji.exchange.signing import (
    DELIVERY_ID_HEADER,
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature,
)
from xueji.students.models import Student

# Retry schedule: after the n-th failed attempt wait min(30 s · 2ⁿ, 6 h); after 15 attempts
# (about a day and a half) the delivery is marked failed for the registrar to re-send by hand.
MAX_ATTEMPTS = 15
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=6)
TIMEOUT_SECONDS = 10
USER_AGENT = "Xueji-Webhook/1"

# The departments a new installation starts with; none has a URL until the registrar sets one.
DEFAULT_DEPARTMENTS = (
    ("finance", "财务处"),
    ("dormitory", "宿舍管理中心"),
    ("library", "图书馆"),
    ("card", "一卡通中心"),
    ("student_affairs", "学生工作部"),
)
_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MAX_ACK_HOURS = 24 * 90


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt."""
    return min(BASE_DELAY * 2 ** min(attempts, 20), MAX_DELAY)


# --- Emitting ------------------------------------------------------------------------------


def student_data(student: Student | None) -> dict[str, Any]:
    """What receivers are told about the student: identification and placement, no ID number,
    no contact details (departments that need more read the API with their own token)."""
    if student is None:
        return {}
    return {
        "student_number": student.student_number,
        "name": student.name,
        "college_code": student.college.code,
        "college": student.college.name,
        "major_code": student.major.code,
        "major": student.major.name,
        "class": student.school_class.name if student.school_class_id else "",
        "cohort": student.cohort.year,
        "status": student.status,
        "registry_status": student.registry_status,
    }


def event_emit(
    *,
    actor: Actor,
    kind: str,
    student: Student | None,
    effective_date: date | None,
    payload: dict[str, Any],
    change_type: str = "",
) -> OutboxEvent:
    """Write an event to the outbox with one delivery per active department subscribed to
    `change_type`, inside the caller's transaction (so a rolled-back change emits nothing).

    Called by other apps' services (the status-change apply step); not a user action, so it
    checks no permission. Departments without a webhook URL get their delivery as "delivered"
    at once: their inbox page is the channel. On commit, a delivery task is queued for each
    delivery that has a URL. Audited as "event.emit".
    """
    with transaction.atomic():
        event = OutboxEvent.objects.create(
            kind=kind[:60],
            student=student,
            student_data=student_data(student),
            change_type=change_type,
            effective_date=effective_date,
            payload=json.loads(json.dumps(payload, cls=DjangoJSONEncoder)),
        )
        rows = []
        for department in Department.objects.filter(is_active=True).order_by("code"):
            if not department.subscribes_to(change_type):
                continue
            pushed = bool(department.webhook_url)
            rows.append(
                Delivery(
                    event=event,
                    department=department,
                    state=DeliveryState.PENDING if pushed else DeliveryState.DELIVERED,
                    next_attempt_at=event.occurred_at if pushed else None,
                    delivered_at=None if pushed else event.occurred_at,
                    ack_due_at=event.occurred_at + timedelta(hours=department.ack_hours),
                )
            )
        deliveries = Delivery.objects.bulk_create(rows)
        audit_record(
            actor=actor,
            action="event.emit",
            target=event,
            summary=f"事件 {kind}"
            + (f"：{student.student_number} {student.name}" if student else "")
            + f"，通知 {len(deliveries)} 个部门",
            after={
                "event_id": str(event.event_id),
                "change_type": change_type,
                "departments": [d.department.code for d in deliveries],
            },
        )
        pending = [d.pk for d in deliveries if d.state == DeliveryState.PENDING]
        if pending:
            transaction.on_commit(lambda: _enqueue(pending), robust=True)
    return event


def _enqueue(delivery_ids: list[int], run_after: datetime | None = None) -> None:
    """Queue delivery tasks. If the queue is unavailable the sweep still finds the deliveries."""
    from xueji.exchange.tasks import delivery_attempt_task

    task = delivery_attempt_task.using(run_after=run_after) if run_after else delivery_attempt_task
    for delivery_id in delivery_ids:
        task.enqueue(delivery_id)


# --- Delivering ----------------------------------------------------------------------------


def webhook_body(delivery: Delivery) -> bytes:
    """The JSON sent for one delivery: the same bytes on every attempt."""
    event = delivery.event
    envelope = {
        "event_id": str(event.event_id),
        "kind": event.kind,
        "occurred_at": event.occurred_at.isoformat(),
        "effective_date": event.effective_date.isoformat() if event.effective_date else None,
        "student": event.student_data,
        "change_type": event.change_type,
        "payload": event.payload,
        "department": delivery.department.code,
        "delivery_id": delivery.pk,
        "ack_url": settings.BASE_URL + reverse("api-delivery-ack", args=[delivery.pk]),
    }
    return json.dumps(envelope, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect would turn the signed POST into a GET without body: count it as a failure."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


# Direct connections only: receivers are campus systems, and an environment proxy setting
# must not route signed student data elsewhere.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def webhook_post(
    url: str, body: bytes, *, secret: str, event_id: str, delivery_id: int
) -> tuple[int | None, str]:
    """POST one signed body; return (HTTP status or None, error text or "")."""
    if urlsplit(url).scheme not in ("http", "https"):
        return None, "接收地址须为 http 或 https。"
    timestamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 (scheme checked just above)
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            EVENT_ID_HEADER: event_id,
            DELIVERY_ID_HEADER: str(delivery_id),
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(secret, timestamp, body),
        },
    )
    try:
        with _OPENER.open(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code, f"HTTP {exc.code} {exc.reason}"
    except urllib.error.URLError as exc:
        return None, f"无法连接：{exc.reason}"
    except (TimeoutError, OSError, http.client.HTTPException) as exc:
        return None, f"连接错误：{exc.__class__.__name__} {exc}"


def delivery_attempt(delivery_id: int, now: datetime | None = None) -> Delivery | None:
    """Try to deliver one pending delivery whose next attempt is due at `now`.

    Skips (returns the row unchanged) when the delivery is not pending, not yet due, or its
    department is inactive. On a 2xx answer the delivery becomes "delivered"; otherwise the
    next attempt is scheduled with backoff and queued, and after MAX_ATTEMPTS it becomes
    "failed" (audited, visible to the registrar). Returns None for an unknown id.
    """
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("event", "department")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.state != DeliveryState.PENDING:
            return delivery
        if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
            return delivery
        department = delivery.department
        if not department.is_active:
            return delivery
        if not department.webhook_url:
            # The URL was removed after the event: the inbox page is now the channel.
            delivery.state = DeliveryState.DELIVERED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            delivery.save(update_fields=["state", "delivered_at", "next_attempt_at"])
            return delivery
        # Claim the attempt before calling out: a second worker or the sweep sees it not due.
        delivery.attempts += 1
        delivery.next_attempt_at = now + retry_delay(delivery.attempts)
        delivery.save(update_fields=["attempts", "next_attempt_at"])
        url, secret = department.webhook_url, department.secret
        body = webhook_body(delivery)
    status, error = webhook_post(
        url, body, secret=secret, event_id=str(delivery.event.event_id), delivery_id=delivery.pk
    )
    return _attempt_record(delivery.pk, now, status, error)


def _attempt_record(delivery_id: int, now: datetime, status: int | None, error: str) -> Delivery:
    ok = status is not None and 200 <= status < 300
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("event", "department")
            .get(pk=delivery_id)
        )
        delivery.last_status_code = status
        delivery.last_error = "" if ok else (error or f"HTTP {status}")[:400]
        fields = ["last_status_code", "last_error"]
        if ok:
            if delivery.delivered_at is None:
                delivery.delivered_at = now
                fields.append("delivered_at")
            if delivery.state in (DeliveryState.PENDING, DeliveryState.FAILED):
                delivery.state = DeliveryState.DELIVERED
                delivery.next_attempt_at = None
                fields += ["state", "next_attempt_at"]
            delivery.save(update_fields=fields)
            audit_record(
                actor=Actor.system(via="webhook"),
                action="delivery.delivered",
                target=delivery,
                summary=f"事件已送达{delivery.department.name}（第 {delivery.attempts} 次推送）",
                after={"event_id": str(delivery.event.event_id), "status": status},
            )
            return delivery
        if delivery.state == DeliveryState.PENDING and delivery.attempts >= MAX_ATTEMPTS:
            delivery.state = DeliveryState.FAILED
            delivery.next_attempt_at = None
            fields += ["state", "next_attempt_at"]
            delivery.save(update_fields=fields)
            audit_record(
                actor=Actor.system(via="webhook"),
                action="delivery.failed",
                target=delivery,
                summary=f"事件推送{delivery.department.name}失败 {delivery.attempts} 次，"
                "已停止重试",
                after={"event_id": str(delivery.event.event_id), "error": delivery.last_error},
            )
            return delivery
        delivery.save(update_fields=fields)
        if delivery.state == DeliveryState.PENDING and delivery.next_attempt_at is not None:
            retry_at, pk = delivery.next_attempt_at, delivery.pk
            transaction.on_commit(lambda: _enqueue([pk], run_after=retry_at), robust=True)
    return delivery


def deliveries_sweep(now: datetime) -> int:
    """Attempt every pending delivery that is due (lost tasks, worker restarts); returns how
    many were attempted. Safe to run beside the workers: each attempt is claimed under a lock."""
    due = list(
        Delivery.objects.filter(
            state=DeliveryState.PENDING,
            next_attempt_at__lte=now,
            department__is_active=True,
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:500]
    )
    for delivery_id in due:
        delivery_attempt(delivery_id, now=now)
    return len(due)


# --- Acknowledging and re-sending ---------------------------------------------------------


def delivery_acknowledge(*, actor: Actor, delivery: Delivery, note: str = "") -> Delivery:
    """The department confirms it has received the event (and acted on it).

    A member of the department, or the registrar on its behalf. Idempotent: acknowledging
    again changes nothing and keeps the first time and person. Raises PermissionDenied.
    """
    user = actor.require_user()
    if not permissions.can_acknowledge(user, delivery):
        raise PermissionDenied("只有该部门的经办人（或校级学籍管理员代为）可以确认收到。")
    with transaction.atomic():
        locked = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("event", "department")
            .get(pk=delivery.pk)
        )
        if locked.state == DeliveryState.ACKNOWLEDGED:
            return locked
        before = {"state": locked.state}
        locked.state = DeliveryState.ACKNOWLEDGED
        locked.acknowledged_at = timezone.now()
        locked.acknowledged_by = user
        locked.ack_note = note.strip()[:400]
        locked.next_attempt_at = None
        locked.save(
            update_fields=[
                "state",
                "acknowledged_at",
                "acknowledged_by",
                "ack_note",
                "next_attempt_at",
            ]
        )
        on_behalf = not permissions.is_department_member(user, locked.department)
        audit_record(
            actor=actor,
            action="delivery.acknowledge",
            target=locked,
            summary=f"{locked.department.name}确认收到事件 {locked.event.kind}"
            + ("（由学籍管理员代为确认）" if on_behalf else ""),
            before=before,
            after={
                "state": locked.state,
                "event_id": str(locked.event.event_id),
                "note": locked.ack_note,
                "on_behalf": on_behalf,
            },
        )
    return locked


def delivery_retry(*, actor: Actor, delivery: Delivery) -> Delivery:
    """The registrar re-sends a failed delivery: it becomes pending, due now, with a fresh
    retry schedule. Raises PermissionDenied, or DomainError when it has not failed."""
    user = actor.require_user()
    if not permissions.can_retry(user):
        raise PermissionDenied("只有校级学籍管理员可以重新推送。")
    with transaction.atomic():
        locked = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("event", "department")
            .get(pk=delivery.pk)
        )
        if locked.state != DeliveryState.FAILED:
            raise DomainError(
                f"该投递当前为“{locked.get_state_display()}”，只有送达失败的投递可以重新推送。"
            )
        if not locked.department.webhook_url:
            raise DomainError(f"{locked.department.name}未设置接收地址，无法推送。")
        now = timezone.now()
        locked.state = DeliveryState.PENDING
        locked.attempts = 0
        locked.next_attempt_at = now
        locked.save(update_fields=["state", "attempts", "next_attempt_at"])
        audit_record(
            actor=actor,
            action="delivery.retry",
            target=locked,
            summary=f"重新推送事件至{locked.department.name}",
            before={"state": DeliveryState.FAILED},
            after={"state": locked.state, "event_id": str(locked.event.event_id)},
        )
        pk = locked.pk
        transaction.on_commit(lambda: _enqueue([pk]), robust=True)
    return locked


# --- Departments ---------------------------------------------------------------------------


def department_validate(data: dict[str, Any], *, instance: Department | None) -> dict[str, Any]:
    """Normalise and check a department's settings; raise ValidationFailed naming each field."""
    errors: dict[str, list[str]] = {}

    def fail(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    values: dict[str, Any] = {}
    code = str(data.get("code", instance.code if instance else "")).strip()
    if instance is not None and code != instance.code:
        fail("code", "部门代码创建后不能修改（接收方以它识别部门）。")
    elif not _CODE.match(code):
        fail("code", "部门代码只能包含小写字母、数字、下划线和连字符，最长 40 位，如 finance。")
    elif Department.objects.filter(code=code).exclude(pk=getattr(instance, "pk", None)).exists():
        fail("code", f"部门代码“{code}”已被使用。")
    values["code"] = code
    name = str(data.get("name", "")).strip()
    if not name:
        fail("name", "请填写部门名称。")
    elif len(name) > 60:
        fail("name", "部门名称最长 60 个字。")
    values["name"] = name
    url = str(data.get("webhook_url", "") or "").strip()
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            fail("webhook_url", "接收地址须以 http:// 或 https:// 开头并包含主机名。")
        elif len(url) > 400:
            fail("webhook_url", "接收地址最长 400 个字符。")
        elif parts.username or parts.password:
            fail("webhook_url", "接收地址不能包含用户名或密码；请用签名密钥验证来源。")
    values["webhook_url"] = url
    types = data.get("change_types") or []
    if isinstance(types, str):
        types = [t for t in re.split(r"[\s,，]+", types) if t]
    bad = [t for t in types if not isinstance(t, str) or not re.match(r"^[\w-]{1,40}$", t)]
    if bad:
        fail("change_types", f"异动类型代码无效：{'、'.join(map(str, bad))}")
    values["change_types"] = sorted(set(types)) if not bad else []
    try:
        hours = int(data.get("ack_hours", 72))
    except (TypeError, ValueError):
        hours = 0
    if not 1 <= hours <= MAX_ACK_HOURS:
        fail("ack_hours", f"确认时限应为 1–{MAX_ACK_HOURS} 之间的整数小时。")
    values["ack_hours"] = hours
    values["is_active"] = bool(data.get("is_active", True))
    members = list(data.get("members") or [])
    if any(not isinstance(m, User) for m in members):
        fail("members", "经办人须为系统中的用户。")
    values["members"] = members
    if errors:
        raise ValidationFailed(errors)
    return values


def department_save(
    *, actor: Actor, department: Department | None, data: dict[str, Any]
) -> Department:
    """Create (department=None) or change a department: code (fixed once created), name,
    webhook URL (http/https), subscribed change types (empty = all), acknowledgement hours,
    active flag and members. Registrar only. Raises PermissionDenied or ValidationFailed."""
    user = actor.require_user()
    if not permissions.can_manage_departments(user):
        raise PermissionDenied("只有校级学籍管理员可以设置协同部门。")
    values = department_validate(data, instance=department)
    members = values.pop("members")
    with transaction.atomic():
        if department is None:
            target = Department(**values)
            before: dict[str, Any] = {}
        else:
            target = Department.objects.select_for_update().get(pk=department.pk)
            before = _department_snapshot(target)
            for field, value in values.items():
                setattr(target, field, value)
        target.save()
        target.members.set(members)
        audit_record(
            actor=actor,
            action="department.create" if department is None else "department.update",
            target=target,
            summary=f"{'新增' if department is None else '修改'}协同部门 {target.name}",
            before=before or None,
            after=_department_snapshot(target),
        )
    return target


def _department_snapshot(department: Department) -> dict[str, Any]:
    return {
        "code": department.code,
        "name": department.name,
        "webhook_url": department.webhook_url,
        "is_active": department.is_active,
        "change_types": list(department.change_types),
        "ack_hours": department.ack_hours,
        "members": sorted(department.members.values_list("username", flat=True)),
    }


def department_secret_rotate(*, actor: Actor, department: Department) -> Department:
    """Generate a new signing secret (returned on the department, to be shown once). Deliveries
    from now on are signed with it. The secret itself never enters the audit chain."""
    user = actor.require_user()
    if not permissions.can_manage_departments(user):
        raise PermissionDenied("只有校级学籍管理员可以更换签名密钥。")
    with transaction.atomic():
        locked = Department.objects.select_for_update().get(pk=department.pk)
        locked.secret = new_secret()
        locked.secret_rotated_at = timezone.now()
        locked.save(update_fields=["secret", "secret_rotated_at", "updated_at"])
        audit_record(
            actor=actor,
            action="department.secret_rotate",
            target=locked,
            summary=f"更换协同部门 {locked.name} 的签名密钥",
        )
    return locked


def departments_seed(*, actor: Actor) -> list[Department]:
    """Create the shipped departments that do not exist yet (财务处, 宿舍管理中心, 图书馆,
    一卡通中心, 学生工作部): active, no URL. Idempotent; existing ones are left as they are."""
    created = []
    with transaction.atomic():
        for code, name in DEFAULT_DEPARTMENTS:
            department, made = Department.objects.get_or_create(code=code, defaults={"name": name})
            if made:
                created.append(department)
        if created:
            audit_record(
                actor=actor,
                action="department.seed",
                target_type="exchange.department",
                summary="创建默认协同部门：" + "、".join(d.name for d in created),
                after={"codes": [d.code for d in created]},
            )
    return created
