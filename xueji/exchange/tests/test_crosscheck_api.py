"""The admission cross-check over the API, with Bearer tokens: upload, batches, comparison as a
job, the discrepancy queue with filters, resolving; scoped exactly like the pages."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
import xlsxwriter
from rest_framework.test import APIClient

from xueji.audit.models import AuditEvent
from xueji.conftest import Cast, make_user
from xueji.core.masking import mask_id_number
from xueji.exchange.crosscheck import jobs as crosscheck_jobs
from xueji.exchange.models import AdmissionBatch, Discrepancy, DiscrepancyStatus
from xueji.exchange.tests import test_crosscheck as cc
from xueji.exchange.tests.test_api import api_as
from xueji.jobs import services as job_services
from xueji.jobs.models import Job, JobStatus
from xueji.students.idcards import make_resident_id

pytestmark = pytest.mark.django_db

BATCHES = "/api/v1/crosscheck/batches/"
QUEUE = "/api/v1/crosscheck/discrepancies/"

freshmen = cc.freshmen  # 30 registered 2024 students of 计算机学院 besides the cast's three


@pytest.fixture(autouse=True)
def job_kind():
    crosscheck_jobs.register_job_kinds()


def csv_upload(rows: list[dict[str, Any]], name: str = "录取.csv") -> io.BytesIO:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    upload = io.BytesIO(text.getvalue().encode("utf-8"))
    upload.name = name
    return upload


def xlsx_upload(rows: list[dict[str, Any]], name: str = "录取.xlsx") -> io.BytesIO:
    """An xlsx file: numbers stay numbers (the planted list has an Excel serial date)."""
    upload = io.BytesIO()
    book = xlsxwriter.Workbook(upload)
    sheet = book.add_worksheet()
    headings = list(rows[0])
    sheet.write_row(0, 0, headings)
    for number, row in enumerate(rows, start=1):
        sheet.write_row(number, 0, [row.get(h, "") for h in headings])
    book.close()
    upload.seek(0)
    upload.name = name
    return upload


def upload(
    client: APIClient, rows: list[dict[str, Any]], *, xlsx: bool = False, **extra: Any
) -> Any:
    file = xlsx_upload(rows) if xlsx else csv_upload(rows)
    body = {"name": "2024 级录取库", "year": 2024, "file": file, **extra}
    return client.post(BATCHES, body, format="multipart")


def compared(cast: Cast, rows: list[dict[str, Any]]) -> AdmissionBatch:
    """A batch loaded and compared through the services (the API's reads are under test)."""
    batch = cc.load(cast, rows)
    cc.run(cast, batch)
    return batch


def queue_url(discrepancy: Discrepancy, action: str = "") -> str:
    return f"{QUEUE}{discrepancy.pk}/{action}"


def keys(body: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(d["kind"], d["candidate_number"], d["field"]) for d in body["results"]}


# --- the registrar's round --------------------------------------------------------------------


def test_the_registrar_uploads_a_file_follows_the_comparison_job_and_reads_the_queue(
    cast: Cast, freshmen
):
    rows, expected = cc.planted_list(cast, freshmen)
    client = api_as(cast.registrar)

    response = upload(client, rows, xlsx=True)

    assert response.status_code == 201, response.json()
    body = response.json()
    batch = AdmissionBatch.objects.get()
    assert body["batch"]["id"] == batch.pk
    assert body["batch"]["record_count"] == len(rows)
    assert body["batch"]["loaded_by"] == cast.registrar.username
    assert body["status_url"] == f"/api/v1/jobs/{body['job']}/"
    job = Job.objects.get(pk=body["job"])
    assert job.kind == "crosscheck.run" and job.params == {"batch": batch.pk}
    assert client.get(body["status_url"]).json()["status"] == JobStatus.QUEUED

    assert job_services.job_run(job.pk) == JobStatus.SUCCEEDED

    progress = client.get(body["status_url"]).json()
    assert progress["status"] == JobStatus.SUCCEEDED
    assert progress["percent"] == 100
    assert progress["result"]["found"] == len(expected) == 13
    queue = client.get(QUEUE, {"batch": batch.pk, "page_size": 100}).json()
    assert queue["count"] == 13
    assert keys(queue) == expected
    detail = client.get(f"{BATCHES}{batch.pk}/").json()
    assert detail["counts"] == {"open": 13, "resolved": 0, "accepted": 0}
    assert detail["open_count"] == 13 and detail["checked_at"]
    event = AuditEvent.objects.get(action="crosscheck.batch_load")
    assert event.target_id == str(batch.pk) and event.via == "api"


def test_uploading_with_compare_false_stores_the_batch_and_starts_no_job(cast: Cast):
    response = upload(api_as(cast.registrar), [cc.row_of(cast.student)], compare="false")

    assert response.status_code == 201
    assert response.json()["job"] is None and response.json()["status_url"] is None
    assert AdmissionBatch.objects.get().records.count() == 1
    assert not Job.objects.exists()


def test_starting_a_comparison_returns_the_job_and_a_rerun_updates_the_same_queue(cast: Cast):
    batch = compared(cast, [{**cc.row_of(cast.student), "姓名": "别名"}])
    client = api_as(cast.registrar)

    response = client.post(f"{BATCHES}{batch.pk}/compare/")

    assert response.status_code == 202
    job_id = response.json()["job"]
    assert response.json()["status_url"] == f"/api/v1/jobs/{job_id}/"
    assert job_services.job_run(job_id) == JobStatus.SUCCEEDED
    assert client.get(f"/api/v1/jobs/{job_id}/").json()["result"]["new"] == 0
    # The cast's two other students are registered but not in this one-row list.
    assert Discrepancy.objects.filter(batch=batch).count() == 3


def test_a_bad_file_is_refused_with_every_bad_cell_as_row_column_value_reason(cast: Cast):
    rows = [
        cc.row_of(cast.student),
        {**cc.row_of(cast.classmate_b), "出生日期": "2005-13-01", "性别": "X"},
        {**cc.row_of(cast.other_student), "考生号": cast.student.candidate_number, "学制": "四"},
    ]

    response = upload(api_as(cast.registrar), rows)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_rows"
    assert error["message"] == "录取数据中有 4 处错误，未导入任何数据。"
    assert error["problem_count"] == 4
    assert error["rows"] == [
        {
            "row": 3,
            "column": "性别",
            "value": "X",
            "reason": "性别“X”应为 1/2 或 男/女",
        },
        {
            "row": 3,
            "column": "出生日期",
            "value": "2005-13-01",
            "reason": "出生日期“2005-13-01”不是有效日期（应为 YYYY-MM-DD）",
        },
        {
            "row": 4,
            "column": "学制",
            "value": "四",
            "reason": "学制“四”应为 0.5–10 之间的年数",
        },
        {
            "row": 4,
            "column": "考生号",
            "value": cast.student.candidate_number,
            "reason": f"考生号“{cast.student.candidate_number}”与第 2 行重复",
        },
    ]
    assert error["fields"]["学制"] == ["第 4 行：学制“四”应为 0.5–10 之间的年数"]
    assert not AdmissionBatch.objects.exists()
    assert not Job.objects.exists()


def test_an_unreadable_file_or_missing_fields_are_a_400_naming_the_field(cast: Cast):
    client = api_as(cast.registrar)
    junk = io.BytesIO(b"not a workbook")
    junk.name = "录取.xlsx"

    response = client.post(BATCHES, {"name": "x", "year": 2024, "file": junk}, format="multipart")
    assert response.status_code == 400
    assert "无法读取文件“录取.xlsx”" in response.json()["error"]["fields"]["file"][0]

    response = client.post(BATCHES, {"name": "x", "year": 1999}, format="multipart")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"year", "file"}
    assert not AdmissionBatch.objects.exists()


# --- the queue --------------------------------------------------------------------------------


def test_the_queue_filters_by_batch_kind_field_status_and_college_and_pages(cast: Cast, freshmen):
    rows, expected = cc.planted_list(cast, freshmen)
    batch = compared(cast, rows)
    older = compared(cast, [{**cc.row_of(cast.student), "姓名": "别名"}])
    client = api_as(cast.registrar)

    def query(**params: Any) -> dict[str, Any]:
        response = client.get(QUEUE, {"batch": batch.pk, "page_size": 100, **params})
        assert response.status_code == 200, response.json()
        return response.json()

    # The older list has one student: the other 32 of 2024 are "not admitted" there.
    assert client.get(QUEUE, {"page_size": 100}).json()["count"] == 13 + 33
    assert keys(query(kind="not_registered")) == {k for k in expected if k[0] == "not_registered"}
    [birth] = query(field="birth_date")["results"]
    assert (birth["candidate_number"], birth["field_label"]) == (
        freshmen[3].candidate_number,
        "出生日期",
    )
    assert birth["admission_value"] == "2004-12-31"
    assert birth["record_value"] == freshmen[3].birth_date.isoformat()
    assert birth["student"] == freshmen[3].student_number
    assert birth["college_name"] == "计算机学院" and birth["can_resolve"] is True
    # 外国语学院: its student not in the list, and the candidate admitted to its major.
    assert keys(query(college=cast.fl.pk)) == {
        ("not_admitted", cast.other_student.candidate_number, ""),
        ("not_registered", "24888888000002", ""),
    }
    first, second = query(page_size=5), query(page_size=5, page=3)
    assert first["count"] == 13 and len(first["results"]) == 5 and first["next"]
    assert len(second["results"]) == 3 and second["next"] is None
    assert query(status="resolved")["count"] == 0
    Discrepancy.objects.filter(batch=batch, field="name").update(status="accepted")
    assert keys(query(status="accepted")) == {("field", freshmen[0].candidate_number, "name")}
    assert query(status="open")["count"] == 12
    assert client.get(QUEUE, {"batch": older.pk}).json()["count"] == 33


def test_bad_filters_are_a_400_and_an_unknown_batch_a_404(cast: Cast):
    client = api_as(cast.registrar)

    for params, field in (
        ({"kind": "typo"}, "kind"),
        ({"field": "shoe_size"}, "field"),
        ({"status": "done"}, "status"),
        ({"college": "x"}, "college"),
        ({"page": "0"}, "page"),
    ):
        response = client.get(QUEUE, params)
        assert response.status_code == 400, params
        assert field in response.json()["error"]["fields"]
    assert client.get(QUEUE, {"batch": 999999}).status_code == 404
    assert client.get(f"{BATCHES}999999/").status_code == 404
    assert client.post(f"{BATCHES}999999/compare/").status_code == 404
    assert client.get(f"{QUEUE}999999/").status_code == 404


def test_id_number_differences_are_masked_in_the_api(cast: Cast):
    planted = make_resident_id("110101", cast.student.birth_date, "1", 77)
    compared(cast, [{**cc.row_of(cast.student), "证件号码": planted}])

    [row] = api_as(cast.registrar).get(QUEUE, {"field": "id_number"}).json()["results"]

    assert row["admission_value"] == mask_id_number(planted)
    assert row["record_value"] == mask_id_number(cast.student.id_number)
    assert planted not in str(row) and cast.student.id_number not in str(row)


def test_a_college_admin_reads_and_resolves_their_colleges_differences(cast: Cast):
    batch = compared(
        cast,
        [
            {**cc.row_of(cast.student), "姓名": "别名"},
            {**cc.row_of(cast.other_student), "姓名": "别名"},
            cc.row_of(cast.classmate_b),
        ],
    )
    mine = Discrepancy.objects.get(candidate_number=cast.student.candidate_number)
    theirs = Discrepancy.objects.get(candidate_number=cast.other_student.candidate_number)
    client = api_as(cast.college_admin)

    assert [d["id"] for d in client.get(QUEUE).json()["results"]] == [mine.pk]
    assert client.get(QUEUE, {"college": cast.fl.pk}).json()["count"] == 0
    assert client.get(f"{BATCHES}{batch.pk}/").json()["counts"]["open"] == 1
    assert client.get(BATCHES).json()["results"][0]["open_count"] == 1
    assert client.get(queue_url(theirs)).status_code == 404
    response = client.post(queue_url(theirs, "resolve/"), {"status": "accepted", "note": "x"})
    assert response.status_code == 404

    response = client.post(
        queue_url(mine, "resolve/"), {"status": "accepted", "note": "同音字，已核实"}
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["status_label"], body["resolved_by"]) == (
        "accepted",
        "确认无误",
        cast.college_admin.username,
    )
    assert body["resolution_note"] == "同音字，已核实" and body["resolved_at"]
    mine.refresh_from_db()
    assert (mine.status, mine.resolved_by) == (DiscrepancyStatus.ACCEPTED, cast.college_admin)
    event = AuditEvent.objects.get(action="crosscheck.discrepancy_resolve")
    assert event.target_id == str(mine.pk) and event.via == "api"
    theirs.refresh_from_db()
    assert theirs.status == DiscrepancyStatus.OPEN


def test_resolving_needs_one_of_the_two_results_and_a_note(cast: Cast):
    compared(cast, [{**cc.row_of(cast.student), "姓名": "别名"}])
    row = Discrepancy.objects.get(kind="field")
    client = api_as(cast.registrar)

    response = client.post(queue_url(row, "resolve/"), {"status": "open", "note": "x"})
    assert response.status_code == 400 and "status" in response.json()["error"]["fields"]
    response = client.post(queue_url(row, "resolve/"), {"status": "resolved", "note": "  "})
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["note"] == [
        "请写明如何处理（更正了什么，或为何确认无误）。"
    ]
    response = client.post(queue_url(row, "resolve/"), {"status": "resolved", "note": "x" * 401})
    assert response.status_code == 400 and "note" in response.json()["error"]["fields"]
    row.refresh_from_db()
    assert row.status == DiscrepancyStatus.OPEN
    assert not AuditEvent.objects.filter(action="crosscheck.discrepancy_resolve").exists()

    response = client.post(queue_url(row, "resolve/"), {"status": "resolved", "note": "已改"})
    assert response.status_code == 200 and response.json()["status"] == "resolved"


# --- who may do what --------------------------------------------------------------------------


@pytest.fixture
def queue(cast: Cast) -> tuple[AdmissionBatch, Discrepancy]:
    batch = compared(cast, [{**cc.row_of(cast.student), "姓名": "别名"}])
    return batch, Discrepancy.objects.get(kind="field")


def endpoints(batch: AdmissionBatch, row: Discrepancy) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        ("get", BATCHES, {}),
        ("post", BATCHES, {"name": "x", "year": 2024}),
        ("get", f"{BATCHES}{batch.pk}/", {}),
        ("post", f"{BATCHES}{batch.pk}/compare/", {}),
        ("get", QUEUE, {}),
        ("get", queue_url(row), {}),
        ("post", queue_url(row, "resolve/"), {"status": "resolved", "note": "x"}),
    ]


def test_anonymous_callers_get_a_chinese_401_on_every_endpoint(cast: Cast, queue):
    for method, url, data in endpoints(*queue):
        response = getattr(APIClient(), method)(url, data)
        assert response.status_code == 401, (method, url)
        assert "未登录" in response.json()["error"]["message"]


@pytest.mark.parametrize("who", ["student_user", "counsellor", "advisor", "parent"])
def test_students_and_other_staff_get_403_on_every_endpoint(cast: Cast, queue, who: str):
    client = api_as(getattr(cast, who))

    for method, url, data in endpoints(*queue):
        response = getattr(client, method)(url, data)
        assert response.status_code == 403, (who, method, url)
        assert "录取比对" in response.json()["error"]["message"]
    assert AdmissionBatch.objects.count() == 1
    assert Discrepancy.objects.get(kind="field").status == DiscrepancyStatus.OPEN


@pytest.mark.parametrize("who", ["college_admin", "auditor"])
def test_college_admins_and_auditors_may_not_upload_or_start_a_comparison(
    cast: Cast, queue, who: str
):
    batch, _ = queue
    client = api_as(getattr(cast, who))

    response = upload(client, [cc.row_of(cast.student)])
    assert response.status_code == 403
    assert "只有校级学籍管理员" in response.json()["error"]["message"]
    assert client.post(f"{BATCHES}{batch.pk}/compare/").status_code == 403
    assert AdmissionBatch.objects.count() == 1
    assert Job.objects.filter(kind="crosscheck.run").count() == 1  # the fixture's own run


def test_an_auditor_reads_the_whole_queue_but_may_not_resolve(cast: Cast, queue):
    _, row = queue
    client = api_as(cast.auditor)

    assert client.get(QUEUE).json()["count"] == 3
    assert client.get(queue_url(row)).json()["can_resolve"] is False
    response = client.post(queue_url(row, "resolve/"), {"status": "resolved", "note": "x"})

    assert response.status_code == 403
    row.refresh_from_db()
    assert row.status == DiscrepancyStatus.OPEN


def test_a_college_admin_of_another_college_sees_none_of_this_colleges_differences(
    cast: Cast, queue
):
    batch, row = queue
    other_admin = make_user("fl-admin", "college_admin", "college", college=cast.fl)
    client = api_as(other_admin)

    assert client.get(f"{BATCHES}{batch.pk}/").json()["counts"]["open"] == 1  # 外国语's own
    listed = client.get(QUEUE, {"college": cast.cs.pk}).json()
    assert listed["count"] == 0
    assert {d["college"] for d in client.get(QUEUE).json()["results"]} == {cast.fl.pk}
    assert client.get(queue_url(row)).status_code == 404
    response = client.post(queue_url(row, "resolve/"), {"status": "resolved", "note": "x"})
    assert response.status_code == 404
    row.refresh_from_db()
    assert row.status == DiscrepancyStatus.OPEN
