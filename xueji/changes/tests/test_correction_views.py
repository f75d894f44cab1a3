"""Pages of data-correction requests: who sees what, what they are told, and that refused input
changes nothing. Scope violations are 404s; wrong roles get a 403 page or a redirect.
(Moved from students with the views: the decision runs on the approval engine.)"""

from __future__ import annotations

import pytest
from django.urls import reverse

from xueji.audit.models import AuditEvent
from xueji.changes.corrections import correction_submit
from xueji.students.models import (
    CorrectionRequest,
    CorrectionStatus,
    LedgerAction,
    StatusLedgerEntry,
)
from xueji.students.tests.factories import fast_password_hashing  # noqa: F401

pytestmark = pytest.mark.django_db


def submit_correction(cast, field="phone", value="13800138000", reason="换了新号码"):
    return correction_submit(
        actor=cast.actor(cast.student_user),
        student=cast.student,
        field=field,
        requested_value=value,
        reason=reason,
    )


@pytest.mark.parametrize("name", ["my-corrections", "correction-list"])
def test_anonymous_visitors_of_correction_pages_are_sent_to_login(client, cast, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login") + "?next=")


def test_anonymous_posts_to_correction_pages_are_sent_to_login_too(client, cast):
    correction = submit_correction(cast)
    for url in (
        reverse("correction-detail", args=[correction.pk]),
        reverse("my-correction-withdraw", args=[correction.pk]),
        reverse("my-corrections"),
    ):
        response = client.post(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
    correction.refresh_from_db()
    assert correction.status == CorrectionStatus.PENDING


def test_correction_pages_keep_their_paths():
    assert reverse("my-corrections") == "/me/corrections/"
    assert reverse("my-correction-withdraw", args=[7]) == "/me/corrections/7/withdraw/"
    assert reverse("correction-list") == "/corrections/"
    assert reverse("correction-detail", args=[7]) == "/corrections/7/"


def test_student_submits_a_correction_request(client, cast):
    client.force_login(cast.student_user)
    response = client.post(
        reverse("my-corrections"),
        {"field": "phone", "requested_value": "13800138000", "reason": "换号"},
    )
    assert response.status_code == 302
    correction = CorrectionRequest.objects.get()
    assert correction.status == CorrectionStatus.PENDING
    assert AuditEvent.objects.filter(action="correction.submit").exists()
    page = client.get(reverse("my-corrections")).text
    assert "手机" in page and "待审核" in page


def test_a_bad_requested_value_gets_a_chinese_message_and_creates_nothing(client, cast):
    client.force_login(cast.student_user)
    response = client.post(
        reverse("my-corrections"),
        {"field": "id_number", "requested_value": "110101200503021234", "reason": "输错了"},
    )
    assert response.status_code == 200
    assert "身份证号" in response.text
    assert response.context["form"].errors
    assert not CorrectionRequest.objects.exists()


def test_correction_form_lists_fields_by_their_chinese_labels(client, cast):
    client.force_login(cast.student_user)
    choices = dict(client.get(reverse("my-corrections")).context["form"].fields["field"].choices)
    assert choices["birth_date"] == "出生日期"
    assert choices["ethnicity"] == "民族"


def test_student_withdraws_a_pending_request(client, cast):
    correction = submit_correction(cast)
    client.force_login(cast.student_user)
    client.post(reverse("my-correction-withdraw", args=[correction.pk]))
    correction.refresh_from_db()
    assert correction.status == CorrectionStatus.WITHDRAWN


def test_another_student_cannot_withdraw_someone_elses_request(client, cast):
    correction = submit_correction(cast)
    client.force_login(cast.other_student_user)
    response = client.post(reverse("my-correction-withdraw", args=[correction.pk]))
    assert response.status_code == 404
    correction.refresh_from_db()
    assert correction.status == CorrectionStatus.PENDING


def test_approving_a_correction_changes_the_record_and_writes_ledger_and_audit(client, cast):
    correction = submit_correction(cast)
    client.force_login(cast.college_admin)
    response = client.post(
        reverse("correction-detail", args=[correction.pk]), {"decision": "approve", "note": ""}
    )
    assert response.status_code == 302
    cast.student.refresh_from_db()
    assert cast.student.phone == "13800138000"
    assert StatusLedgerEntry.objects.filter(
        student=cast.student, action=LedgerAction.CORRECTED
    ).exists()
    assert AuditEvent.objects.filter(action="correction.approved").exists()
    assert AuditEvent.objects.filter(action="student.correct").exists()
    page = client.get(reverse("correction-detail", args=[correction.pk])).text
    assert "已通过" in page and "college-admin" in page
    assert 'id="flow-panel"' in page and "学院审核" in page


def test_rejecting_requires_a_reason(client, cast):
    correction = submit_correction(cast)
    client.force_login(cast.college_admin)
    url = reverse("correction-detail", args=[correction.pk])
    response = client.post(url, {"decision": "reject", "note": ""})
    assert response.status_code == 200
    assert "驳回时请填写理由" in response.text
    correction.refresh_from_db()
    assert correction.status == CorrectionStatus.PENDING
    client.post(url, {"decision": "reject", "note": "号码不是本人实名"})
    correction.refresh_from_db()
    assert correction.status == CorrectionStatus.REJECTED
    assert correction.decided_by == cast.college_admin
    cast.student.refresh_from_db()
    assert cast.student.phone == ""


def test_counsellor_cannot_decide_a_locked_field_but_the_registrar_can(client, cast):
    correction = submit_correction(cast, field="name", value="单晓明", reason="户籍已更名")
    url = reverse("correction-detail", args=[correction.pk])
    client.force_login(cast.counsellor)
    assert "须由校级学籍管理员审核" in client.get(url).text
    assert client.post(url, {"decision": "approve"}).status_code == 403
    correction.refresh_from_db()
    assert correction.status == CorrectionStatus.PENDING
    # 学院审核 first, then the registrar decides the CHSI-locked field.
    client.force_login(cast.college_admin)
    client.post(url, {"decision": "approve"})
    cast.student.refresh_from_db()
    assert cast.student.name == "单小明"
    assert client.post(url, {"decision": "approve"}).status_code == 403
    client.force_login(cast.registrar)
    client.post(url, {"decision": "approve"})
    cast.student.refresh_from_db()
    assert cast.student.name == "单晓明"


def test_correction_list_shows_pending_first_and_filters_by_status(client, cast):
    first = submit_correction(cast)
    client.force_login(cast.college_admin)
    client.post(reverse("correction-detail", args=[first.pk]), {"decision": "approve"})
    pending = submit_correction(cast, field="email", value="me@example.edu.cn", reason="新邮箱")
    rows = list(client.get(reverse("correction-list")).context["page"].object_list)
    assert [c.pk for c in rows] == [pending.pk, first.pk]
    filtered = client.get(reverse("correction-list"), {"status": "approved"})
    assert [c.pk for c in filtered.context["page"].object_list] == [first.pk]


def test_corrections_of_students_outside_scope_are_404(client, cast):
    correction = correction_submit(
        actor=cast.actor(cast.other_student_user),
        student=cast.other_student,
        field="phone",
        requested_value="13800138000",
        reason="换号",
    )
    client.force_login(cast.counsellor)
    url = reverse("correction-detail", args=[correction.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"decision": "approve"}).status_code == 404
    assert correction.pk not in [
        c.pk for c in client.get(reverse("correction-list")).context["page"].object_list
    ]


def test_students_are_sent_to_their_own_requests_and_parents_refused_staff_pages(client, cast):
    correction = submit_correction(cast)
    client.force_login(cast.student_user)
    for url in (reverse("correction-list"), reverse("correction-detail", args=[correction.pk])):
        response = client.get(url)
        assert response.status_code == 302 and response.url == reverse("my-corrections")
    client.force_login(cast.parent)
    assert client.get(reverse("correction-list")).status_code == 403
    assert client.get(reverse("my-corrections")).status_code == 404
