"""Pages of 学籍异动: applying with attachments, seeing a request, scope and refusals."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from xueji.changes.models import ChangeRequest, ChangeStatus
from xueji.changes.tests.test_services import pdf, suspension
from xueji.conftest import Cast, make_user
from xueji.students.models import StudentStatus
from xueji.workflow.models import Attachment


@pytest.fixture
def fl_admin(cast: Cast):
    return make_user("fl-admin", "college_admin", "college", college=cast.fl)


def test_a_student_applies_for_suspension_with_the_required_attachment(
    client: Client, cast: Cast
) -> None:
    client.force_login(cast.student_user)
    page = client.get("/changes/new/?type=suspension")
    assert page.status_code == 200
    assert "休学" in page.content.decode()
    today = timezone.localdate()
    response = client.post(
        "/changes/new/",
        {
            "type": "suspension",
            "effective_date": today.isoformat(),
            "end_date": today.replace(year=today.year + 1).isoformat(),
            "reason": "因病休养，附诊断证明。",
            "attachment_0": pdf(),
        },
    )
    request = ChangeRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/changes/{request.number}/"
    assert Attachment.objects.filter(flow=request.flow).count() == 1
    detail = client.get(response["Location"])
    assert detail.status_code == 200
    assert request.number in detail.content.decode()


def test_a_bad_application_names_the_fields_and_writes_nothing(client: Client, cast: Cast) -> None:
    client.force_login(cast.student_user)
    response = client.post(
        "/changes/new/",
        {"type": "suspension", "effective_date": "2026-02-30", "reason": ""},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "日期格式应为 YYYY-MM-DD" in body
    assert "请填写异动原因" in body
    assert "请上传" in body
    assert not ChangeRequest.objects.exists()


def test_a_student_cannot_apply_for_a_type_reserved_to_staff(client: Client, cast: Cast) -> None:
    client.force_login(cast.student_user)
    response = client.post(
        "/changes/new/",
        {"type": "expulsion", "effective_date": "2026-12-01", "reason": "x"},
    )
    assert response.status_code == 403
    assert not ChangeRequest.objects.exists()


def test_staff_apply_for_a_student_in_scope_only(client: Client, cast: Cast, fl_admin) -> None:
    client.force_login(fl_admin)
    assert client.get(f"/changes/new/?student={cast.student.student_number}").status_code == 404
    client.force_login(cast.college_admin)
    page = client.get(f"/changes/new/?student={cast.student.student_number}&type=suspension")
    assert page.status_code == 200


@pytest.mark.parametrize("who", ["anonymous", "other_student", "fl_admin", "parent"])
def test_a_request_page_is_hidden_from_people_out_of_scope(
    client: Client, cast: Cast, fl_admin, who: str
) -> None:
    request = suspension(cast, timezone.localdate())
    users = {"other_student": cast.other_student_user, "fl_admin": fl_admin, "parent": cast.parent}
    if who != "anonymous":
        client.force_login(users[who])
    response = client.get(f"/changes/{request.number}/")
    if who == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    else:
        assert response.status_code == 404


def test_the_list_shows_only_requests_in_scope(client: Client, cast: Cast, fl_admin) -> None:
    request = suspension(cast, timezone.localdate())
    client.force_login(cast.counsellor)
    assert request.number in client.get("/changes/").content.decode()
    client.force_login(fl_admin)
    assert request.number not in client.get("/changes/").content.decode()
    client.force_login(cast.other_student_user)
    assert request.number not in client.get("/changes/").content.decode()


def test_the_approver_sees_the_approve_form_and_the_effects_preview(
    client: Client, cast: Cast
) -> None:
    request = suspension(cast, timezone.localdate())
    client.force_login(cast.counsellor)
    body = client.get(f"/changes/{request.number}/").content.decode()
    assert "生效后将变更" in body
    assert "预计毕业日期" in body
    assert f"/workbench/flows/{request.flow_id}/approve/" in body


def test_only_the_registrar_applies_a_change_by_hand(client: Client, cast: Cast) -> None:
    request = suspension(cast, timezone.localdate().replace(year=timezone.localdate().year + 1))
    ChangeRequest.objects.filter(pk=request.pk).update(status=ChangeStatus.APPROVED)
    client.force_login(cast.college_admin)
    assert client.post(f"/changes/{request.number}/apply/").status_code == 403
    client.force_login(cast.registrar)
    response = client.post(f"/changes/{request.number}/apply/", follow=True)
    # The date has not come: refused with the reason, nothing changed.
    assert "未到" in response.content.decode()
    cast.student.refresh_from_db()
    assert cast.student.status == StudentStatus.IN_SCHOOL


def test_a_college_admin_cannot_override_a_rule_on_the_page(client: Client, cast: Cast) -> None:
    request = suspension(cast, timezone.localdate())
    client.force_login(cast.college_admin)
    response = client.post(
        f"/changes/{request.number}/override/",
        {"rule": "suspension_limits", "reason": "特殊情况"},
        follow=True,
    )
    assert "只有校级学籍管理员可以豁免规则" in response.content.decode()
    request.refresh_from_db()
    assert request.overrides == []


def test_the_english_pages_show_the_types_english_name_and_step_titles(
    client: Client, cast: Cast
) -> None:
    request = suspension(cast, timezone.localdate())
    client.force_login(cast.counsellor)
    client.cookies["django_language"] = "en"
    body = client.get(f"/changes/{request.number}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Suspension of study" in body
    assert "Counsellor review" in body or "counsellor review" in body.lower()
