"""Home-page panels: each reader sees the work that concerns them, counted in scope."""

from __future__ import annotations

from django.test import Client
from django.utils import timezone

from xueji.changes.tests.test_services import suspension
from xueji.conftest import Cast, make_user


def test_the_counsellor_sees_the_pending_approval_on_the_home_page(client: Client, cast: Cast):
    suspension(cast, timezone.localdate())
    client.force_login(cast.counsellor)
    body = client.get("/").content.decode()
    assert 'data-testid="pending-approvals">1<' in body
    assert 'data-testid="workbench-count">1<' in body


def test_an_approver_of_another_college_sees_no_pending_approval(client: Client, cast: Cast):
    suspension(cast, timezone.localdate())
    make_user("fl-admin", "college_admin", "college", college=cast.fl)
    client.login(username="fl-admin", password="test-password-2026")
    body = client.get("/").content.decode()
    assert 'data-testid="pending-approvals">0<' in body
    assert "workbench-count" not in body


def test_the_student_sees_their_open_application(client: Client, cast: Cast):
    request = suspension(cast, timezone.localdate())
    client.force_login(cast.student_user)
    body = client.get("/").content.decode()
    assert request.number in body
    assert "pending-approvals" not in body


def test_another_student_does_not_see_it(client: Client, cast: Cast):
    request = suspension(cast, timezone.localdate())
    client.force_login(cast.other_student_user)
    assert request.number not in client.get("/").content.decode()


def test_the_parent_sees_no_application_panel(client: Client, cast: Cast):
    request = suspension(cast, timezone.localdate())
    client.force_login(cast.parent)
    body = client.get("/").content.decode()
    assert request.number not in body and "panel-my-changes" not in body
