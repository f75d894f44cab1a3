"""The change feed (/api/v1/events/) and OneRoster-style dateLastModified on list endpoints."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from xueji.conftest import Cast
from xueji.exchange.feed_api import cursor_encode
from xueji.exchange.models import Department, OutboxEvent
from xueji.exchange.tests.conftest import emit
from xueji.students.models import Student
from xueji.students.tests.test_api import api_as

pytestmark = pytest.mark.django_db

FEED = "/api/v1/events/"


@pytest.fixture(autouse=True)
def no_settle_delay(settings):
    settings.EXCHANGE_FEED_SETTLE_SECONDS = 0


def ids(response) -> list[str]:
    return [e["event_id"] for e in response.json()["events"]]


def read_all(client: APIClient, cursor: str = "", limit: int = 3) -> tuple[list[str], str]:
    seen: list[str] = []
    while True:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        page = client.get(FEED, params)
        assert page.status_code == 200, page.content
        seen += ids(page)
        cursor = page.json()["next_cursor"]
        if not page.json()["has_more"]:
            return seen, cursor


def test_paging_the_feed_while_events_arrive_sees_each_event_once_in_order(cast: Cast):
    first = [str(emit(cast).event_id) for _ in range(5)]
    client = api_as(cast.registrar)

    page = client.get(FEED, {"limit": 3})
    assert ids(page) == first[:3] and page.json()["has_more"] is True
    later = [str(emit(cast).event_id) for _ in range(4)]  # arrive between two pages
    rest, cursor = read_all(client, page.json()["next_cursor"])
    assert first[:3] + rest == first + later

    # Nothing new: the same cursor comes back, and the next event is picked up from it.
    idle = client.get(FEED, {"cursor": cursor})
    assert ids(idle) == [] and idle.json()["next_cursor"] == cursor
    newest = str(emit(cast).event_id)
    assert ids(client.get(FEED, {"cursor": cursor})) == [newest]


def test_department_members_read_only_their_departments_events(cast: Cast):
    from xueji.conftest import make_user

    finance = Department.objects.get(code="finance")
    Department.objects.filter(pk=finance.pk).update(change_types=["withdrawal"])
    clerk = make_user("finance-clerk")
    finance.members.add(clerk)
    suspension = emit(cast, change_type="suspension")
    withdrawal = emit(cast, change_type="withdrawal")

    assert ids(api_as(clerk).get(FEED)) == [str(withdrawal.event_id)]
    assert ids(api_as(cast.auditor).get(FEED)) == [
        str(suspension.event_id),
        str(withdrawal.event_id),
    ]
    for outsider in (cast.college_admin, cast.counsellor, cast.student_user):
        assert ids(api_as(outsider).get(FEED)) == []


def test_a_forged_or_mangled_cursor_is_a_400_naming_the_cursor(cast: Cast):
    client = api_as(cast.registrar)
    for cursor in ("42", cursor_encode(3) + "x"):
        response = client.get(FEED, {"cursor": cursor})
        assert response.status_code == 400
        assert response.json()["error"]["fields"]["cursor"][0].startswith("游标无效")
    assert client.get(FEED, {"limit": 0}).status_code == 400
    assert client.get(FEED, {"limit": 1001}).status_code == 400


def test_the_feed_needs_a_login(cast: Cast):
    assert APIClient().get(FEED).status_code == 401


def test_events_younger_than_the_settle_window_wait_for_the_next_read(cast: Cast, settings):
    settings.EXCHANGE_FEED_SETTLE_SECONDS = 60
    old = emit(cast)
    OutboxEvent.objects.filter(pk=old.pk).update(occurred_at=timezone.now() - timedelta(minutes=5))
    emit(cast)  # just written: its transaction might not be the last to commit

    assert ids(api_as(cast.registrar).get(FEED)) == [str(old.event_id)]


def test_the_feed_is_in_the_openapi_schema(cast: Cast):
    schema = api_as(cast.registrar).get("/api/v1/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/events/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"cursor", "limit"}
    students = schema["paths"]["/api/v1/students/"]["get"]
    assert "dateLastModified" in {p["name"] for p in students["parameters"]}
    changes = schema["paths"]["/api/v1/changes/"]["get"]
    assert "dateLastModified" in {p["name"] for p in changes["parameters"]}


# --- dateLastModified ------------------------------------------------------------------------


def test_students_date_last_modified_returns_only_students_changed_strictly_after(cast: Cast):
    base = timezone.now() - timedelta(days=1)
    Student.objects.update(updated_at=base)
    Student.objects.filter(pk=cast.classmate_b.pk).update(updated_at=base + timedelta(hours=1))
    client = api_as(cast.registrar)

    after = client.get("/api/v1/students/", {"dateLastModified": base.isoformat()})
    assert after.status_code == 200
    assert [s["student_number"] for s in after.json()["results"]] == [
        cast.classmate_b.student_number
    ]
    # ">" semantics: the newest record's own time returns nothing more (no duplicates).
    newest = after.json()["results"][0]["dateLastModified"]
    assert client.get("/api/v1/students/", {"dateLastModified": newest}).json()["results"] == []
    # Scope still applies.
    other = api_as(cast.counsellor).get("/api/v1/students/", {"dateLastModified": base.isoformat()})
    assert other.json()["results"] == []
    bad = client.get("/api/v1/students/", {"dateLastModified": "yesterday"})
    assert bad.status_code == 400 and "dateLastModified" in bad.json()["error"]["fields"]


def test_changes_date_last_modified_filters_on_submitted_approved_or_applied_time(cast: Cast):
    from xueji.changes.models import ChangeRequest, ChangeType

    def change(number: str, student: Student) -> ChangeRequest:
        return ChangeRequest.objects.create(
            number=number,
            student=student,
            change_type=ChangeType.objects.get(code="suspension"),
            applicant=cast.registrar,
            reason="病休",
            effective_date=timezone.localdate(),
        )

    old, applied, other = (
        change("YD1", cast.student),
        change("YD2", cast.classmate_b),
        change("YD3", cast.other_student),
    )
    long_ago = timezone.now() - timedelta(days=10)
    ChangeRequest.objects.update(submitted_at=long_ago)
    ChangeRequest.objects.filter(pk=applied.pk).update(applied_at=timezone.now())
    ChangeRequest.objects.filter(pk=other.pk).update(approved_at=timezone.now())
    since = (long_ago + timedelta(days=1)).isoformat()

    response = api_as(cast.college_admin).get("/api/v1/changes/", {"dateLastModified": since})
    assert response.status_code == 200
    assert [c["number"] for c in response.json()["results"]] == ["YD2"]
    everything = api_as(cast.registrar).get("/api/v1/changes/", {"dateLastModified": since})
    assert sorted(c["number"] for c in everything.json()["results"]) == ["YD2", "YD3"]
    assert old.number not in {c["number"] for c in everything.json()["results"]}
    bad = api_as(cast.registrar).get("/api/v1/changes/", {"dateLastModified": "2026-13-01"})
    assert bad.status_code == 400 and "dateLastModified" in bad.json()["error"]["fields"]
