"""CHSI new-student registration export: the 19 columns, the pre-export check, masking by
permission and purpose, the audit event, scope, the page and the API."""

from __future__ import annotations

import hashlib
import io
from decimal import Decimal

import pytest
from django.test import Client
from python_calamine import CalamineWorkbook

from xueji.audit.models import AuditEvent
from xueji.conftest import PASSWORD, Cast
from xueji.core.exceptions import NotFound, PermissionDenied, ValidationFailed
from xueji.core.masking import mask_id_number
from xueji.exchange.chsi import selectors
from xueji.exchange.chsi.dbf import read_dbf
from xueji.exchange.chsi.new_students import CODES
from xueji.exchange.chsi.services import chsi_export_start
from xueji.jobs.models import Job, JobStatus
from xueji.jobs.services import job_run
from xueji.org.models import CodeTable
from xueji.org.selectors import code_exists
from xueji.students.models import Student, StudentStatus
from xueji.students.tests.test_api import api_as

PURPOSE = "学信网新生注册上报"


def export(cast: Cast, user=None, **kwargs) -> Job:
    values = {
        "cohort_year": 2024,
        "college_id": None,
        "fmt": "xlsx",
        "purpose": PURPOSE,
        "full_id": False,
        "valid_only": False,
    }
    values.update(kwargs)
    return chsi_export_start(actor=cast.actor(user or cast.registrar), **values)


def run(job: Job) -> Job:
    job_run(job.pk)
    job.refresh_from_db()
    return job


def file_bytes(job: Job) -> bytes:
    with job.output_file.open("rb") as fh:
        return fh.read()


def xlsx_rows(job: Job) -> list[list[object]]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(file_bytes(job)))
    return book.get_sheet_by_index(0).to_python()


def by_number(rows: list[list[object]]) -> dict[str, dict[str, object]]:
    header = rows[0]
    return {str(r[1]): dict(zip(header, r, strict=True)) for r in rows[1:]}


def plant_problems(cast: Cast) -> None:
    """classmate_b: no class, an ethnicity code not in GB 3304, an ID number with a wrong
    check digit and a 学制 CHSI does not know."""
    bad_id = cast.classmate_b.id_number[:-1] + (
        "0" if cast.classmate_b.id_number[-1] != "0" else "1"
    )
    Student.objects.filter(pk=cast.classmate_b.pk).update(
        school_class=None, ethnicity="99", id_number=bad_id, duration=Decimal("3.7")
    )


# --- the file --------------------------------------------------------------------------------


def test_xlsx_has_exactly_the_19_chsi_columns_in_order_filled_from_the_record(cast: Cast) -> None:
    job = run(export(cast, full_id=True))
    assert job.status == JobStatus.SUCCEEDED, job.error
    rows = xlsx_rows(job)
    assert rows[0] == list(CODES)
    assert CODES == ("KSH", "XH", "XM", "XB", "CSRQ", "ZJLX", "ZJHM", "ZZMM", "MZ", "ZYDM",
                     "ZYMC", "FY", "XSH", "BH", "CC", "XXXS", "XZ", "RXRQ", "YJBYRQ")  # fmt: skip
    students = by_number(rows)
    assert set(students) == {"2024000001", "2024000002", "2024000003"}
    s = cast.student
    row = students[s.student_number]
    assert row["KSH"] == s.candidate_number
    assert row["XM"] == "单小明"
    assert row["XB"] == "1"
    assert row["CSRQ"] == f"{s.birth_date:%Y%m%d}"
    assert row["ZJHM"] == s.id_number
    assert row["ZYDM"] == "080901"
    assert row["ZYMC"] == "计算机科学与技术"
    assert row["FY"] == "计算机学院"
    assert row["BH"] == "JK2401"
    assert row["XZ"] == "4"
    assert row["RXRQ"] == "20240901"
    assert row["YJBYRQ"] == "20280630"
    for column, table in (("XB", CodeTable.GENDER), ("ZJLX", CodeTable.ID_TYPE),
                          ("ZZMM", CodeTable.POLITICAL_STATUS), ("MZ", CodeTable.ETHNICITY),
                          ("CC", CodeTable.EDUCATION_LEVEL), ("XXXS", CodeTable.STUDY_FORM),
                          ("XZ", CodeTable.STUDY_DURATION)):  # fmt: skip
        for r in students.values():
            assert code_exists(table, str(r[column])), (column, r[column])
    # Every cell is text: numbers like 考生号 keep leading zeros and are not turned into floats.
    assert all(isinstance(v, str) for r in rows for v in r)


def test_a_candidate_number_with_leading_zeros_keeps_them(cast: Cast) -> None:
    Student.objects.filter(pk=cast.student.pk).update(candidate_number="00110101000001")
    rows = by_number(xlsx_rows(run(export(cast))))
    assert rows[cast.student.student_number]["KSH"] == "00110101000001"


def test_students_without_xueji_are_not_in_the_new_student_file(cast: Cast) -> None:
    Student.objects.filter(pk=cast.other_student.pk).update(
        status=StudentStatus.ADMISSION_RESERVED, registry_status="not_enrolled"
    )
    rows = by_number(xlsx_rows(run(export(cast))))
    assert cast.other_student.student_number not in rows
    assert len(rows) == 2


def test_dbf_export_has_the_column_codes_as_fields_and_gbk_names(cast: Cast) -> None:
    job = run(export(cast, fmt="dbf", full_id=True))
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.output_file.name.endswith(".dbf")
    data = file_bytes(job)
    assert data[0] == 0x03 and data[29] == 0x4D
    table = read_dbf(data)
    assert [f.name for f in table.fields] == list(CODES)
    names = {r[1]: r[2] for r in table.records}
    assert names == {"2024000001": "单小明", "2024000002": "李四", "2024000003": "王五"}
    assert "单小明".encode("gbk") in data


def test_every_export_is_one_audit_event_with_purpose_filters_rows_and_file_hash(
    cast: Cast,
) -> None:
    job = run(export(cast, college_id=cast.cs.pk, full_id=True))
    events = AuditEvent.objects.filter(action="chsi.export")
    assert events.count() == 1
    event = events.get()
    assert event.actor_username == "registrar"
    assert PURPOSE in event.summary
    after = event.after if isinstance(event.after, dict) else __import__("json").loads(event.after)
    assert after["purpose"] == PURPOSE
    assert after["filters"] == {"cohort_year": 2024, "college_id": cast.cs.pk}
    assert after["rows"] == 2
    assert after["masked"] is False
    assert after["sha256"] == hashlib.sha256(file_bytes(job)).hexdigest() == job.result["sha256"]


# --- masking ---------------------------------------------------------------------------------


def test_registrar_with_the_grant_gets_full_ids_only_when_asking_for_them(cast: Cast) -> None:
    masked = by_number(xlsx_rows(run(export(cast, full_id=False))))
    assert masked[cast.student.student_number]["ZJHM"] == mask_id_number(cast.student.id_number)
    full = by_number(xlsx_rows(run(export(cast, full_id=True))))
    assert full[cast.student.student_number]["ZJHM"] == cast.student.id_number


def test_college_admin_without_the_grant_gets_masked_ids(cast: Cast) -> None:
    job = run(export(cast, user=cast.college_admin, college_id=cast.cs.pk))
    assert job.result["masked"] is True
    rows = by_number(xlsx_rows(job))
    assert rows[cast.student.student_number]["ZJHM"] == mask_id_number(cast.student.id_number)
    assert cast.student.id_number.encode() not in file_bytes(job)


def test_asking_for_full_ids_without_the_grant_is_refused(cast: Cast) -> None:
    with pytest.raises(PermissionDenied, match="完整证件号码"):
        export(cast, user=cast.college_admin, college_id=cast.cs.pk, full_id=True)
    assert not Job.objects.exists()


def test_an_export_without_a_purpose_is_refused(cast: Cast) -> None:
    with pytest.raises(ValidationFailed) as caught:
        export(cast, purpose="  ")
    assert "purpose" in caught.value.errors


def test_a_grant_withdrawn_before_the_job_runs_gives_a_masked_file(cast: Cast) -> None:
    job = export(cast, full_id=True)
    cast.registrar.grants.update(can_view_full_id=False)
    job = run(job)
    assert job.result["masked"] is True


# --- the pre-export check --------------------------------------------------------------------


def test_check_finds_each_planted_problem_and_nothing_else(cast: Cast) -> None:
    plant_problems(cast)
    total, found = selectors.chsi_new_students_check(
        cast.registrar, cohort_year=2024, college_id=None, fmt="xlsx"
    )
    assert total == 3
    assert [s.student_number for s in found] == [cast.classmate_b.student_number]
    columns = sorted(p.column for p in found[0].problems)
    assert columns == ["BH", "MZ", "XZ", "ZJHM"]
    messages = {p.column: p.message for p in found[0].problems}
    assert "未分班" in messages["BH"]
    assert "99" in messages["MZ"]
    assert "校验位" in messages["ZJHM"]
    assert "3.7" in messages["XZ"]


def test_check_flags_a_major_code_not_in_the_catalogue_and_a_local_id_type(cast: Cast) -> None:
    cast.fl_major.national_code = "059999"
    cast.fl_major.save()
    Student.objects.filter(pk=cast.student.pk).update(id_type="D")
    _, found = selectors.chsi_new_students_check(
        cast.registrar, cohort_year=2024, college_id=None, fmt="xlsx"
    )
    problems = {s.student_number: {p.column for p in s.problems} for s in found}
    assert problems == {
        cast.student.student_number: {"ZJLX"},
        cast.other_student.student_number: {"ZYDM"},
    }


def test_dbf_check_flags_a_name_gbk_cannot_hold(cast: Cast) -> None:
    Student.objects.filter(pk=cast.student.pk).update(name="𠮷小明")
    _, for_xlsx = selectors.chsi_new_students_check(
        cast.registrar, cohort_year=2024, college_id=None, fmt="xlsx"
    )
    _, for_dbf = selectors.chsi_new_students_check(
        cast.registrar, cohort_year=2024, college_id=None, fmt="dbf"
    )
    assert for_xlsx == []
    assert [(s.student_number, s.problems[0].column) for s in for_dbf] == [
        (cast.student.student_number, "XM")
    ]


def test_export_refuses_while_there_are_errors_and_writes_nothing(cast: Cast) -> None:
    plant_problems(cast)
    job = run(export(cast))
    assert job.status == JobStatus.FAILED
    assert "1 名学生" in job.error and "仅导出无误的记录" in job.error
    assert not job.output_file
    assert not AuditEvent.objects.filter(action="chsi.export").exists()


def test_valid_rows_only_exports_the_rest_and_reports_who_was_left_out(cast: Cast) -> None:
    plant_problems(cast)
    job = run(export(cast, valid_only=True))
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert set(by_number(xlsx_rows(job))) == {"2024000001", "2024000003"}
    assert job.result["rows"] == 2
    assert [e["student_number"] for e in job.result["excluded"]] == ["2024000002"]
    event = AuditEvent.objects.get(action="chsi.export")
    assert "2024000002" in str(event.after)


# --- scope -----------------------------------------------------------------------------------


def test_college_admin_exports_only_their_own_college(cast: Cast) -> None:
    rows = by_number(xlsx_rows(run(export(cast, user=cast.college_admin))))
    assert set(rows) == {"2024000001", "2024000002"}


def test_college_admin_cannot_export_another_college(cast: Cast) -> None:
    with pytest.raises(NotFound):
        export(cast, user=cast.college_admin, college_id=cast.fl.pk)


@pytest.mark.parametrize("who", ["counsellor", "advisor", "auditor", "student_user", "parent"])
def test_other_roles_cannot_export(cast: Cast, who: str) -> None:
    with pytest.raises(PermissionDenied):
        export(cast, user=getattr(cast, who))


def test_an_export_needs_a_cohort_or_a_college(cast: Cast) -> None:
    with pytest.raises(ValidationFailed):
        export(cast, cohort_year=None, college_id=None)


# --- pages -----------------------------------------------------------------------------------


def login(client: Client, user) -> Client:
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_anonymous_is_sent_to_login(client: Client, cast: Cast) -> None:
    response = client.get("/exchange/chsi/")
    assert response.status_code == 302 and "login" in response["Location"]


def test_counsellor_gets_403_and_a_student_is_redirected(client: Client, cast: Cast) -> None:
    assert login(client, cast.counsellor).get("/exchange/chsi/").status_code == 403
    client.logout()
    assert login(client, cast.student_user).get("/exchange/chsi/").status_code == 302


def test_registrar_sees_the_check_results_on_the_page(client: Client, cast: Cast) -> None:
    plant_problems(cast)
    response = login(client, cast.registrar).get(
        "/exchange/chsi/new_students/?check=1&cohort=2024&format=xlsx"
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-student="2024000002"' in body
    assert 'data-column="ZJHM"' in body
    assert 'data-student="2024000001"' not in body
    assert 'name="full_id"' in body


def test_college_admin_page_offers_only_their_college_and_no_full_ids(
    client: Client, cast: Cast
) -> None:
    body = login(client, cast.college_admin).get("/exchange/chsi/new_students/").content.decode()
    assert "计算机学院" in body and "外国语学院" not in body
    assert 'name="full_id"' not in body


def test_college_admin_checking_another_college_gets_404(client: Client, cast: Cast) -> None:
    login(client, cast.college_admin)
    response = client.get(f"/exchange/chsi/new_students/?check=1&cohort=2024&college={cast.fl.pk}")
    assert response.status_code == 404
    assert "王五" not in response.content.decode()


def test_registrar_starts_an_export_and_follows_it_to_the_download(
    client: Client, cast: Cast
) -> None:
    login(client, cast.registrar)
    response = client.post(
        "/exchange/chsi/new_students/",
        {"cohort": "2024", "format": "xlsx", "purpose": PURPOSE, "full_id": "on"},
    )
    job = Job.objects.get(kind="chsi.new_students")
    assert response.status_code == 302 and response["Location"] == f"/exchange/chsi/jobs/{job.pk}/"
    assert job.params["full_id"] is True and job.params["client"]["ip"] == "127.0.0.1"
    run(job)
    page = client.get(f"/exchange/chsi/jobs/{job.pk}/").content.decode()
    assert 'id="chsi-rows">3<' in page
    assert f"/jobs/{job.pk}/output/" in page
    download = client.get(f"/jobs/{job.pk}/output/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content)[:2] == b"PK"


def test_the_form_says_what_is_missing(client: Client, cast: Cast) -> None:
    response = login(client, cast.registrar).post(
        "/exchange/chsi/new_students/", {"format": "xlsx"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "请填写导出用途" in body and "请至少选择年级或学院" in body
    assert not Job.objects.exists()


def test_another_users_export_job_page_is_404(client: Client, cast: Cast) -> None:
    job = export(cast)
    assert (
        login(client, cast.college_admin).get(f"/exchange/chsi/jobs/{job.pk}/").status_code == 404
    )


# --- API -------------------------------------------------------------------------------------

BODY = {"cohort": 2024, "format": "xlsx", "purpose": PURPOSE}


def test_api_starts_an_export_and_returns_the_job(cast: Cast) -> None:
    response = api_as(cast.registrar).post("/api/v1/chsi/exports/", BODY, format="json")
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["job"])
    assert job.kind == "chsi.new_students" and job.params["client"]["via"] == "api"
    assert run(job).status == JobStatus.SUCCEEDED


def test_api_refuses_anonymous_wrong_role_and_other_college(cast: Cast) -> None:
    from rest_framework.test import APIClient

    assert APIClient().post("/api/v1/chsi/exports/", BODY, format="json").status_code == 401
    counsellor = api_as(cast.counsellor).post("/api/v1/chsi/exports/", BODY, format="json")
    assert counsellor.status_code == 403
    assert "学籍管理员" in counsellor.json()["error"]["message"]
    other = api_as(cast.college_admin).post(
        "/api/v1/chsi/exports/", {**BODY, "college": cast.fl.pk}, format="json"
    )
    assert other.status_code == 404
    full = api_as(cast.college_admin).post(
        "/api/v1/chsi/exports/", {**BODY, "full_id": True}, format="json"
    )
    assert full.status_code == 403
    assert not Job.objects.exists()


def test_api_check_lists_problems_in_scope(cast: Cast) -> None:
    plant_problems(cast)
    response = api_as(cast.college_admin).get("/api/v1/chsi/check/?cohort=2024")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["total"], body["with_problems"]) == (2, 1)
    assert {p["column"] for p in body["students"][0]["problems"]} == {"BH", "MZ", "XZ", "ZJHM"}
    other = api_as(cast.college_admin).get(f"/api/v1/chsi/check/?college={cast.fl.pk}")
    assert other.status_code == 404


def test_a_cancelled_export_leaves_no_file_and_no_export_event(cast: Cast) -> None:
    job = export(cast, full_id=True)
    Job.objects.filter(pk=job.pk).update(cancel_requested=True)
    job = run(job)
    assert job.status == JobStatus.CANCELLED
    assert not job.output_file
    assert not AuditEvent.objects.filter(action="chsi.export").exists()
