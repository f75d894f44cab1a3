"""Reads of the exchange app. The registrar and school-wide auditors see every event; a
department's members see their own departments' deliveries; anyone else sees nothing, and a
delivery or event outside what one may see is NotFound (never 403)."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from xueji.accounts.models import User
from xueji.core.exceptions import NotFound
from xueji.exchange import permissions
from xueji.exchange.models import Delivery, DeliveryState, Department, OutboxEvent


def departments_of(user: User) -> QuerySet[Department]:
    """The departments `user` acts for (as a member)."""
    if not (user.is_authenticated and user.is_active):
        return Department.objects.none()
    return Department.objects.filter(members=user)


def department_list(user: User) -> QuerySet[Department]:
    """Every department, for the registrar's settings page (others: none)."""
    if not permissions.can_manage_departments(user):
        return Department.objects.none()
    return Department.objects.prefetch_related("members").order_by("code")


def get_department_for(user: User, pk: int) -> Department:
    department = department_list(user).filter(pk=pk).first()
    if department is None:
        raise NotFound("未找到该部门，或您无权设置。")
    return department


def _deliveries() -> QuerySet[Delivery]:
    return Delivery.objects.select_related(
        "event", "event__student", "department", "acknowledged_by"
    )


def delivery_list_visible_to(
    user: User,
    *,
    state: str = "",
    department: int | None = None,
    unacknowledged: bool = False,
) -> QuerySet[Delivery]:
    """Deliveries `user` may see: all for the registrar and school auditors, their own
    departments' for members, none otherwise. Newest events first."""
    if permissions.can_view_all_events(user):
        rows = _deliveries()
    elif user.is_authenticated and user.is_active:
        rows = _deliveries().filter(department__members=user)
    else:
        return Delivery.objects.none()
    if state:
        rows = rows.filter(state=state)
    if department:
        rows = rows.filter(department_id=department)
    if unacknowledged:
        rows = rows.filter(acknowledged_at__isnull=True)
    return rows.order_by("-event__occurred_at", "-pk")


def department_inbox(user: User, *, show_all: bool = False) -> QuerySet[Delivery]:
    """A member's inbox: their departments' deliveries, unacknowledged ones only unless
    `show_all`; the oldest due first, so what is overdue is at the top."""
    rows = _deliveries().filter(department__in=departments_of(user))
    if not show_all:
        rows = rows.filter(acknowledged_at__isnull=True)
        return rows.order_by("ack_due_at", "pk")
    return rows.order_by("-event__occurred_at", "-pk")


def get_delivery_for(user: User, pk: int) -> Delivery:
    delivery = delivery_list_visible_to(user).filter(pk=pk).first()
    if delivery is None:
        raise NotFound("未找到该投递记录，或您无权查看。")
    return delivery


def event_list_visible_to(
    user: User,
    *,
    overdue_only: bool = False,
    state: str = "",
    department: int | None = None,
    now: datetime | None = None,
) -> QuerySet[OutboxEvent]:
    """Events for the registrar's list, each with its deliveries (and their departments)
    prefetched. Filters: some delivery overdue at `now`, some delivery in `state`, or sent to
    `department`. Empty for anyone but the registrar and school auditors."""
    if not permissions.can_view_all_events(user):
        return OutboxEvent.objects.none()
    events = OutboxEvent.objects.select_related("student").prefetch_related(
        Prefetch(
            "deliveries",
            queryset=Delivery.objects.select_related("department").order_by("department__code"),
        )
    )
    matching = Delivery.objects.all()
    if overdue_only:
        matching = matching.filter(
            acknowledged_at__isnull=True, ack_due_at__lte=now or timezone.now()
        )
    if state:
        matching = matching.filter(state=state)
    if department:
        matching = matching.filter(department_id=department)
    if overdue_only or state or department:
        events = events.filter(pk__in=matching.values("event_id"))
    return events.order_by("-occurred_at", "-pk")


def get_event_for(user: User, event_id: uuid.UUID | str) -> OutboxEvent:
    """The event if `user` is the registrar / a school auditor, or a member of a department
    that received it; its deliveries are limited to what the user may see. Else NotFound."""
    try:
        key = uuid.UUID(str(event_id))
    except ValueError as exc:
        raise NotFound("未找到该事件，或您无权查看。") from exc
    visible = delivery_list_visible_to(user).filter(event__event_id=key)
    event = OutboxEvent.objects.select_related("student").filter(event_id=key).first()
    if event is None or not (permissions.can_view_all_events(user) or visible.exists()):
        raise NotFound("未找到该事件，或您无权查看。")
    event.visible_deliveries = list(visible.order_by("department__code"))  # type: ignore[attr-defined]
    return event


def deliveries_overdue(now: datetime | None = None) -> QuerySet[Delivery]:
    """Deliveries not acknowledged by their deadline (event time + the department's hours)."""
    return (
        _deliveries()
        .filter(acknowledged_at__isnull=True, ack_due_at__lte=now or timezone.now())
        .order_by("ack_due_at", "pk")
    )


def overdue_count(user: User, now: datetime | None = None) -> int:
    """For the home page: overdue deliveries of every department (registrar, school auditor)
    or of the user's own departments (members); 0 for anyone else."""
    rows = deliveries_overdue(now)
    if permissions.can_view_all_events(user):
        return rows.count()
    return rows.filter(department__in=departments_of(user)).count()


def inbox_count(user: User) -> int:
    """For the home page: unacknowledged deliveries in the user's departments."""
    return (
        Delivery.objects.filter(department__in=departments_of(user))
        .exclude(state=DeliveryState.ACKNOWLEDGED)
        .count()
    )
