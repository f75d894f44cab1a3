"""Overdue acknowledgements, inboxes and the home-page counts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from xueji.conftest import Cast
from xueji.core.exceptions import NotFound
from xueji.exchange import selectors
from xueji.exchange.models import Delivery, Department
from xueji.exchange.services import delivery_acknowledge
from xueji.exchange.tests.conftest import emit

pytestmark = pytest.mark.django_db


def test_a_delivery_is_overdue_only_after_its_departments_hours_without_acknowledgement(
    cast: Cast, dormitory: Department
):
    event = emit(cast)
    delivery = Delivery.objects.get(event=event, department=dormitory)
    due = event.occurred_at + timedelta(hours=48)

    assert delivery not in selectors.deliveries_overdue(due - timedelta(seconds=1))
    assert delivery in selectors.deliveries_overdue(due)

    delivery_acknowledge(actor=cast.actor(dormitory.members.get()), delivery=delivery)
    assert delivery not in selectors.deliveries_overdue(due + timedelta(days=10))


def test_the_overdue_filter_of_the_event_list_keeps_events_with_an_overdue_delivery(
    cast: Cast, dormitory: Department
):
    late = emit(cast)
    acknowledged = emit(cast)
    delivery_acknowledge(
        actor=cast.actor(cast.registrar),
        delivery=Delivery.objects.get(event=acknowledged, department=dormitory),
    )
    Delivery.objects.filter(event=acknowledged).exclude(department=dormitory).update(
        acknowledged_at=acknowledged.occurred_at
    )
    later = late.occurred_at + timedelta(days=30)

    overdue = selectors.event_list_visible_to(cast.registrar, overdue_only=True, now=later)
    everything = selectors.event_list_visible_to(cast.registrar, now=later)

    assert list(overdue) == [late]
    assert set(everything) == {late, acknowledged}


def test_counts_for_the_home_page_follow_membership(cast: Cast, dormitory: Department):
    event = emit(cast)
    clerk = dormitory.members.get()
    later = event.occurred_at + timedelta(days=30)
    seeded = Delivery.objects.filter(event=event).count()

    assert selectors.inbox_count(clerk) == 1
    assert selectors.overdue_count(clerk, later) == 1
    assert selectors.overdue_count(cast.registrar, later) == seeded
    assert selectors.overdue_count(cast.college_admin, later) == 0
    assert selectors.inbox_count(cast.registrar) == 0

    delivery_acknowledge(
        actor=cast.actor(clerk), delivery=Delivery.objects.get(event=event, department=dormitory)
    )
    assert selectors.inbox_count(clerk) == 0
    assert selectors.overdue_count(clerk, later) == 0


@pytest.mark.parametrize("who", ["college_admin", "counsellor", "student_user", "parent"])
def test_people_outside_the_departments_see_no_event_and_no_delivery(
    cast: Cast, dormitory: Department, who: str
):
    user = getattr(cast, who)
    event = emit(cast)
    delivery = Delivery.objects.get(event=event, department=dormitory)

    assert not selectors.event_list_visible_to(user).exists()
    assert not selectors.delivery_list_visible_to(user).exists()
    with pytest.raises(NotFound):
        selectors.get_event_for(user, event.event_id)
    with pytest.raises(NotFound):
        selectors.get_delivery_for(user, delivery.pk)


def test_a_member_sees_the_event_with_only_their_own_departments_delivery(
    cast: Cast, dormitory: Department, finance: Department
):
    event = emit(cast)

    seen = selectors.get_event_for(dormitory.members.get(), event.event_id)

    assert [d.department for d in seen.visible_deliveries] == [dormitory]
    with pytest.raises(NotFound):
        selectors.get_delivery_for(
            dormitory.members.get(), Delivery.objects.get(event=event, department=finance).pk
        )
