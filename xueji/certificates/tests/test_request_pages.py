"""The pages of requests needing approval, re-issue and batches."""

from __future__ import annotations

import pytest
from django.test import Client

from xueji.certificates.models import (
    DocumentBatch,
    DocumentRequest,
    DocumentStatus,
    DocumentType,
    IssuedDocument,
    RequestStatus,
)
from xueji.certificates.services import document_request
from xueji.conftest import Cast
from xueji.jobs.models import Job


@pytest.fixture
def approval_type(registered: Cast) -> DocumentType:
    DocumentType.objects.filter(code="xjzm").update(auto_issue=False)
    return DocumentType.objects.get(code="xjzm")


def test_a_student_submits_a_request_with_a_purpose_sees_it_pending_and_withdraws_it(
    client: Client, registered: Cast, approval_type: DocumentType
) -> None:
    client.force_login(registered.student_user)
    page = client.get("/certificates/me/").content.decode()
    assert "提交申请" in page and "需经学籍管理部门审核" in page
    refused = client.post("/certificates/me/", {"type": "xjzm", "purpose": ""})
    assert refused.status_code == 400
    assert "请填写用途" in refused.content.decode()
    assert not DocumentRequest.objects.exists()
    done = client.post("/certificates/me/", {"type": "xjzm", "purpose": "出国留学"}, follow=True)
    assert "已提交" in done.content.decode()
    request = DocumentRequest.objects.get()
    assert request.status == RequestStatus.PENDING
    assert "审核中" in done.content.decode() and "出国留学" in done.content.decode()
    client.post(f"/certificates/requests/{request.pk}/withdraw/")
    request.refresh_from_db()
    assert request.status == RequestStatus.WITHDRAWN


def test_another_student_cannot_withdraw_someone_elses_request(
    client: Client, registered: Cast, approval_type: DocumentType
) -> None:
    client.force_login(registered.student_user)
    client.post("/certificates/me/", {"type": "xjzm", "purpose": "出国留学"})
    request = DocumentRequest.objects.get()
    other = Client()
    other.force_login(registered.other_student_user)
    assert other.post(f"/certificates/requests/{request.pk}/withdraw/").status_code == 404
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING


def test_the_registrar_reissues_from_the_list_and_the_old_one_is_superseded(
    client: Client, registered: Cast
) -> None:
    old = document_request(registered.actor(registered.student_user), registered.student, "zxzm")
    client.force_login(registered.registrar)
    assert "重新开具" in client.get("/certificates/").content.decode()
    empty = client.post(f"/certificates/{old.pk}/reissue/", {"reason": ""}, follow=True)
    assert "请填写重新开具的原因" in empty.content.decode()
    done = client.post(f"/certificates/{old.pk}/reissue/", {"reason": "更正后"}, follow=True)
    old.refresh_from_db()
    assert old.status == DocumentStatus.SUPERSEDED
    new = IssuedDocument.objects.get(supersedes=old)
    assert new.serial in done.content.decode()
    college = Client()
    college.force_login(registered.college_admin)
    assert college.post(f"/certificates/{new.pk}/reissue/", {"reason": "x"}).status_code == 403


def test_the_batch_page_starts_a_job_and_lists_the_batch(
    client: Client, registered: Cast, django_capture_on_commit_callbacks
) -> None:
    client.force_login(registered.registrar)
    page = client.get("/certificates/batches/").content.decode()
    assert "计科2401" in page and "2024级" in page
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            "/certificates/batches/",
            {"type": "zxzm", "language": "zh", "output": "zip", "cohort": registered.cohort.pk},
        )
    batch = DocumentBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/jobs/{batch.job_id}/"
    listed = client.get("/certificates/batches/").content.decode()
    assert f"/jobs/{batch.job_id}/" in listed


def test_the_batch_page_says_what_is_missing_and_starts_nothing(
    client: Client, registered: Cast
) -> None:
    client.force_login(registered.registrar)
    response = client.post("/certificates/batches/", {"type": "zxzm", "output": "zip"})
    assert response.status_code == 400
    assert "请选择班级，或选择年级" in response.content.decode()
    bad = client.post("/certificates/batches/", {"type": "zxzm", "output": "zip", "cohort": "²"})
    assert bad.status_code == 400 and "请从列表中选择" in bad.content.decode()
    assert not Job.objects.exists()


def test_a_counsellor_may_not_open_the_batch_page(client: Client, registered: Cast) -> None:
    client.force_login(registered.counsellor)
    assert client.get("/certificates/batches/").status_code == 403


def test_the_batch_page_lists_who_was_not_issued_and_why(
    client: Client, registered: Cast, django_capture_on_commit_callbacks, settings
) -> None:
    from xueji.jobs.services import job_run

    settings.RENDER_PROCESSES = 1
    client.force_login(registered.registrar)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(
            "/certificates/batches/",
            {"type": "zxzm", "language": "zh", "output": "pdf", "cohort": registered.cohort.pk},
        )
    job_run(DocumentBatch.objects.get().job_id)
    page = client.get("/certificates/batches/").content.decode()
    other = registered.other_student
    assert f"{other.student_number} {other.name}：本学期" in page and "尚未注册" in page
