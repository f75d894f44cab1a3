"""Admission vs registration cross-check: a generated admission list with planted differences
is compared with the registered students; the queue holds exactly what was planted."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import xlsxwriter
from django.test import Client
from django.urls import reverse

from xueji.audit.models import AuditEvent
from xueji.conftest import PASSWORD, Cast, make_student, make_user
from xueji.core.exceptions import DomainError, NotFound, PermissionDenied, ValidationFailed
from xueji.core.masking import mask_id_number
from xueji.exchange.crosscheck import jobs as crosscheck_jobs
from xueji.exchange.crosscheck import loader, selectors, services
from xueji.exchange.models import AdmissionBatch, Discrepancy, DiscrepancyStatus
from xueji.jobs import services as job_services
from xueji.jobs.models import Job, JobStatus
from xueji.students.idcards import make_resident_id
from xueji.students.models import Student

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def job_kind():
    crosscheck_jobs.register_job_kinds()


def row_of(student: Student) -> dict[str, Any]:
    """The admission row that agrees with the student in every compared field."""
    return {
        "考生号": student.candidate_number,
        "姓名": student.name,
        "证件号码": student.id_number,
        "性别": student.gender,
        "出生日期": student.birth_date.isoformat(),
        "专业代码": student.major.national_code,
        "专业名称": student.major.name,
        "层次": student.level,
        "学制": str(student.duration),
        "照片": "有" if student.photo else "否",
    }


def load(cast: Cast, rows: list[dict[str, Any]], year: int = 2024) -> AdmissionBatch:
    return services.admission_batch_load(
        actor=cast.actor(cast.registrar), name="2024 级录取库", year=year, rows=rows
    )


def run(cast: Cast, batch: AdmissionBatch) -> Job:
    job = services.crosscheck_start(actor=cast.actor(cast.registrar), batch=batch)
    assert job_services.job_run(job.pk) == JobStatus.SUCCEEDED
    job.refresh_from_db()
    return job


def found(batch: AdmissionBatch, status: str | None = DiscrepancyStatus.OPEN) -> set[tuple]:
    rows = Discrepancy.objects.filter(batch=batch)
    if status:
        rows = rows.filter(status=status)
    return {(d.kind, d.candidate_number, d.field) for d in rows}


@pytest.fixture
def freshmen(cast: Cast) -> list[Student]:
    """30 registered 2024 students of 计算机学院 besides the cast's three."""
    common = {"college": cast.cs, "major": cast.cs_major, "cohort": cast.cohort}
    return [
        make_student(school_class=cast.class_a, serial=100 + i, name=f"学生{i}", **common)
        for i in range(30)
    ]


def planted_list(cast: Cast, freshmen: list[Student]) -> tuple[list[dict[str, Any]], set[tuple]]:
    """The admission list of every registered student, with differences planted, and the set
    of (kind, 考生号, field) the cross-check must find."""
    everyone = [cast.student, cast.classmate_b, cast.other_student, *freshmen]
    rows = {s.candidate_number: row_of(s) for s in everyone}
    s = freshmen
    expected: set[tuple] = set()

    def plant(student: Student, heading: str, value: str, field: str) -> None:
        rows[student.candidate_number][heading] = value
        expected.add(("field", student.candidate_number, field))

    plant(s[0], "姓名", "学生零", "name")
    plant(s[1], "证件号码", make_resident_id("110101", s[1].birth_date, "1", 77), "id_number")
    plant(s[2], "性别", "2", "gender")
    plant(s[3], "出生日期", "2004-12-31", "birth_date")
    plant(s[4], "专业代码", "050201", "major")
    plant(s[5], "层次", "01", "level")
    plant(s[6], "学制", "5", "duration")
    plant(s[7], "照片", "是", "photo")
    # A different 考生号: matched by 证件号码, the 考生号 itself reported.
    moved = rows.pop(s[8].candidate_number)
    moved["考生号"] = "24999999000001"
    rows["24999999000001"] = moved
    expected.add(("field", "24999999000001", "candidate_number"))
    # Admitted, never registered (one with a major of 外国语学院).
    for number, major in (("24888888000001", "080901"), ("24888888000002", "050201")):
        rows[number] = {**row_of(s[9]), "考生号": number, "证件号码": "", "专业代码": major}
        rows[number]["姓名"] = f"未报到{number[-1]}"
        expected.add(("not_registered", number, ""))
    # Registered, not in the admission list.
    for student in (s[10], cast.other_student):
        del rows[student.candidate_number]
        expected.add(("not_admitted", student.candidate_number, ""))
    # Noise that is the same value written differently: must not be reported.
    noisy = rows[s[11].candidate_number]
    noisy["考生号"] = noisy["考生号"].translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    noisy["姓名"] = f" {noisy['姓名'][0]} {noisy['姓名'][1:]} "
    noisy["性别"] = "男" if s[11].gender == "1" else "女"
    noisy["出生日期"] = (s[11].birth_date - date(1899, 12, 30)).days  # an Excel serial date
    noisy["学制"] = "4.0"
    noisy["证件号码"] = noisy["证件号码"].lower()
    blank = rows[s[12].candidate_number]
    blank["证件号码"] = blank["专业代码"] = ""  # not given: not compared
    return list(rows.values()), expected


def test_the_cross_check_finds_every_planted_difference_and_nothing_else(
    cast: Cast, freshmen: list[Student]
):
    rows, expected = planted_list(cast, freshmen)
    batch = load(cast, rows)

    job = run(cast, batch)

    assert found(batch) == expected
    assert job.result["found"] == len(expected) == 13
    assert job.phase == "写入差异清单"
    name = Discrepancy.objects.get(batch=batch, candidate_number=freshmen[0].candidate_number)
    assert (name.admission_value, name.record_value) == ("学生零", "学生0")
    assert name.student == freshmen[0] and name.college == cast.cs
    far = Discrepancy.objects.get(candidate_number="24888888000002")
    assert far.student is None and far.college == cast.fl
    assert AuditEvent.objects.filter(action="crosscheck.run", target_id=str(batch.pk)).exists()


def test_re_running_the_check_keeps_the_queue_and_closes_what_was_corrected(
    cast: Cast, freshmen: list[Student]
):
    rows, _expected = planted_list(cast, freshmen)
    batch = load(cast, rows)
    run(cast, batch)
    accepted = Discrepancy.objects.get(batch=batch, field="major")
    services.discrepancy_resolve(
        actor=cast.actor(cast.registrar), discrepancy=accepted, status="accepted", note="已转专业"
    )
    Student.objects.filter(pk=freshmen[0].pk).update(name="学生零")  # the record corrected

    job = run(cast, batch)

    assert job.result == {"batch": batch.pk, "found": 12, "new": 0, "reopened": 0, "closed": 1}
    assert Discrepancy.objects.filter(batch=batch).count() == 13
    assert found(batch, DiscrepancyStatus.ACCEPTED) == {
        ("field", accepted.candidate_number, "major")
    }
    closed = Discrepancy.objects.get(batch=batch, field="name")
    assert closed.status == "resolved" and closed.resolved_by is None


def test_a_difference_marked_corrected_but_still_there_is_reopened(cast: Cast, freshmen):
    rows = [row_of(s) for s in freshmen] + [row_of(cast.student), row_of(cast.classmate_b)]
    rows[0]["姓名"] = "别名"
    batch = load(cast, rows)
    run(cast, batch)
    wrong = Discrepancy.objects.get(batch=batch, kind="field")
    services.discrepancy_resolve(
        actor=cast.actor(cast.registrar), discrepancy=wrong, status="resolved", note="已改"
    )

    assert run(cast, batch).result["reopened"] == 1
    wrong.refresh_from_db()
    assert wrong.status == "open" and "已改" in wrong.resolution_note


def test_bad_admission_rows_are_all_reported_with_row_and_column_and_nothing_is_stored(
    cast: Cast,
):
    rows = [
        row_of(cast.student),
        {**row_of(cast.classmate_b), "出生日期": "2005-13-01", "性别": "X"},
        {**row_of(cast.other_student), "考生号": cast.student.candidate_number, "学制": "四"},
        {**row_of(cast.other_student), "姓名": ""},
    ]
    with pytest.raises(ValidationFailed) as caught:
        load(cast, rows)

    errors = caught.value.errors
    assert errors["出生日期"] == ["第 3 行：出生日期“2005-13-01”不是有效日期（应为 YYYY-MM-DD）"]
    assert errors["性别"] == ["第 3 行：性别“X”应为 1/2 或 男/女"]
    assert errors["考生号"] == [f"第 4 行：考生号“{cast.student.candidate_number}”与第 2 行重复"]
    assert errors["学制"] == ["第 4 行：学制“四”应为 0.5–10 之间的年数"]
    assert errors["姓名"] == ["第 5 行：姓名不能为空"]
    assert not AdmissionBatch.objects.exists()


@pytest.mark.parametrize("who", ["college_admin", "counsellor", "auditor", "student_user"])
def test_only_the_registrar_loads_admission_data_and_runs_the_check(cast: Cast, who: str):
    with pytest.raises(PermissionDenied):
        services.admission_batch_load(
            actor=cast.actor(getattr(cast, who)), name="x", year=2024, rows=[row_of(cast.student)]
        )
    batch = load(cast, [row_of(cast.student)])
    with pytest.raises(PermissionDenied):
        services.crosscheck_start(actor=cast.actor(getattr(cast, who)), batch=batch)


def test_a_college_admin_sees_and_settles_only_their_colleges_differences(cast: Cast):
    rows = [
        {**row_of(cast.student), "姓名": "别名"},
        {**row_of(cast.other_student), "姓名": "别名"},
        row_of(cast.classmate_b),
    ]
    batch = load(cast, rows)
    run(cast, batch)
    mine = Discrepancy.objects.get(candidate_number=cast.student.candidate_number)
    theirs = Discrepancy.objects.get(candidate_number=cast.other_student.candidate_number)

    visible = selectors.discrepancy_list(cast.college_admin, batch=batch)
    assert list(visible) == [mine]
    with pytest.raises(NotFound):
        selectors.get_discrepancy_for(cast.college_admin, theirs.pk)
    with pytest.raises(PermissionDenied):
        services.discrepancy_resolve(
            actor=cast.actor(cast.college_admin), discrepancy=theirs, status="resolved", note="x"
        )
    with pytest.raises(DomainError, match="请写明如何处理"):
        services.discrepancy_resolve(
            actor=cast.actor(cast.college_admin), discrepancy=mine, status="resolved", note=" "
        )
    services.discrepancy_resolve(
        actor=cast.actor(cast.college_admin), discrepancy=mine, status="resolved", note="已更正姓名"
    )
    mine.refresh_from_db()
    assert (mine.status, mine.resolved_by, mine.resolution_note) == (
        "resolved",
        cast.college_admin,
        "已更正姓名",
    )
    event = AuditEvent.objects.get(action="crosscheck.discrepancy_resolve")
    assert event.target_id == str(mine.pk)
    assert selectors.discrepancy_list(cast.counsellor).count() == 0
    assert selectors.discrepancy_list(cast.auditor).count() == 2


def test_the_loader_reads_xlsx_and_gbk_csv_with_row_numbers(cast: Cast):
    heading = list(row_of(cast.student))
    values = list(row_of(cast.student).values())
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out)
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, heading)
    sheet.write_row(2, 0, values)  # row 2 left blank
    book.close()
    [row] = loader.read_rows(out.getvalue(), "录取.xlsx")
    assert row["_row"] == 3 and row["考生号"] == cast.student.candidate_number

    text = io.StringIO()
    csv.writer(text).writerows([heading, values])
    [row] = loader.read_rows(text.getvalue().encode("gbk"), "录取.csv")
    assert row["姓名"] == cast.student.name
    assert services.admission_batch_load(
        actor=cast.actor(cast.registrar), name="csv", year=2024, rows=[row]
    ).records.get().duration == Decimal("4")
    with pytest.raises(DomainError, match="无法读取文件"):
        loader.read_rows(b"not a workbook", "x.xlsx")


# --- pages ---------------------------------------------------------------------------------


def client_as(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_the_registrar_uploads_a_file_and_lands_on_the_job_page(cast: Cast):
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(row_of(cast.student)))
    writer.writeheader()
    writer.writerow({**row_of(cast.student), "姓名": "别名"})
    upload = io.BytesIO(text.getvalue().encode("utf-8"))
    upload.name = "录取.csv"

    response = client_as(cast.registrar).post(
        reverse("crosscheck-list"), {"name": "2024 录取", "year": 2024, "file": upload}
    )

    job = Job.objects.get(kind="crosscheck.run")
    assert response.status_code == 302 and response.url == reverse("job-detail", args=[job.pk])
    job_services.job_run(job.pk)
    batch = AdmissionBatch.objects.get()
    page = client_as(cast.registrar).get(reverse("crosscheck-batch", args=[batch.pk]))
    assert page.status_code == 200
    assert page.content.decode().count('data-kind="field"') == 1
    assert page.content.decode().count('data-kind="not_admitted"') == 2


def test_a_bad_upload_shows_each_problem_and_stores_nothing(cast: Cast):
    upload = io.BytesIO("考生号,姓名\n,张三\n".encode())
    upload.name = "录取.csv"
    response = client_as(cast.registrar).post(
        reverse("crosscheck-list"), {"name": "x", "year": 2024, "file": upload}
    )
    assert response.status_code == 400
    assert "第 2 行：考生号不能为空" in response.content.decode()
    assert not AdmissionBatch.objects.exists()


def test_a_college_admin_resolves_on_the_page_but_gets_404_for_another_college(cast: Cast):
    batch = load(cast, [{**row_of(cast.student), "姓名": "别名"}])
    run(cast, batch)
    mine = Discrepancy.objects.get(kind="field")
    theirs = Discrepancy.objects.get(candidate_number=cast.other_student.candidate_number)
    client = client_as(cast.college_admin)

    page = client.get(reverse("crosscheck-batch", args=[batch.pk]))
    assert f'data-discrepancy="{mine.pk}"' in page.content.decode()
    assert f'data-discrepancy="{theirs.pk}"' not in page.content.decode()
    url = reverse("crosscheck-resolve", args=[theirs.pk])
    assert client.post(url, {"status": "accepted", "note": "x"}).status_code == 404
    url = reverse("crosscheck-resolve", args=[mine.pk])
    assert client.post(url, {"status": "accepted", "note": "同音字，已核实"}).status_code == 302
    mine.refresh_from_db()
    assert mine.status == "accepted"
    # Uploading and re-running are the registrar's.
    assert client.post(reverse("crosscheck-run", args=[batch.pk])).status_code == 403
    assert client.post(reverse("crosscheck-list"), {}).status_code == 403


@pytest.mark.parametrize("who", ["counsellor", "advisor"])
def test_other_staff_roles_get_403_on_the_cross_check_pages(cast: Cast, who: str):
    assert client_as(getattr(cast, who)).get(reverse("crosscheck-list")).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in_and_students_away(cast: Cast):
    response = Client().get(reverse("crosscheck-list"))
    assert response.status_code == 302 and "login" in response.url
    assert client_as(cast.student_user).get(reverse("crosscheck-list")).status_code == 302


def test_a_college_admin_of_another_college_sees_nothing_of_this_college(cast: Cast):
    other_admin = make_user("fl-admin", "college_admin", "college", college=cast.fl)
    batch = load(cast, [{**row_of(cast.student), "姓名": "别名"}, row_of(cast.other_student)])
    run(cast, batch)
    page = client_as(other_admin).get(reverse("crosscheck-batch", args=[batch.pk]))
    assert page.status_code == 200
    assert 'data-kind="field"' not in page.content.decode()
    assert 'data-kind="not_admitted"' not in page.content.decode()


def test_the_queue_page_masks_id_numbers_on_both_sides(cast: Cast):
    other_id = make_resident_id("110101", cast.student.birth_date, cast.student.gender, 77)
    batch = load(cast, [{**row_of(cast.student), "证件号码": other_id}])
    run(cast, batch)
    assert Discrepancy.objects.filter(field="id_number").exists()
    page = client_as(cast.registrar).get(reverse("crosscheck-batch", args=[batch.pk]))
    text = page.content.decode()
    assert other_id not in text and cast.student.id_number not in text
    assert mask_id_number(other_id) in text and mask_id_number(cast.student.id_number) in text
