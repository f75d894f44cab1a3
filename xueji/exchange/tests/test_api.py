"""Deliveries and events over the API, with Bearer tokens as a department's system uses them."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from xueji.accounts.models import User
from xueji.accounts.services import api_token_issue
from xueji.conftest import Cast
from xueji.core.context import Actor
from xueji.exchange.models import Delivery, DeliveryState, Department
from xueji.exchange.tests.conftest import emit

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/deliveries/"


def api_as(user: User) -> APIClient:
    _, key = api_token_issue(actor=Actor.system(), user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def ack_url(delivery: Delivery) -> str:
    return f"/api/v1/deliveries/{delivery.pk}/ack/"


def test_a_member_lists_their_departments_deliveries_and_acknowledges_one(
    cast: Cast, dormitory: Department, finance: Department
):
    event = emit(cast)
    mine = Delivery.objects.get(event=event, department=dormitory)
    client = api_as(dormitory.members.get())

    listed = client.get(LIST_URL, {"state": "delivered"})
    assert listed.status_code == 200
    [row] = listed.json()["results"]
    assert row["id"] == mine.pk
    assert row["department"] == "dormitory"
    assert row["event"]["event_id"] == str(event.event_id)
    assert row["event"]["student"]["student_number"] == cast.student.student_number
    assert row["overdue"] is False

    acked = client.post(ack_url(mine), {"note": "已办理"}, format="json")
    assert acked.status_code == 200
    assert acked.json()["state"] == "acknowledged"
    again = client.post(ack_url(mine), {}, format="json")
    assert again.status_code == 200
    assert again.json()["ack_note"] == "已办理"
    assert client.get(LIST_URL, {"state": "delivered"}).json()["results"] == []


def test_the_registrar_lists_every_departments_deliveries(cast: Cast, dormitory: Department):
    event = emit(cast)

    rows = api_as(cast.registrar).get(LIST_URL, {"page_size": 100}).json()["results"]

    assert len(rows) == Delivery.objects.filter(event=event).count() > 1


def test_an_unknown_state_filter_is_a_400_naming_the_parameter(cast: Cast):
    response = api_as(cast.registrar).get(LIST_URL, {"state": "lost"})

    assert response.status_code == 400
    assert "state" in response.json()["error"]["fields"]


@pytest.mark.parametrize("who", ["college_admin", "counsellor", "student_user", "other-clerk"])
def test_outsiders_see_no_deliveries_and_get_404_acknowledging(
    cast: Cast, dormitory: Department, finance: Department, who: str
):
    user = finance.members.get() if who == "other-clerk" else getattr(cast, who)
    Department.objects.filter(pk=finance.pk).update(change_types=["withdrawal"])
    event = emit(cast)
    delivery = Delivery.objects.get(event=event, department=dormitory)
    client = api_as(user)

    assert client.get(LIST_URL).json()["results"] == []
    response = client.post(ack_url(delivery), {}, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert client.get(f"/api/v1/events/{event.event_id}/").status_code == 404
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DELIVERED


def test_an_auditor_reads_but_acknowledging_is_forbidden(cast: Cast, dormitory: Department):
    event = emit(cast)
    delivery = Delivery.objects.get(event=event, department=dormitory)
    client = api_as(cast.auditor)

    assert client.get(f"/api/v1/events/{event.event_id}/").status_code == 200
    response = client.post(ack_url(delivery), {}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_a_member_reads_an_event_with_only_their_delivery(
    cast: Cast, dormitory: Department, finance: Department
):
    event = emit(cast)

    body = api_as(dormitory.members.get()).get(f"/api/v1/events/{event.event_id}/").json()

    assert body["event_id"] == str(event.event_id)
    assert body["payload"]["type_name"] == "休学"
    assert [d["department"] for d in body["deliveries"]] == ["dormitory"]


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", LIST_URL),
        ("post", "/api/v1/deliveries/1/ack/"),
        ("get", "/api/v1/events/00000000-0000-0000-0000-000000000000/"),
    ],
)
def test_anonymous_callers_get_a_chinese_401(cast: Cast, method: str, url: str):
    response = getattr(APIClient(), method)(url)

    assert response.status_code == 401
    assert "未登录" in response.json()["error"]["message"]


def test_a_malformed_event_id_is_a_404(cast: Cast):
    response = api_as(cast.registrar).get("/api/v1/events/not-a-uuid/")

    assert response.status_code == 404


def test_the_schema_documents_the_exchange_endpoints(cast: Cast):
    schema = api_as(cast.registrar).get("/api/v1/schema/", {"format": "json"}).json()

    paths = schema["paths"]
    assert "/api/v1/deliveries/" in paths
    assert "404" in paths["/api/v1/deliveries/{delivery_id}/ack/"]["post"]["responses"]
    assert "/api/v1/events/{event_id}/" in paths
