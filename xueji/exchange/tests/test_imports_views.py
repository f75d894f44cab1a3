"""Import pages and API: who may use them, the template, upload → dry run → confirm."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from python_calamine import CalamineWorkbook
from rest_framework.test import APIClient

from xueji.conftest import Cast
from xueji.exchange.imports.runner import COMMIT, DRY_RUN
from xueji.exchange.tests.test_imports import LABELS, freshman_rows, upload, xlsx_bytes
from xueji.jobs.models import Job, JobStatus
from xueji.jobs.services import job_run
from xueji.students.models import Student
from xueji.students.tests.test_api import api_as


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_anonymous_is_sent_to_log_in(cast: Cast) -> None:
    response = Client().get("/exchange/imports/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("who", ["counsellor", "auditor", "advisor"])
def test_staff_without_an_import_grant_are_refused(cast: Cast, who: str) -> None:
    client = client_for(getattr(cast, who))
    assert client.get("/exchange/imports/").status_code == 403
    assert client.get("/exchange/imports/freshmen/template/").status_code == 403


def test_a_student_is_sent_to_their_record(cast: Cast) -> None:
    response = client_for(cast.student_user).get("/exchange/imports/")
    assert response.status_code == 302


def test_the_template_has_the_columns_dropdowns_and_notes(cast: Cast) -> None:
    response = client_for(cast.college_admin).get("/exchange/imports/freshmen/template/")
    assert response.status_code == 200
    data = b"".join(response.streaming_content) if response.streaming else response.content
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    assert book.sheet_names == ["新生名单", "代码表", "填写说明"]
    assert book.get_sheet_by_name("新生名单").to_python()[0] == LABELS
    notes = book.get_sheet_by_name("填写说明").to_python()
    assert notes[1][:3] == ["KSH", "考生号", "是"]
    codes = book.get_sheet_by_name("代码表").to_python()
    assert codes[0][0] == "性别（XB）" and ["1", "男"] in [r[:2] for r in codes]
    import zipfile

    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert sheet.count("<dataValidation ") == 6  # XB ZJLX ZZMM MZ CC XXXS (生源地 too long)
    assert "代码表!$A$2" in sheet


def test_upload_runs_a_dry_run_and_a_clean_one_can_be_confirmed(cast: Cast) -> None:
    client = client_for(cast.registrar)
    data = xlsx_bytes(freshman_rows(cast, 4))
    response = client.post("/exchange/imports/freshmen/", {"file": upload(data)})
    job = Job.objects.get(kind=DRY_RUN)
    assert (
        response.status_code == 302 and response["Location"] == f"/exchange/imports/jobs/{job.pk}/"
    )
    page = client.get(f"/exchange/imports/jobs/{job.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in page and "确认导入" not in page
    job_run(job.pk)
    partial = client.get(f"/exchange/imports/jobs/{job.pk}/?partial=result").content.decode()
    assert 'data-count="new">4<' in partial and "确认导入" in partial
    response = client.post(f"/exchange/imports/jobs/{job.pk}/confirm/")
    commit = Job.objects.get(kind=COMMIT)
    assert response["Location"] == f"/exchange/imports/jobs/{commit.pk}/"
    job_run(commit.pk)
    page = client.get(f"/exchange/imports/jobs/{commit.pk}/").content.decode()
    assert "导入完成：新增 4 人" in page
    assert Student.objects.filter(candidate_number__startswith="24110102").count() == 4


def test_a_dry_run_with_errors_shows_them_and_no_confirm_button(cast: Cast) -> None:
    client = client_for(cast.registrar)
    rows = freshman_rows(cast, 4)
    rows[1]["MZ"] = "99"
    client.post("/exchange/imports/freshmen/", {"file": upload(xlsx_bytes(rows))})
    job = Job.objects.get(kind=DRY_RUN)
    job_run(job.pk)
    page = client.get(f"/exchange/imports/jobs/{job.pk}/").content.decode()
    assert "确认导入" not in page and "下载错误报告" in page and "民族“99”" in page
    response = client.post(f"/exchange/imports/jobs/{job.pk}/confirm/", follow=True)
    assert "预检发现错误" in response.content.decode()
    assert not Job.objects.filter(kind=COMMIT).exists()


def test_a_file_that_is_not_a_spreadsheet_is_refused_on_the_form(cast: Cast) -> None:
    response = client_for(cast.registrar).post(
        "/exchange/imports/freshmen/", {"file": upload(b"hello", "notes.txt")}
    )
    assert response.status_code == 400
    assert "只接受 xlsx、xls 或 CSV 文件" in response.content.decode()


def test_another_users_import_job_is_not_found(cast: Cast) -> None:
    client = client_for(cast.college_admin)
    client.post("/exchange/imports/freshmen/", {"file": upload(xlsx_bytes(freshman_rows(cast, 2)))})
    job = Job.objects.get(kind=DRY_RUN)
    job_run(job.pk)
    other = client_for(cast.counsellor)
    assert other.get(f"/exchange/imports/jobs/{job.pk}/").status_code in (403, 404)
    # The registrar sees it but cannot confirm someone else's dry run.
    registrar = client_for(cast.registrar)
    assert registrar.get(f"/exchange/imports/jobs/{job.pk}/").status_code == 200
    registrar.post(f"/exchange/imports/jobs/{job.pk}/confirm/")
    assert not Job.objects.filter(kind=COMMIT).exists()


def test_the_api_starts_a_dry_run_and_the_job_reports_the_counts(cast: Cast) -> None:
    client = api_as(cast.registrar)
    data = xlsx_bytes(freshman_rows(cast, 3))
    response = client.post(
        "/api/v1/imports/freshmen/", {"file": upload(data), "dry_run": "true"}, format="multipart"
    )
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    assert response.json()["kind"] == DRY_RUN
    job_run(job_id)
    job = client.get(f"/api/v1/jobs/{job_id}/").json()
    assert job["status"] == JobStatus.SUCCEEDED and job["result"]["new"] == 3


def test_the_api_commits_directly_when_dry_run_is_false(cast: Cast) -> None:
    response = api_as(cast.registrar).post(
        "/api/v1/imports/freshmen/",
        {"file": upload(xlsx_bytes(freshman_rows(cast, 3))), "dry_run": "false"},
        format="multipart",
    )
    assert response.json()["kind"] == COMMIT
    job_run(response.json()["id"])
    assert Student.objects.filter(candidate_number__startswith="24110102").count() == 3


def test_the_api_refuses_anonymous_and_roles_without_the_grant(cast: Cast) -> None:
    data = xlsx_bytes(freshman_rows(cast, 1))
    anonymous = APIClient().post(
        "/api/v1/imports/freshmen/", {"file": upload(data)}, format="multipart"
    )
    assert anonymous.status_code == 401
    refused = api_as(cast.counsellor).post(
        "/api/v1/imports/freshmen/", {"file": upload(data)}, format="multipart"
    )
    assert refused.status_code == 403
    assert "只有校级学籍管理员和学院教务员" in refused.json()["error"]["message"]
    missing = api_as(cast.registrar).post("/api/v1/imports/freshmen/", {}, format="multipart")
    assert missing.status_code == 400
    assert api_as(cast.counsellor).get("/api/v1/imports/freshmen/template/").status_code == 403
    assert not Job.objects.exists()
