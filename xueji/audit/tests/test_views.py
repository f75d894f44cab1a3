"""The auditor's pages: access, filters, one event, and verifying the chain from the browser."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from xueji.accounts.models import Grant, Role, Scope
from xueji.audit.models import AuditEvent, AuditHead
from xueji.audit.services import audit_record
from xueji.org.services import college_save

pytestmark = pytest.mark.django_db

PAGES = [
    ("get", "audit-event-list", []),
    ("get", "audit-event-detail", [1]),
    ("post", "audit-verify", []),
]


@pytest.fixture
def events(cast):
    """Three chained events after those of loading the code tables: two organisation edits and
    a student change with an ID number."""
    first_new = AuditHead.objects.get(id=1).seq + 1
    actor = cast.actor(cast.registrar)
    college = college_save(actor=actor, values={"code": "09", "name": "数学学院"})
    college_save(actor=actor, college=college, values={"name_en": "School of Mathematics"})
    audit_record(
        actor=actor,
        action="student.update",
        target=cast.student,
        summary=f"修改 {cast.student.student_number} {cast.student.name}：身份证号、电话",
        before={"id_number": cast.student.id_number, "phone": "13800138000"},
        after={"id_number": "110101200503011237", "phone": "13900139000"},
    )
    return list(AuditEvent.objects.filter(seq__gte=first_new).order_by("seq"))


@pytest.mark.parametrize(("method", "name", "args"), PAGES)
def test_anonymous_visitors_are_sent_to_login(client, cast, events, method, name, args):
    response = getattr(client, method)(reverse(name, args=args))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize(
    "persona", ["student_user", "parent", "counsellor", "college_admin", "advisor"]
)
@pytest.mark.parametrize(("method", "name", "args"), PAGES)
def test_roles_other_than_auditor_and_registrar_are_forbidden(
    client, cast, events, persona, method, name, args
):
    client.force_login(getattr(cast, persona))

    assert getattr(client, method)(reverse(name, args=args)).status_code == 403


def test_an_auditor_limited_to_one_college_is_forbidden(client, cast, events):
    cast.auditor.grants.all().delete()
    Grant.objects.create(user=cast.auditor, role=Role.AUDITOR, scope=Scope.COLLEGE, college=cast.cs)
    client.force_login(cast.auditor)

    assert client.get(reverse("audit-event-list")).status_code == 403


@pytest.mark.parametrize("persona", ["auditor", "registrar"])
def test_auditor_and_registrar_see_the_events_newest_first(client, cast, events, persona):
    client.force_login(getattr(cast, persona))

    response = client.get(reverse("audit-event-list"))

    assert response.status_code == 200
    assert [event.seq for event in response.context["events"]][:3] == [
        event.seq for event in reversed(events)
    ]
    assert "数学学院" in response.content.decode()


def test_events_are_filtered_by_action_prefix_actor_and_student_number(client, cast, events):
    client.force_login(cast.auditor)
    url = reverse("audit-event-list")

    by_action = client.get(url, {"action": "org."}).context["events"]
    by_number = client.get(url, {"target": cast.student.student_number}).context["events"]
    by_target_id = client.get(url, {"target": str(cast.student.pk)}).context["events"]
    by_actor = client.get(url, {"actor": "nobody"}).context["events"]

    assert [e.action for e in by_action] == ["org.college.save", "org.college.save"]
    assert [e.action for e in by_number] == ["student.update"]
    assert "student.update" in [e.action for e in by_target_id]
    assert list(by_actor) == []


def test_the_event_list_is_paginated(client, cast, events):
    actor = cast.actor(cast.registrar)
    for number in range(60):
        audit_record(actor=actor, action="test.bulk", target_id=str(number))
    client.force_login(cast.auditor)
    url = reverse("audit-event-list")

    first = client.get(url, {"action": "test."})
    second = client.get(url, {"action": "test.", "page": 2})

    assert len(first.context["events"]) == 50
    assert first.context["page"].paginator.count == 60
    assert len(second.context["events"]) == 10
    assert "action=test.&amp;page=2" in first.content.decode()


def test_event_detail_shows_before_and_after_as_indented_json_with_the_id_number_masked(
    client, cast, events
):
    client.force_login(cast.auditor)

    response = client.get(reverse("audit-event-detail", args=[events[2].seq]))

    content = response.content.decode()
    assert response.status_code == 200
    assert cast.student.id_number not in content
    assert "110101200503011237" not in content
    assert "13800138000" not in content
    assert "&quot;id_number&quot;: &quot;110***********1237&quot;" in content
    assert "\n  &quot;phone&quot;: &quot;139****9000&quot;" in content
    assert events[2].hash in content


def test_an_unknown_event_is_not_found(client, cast, events):
    client.force_login(cast.auditor)

    assert client.get(reverse("audit-event-detail", args=[999])).status_code == 404


def test_verifying_an_intact_chain_shows_ok_and_the_chain_head(client, cast, events):
    client.force_login(cast.auditor)

    response = client.post(reverse("audit-verify"))

    head = AuditHead.objects.get(id=1)
    content = response.content.decode()
    assert response.status_code == 200
    assert response.context["report"].ok
    assert "审计链完好" in content
    assert f"{head.seq}:{head.hash}" in content
    assert head.seq == events[-1].seq


def test_verifying_after_a_direct_sql_update_names_the_first_bad_event(client, cast, events):
    with connection.cursor() as cursor:
        cursor.execute(
            # The table name comes from the model; the values are bound parameters.
            f"UPDATE {AuditEvent._meta.db_table} SET summary = %s WHERE seq = %s",  # noqa: S608
            ["悄悄改过的摘要", events[1].seq],
        )
    client.force_login(cast.registrar)

    response = client.post(reverse("audit-verify"))

    report = response.context["report"]
    content = response.content.decode()
    assert not report.ok
    assert report.first_bad_seq == events[1].seq
    assert "审计链已被破坏" in content
    assert f"第一个异常事件：#{events[1].seq}" in content
    assert "事件内容与其哈希不符（事件被修改）" in content
    assert reverse("audit-event-detail", args=[events[1].seq]) in content


def test_verification_is_only_by_post(client, cast, events):
    client.force_login(cast.auditor)

    assert client.get(reverse("audit-verify")).status_code == 405
