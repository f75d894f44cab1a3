"""Requests for types that need approval, re-issue and batches over the API: the same scope and
refusals as the pages, the approval decided through the flows API, the old and new documents
linked after a re-issue, and a batch run as a job whose output is downloaded through the jobs
API."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader
from rest_framework.test import APIClient

from xueji.audit.models import AuditEvent
from xueji.certificates.approvals import request_flow
from xueji.certificates.models import (
    DocumentBatch,
    DocumentRequest,
    DocumentStatus,
    DocumentType,
    IssuedDocument,
    RequestStatus,
)
from xueji.certificates.tests.conftest import pdf_text
from xueji.certificates.tests.test_api import api_as, error, issue
from xueji.conftest import Cast
from xueji.jobs.models import Job
from xueji.jobs.services import job_run

pytestmark = pytest.mark.django_db

REQUESTS_URL = "/api/v1/certificates/requests/"
BATCHES_URL = "/api/v1/certificates/batches/"


@pytest.fixture
def approval_type(registered: Cast) -> DocumentType:
    """学籍证明 set to need the registrar's approval."""
    DocumentType.objects.filter(code="xjzm").update(auto_issue=False)
    return DocumentType.objects.get(code="xjzm")


@pytest.fixture(autouse=True)
def one_render_process(settings):
    """Batches render in the test's own process: no pool to start."""
    settings.RENDER_PROCESSES = 1


def submit(cast: Cast, user=None, **payload) -> dict:
    payload.setdefault("type", "xjzm")
    payload.setdefault("purpose", "办理签证")
    response = api_as(user or cast.student_user).post(REQUESTS_URL, payload, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def request_url(request_id: int, action: str = "") -> str:
    return f"{REQUESTS_URL}{request_id}/{action}"


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


# --- authentication and schema ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", REQUESTS_URL),
        ("post", REQUESTS_URL),
        ("get", f"{REQUESTS_URL}1/"),
        ("post", f"{REQUESTS_URL}1/withdraw/"),
        ("post", "/api/v1/certificates/1/reissue/"),
        ("get", BATCHES_URL),
        ("post", BATCHES_URL),
        ("get", f"{BATCHES_URL}1/"),
    ],
)
def test_anonymous_callers_get_401_from_the_request_reissue_and_batch_endpoints(
    registered: Cast, method: str, url: str
) -> None:
    response = getattr(APIClient(), method)(url, {}, format="json")

    assert error(response, 401)["message"] == "未登录或未提供有效的身份凭证。"


def test_the_new_endpoints_are_in_the_schema_with_their_operation_ids(registered: Cast) -> None:
    schema = APIClient().get("/api/v1/schema/", {"format": "json"}).json()

    operations = {
        operation["operationId"]: (url, method)
        for url, methods in schema["paths"].items()
        for method, operation in methods.items()
    }
    assert {
        "certificates_requests_list": ("/api/v1/certificates/requests/", "get"),
        "certificates_requests_create": ("/api/v1/certificates/requests/", "post"),
        "certificates_requests_retrieve": ("/api/v1/certificates/requests/{id}/", "get"),
        "certificates_requests_withdraw_create": (
            "/api/v1/certificates/requests/{id}/withdraw/",
            "post",
        ),
        "certificates_reissue_create": ("/api/v1/certificates/{id}/reissue/", "post"),
        "certificates_batches_list": ("/api/v1/certificates/batches/", "get"),
        "certificates_batches_create": ("/api/v1/certificates/batches/", "post"),
        "certificates_batches_retrieve": ("/api/v1/certificates/batches/{id}/", "get"),
    }.items() <= operations.items()
    batch_create = schema["paths"]["/api/v1/certificates/batches/"]["post"]
    assert "202" in batch_create["responses"]
    verification = schema["components"]["schemas"]["Verification"]["properties"]["status"]
    assert verification["allOf"] == [{"$ref": "#/components/schemas/DocumentStatusEnum"}]


# --- requests --------------------------------------------------------------------------------


def test_a_student_requests_an_approval_type_and_gets_it_when_the_registrar_approves_the_flow(
    registered: Cast, approval_type: DocumentType
) -> None:
    cast = registered
    body = submit(cast, purpose="出国留学")

    request = DocumentRequest.objects.get()
    flow = request_flow(request)
    assert body["id"] == request.pk
    assert (body["type"], body["language"], body["purpose"]) == ("xjzm", "zh", "出国留学")
    assert (body["status"], body["document"], body["document_url"]) == ("pending", None, None)
    assert body["student_number"] == cast.student.student_number
    assert body["created_at"]
    assert (body["flow"], body["flow_url"]) == (flow.pk, f"/api/v1/flows/{flow.pk}/")

    approved = api_as(cast.registrar).post(f"{body['flow_url']}approve/", {}, format="json")
    assert approved.status_code == 200, approved.content

    student = api_as(cast.student_user)
    after = student.get(request_url(body["id"])).json()
    document = IssuedDocument.objects.get()
    assert (after["status"], after["document"]) == ("issued", document.pk)
    shown = student.get(after["document_url"]).json()
    assert (shown["serial"], shown["type"], shown["status"]) == (document.serial, "xjzm", "valid")


def test_a_request_needs_a_purpose_an_approval_type_and_no_other_request_waiting(
    registered: Cast, approval_type: DocumentType
) -> None:
    client = api_as(registered.student_user)

    no_purpose = client.post(REQUESTS_URL, {"type": "xjzm"}, format="json")
    instant = client.post(REQUESTS_URL, {"type": "zxzm", "purpose": "实习"}, format="json")

    assert error(no_purpose, 400)["fields"] == {
        "purpose": ["请填写用途（如“出国留学”“办理签证”）。"]
    }
    refusal = error(instant, 400)
    assert refusal["code"] == "auto_issue"
    assert refusal["fields"] == {"type": ["在校证明无需审核，可直接开具。"]}
    submit(registered)
    again = client.post(REQUESTS_URL, {"type": "xjzm", "purpose": "再来一份"}, format="json")
    assert error(again, 400)["code"] == "pending"
    assert DocumentRequest.objects.count() == 1


def test_a_purpose_over_200_characters_is_refused_naming_the_field(
    registered: Cast, approval_type: DocumentType
) -> None:
    response = api_as(registered.student_user).post(
        REQUESTS_URL, {"type": "xjzm", "purpose": "用" * 201}, format="json"
    )

    assert error(response, 400)["fields"] == {"purpose": ["用途最长 200 字，实为 201 字。"]}


def test_staff_ask_on_behalf_of_a_student_they_must_name(
    registered: Cast, approval_type: DocumentType
) -> None:
    client = api_as(registered.college_admin)

    unnamed = client.post(REQUESTS_URL, {"type": "xjzm", "purpose": "实习"}, format="json")
    body = submit(
        registered, registered.college_admin, student=registered.classmate_b.student_number
    )

    assert "student" in error(unnamed, 400)["fields"]
    assert body["student_number"] == registered.classmate_b.student_number
    assert DocumentRequest.objects.get().requested_by == registered.college_admin


@pytest.mark.parametrize(
    ("who", "whose"),
    [
        ("college_admin", "other_student"),  # another college
        ("counsellor", "student"),  # sees the student, does not issue
        ("student_user", "other_student"),
        ("parent", "student"),
    ],
)
def test_requests_for_a_student_one_may_not_ask_for_are_404(
    registered: Cast, approval_type: DocumentType, who: str, whose: str
) -> None:
    response = api_as(getattr(registered, who)).post(
        REQUESTS_URL,
        {"type": "xjzm", "purpose": "实习", "student": getattr(registered, whose).student_number},
        format="json",
    )

    assert error(response, 404)["code"] == "not_found"
    assert not DocumentRequest.objects.exists()


def test_students_list_their_own_requests_and_staff_those_in_their_scope(
    registered: Cast, approval_type: DocumentType
) -> None:
    cast = registered
    own = submit(cast)["id"]
    classmate = submit(cast, cast.registrar, student=cast.classmate_b.student_number)["id"]
    other = submit(cast, cast.other_student_user)["id"]
    api_as(cast.student_user).post(request_url(own, "withdraw/"), {}, format="json")

    assert ids(api_as(cast.student_user).get(REQUESTS_URL)) == {own}
    assert ids(api_as(cast.college_admin).get(REQUESTS_URL)) == {own, classmate}
    registrar = api_as(cast.registrar)
    assert ids(registrar.get(REQUESTS_URL)) == {own, classmate, other}
    assert ids(registrar.get(REQUESTS_URL, {"status": "pending"})) == {classmate, other}
    number = cast.other_student.student_number
    assert ids(registrar.get(REQUESTS_URL, {"student": number})) == {other}
    assert "status" in error(registrar.get(REQUESTS_URL, {"status": "lost"}), 400)["fields"]


@pytest.mark.parametrize("who", ["counsellor", "parent", "auditor"])
def test_people_who_neither_ask_nor_issue_get_403_for_the_request_list(
    registered: Cast, approval_type: DocumentType, who: str
) -> None:
    submit(registered)

    response = api_as(getattr(registered, who)).get(REQUESTS_URL)

    assert error(response, 403)["code"] == "permission_denied"


def test_the_request_list_reads_a_fixed_number_of_queries_however_many_requests(
    registered: Cast, approval_type: DocumentType
) -> None:
    cast = registered
    client = APIClient()
    client.force_login(cast.registrar)
    submit(cast)
    with CaptureQueriesContext(connection) as one:
        assert client.get(REQUESTS_URL).status_code == 200
    for student in (cast.classmate_b, cast.other_student):
        submit(cast, cast.registrar, student=student.student_number)
    with CaptureQueriesContext(connection) as three:
        rows = client.get(REQUESTS_URL).json()["results"]

    assert len(rows) == 3 and all(row["flow"] for row in rows)
    assert len(three.captured_queries) == len(one.captured_queries)


@pytest.mark.parametrize("who", ["other_student_user", "counsellor", "parent"])
def test_people_who_may_not_see_a_request_get_404_for_it_and_cannot_withdraw_it(
    registered: Cast, approval_type: DocumentType, who: str
) -> None:
    request_id = submit(registered)["id"]
    client = api_as(getattr(registered, who))

    assert error(client.get(request_url(request_id)), 404)["code"] == "not_found"
    withdraw = client.post(request_url(request_id, "withdraw/"), {}, format="json")
    assert error(withdraw, 404)["code"] == "not_found"
    assert DocumentRequest.objects.get().status == RequestStatus.PENDING


def test_the_student_withdraws_a_pending_request_once(
    registered: Cast, approval_type: DocumentType
) -> None:
    request_id = submit(registered)["id"]
    client = api_as(registered.student_user)

    response = client.post(
        request_url(request_id, "withdraw/"), {"reason": "不需要了"}, format="json"
    )
    again = client.post(request_url(request_id, "withdraw/"), {}, format="json")

    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["status_label"]) == ("withdrawn", "已撤回")
    assert error(again, 400)["code"] == "invalid_transition"
    assert not IssuedDocument.objects.exists()


def test_staff_in_scope_who_did_not_ask_cannot_withdraw_the_students_request(
    registered: Cast, approval_type: DocumentType
) -> None:
    request_id = submit(registered)["id"]

    response = api_as(registered.college_admin).post(
        request_url(request_id, "withdraw/"), {}, format="json"
    )

    assert error(response, 403)["code"] == "permission_denied"
    assert DocumentRequest.objects.get().status == RequestStatus.PENDING


# --- re-issue --------------------------------------------------------------------------------


def reissue_url(document: IssuedDocument) -> str:
    return f"/api/v1/certificates/{document.pk}/reissue/"


def test_the_registrar_reissues_and_the_old_and_new_documents_name_each_other(
    registered: Cast,
) -> None:
    old = issue(registered)
    registrar = api_as(registered.registrar)

    response = registrar.post(reissue_url(old), {"reason": "姓名更正后重新开具"}, format="json")

    assert response.status_code == 201, response.content
    new = response.json()
    assert new["serial"] != old.serial
    assert (new["status"], new["supersedes"], new["superseded_by"]) == ("valid", old.serial, None)
    shown = api_as(registered.student_user).get(f"/api/v1/certificates/{old.pk}/").json()
    assert (shown["status"], shown["superseded_by"], shown["supersedes"]) == (
        "superseded",
        new["serial"],
        None,
    )
    listed = {
        row["serial"]: row for row in registrar.get("/api/v1/certificates/").json()["results"]
    }
    assert listed[old.serial]["superseded_by"] == new["serial"]
    assert listed[new["serial"]]["supersedes"] == old.serial
    verified = APIClient().get(f"/api/v1/verify/{old.verification_code}/").json()
    assert verified["status"] == "superseded"
    download = registrar.get(new["download_url"])
    assert new["serial"] in pdf_text(b"".join(download.streaming_content))
    event = AuditEvent.objects.get(action="certificate.supersede", target_id=str(old.pk))
    assert "姓名更正后重新开具" in event.summary


def test_a_reissue_needs_a_reason_and_a_valid_document(registered: Cast) -> None:
    document = issue(registered)
    client = api_as(registered.registrar)

    for payload in ({}, {"reason": "  "}):
        response = client.post(reissue_url(document), payload, format="json")
        assert error(response, 400)["fields"] == {"reason": ["请填写重新开具的原因。"]}
    client.post(reissue_url(document), {"reason": "更正"}, format="json")
    again = client.post(reissue_url(document), {"reason": "再更正"}, format="json")

    assert "不能重新开具" in error(again, 400)["message"]
    assert IssuedDocument.objects.count() == 2


@pytest.mark.parametrize("who", ["college_admin", "counsellor", "student_user"])
def test_only_the_registrar_may_reissue(registered: Cast, who: str) -> None:
    document = issue(registered)

    response = api_as(getattr(registered, who)).post(
        reissue_url(document), {"reason": "更正"}, format="json"
    )

    assert error(response, 403)["code"] == "permission_denied"
    document.refresh_from_db()
    assert document.status == DocumentStatus.VALID
    assert IssuedDocument.objects.count() == 1


def test_reissuing_a_document_that_does_not_exist_is_404(registered: Cast) -> None:
    response = api_as(registered.registrar).post(
        "/api/v1/certificates/999999/reissue/", {"reason": "更正"}, format="json"
    )

    assert error(response, 404)["code"] == "not_found"


# --- batches ---------------------------------------------------------------------------------


def start_batch(client: APIClient, django_capture_on_commit_callbacks, **payload) -> dict:
    payload.setdefault("type", "zxzm")
    # The job is queued on commit; the test runs it itself, in this process.
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(BATCHES_URL, payload, format="json")
    assert response.status_code == 202, response.content
    return response.json()


def test_a_cohort_batch_is_accepted_run_as_a_job_and_its_zip_downloaded_through_the_jobs_api(
    registered: Cast, django_capture_on_commit_callbacks
) -> None:
    cast = registered
    client = api_as(cast.registrar)

    body = start_batch(client, django_capture_on_commit_callbacks, cohort=cast.cohort.pk)

    batch = DocumentBatch.objects.get()
    assert body["id"] == batch.pk
    assert (body["type"], body["language"], body["output"]) == ("zxzm", "zh", "zip")
    assert (body["cohort"], body["school_class"]) == (cast.cohort.pk, None)
    assert (body["issued"], body["skipped"], body["job_status"]) == (0, 0, "queued")
    assert body["job"] == batch.job_id
    assert body["job_url"] == f"/api/v1/jobs/{batch.job_id}/"
    assert body["output_url"] is None

    job_run(batch.job_id)

    done = client.get(f"{BATCHES_URL}{batch.pk}/").json()
    assert (done["issued"], done["skipped"]) == (2, 1)
    assert (done["job_status"], done["job_percent"]) == ("succeeded", 100)
    assert done["output_url"] == f"/api/v1/jobs/{batch.job_id}/output/"
    progress = client.get(done["job_url"]).json()
    assert (progress["status"], progress["result"]["issued"]) == ("succeeded", 2)
    download = client.get(done["output_url"])
    assert download.status_code == 200, download.content
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    pdfs = {n: archive.read(n) for n in archive.namelist() if n.endswith(".pdf")}
    assert f"计科2401/{cast.student.student_number}-单小明.pdf" in pdfs
    stored = {d.sha256 for d in IssuedDocument.objects.filter(batch=batch)}
    assert {hashlib.sha256(content).hexdigest() for content in pdfs.values()} == stored
    rows = list(csv.reader(io.StringIO(archive.read("未开具名单.csv").decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == [cast.other_student.student_number]
    documents = client.get("/api/v1/certificates/", {"student": cast.student.student_number})
    assert documents.json()["results"][0]["batch"] == batch.pk


def test_a_college_admin_batches_a_class_as_one_pdf_and_sees_only_their_own_batches(
    registered: Cast, django_capture_on_commit_callbacks
) -> None:
    cast = registered
    admin = api_as(cast.college_admin)
    registrar = api_as(cast.registrar)
    theirs = start_batch(registrar, django_capture_on_commit_callbacks, cohort=cast.cohort.pk)
    mine = start_batch(
        admin, django_capture_on_commit_callbacks, school_class=cast.class_a.pk, output="pdf"
    )

    job_run(mine["job"])

    done = admin.get(f"{BATCHES_URL}{mine['id']}/").json()
    download = admin.get(done["output_url"])
    assert download.status_code == 200, download.content
    reader = PdfReader(io.BytesIO(b"".join(download.streaming_content)))
    assert len(reader.pages) == done["issued"] == 1
    assert "单小明" in reader.pages[0].extract_text()
    assert ids(admin.get(BATCHES_URL)) == {mine["id"]}
    assert ids(registrar.get(BATCHES_URL)) == {mine["id"], theirs["id"]}
    assert error(admin.get(f"{BATCHES_URL}{theirs['id']}/"), 404)["code"] == "not_found"
    assert registrar.get(f"{BATCHES_URL}{mine['id']}/").json()["requested_by"] == "college-admin"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "school_class"),
        ({"school_class": 999999}, "school_class"),
        ({"cohort": "2024届"}, "cohort"),
        ({"output": "docx"}, "output"),
        ({"type": "xjzm", "language": "en"}, "language"),
    ],
)
def test_a_batch_with_bad_input_is_400_naming_the_field(
    registered: Cast, payload: dict, field: str
) -> None:
    payload = {"type": "zxzm", "cohort": registered.cohort.pk, **payload}
    if field == "school_class":
        payload.pop("cohort")

    response = api_as(registered.registrar).post(BATCHES_URL, payload, format="json")

    assert field in error(response, 400)["fields"]
    assert not DocumentBatch.objects.exists() and not Job.objects.exists()


def test_a_type_that_needs_approval_cannot_be_batched(
    registered: Cast, approval_type: DocumentType
) -> None:
    response = api_as(registered.registrar).post(
        BATCHES_URL, {"type": "xjzm", "cohort": registered.cohort.pk}, format="json"
    )

    assert error(response, 400)["fields"] == {"type": ["学籍证明需经审核，不能批量开具。"]}


def test_a_class_outside_the_college_admins_scope_has_no_one_to_issue_for(
    registered: Cast,
) -> None:
    response = api_as(registered.college_admin).post(
        BATCHES_URL, {"type": "zxzm", "school_class": registered.class_fl.pk}, format="json"
    )

    refusal = error(response, 400)
    assert (refusal["code"], refusal["message"]) == (
        "empty",
        "所选范围内没有您可以开具证明的学生。",
    )
    assert not DocumentBatch.objects.exists()


@pytest.mark.parametrize("who", ["counsellor", "student_user", "parent"])
def test_people_who_do_not_issue_get_403_for_batches_and_404_for_one_batch(
    registered: Cast, django_capture_on_commit_callbacks, who: str
) -> None:
    batch = start_batch(
        api_as(registered.registrar),
        django_capture_on_commit_callbacks,
        school_class=registered.class_a.pk,
    )
    client = api_as(getattr(registered, who))

    started = client.post(
        BATCHES_URL, {"type": "zxzm", "school_class": registered.class_a.pk}, format="json"
    )

    assert error(started, 403)["code"] == "permission_denied"
    assert error(client.get(BATCHES_URL), 403)["code"] == "permission_denied"
    assert error(client.get(f"{BATCHES_URL}{batch['id']}/"), 404)["code"] == "not_found"
    assert error(client.get(f"/api/v1/jobs/{batch['job']}/output/"), 404)["code"] == "not_found"
    assert DocumentBatch.objects.count() == 1
