"""The pages: 我的证明 (request, refusal reasons, download), the staff list with revocation, and
the public verification page (masked data, status, PDF check, 404, rate limit)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from xueji.audit.models import AuditEvent
from xueji.certificates.models import DocumentStatus, IssuedDocument
from xueji.certificates.ratelimit import VERIFY_LIMIT
from xueji.certificates.services import document_request
from xueji.certificates.tests.conftest import pdf_text
from xueji.conftest import Cast
from xueji.students.models import StudentStatus


def issue(cast: Cast) -> IssuedDocument:
    return document_request(cast.actor(cast.student_user), cast.student, "zxzm")


def test_a_student_requests_a_certificate_on_my_documents_and_downloads_the_pdf(
    client: Client, registered: Cast
) -> None:
    client.force_login(registered.student_user)

    page = client.get("/certificates/me/")
    assert page.status_code == 200
    assert "在校证明" in page.content.decode()

    response = client.post("/certificates/me/", {"type": "zxzm"}, follow=True)
    document = IssuedDocument.objects.get()
    assert document.serial in response.content.decode()

    download = client.get(f"/certificates/{document.pk}/download/")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    content = b"".join(download.streaming_content)
    text = pdf_text(content)
    assert "兹证明单小明" in text
    assert document.serial in text
    assert AuditEvent.objects.filter(
        action="certificate.download", target_id=str(document.pk)
    ).exists()


def test_a_suspended_student_sees_why_they_cannot_get_a_certificate(
    client: Client, registered: Cast
) -> None:
    registered.student.status = StudentStatus.SUSPENDED
    registered.student.save()
    client.force_login(registered.student_user)

    page = client.get("/certificates/me/").content.decode()
    assert "您当前为休学状态，不能开具在校证明。" in page

    refused = client.post("/certificates/me/", {"type": "zxzm"})
    assert refused.status_code == 400
    assert "您当前为休学状态，不能开具在校证明。" in refused.content.decode()
    assert not IssuedDocument.objects.exists()


def test_another_student_cannot_download_the_document(client: Client, registered: Cast) -> None:
    document = issue(registered)
    client.force_login(registered.other_student_user)

    assert client.get(f"/certificates/{document.pk}/download/").status_code == 404


@pytest.mark.parametrize("who", ["parent", "counsellor", "auditor"])
def test_people_who_do_not_issue_cannot_download_it(
    client: Client, registered: Cast, who: str
) -> None:
    document = issue(registered)
    client.force_login(getattr(registered, who))

    assert client.get(f"/certificates/{document.pk}/download/").status_code == 404


def test_a_parent_has_no_certificate_portal(client: Client, registered: Cast) -> None:
    client.force_login(registered.parent)

    assert client.get("/certificates/me/").status_code == 404
    assert client.post("/certificates/me/", {"type": "zxzm"}).status_code == 404
    assert not IssuedDocument.objects.exists()


def test_an_anonymous_visitor_is_sent_to_log_in(client: Client, registered: Cast) -> None:
    document = issue(registered)

    for url in ("/certificates/me/", "/certificates/", f"/certificates/{document.pk}/download/"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_the_registrar_lists_documents_and_revokes_one_with_a_reason(
    client: Client, registered: Cast
) -> None:
    document = issue(registered)
    client.force_login(registered.registrar)

    listing = client.get("/certificates/").content.decode()
    assert document.serial in listing
    assert f"/certificates/{document.pk}/revoke/" in listing

    client.post(f"/certificates/{document.pk}/revoke/", {"reason": "学生退学"})

    document.refresh_from_db()
    assert document.status == DocumentStatus.REVOKED
    assert document.revoke_reason == "学生退学"


def test_a_revocation_without_a_reason_changes_nothing(client: Client, registered: Cast) -> None:
    document = issue(registered)
    client.force_login(registered.registrar)

    response = client.post(f"/certificates/{document.pk}/revoke/", {"reason": ""}, follow=True)

    assert "请填写撤销原因" in response.content.decode()
    document.refresh_from_db()
    assert document.status == DocumentStatus.VALID


@pytest.mark.parametrize("who", ["counsellor", "college_admin", "student_user"])
def test_only_the_registrar_may_revoke(client: Client, registered: Cast, who: str) -> None:
    document = issue(registered)
    client.force_login(getattr(registered, who))

    response = client.post(f"/certificates/{document.pk}/revoke/", {"reason": "误开"})

    assert response.status_code == 403
    document.refresh_from_db()
    assert document.status == DocumentStatus.VALID


def test_a_college_admin_sees_only_their_college_and_a_counsellor_not_the_list(
    client: Client, registered: Cast
) -> None:
    document = issue(registered)
    client.force_login(registered.college_admin)
    assert document.serial in client.get("/certificates/").content.decode()
    assert "/revoke/" not in client.get("/certificates/").content.decode()

    client.force_login(registered.counsellor)
    assert client.get("/certificates/").status_code == 403


def test_the_verification_page_shows_a_valid_document_with_masked_data(
    client: Client, registered: Cast
) -> None:
    document = issue(registered)

    page = client.get(f"/verify/{document.verification_code}/")

    body = page.content.decode()
    assert page.status_code == 200
    assert 'data-status="valid"' in body
    assert "单*明" in body
    assert "单小明" not in body
    assert "2024****01" in body
    assert registered.student.student_number not in body
    assert document.serial in body
    assert "在校证明" in body


def test_after_revocation_the_verification_page_shows_revoked_with_the_date(
    client: Client, registered: Cast
) -> None:
    document = issue(registered)
    client.force_login(registered.registrar)
    client.post(f"/certificates/{document.pk}/revoke/", {"reason": "学生退学"})
    client.logout()

    body = client.get(f"/verify/{document.verification_code}/").content.decode()

    document.refresh_from_db()
    assert 'data-status="revoked"' in body
    assert f"已于 {timezone.localdate(document.revoked_at):%Y-%m-%d} 撤销" in body


def test_the_uploaded_original_matches_and_a_tampered_copy_does_not(
    client: Client, registered: Cast
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    document = issue(registered)
    content = document.pdf.read()
    tampered = bytearray(content)
    tampered[-100] ^= 0x20
    url = f"/verify/{document.verification_code}/"

    same = client.post(url, {"pdf": SimpleUploadedFile("a.pdf", content)}).content.decode()
    changed = client.post(url, {"pdf": SimpleUploadedFile("a.pdf", bytes(tampered))})

    assert "与存档一致" in same
    assert "不一致（文件可能被修改）" in changed.content.decode()
    assert 'data-match="no"' in changed.content.decode()


def test_an_unknown_code_is_a_not_found_page(client: Client, db) -> None:
    response = client.get("/verify/NOSUCHCODE234567/")

    assert response.status_code == 404
    assert "未找到该证明" in response.content.decode()
    assert AuditEvent.objects.filter(action="certificate.verify", summary__contains="未找到")


def test_too_many_verifications_from_one_ip_get_429_in_chinese(client: Client, db) -> None:
    for _ in range(VERIFY_LIMIT):
        assert client.get("/verify/NOSUCHCODE234567/").status_code == 404

    limited = client.get("/verify/NOSUCHCODE234567/")

    assert limited.status_code == 429
    assert "核验请求过于频繁" in limited.content.decode()
    other_ip = client.get("/verify/NOSUCHCODE234567/", REMOTE_ADDR="198.51.100.7")
    assert other_ip.status_code == 404
