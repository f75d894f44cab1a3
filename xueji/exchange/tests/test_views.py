"""The exchange pages: event list, event detail, department inbox with acknowledgement, and
department settings — with the negatives (anonymous, wrong role, another department)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from xueji.accounts.models import User
from xueji.conftest import Cast, make_user
from xueji.exchange.models import Delivery, DeliveryState, Department
from xueji.exchange.tests.conftest import Receiver, emit

pytestmark = pytest.mark.django_db


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_the_registrar_sees_events_with_a_badge_per_department(cast: Cast, dormitory: Department):
    event = emit(cast)

    response = client_for(cast.registrar).get(reverse("event-list"))

    assert response.status_code == 200
    html = response.content.decode()
    assert str(event.event_id) in html
    assert "单小明" in html
    assert "宿舍管理中心 · 已送达" in html


def test_the_overdue_only_filter_hides_events_that_are_not_overdue(
    cast: Cast, dormitory: Department
):
    old = emit(cast)
    fresh = emit(cast)
    Delivery.objects.filter(event=old).update(ack_due_at=old.occurred_at - timedelta(hours=1))

    response = client_for(cast.registrar).get(reverse("event-list"), {"overdue": "on"})

    html = response.content.decode()
    assert str(old.event_id) in html
    assert str(fresh.event_id) not in html
    assert 'data-overdue="1"' in html


def test_a_school_auditor_reads_the_event_list_but_cannot_acknowledge(
    cast: Cast, dormitory: Department
):
    event = emit(cast)
    delivery = Delivery.objects.get(event=event, department=dormitory)
    client = client_for(cast.auditor)

    assert client.get(reverse("event-list")).status_code == 200
    detail = client.get(reverse("event-detail", args=[event.event_id]))
    assert detail.status_code == 200
    assert reverse("delivery-ack", args=[delivery.pk]) not in detail.content.decode()
    assert client.post(reverse("delivery-ack", args=[delivery.pk])).status_code == 403


@pytest.mark.parametrize("who", ["college_admin", "counsellor", "student_user", "parent"])
def test_other_roles_are_refused_the_event_list_and_settings(cast: Cast, who: str):
    client = client_for(getattr(cast, who))

    assert client.get(reverse("event-list")).status_code == 403
    assert client.get(reverse("department-list")).status_code == 403


@pytest.mark.parametrize(
    "name", ["event-list", "department-inbox", "department-list", "department-create"]
)
def test_anonymous_visitors_are_sent_to_log_in(name: str, cast: Cast):
    response = Client().get(reverse(name))

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_member_acknowledges_on_the_inbox_page(cast: Cast, dormitory: Department):
    clerk = dormitory.members.get()
    event = emit(cast)
    delivery = Delivery.objects.get(event=event, department=dormitory)
    client = client_for(clerk)

    inbox = client.get(reverse("department-inbox"))
    assert inbox.status_code == 200
    assert "确认收到" in inbox.content.decode()
    assert f'data-delivery-id="{delivery.pk}"' in inbox.content.decode()

    response = client.post(
        reverse("delivery-ack", args=[delivery.pk]),
        {"note": "已办理退宿", "next": reverse("department-inbox")},
        follow=True,
    )

    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.ACKNOWLEDGED
    assert delivery.acknowledged_by == clerk
    assert delivery.ack_note == "已办理退宿"
    assert "已确认收到" in response.content.decode()
    assert f'data-delivery-id="{delivery.pk}"' not in response.content.decode()


def test_a_member_of_another_department_gets_404_for_the_delivery_and_the_event(
    cast: Cast, dormitory: Department, finance: Department
):
    event = emit(cast)
    delivery = Delivery.objects.get(event=event, department=dormitory)
    # The finance clerk received this event too, but not this delivery.
    client = client_for(finance.members.get())

    assert client.post(reverse("delivery-ack", args=[delivery.pk])).status_code == 404
    delivery.refresh_from_db()
    assert delivery.acknowledged_at is None
    Department.objects.filter(pk=finance.pk).update(change_types=["withdrawal"])
    other = emit(cast)
    assert client.get(reverse("event-detail", args=[other.event_id])).status_code == 404


@pytest.mark.parametrize("who", ["college_admin", "student_user"])
def test_people_outside_the_departments_get_404_on_the_event_and_delivery(
    cast: Cast, dormitory: Department, who: str
):
    event = emit(cast)
    delivery = Delivery.objects.get(event=event, department=dormitory)
    client = client_for(getattr(cast, who))

    assert client.get(reverse("event-detail", args=[event.event_id])).status_code == 404
    assert client.post(reverse("delivery-ack", args=[delivery.pk])).status_code == 404
    assert client.post(reverse("delivery-retry", args=[delivery.pk])).status_code == 404
    assert client.get(reverse("department-inbox")).status_code == 403


def test_the_registrar_retries_a_failed_delivery_from_the_event_page(
    cast: Cast, finance: Department, receiver: Receiver
):
    event = emit(cast)
    delivery = Delivery.objects.get(event=event, department=finance)
    Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.FAILED, attempts=15)
    client = client_for(cast.registrar)

    page = client.get(reverse("event-detail", args=[event.event_id]))
    assert "重新推送" in page.content.decode()
    client.post(reverse("delivery-retry", args=[delivery.pk]))

    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.PENDING, 0)


def test_a_member_cannot_retry(cast: Cast, finance: Department):
    event = emit(cast)
    delivery = Delivery.objects.get(event=event, department=finance)
    Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.FAILED)

    response = client_for(finance.members.get()).post(reverse("delivery-retry", args=[delivery.pk]))

    assert response.status_code == 403
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.FAILED


def test_the_registrar_creates_a_department_and_sees_its_secret_once(cast: Cast):
    make_user("archives-clerk")
    client = client_for(cast.registrar)

    response = client.post(
        reverse("department-create"),
        {
            "code": "archives",
            "name": "档案馆",
            "webhook_url": "https://archives.example.edu.cn/hook",
            "ack_hours": "24",
            "is_active": "on",
            "members": "archives-clerk",
        },
    )

    department = Department.objects.get(code="archives")
    assert response.status_code == 200
    assert department.secret in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    edit = client.get(reverse("department-edit", args=[department.pk]))
    assert edit.status_code == 200
    assert department.secret not in edit.content.decode()
    assert [m.username for m in department.members.all()] == ["archives-clerk"]


def test_a_bad_url_and_an_unknown_member_are_shown_on_the_form(cast: Cast, dormitory: Department):
    response = client_for(cast.registrar).post(
        reverse("department-edit", args=[dormitory.pk]),
        {
            "name": "宿舍管理中心",
            "webhook_url": "ftp://dorm/",
            "ack_hours": "48",
            "members": "nobody",
        },
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "找不到这些用户" in html
    dormitory.refresh_from_db()
    assert dormitory.webhook_url == ""

    response = client_for(cast.registrar).post(
        reverse("department-edit", args=[dormitory.pk]),
        {"name": "宿舍管理中心", "webhook_url": "ftp://dorm/", "ack_hours": "48"},
    )
    assert "http:// 或 https://" in response.content.decode()


def test_rotating_the_secret_shows_the_new_one(cast: Cast, dormitory: Department):
    old = dormitory.secret

    response = client_for(cast.registrar).post(
        reverse("department-secret-rotate", args=[dormitory.pk])
    )

    dormitory.refresh_from_db()
    assert dormitory.secret != old
    assert dormitory.secret in response.content.decode()


def test_a_college_admin_cannot_rotate_a_secret(cast: Cast, dormitory: Department):
    old = dormitory.secret

    response = client_for(cast.college_admin).post(
        reverse("department-secret-rotate", args=[dormitory.pk])
    )

    assert response.status_code == 403
    dormitory.refresh_from_db()
    assert dormitory.secret == old
