"""Status-change requests over the API: create, read, scope, apply."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from xueji.changes.models import ChangeRequest
from xueji.changes.tests.test_services import suspension
from xueji.conftest import Cast, make_user
from xueji.students.tests.test_api import api_as


def test_a_counsellor_starts_a_suspension_over_the_api(cast: Cast) -> None:
    today = timezone.localdate()
    response = api_as(cast.counsellor).post(
        "/api/v1/changes/",
        {
            "student_number": cast.student.student_number,
            "type": "other_reservation",
            "effective_date": today.isoformat(),
            "end_date": today.replace(year=today.year + 1).isoformat(),
            "reason": "参加学校组织的联合培养项目。",
            "details": {"destination_school": "合作大学"},
        },
        format="json",
    )
    # 保留学籍（联合培养） cannot be started by a counsellor: refused, nothing written.
    assert response.status_code == 403
    assert not ChangeRequest.objects.exists()
    response = api_as(cast.college_admin).post(
        "/api/v1/changes/",
        {
            "student_number": cast.student.student_number,
            "type": "other_reservation",
            "effective_date": today.isoformat(),
            "end_date": today.replace(year=today.year + 1).isoformat(),
            "reason": "参加学校组织的联合培养项目。",
            "details": {"destination_school": "合作大学"},
        },
        format="json",
    )
    # Its type asks for a document, which goes through the flow's attachment endpoint — so the
    # JSON call is refused, naming the missing attachment.
    assert response.status_code == 400
    assert "联合培养项目派出文件" in str(response.json())


def test_a_request_reads_with_its_preview_and_is_404_out_of_scope(cast: Cast) -> None:
    request = suspension(cast, timezone.localdate())
    response = api_as(cast.counsellor).get(f"/api/v1/changes/{request.number}/")
    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "suspension"
    assert body["after"]["status"] == "suspended"
    assert body["flow"] == request.flow_id
    assert (
        api_as(cast.other_student_user).get(f"/api/v1/changes/{request.number}/").status_code == 404
    )
    fl_admin = make_user("fl-admin", "college_admin", "college", college=cast.fl)
    assert api_as(fl_admin).get(f"/api/v1/changes/{request.number}/").status_code == 404
    assert APIClient().get(f"/api/v1/changes/{request.number}/").status_code == 401


def test_the_list_is_scoped(cast: Cast) -> None:
    request = suspension(cast, timezone.localdate())
    numbers = [
        r["number"] for r in api_as(cast.student_user).get("/api/v1/changes/").json()["results"]
    ]
    assert numbers == [request.number]
    assert api_as(cast.other_student_user).get("/api/v1/changes/").json()["results"] == []


@pytest.mark.parametrize("who", ["counsellor", "college_admin", "student_user"])
def test_only_the_registrar_may_apply_by_hand(cast: Cast, who: str) -> None:
    request = suspension(cast, timezone.localdate())
    response = api_as(getattr(cast, who)).post(f"/api/v1/changes/{request.number}/apply/")
    assert response.status_code == 403
