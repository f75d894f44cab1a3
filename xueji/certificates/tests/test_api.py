"""Certificates over the API: the same scope and refusals as the pages (out of scope is 404),
refusal reasons with their codes, audited PDF downloads, and the public verification endpoint
with its shared per-IP limit."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from xueji.accounts.services import api_token_issue
from xueji.audit.models import AuditEvent
from xueji.certificates.models import DocumentStatus, DocumentType, IssuedDocument
from xueji.certificates.ratelimit import VERIFY_LIMIT, VERIFY_WINDOW
from xueji.certificates.services import document_request
from xueji.certificates.tests.conftest import pdf_text
from xueji.conftest import Cast
from xueji.core.context import Actor
from xueji.students.models import StudentStatus

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/certificates/"
TYPES_URL = "/api/v1/certificates/types/"
OPTIONS_URL = "/api/v1/certificates/options/"
SUSPENDED_REASON = "您当前为休学状态，不能开具在校证明。"


def api_as(user) -> APIClient:
    _, key = api_token_issue(actor=Actor.system(), user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def issue(cast: Cast, student=None, user=None) -> IssuedDocument:
    """Issued through the service: the student's own 在校证明, or (for another student, by
    `user`) a 学籍证明, which needs no registration this term."""
    if student is None:
        return document_request(cast.actor(cast.student_user), cast.student, "zxzm")
    return document_request(cast.actor(user), student, "xjzm")


def serials(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["serial"] for row in response.json()["results"]}


def error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    return response.json()["error"]


# --- authentication --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", TYPES_URL),
        ("get", OPTIONS_URL),
        ("get", LIST_URL),
        ("post", LIST_URL),
        ("get", "/api/v1/certificates/1/"),
        ("get", "/api/v1/certificates/1/pdf/"),
        ("post", "/api/v1/certificates/1/revoke/"),
    ],
)
def test_anonymous_callers_get_401_from_every_certificate_endpoint_but_verify(
    registered: Cast, method: str, url: str
) -> None:
    response = getattr(APIClient(), method)(url, {}, format="json")

    assert error(response, 401)["message"] == "未登录或未提供有效的身份凭证。"


# --- types and options -----------------------------------------------------------------------


def test_a_student_reads_the_types_with_languages_and_rule_titles(registered: Cast) -> None:
    rows = api_as(registered.student_user).get(TYPES_URL).json()

    by_code = {row["code"]: row for row in rows}
    assert {"zxzm", "xjzm"} <= set(by_code)
    enrolment = by_code["zxzm"]
    assert enrolment["name"] == "在校证明"
    assert enrolment["name_en"] == "Certificate of Enrolment"
    assert enrolment["languages"] == ["zh", "en"]
    assert enrolment["auto_issue"] is True
    assert enrolment["free_per_term"] == 5
    assert enrolment["rules"] == [
        {"code": "enrolled", "title": "具有学籍"},
        {"code": "in_school", "title": "在校状态为“在校”"},
        {"code": "registered_this_term", "title": "本学期已注册"},
    ]


def test_types_only_staff_may_issue_are_hidden_from_students_and_inactive_ones_from_all(
    registered: Cast,
) -> None:
    DocumentType.objects.exclude(code__in=["xjzm", "zxzm"]).update(is_active=False)
    DocumentType.objects.filter(code="xjzm").update(for_students=False, for_graduates=False)
    DocumentType.objects.filter(code="zxzm").update(is_active=False)

    def codes(user) -> set[str]:
        return {row["code"] for row in api_as(user).get(TYPES_URL).json()}

    assert codes(registered.student_user) == set()
    assert codes(registered.college_admin) == {"xjzm"}
    assert codes(registered.registrar) == {"xjzm"}


def test_a_graduate_sees_only_the_types_open_to_graduates(registered: Cast) -> None:
    DocumentType.objects.update(for_graduates=False)
    DocumentType.objects.filter(code="xjzm").update(for_graduates=True)
    registered.student.status = StudentStatus.GRADUATED
    registered.student.save()

    rows = api_as(registered.student_user).get(TYPES_URL).json()

    assert [row["code"] for row in rows] == ["xjzm"]


@pytest.mark.parametrize("who", ["counsellor", "parent", "auditor"])
def test_people_who_neither_request_nor_issue_get_403_for_the_types(
    registered: Cast, who: str
) -> None:
    response = api_as(getattr(registered, who)).get(TYPES_URL)

    assert error(response, 403)["code"] == "permission_denied"


def test_a_registered_student_may_request_both_types_now(registered: Cast) -> None:
    rows = api_as(registered.student_user).get(OPTIONS_URL).json()

    by_code = {r["type"]["code"]: r for r in rows}
    for code in ("zxzm", "xjzm"):
        assert (by_code[code]["available"], by_code[code]["reasons"]) == (True, []), code
    assert (by_code["zxzm"]["used"], by_code["zxzm"]["remaining"]) == (0, 5)


def test_a_suspended_student_sees_the_reason_and_the_rule_in_the_options(
    registered: Cast,
) -> None:
    registered.student.status = StudentStatus.SUSPENDED
    registered.student.save()

    rows = api_as(registered.student_user).get(OPTIONS_URL).json()

    enrolment = next(r for r in rows if r["type"]["code"] == "zxzm")
    assert enrolment["available"] is False
    assert enrolment["reasons"] == [SUSPENDED_REASON]
    assert enrolment["failures"] == [{"code": "in_school", "message": SUSPENDED_REASON}]


def test_the_options_count_what_was_issued_this_term(registered: Cast) -> None:
    DocumentType.objects.filter(code="zxzm").update(free_per_term=1)
    issue(registered)

    rows = api_as(registered.student_user).get(OPTIONS_URL).json()

    enrolment = next(r for r in rows if r["type"]["code"] == "zxzm")
    assert (enrolment["used"], enrolment["remaining"], enrolment["available"]) == (1, 0, False)
    assert "免费份数（1 份）已用完" in enrolment["reasons"][0]


def test_a_college_admin_reads_the_options_of_a_student_in_scope_in_third_person(
    registered: Cast,
) -> None:
    registered.student.status = StudentStatus.SUSPENDED
    registered.student.save()
    client = api_as(registered.college_admin)

    rows = client.get(OPTIONS_URL, {"student": registered.student.student_number}).json()

    enrolment = next(r for r in rows if r["type"]["code"] == "zxzm")
    assert enrolment["reasons"] == ["该学生当前为休学状态，不能开具在校证明。"]
    other = client.get(OPTIONS_URL, {"student": registered.other_student.student_number})
    assert error(other, 404)["code"] == "not_found"
    missing = client.get(OPTIONS_URL)
    assert "student" in error(missing, 400)["fields"]


@pytest.mark.parametrize(
    ("who", "whose"), [("student_user", "other_student"), ("counsellor", "student")]
)
def test_options_of_a_student_one_may_not_issue_for_are_404(
    registered: Cast, who: str, whose: str
) -> None:
    number = getattr(registered, whose).student_number
    response = api_as(getattr(registered, who)).get(OPTIONS_URL, {"student": number})

    assert error(response, 404)["code"] == "not_found"


# --- requesting ------------------------------------------------------------------------------


def test_a_student_requests_a_certificate_and_downloads_the_stored_pdf(
    registered: Cast,
) -> None:
    client = api_as(registered.student_user)

    created = client.post(LIST_URL, {"type": "zxzm"}, format="json")

    assert created.status_code == 201, created.content
    body = created.json()
    document = IssuedDocument.objects.get()
    assert body["id"] == document.pk
    assert body["serial"] == document.serial
    assert (body["type"], body["language"], body["status"]) == ("zxzm", "zh", "valid")
    assert body["student_number"] == registered.student.student_number
    assert body["sha256"] == document.sha256
    assert body["verification_code"] == document.verification_code
    assert body["verify_url"] == (
        f"https://xueji.example.edu.cn/verify/{document.verification_code}/"
    )
    assert body["download_url"] == f"/api/v1/certificates/{document.pk}/pdf/"

    download = client.get(body["download_url"])

    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    content = b"".join(download.streaming_content)
    assert hashlib.sha256(content).hexdigest() == body["sha256"]
    assert document.serial in pdf_text(content)
    event = AuditEvent.objects.get(action="certificate.download", target_id=str(document.pk))
    assert event.actor_id == registered.student_user.pk


def test_the_pdf_download_honours_an_accept_header_for_pdf(registered: Cast) -> None:
    document = issue(registered)
    client = api_as(registered.student_user)
    url = f"/api/v1/certificates/{document.pk}/pdf/"

    download = client.get(url, HTTP_ACCEPT="application/pdf")
    missing = client.get("/api/v1/certificates/999999/pdf/", HTTP_ACCEPT="application/pdf")

    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert missing["Content-Type"] == "application/json"
    assert error(missing, 404)["code"] == "not_found"


def test_a_student_requests_the_english_version(registered: Cast) -> None:
    response = api_as(registered.student_user).post(
        LIST_URL, {"type": "zxzm", "language": "en"}, format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["language"] == "en"


def test_a_suspended_student_is_refused_with_the_reason_and_the_rule_code(
    registered: Cast,
) -> None:
    registered.student.status = StudentStatus.SUSPENDED
    registered.student.save()

    response = api_as(registered.student_user).post(LIST_URL, {"type": "zxzm"}, format="json")

    assert error(response, 400) == {"code": "rule_in_school", "message": SUSPENDED_REASON}
    assert not IssuedDocument.objects.exists()


def test_a_student_not_registered_this_term_is_told_to_register_first(registered: Cast) -> None:
    response = api_as(registered.other_student_user).post(LIST_URL, {"type": "zxzm"}, format="json")

    refusal = error(response, 400)
    assert refusal["code"] == "rule_registered_this_term"
    assert "请先完成本学期注册" in refusal["message"]


def test_the_free_quota_refuses_one_more_with_code_quota(registered: Cast) -> None:
    DocumentType.objects.filter(code="zxzm").update(free_per_term=1)
    client = api_as(registered.student_user)
    assert client.post(LIST_URL, {"type": "zxzm"}, format="json").status_code == 201

    response = client.post(LIST_URL, {"type": "zxzm"}, format="json")

    assert error(response, 400)["code"] == "quota"
    assert IssuedDocument.objects.count() == 1


def test_a_type_needing_approval_is_refused_with_code_needs_approval(registered: Cast) -> None:
    DocumentType.objects.filter(code="zxzm").update(auto_issue=False)

    response = api_as(registered.student_user).post(LIST_URL, {"type": "zxzm"}, format="json")

    refusal = error(response, 400)
    assert refusal["code"] == "needs_approval"
    assert "需经人工审核" in refusal["message"]


def test_an_unknown_type_is_404_and_a_language_without_template_is_400(
    registered: Cast,
) -> None:
    client = api_as(registered.student_user)

    unknown = client.post(LIST_URL, {"type": "nosuch"}, format="json")
    english = client.post(LIST_URL, {"type": "xjzm", "language": "en"}, format="json")

    assert error(unknown, 404)["code"] == "not_found"
    assert "language" in error(english, 400)["fields"]


def test_the_registrar_issues_on_behalf_of_a_student(registered: Cast) -> None:
    response = api_as(registered.registrar).post(
        LIST_URL,
        {"type": "xjzm", "student": registered.other_student.student_number},
        format="json",
    )

    assert response.status_code == 201, response.content
    document = IssuedDocument.objects.get()
    assert document.student == registered.other_student
    assert document.requested_by == registered.registrar


def test_staff_must_name_the_student(registered: Cast) -> None:
    response = api_as(registered.registrar).post(LIST_URL, {"type": "xjzm"}, format="json")

    assert error(response, 400)["fields"] == {"student": ["代为开具或查询时请填写学生学号。"]}


@pytest.mark.parametrize(
    ("who", "whose"),
    [
        ("college_admin", "other_student"),  # another college
        ("counsellor", "student"),  # sees the student, does not issue
        ("student_user", "other_student"),
    ],
)
def test_requests_for_a_student_one_may_not_issue_for_are_404(
    registered: Cast, who: str, whose: str
) -> None:
    response = api_as(getattr(registered, who)).post(
        LIST_URL,
        {"type": "xjzm", "student": getattr(registered, whose).student_number},
        format="json",
    )

    assert error(response, 404)["code"] == "not_found"
    assert not IssuedDocument.objects.exists()


def test_a_parent_cannot_request_anything(registered: Cast) -> None:
    response = api_as(registered.parent).post(LIST_URL, {"type": "zxzm"}, format="json")

    assert error(response, 404)["code"] == "not_found"
    assert not IssuedDocument.objects.exists()


# --- reading ---------------------------------------------------------------------------------


def test_a_student_lists_only_their_own_documents(registered: Cast) -> None:
    own = issue(registered)
    theirs = issue(registered, registered.other_student, registered.registrar)

    assert serials(api_as(registered.student_user).get(LIST_URL)) == {own.serial}
    assert serials(api_as(registered.other_student_user).get(LIST_URL)) == {theirs.serial}


def test_the_list_is_paginated_and_filtered_by_serial_student_and_status(
    registered: Cast,
) -> None:
    first = issue(registered)
    second = issue(registered, registered.classmate_b, registered.registrar)
    other = issue(registered, registered.other_student, registered.registrar)
    first.status = DocumentStatus.REVOKED
    first.save()
    client = api_as(registered.registrar)

    page = client.get(LIST_URL, {"page_size": 2}).json()
    assert page["count"] == 3
    assert len(page["results"]) == 2
    assert page["next"]
    assert serials(client.get(LIST_URL, {"q": second.serial})) == {second.serial}
    number = registered.other_student.student_number
    assert serials(client.get(LIST_URL, {"q": number})) == {other.serial}
    assert serials(client.get(LIST_URL, {"student": number})) == {other.serial}
    assert serials(client.get(LIST_URL, {"status": "revoked"})) == {first.serial}
    assert "status" in error(client.get(LIST_URL, {"status": "lost"}), 400)["fields"]


def test_a_college_admin_lists_only_their_college(registered: Cast) -> None:
    mine = issue(registered)
    issue(registered, registered.other_student, registered.registrar)

    assert serials(api_as(registered.college_admin).get(LIST_URL)) == {mine.serial}


@pytest.mark.parametrize("who", ["counsellor", "parent", "auditor"])
def test_people_who_do_not_issue_get_403_for_the_list(registered: Cast, who: str) -> None:
    issue(registered)

    response = api_as(getattr(registered, who)).get(LIST_URL)

    assert error(response, 403)["code"] == "permission_denied"


@pytest.mark.parametrize("who", ["student_user", "registrar"])
def test_the_list_reads_a_fixed_number_of_queries_however_many_documents(
    registered: Cast, who: str
) -> None:
    # A signed-in session: a token's last-use stamp is written on some calls, not others.
    client = APIClient()
    client.force_login(getattr(registered, who))
    issue(registered)
    with CaptureQueriesContext(connection) as one:
        assert client.get(LIST_URL).status_code == 200
    issue(registered)
    issue(registered)
    with CaptureQueriesContext(connection) as three:
        assert len(client.get(LIST_URL).json()["results"]) == 3

    assert len(three.captured_queries) == len(one.captured_queries)


def test_a_student_reads_their_document_and_another_student_gets_404(registered: Cast) -> None:
    document = issue(registered)
    url = f"/api/v1/certificates/{document.pk}/"

    own = api_as(registered.student_user).get(url)

    assert own.status_code == 200
    assert own.json()["serial"] == document.serial
    assert error(api_as(registered.other_student_user).get(url), 404)["code"] == "not_found"


@pytest.mark.parametrize("who", ["other_student_user", "counsellor", "parent"])
def test_people_who_may_not_see_the_document_get_404_for_it_and_its_pdf(
    registered: Cast, who: str
) -> None:
    document = issue(registered)
    client = api_as(getattr(registered, who))

    for url in (f"/api/v1/certificates/{document.pk}/", f"/api/v1/certificates/{document.pk}/pdf/"):
        assert error(client.get(url), 404)["code"] == "not_found"
    assert not AuditEvent.objects.filter(action="certificate.download").exists()


# --- revoking --------------------------------------------------------------------------------


def revoke_url(document: IssuedDocument) -> str:
    return f"/api/v1/certificates/{document.pk}/revoke/"


def test_the_registrar_revokes_with_a_reason(registered: Cast) -> None:
    document = issue(registered)

    response = api_as(registered.registrar).post(
        revoke_url(document), {"reason": "学生退学"}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["revoke_reason"]) == ("revoked", "学生退学")
    assert body["revoked_at"]
    document.refresh_from_db()
    assert document.status == DocumentStatus.REVOKED
    assert AuditEvent.objects.filter(action="certificate.revoke", target_id=str(document.pk))


def test_a_revocation_without_a_reason_is_400_naming_the_field(registered: Cast) -> None:
    document = issue(registered)
    client = api_as(registered.registrar)

    for payload in ({}, {"reason": "  "}):
        response = client.post(revoke_url(document), payload, format="json")
        assert error(response, 400)["fields"] == {"reason": ["请填写撤销原因。"]}
    document.refresh_from_db()
    assert document.status == DocumentStatus.VALID


def test_revoking_twice_is_refused(registered: Cast) -> None:
    document = issue(registered)
    client = api_as(registered.registrar)
    client.post(revoke_url(document), {"reason": "误开"}, format="json")

    again = client.post(revoke_url(document), {"reason": "误开"}, format="json")

    assert "已撤销" in error(again, 400)["message"]


@pytest.mark.parametrize("who", ["counsellor", "college_admin", "student_user"])
def test_only_the_registrar_may_revoke(registered: Cast, who: str) -> None:
    document = issue(registered)

    response = api_as(getattr(registered, who)).post(
        revoke_url(document), {"reason": "误开"}, format="json"
    )

    assert error(response, 403)["code"] == "permission_denied"
    document.refresh_from_db()
    assert document.status == DocumentStatus.VALID


# --- public verification ---------------------------------------------------------------------


def verify_url(document: IssuedDocument) -> str:
    return f"/api/v1/verify/{document.verification_code}/"


def test_anyone_verifies_a_code_without_logging_in_and_sees_masked_data(
    registered: Cast,
) -> None:
    document = issue(registered)

    response = APIClient().get(verify_url(document))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "valid"
    assert body["serial"] == document.serial
    assert body["type_name"] == "在校证明"
    assert body["masked_name"] == "单*明"
    assert body["masked_number"] == "2024****01"
    assert body["revoked_on"] is None
    assert body["matches"] is None
    assert "单小明" not in response.content.decode()
    assert registered.student.student_number not in response.content.decode()
    assert AuditEvent.objects.filter(action="certificate.verify", actor__isnull=True).exists()


def test_a_revoked_document_verifies_as_revoked_with_the_date(registered: Cast) -> None:
    document = issue(registered)
    api_as(registered.registrar).post(revoke_url(document), {"reason": "误开"}, format="json")

    body = APIClient().get(verify_url(document)).json()

    document.refresh_from_db()
    assert body["status"] == "revoked"
    assert body["revoked_on"] == f"{document.revoked_at.astimezone():%Y-%m-%d}"
    assert "误开" not in str(body)


def test_an_unknown_code_is_404_in_json(registered: Cast) -> None:
    response = APIClient().get("/api/v1/verify/NOSUCHCODE234567/")

    assert error(response, 404)["code"] == "not_found"
    assert AuditEvent.objects.filter(action="certificate.verify", summary__contains="未找到")


def test_the_uploaded_original_matches_and_a_tampered_copy_does_not(registered: Cast) -> None:
    document = issue(registered)
    content = document.pdf.read()
    tampered = bytearray(content)
    tampered[-100] ^= 0x20
    client = APIClient()

    same = client.post(verify_url(document), {"pdf": SimpleUploadedFile("a.pdf", content)})
    changed = client.post(
        verify_url(document), {"pdf": SimpleUploadedFile("a.pdf", bytes(tampered))}
    )

    assert same.status_code == 200, same.content
    assert (same.json()["matches"], same.json()["status"]) == (True, "valid")
    assert changed.json()["matches"] is False


def test_a_verification_post_without_a_file_is_400_naming_the_field(registered: Cast) -> None:
    document = issue(registered)

    response = APIClient().post(verify_url(document), {})

    assert "pdf" in error(response, 400)["fields"]


def test_a_signed_in_browser_posts_to_verify_without_a_csrf_token(registered: Cast) -> None:
    document = issue(registered)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(registered.counsellor)

    response = client.post(
        verify_url(document), {"pdf": SimpleUploadedFile("a.pdf", document.pdf.read())}
    )

    assert response.status_code == 200, response.content
    assert response.json()["matches"] is True


def test_the_page_and_the_api_share_one_verification_limit_per_ip(registered: Cast) -> None:
    for _ in range(VERIFY_LIMIT):
        assert Client().get("/verify/NOSUCHCODE234567/").status_code == 404

    limited = APIClient().get("/api/v1/verify/NOSUCHCODE234567/")

    assert error(limited, 429)["code"] == "throttled"
    assert limited["Retry-After"] == str(VERIFY_WINDOW)
    other_ip = APIClient().get("/api/v1/verify/NOSUCHCODE234567/", REMOTE_ADDR="198.51.100.7")
    assert other_ip.status_code == 404


# --- schema ----------------------------------------------------------------------------------


def test_the_certificate_endpoints_are_in_the_schema_with_their_operation_ids(
    registered: Cast,
) -> None:
    schema = APIClient().get("/api/v1/schema/", {"format": "json"}).json()

    operations = {
        operation["operationId"]: (url, method)
        for url, methods in schema["paths"].items()
        for method, operation in methods.items()
    }
    assert {
        "certificates_types_list": ("/api/v1/certificates/types/", "get"),
        "certificates_options_list": ("/api/v1/certificates/options/", "get"),
        "certificates_list": ("/api/v1/certificates/", "get"),
        "certificates_create": ("/api/v1/certificates/", "post"),
        "certificates_retrieve": ("/api/v1/certificates/{id}/", "get"),
        "certificates_pdf_retrieve": ("/api/v1/certificates/{id}/pdf/", "get"),
        "certificates_revoke_create": ("/api/v1/certificates/{id}/revoke/", "post"),
        "verify_retrieve": ("/api/v1/verify/{code}/", "get"),
        "verify_create": ("/api/v1/verify/{code}/", "post"),
    }.items() <= operations.items()
    verify = schema["paths"]["/api/v1/verify/{code}/"]["get"]
    assert "security" not in verify  # no credentials asked for (and no global default)
    assert {"200", "404", "429"} <= set(verify["responses"])
