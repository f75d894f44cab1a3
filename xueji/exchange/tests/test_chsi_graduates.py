"""The graduate exports: 毕业证书电子注册 and 学位授予信息 — rows filled from the student record,
the diploma and the degree award, each planted problem found, scope, and a full export job."""

from __future__ import annotations

import io
from datetime import date

import pytest
from python_calamine import CalamineWorkbook

from xueji.audit.models import AuditEvent
from xueji.conftest import Cast
from xueji.core.exceptions import NotFound
from xueji.core.masking import mask_id_number
from xueji.exchange.chsi import degrees, diplomas, selectors
from xueji.exchange.chsi.dbf import read_dbf
from xueji.exchange.chsi.kinds import Filters, kind_for
from xueji.exchange.chsi.services import chsi_export_start
from xueji.jobs.models import Job, JobStatus
from xueji.jobs.services import job_run
from xueji.students.diplomas import degrees_confer, diplomas_assign
from xueji.students.models import Diploma, Student, StudentStatus
from xueji.students.services import student_status_set

YEAR = 2028
OUT = date(YEAR, 6, 30)


def leave(cast: Cast, student: Student, status: str) -> None:
    student_status_set(
        actor=cast.actor(cast.registrar),
        student=student,
        status=status,
        effective_date=OUT,
        reason="毕业审核",
    )


@pytest.fixture
def grads(cast: Cast) -> Cast:
    """student: 毕业, numbered, photo, 学士学位; other_student: 毕业, numbered, photo, no degree;
    classmate_b: 结业 after the numbering run (no number) and no photo."""
    cast.school.president_name = "张校长"
    cast.school.degree_chair_name = "李主席"
    cast.school.save()
    Student.objects.filter(pk__in=[cast.student.pk, cast.other_student.pk]).update(
        photo="photos/x.jpg"
    )
    leave(cast, cast.student, StudentStatus.GRADUATED)
    leave(cast, cast.other_student, StudentStatus.GRADUATED)
    diplomas_assign(actor=cast.actor(cast.registrar), year=YEAR, issue_date=OUT)
    leave(cast, cast.classmate_b, StudentStatus.COMPLETED)
    degrees_confer(
        actor=cast.actor(cast.registrar),
        student_ids=[cast.student.pk],
        conferral_date=OUT,
        decision_number="示大学位〔2028〕3号",
        level="4",
    )
    return cast


def rows_of(kind, user, **filters):
    return {r.student_number: r for r in kind.rows(user, Filters(**filters))}


def messages(row) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for p in row.problems:
        found.setdefault(p.column, []).append(p.message)
    return found


def test_both_kinds_are_registered_for_a_year():
    for key in ("diplomas", "degrees"):
        kind = kind_for(key)
        assert kind.required_filters == ("year",)
        assert "college_id" in kind.filters
        assert kind.masked_columns == ("ZJHM",)


# --- 毕业证书电子注册 ---------------------------------------------------------------------------


def test_diploma_rows_are_filled_from_the_record_and_the_numbered_diploma(grads: Cast):
    cast = grads
    rows = rows_of(diplomas.KIND, cast.registrar, year=YEAR)
    assert set(rows) == {
        cast.student.student_number,
        cast.other_student.student_number,
        cast.classmate_b.student_number,
    }
    row = rows[cast.student.student_number]
    assert row.problems == []
    assert list(row.values) == [c.code for c in diplomas.COLUMNS]
    number = Diploma.objects.get(student=cast.student).number
    assert row.values["ZSBH"] == number == "109991202805000002"
    assert row.values["BJYJL"] == "毕业"
    assert row.values["BYRQ"] == "20280630"
    assert row.values["RXRQ"] == "20240901"
    assert row.values["XZXM"] == "张校长"
    assert row.values["ZJHM"] == cast.student.id_number  # unmasked: the runner masks
    assert row.values["CC"] == "05"


def test_the_check_finds_a_missing_number_and_a_missing_photo(grads: Cast):
    cast = grads
    row = rows_of(diplomas.KIND, cast.registrar, year=YEAR)[cast.classmate_b.student_number]
    found = messages(row)
    assert set(found) == {"ZSBH", "ZP"}
    assert "尚未编制证书编号" in found["ZSBH"][0]
    assert "缺少照片" in found["ZP"][0]
    assert row.values["BJYJL"] == "结业"


def test_the_check_finds_a_number_off_the_rule_a_missing_president_and_early_issue(
    grads: Cast,
):
    cast = grads
    Diploma.objects.filter(student=cast.other_student).update(
        number="109991202806000001", president_name="", issue_date=date(YEAR, 6, 1)
    )
    row = rows_of(diplomas.KIND, cast.registrar, year=YEAR)[cast.other_student.student_number]
    found = messages(row)
    assert set(found) == {"ZSBH", "XZXM", "BYRQ"}
    assert "培养层次码“05”" in found["ZSBH"][0]
    assert "校（院）长姓名为空" in found["XZXM"][0]
    assert "早于毕（结）业日期" in found["BYRQ"][0]


def test_the_check_keeps_the_identity_checks_of_the_new_student_file(grads: Cast):
    cast = grads
    Student.objects.filter(pk=cast.student.pk).update(ethnicity="99", school_class=None)
    found = messages(rows_of(diplomas.KIND, cast.registrar, year=YEAR)[cast.student.student_number])
    # 民族 is in this file; 班号 is not, so having no class is no problem here.
    assert set(found) == {"MZ"}


def test_non_completion_is_not_in_the_registration_file(grads: Cast):
    cast = grads
    Student.objects.filter(pk=cast.classmate_b.pk).update(status=StudentStatus.NON_COMPLETION)
    rows = rows_of(diplomas.KIND, cast.registrar, year=YEAR)
    assert cast.classmate_b.student_number not in rows


def test_another_year_has_nobody(grads: Cast):
    assert rows_of(diplomas.KIND, grads.registrar, year=YEAR + 1) == {}


def test_a_college_admin_gets_only_their_own_college(grads: Cast):
    cast = grads
    rows = rows_of(diplomas.KIND, cast.college_admin, year=YEAR)
    assert set(rows) == {cast.student.student_number, cast.classmate_b.student_number}
    with pytest.raises(NotFound):
        selectors.check_filter_scope(cast.college_admin, Filters(year=YEAR, college_id=cast.fl.pk))
    with pytest.raises(NotFound):
        chsi_export_start(
            actor=cast.actor(cast.college_admin),
            kind="diplomas",
            filters=Filters(year=YEAR, college_id=cast.fl.pk),
            fmt="xlsx",
            purpose="学历注册上报",
        )


# --- 学位授予信息 -----------------------------------------------------------------------------


def test_degree_rows_carry_the_award_and_list_graduates_without_one(grads: Cast):
    cast = grads
    rows = rows_of(degrees.KIND, cast.registrar, year=YEAR)
    # 结业 students receive no degree and are not in the degree file.
    assert set(rows) == {cast.student.student_number, cast.other_student.student_number}
    row = rows[cast.student.student_number]
    assert row.problems == []
    assert list(row.values) == [c.code for c in degrees.COLUMNS]
    assert row.values["XWZSBH"] == "1099942028000001"
    assert row.values["XWLBM"] == "408"
    assert row.values["XWLB"] == "工学学士学位"
    assert row.values["HXWRQ"] == "20280630"
    assert row.values["BYNY"] == "202806"
    assert row.values["RXNY"] == "202409"
    assert row.values["XWSYDWM"] == row.values["PYDWM"] == "10999"
    assert (row.values["XZXM"], row.values["ZXXM"]) == ("张校长", "李主席")
    assert row.values["JYBH"] == "示大学位〔2028〕3号"
    assert row.values["XMPY"] == cast.student.name_pinyin != ""
    assert row.values["XBM"] == "1"
    missing = messages(rows[cast.other_student.student_number])
    assert set(missing) == {"XWZSBH"}
    assert "未授予学位" in missing["XWZSBH"][0]


def test_degree_check_maps_identity_problems_to_the_degree_columns(grads: Cast):
    cast = grads
    Student.objects.filter(pk=cast.student.pk).update(ethnicity="99", name_pinyin="")
    found = messages(rows_of(degrees.KIND, cast.registrar, year=YEAR)[cast.student.student_number])
    assert set(found) == {"MZM", "XMPY"}


# --- A whole export job ----------------------------------------------------------------------


def run(job: Job) -> Job:
    job_run(job.pk)
    job.refresh_from_db()
    return job


def test_a_valid_only_diploma_export_writes_the_good_rows_masked_and_audits_it(grads: Cast):
    cast = grads
    job = run(
        chsi_export_start(
            actor=cast.actor(cast.college_admin),
            kind="diplomas",
            filters=Filters(year=YEAR),
            fmt="xlsx",
            purpose="学信网学历证书电子注册上报",
            valid_only=True,
        )
    )
    assert job.status == JobStatus.SUCCEEDED, job.error
    with job.output_file.open("rb") as fh:
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(fh.read())).get_sheet_by_index(0)
    rows = sheet.to_python()
    assert rows[0] == [c.code for c in diplomas.COLUMNS]
    # classmate_b (no number, no photo) is left out; other_student is another college.
    assert [r[1] for r in rows[1:]] == [cast.student.student_number]
    assert rows[1][6] == mask_id_number(cast.student.id_number)
    event = AuditEvent.objects.filter(action="chsi.export").latest("seq")
    assert event.actor_username == cast.college_admin.username


def test_a_degree_export_as_dbf_holds_the_codes_in_gbk(grads: Cast):
    cast = grads
    job = run(
        chsi_export_start(
            actor=cast.actor(cast.registrar),
            kind="degrees",
            filters=Filters(year=YEAR, college_id=cast.cs.pk),
            fmt="dbf",
            purpose="学位授予信息上报",
            full_id=True,
        )
    )
    assert job.status == JobStatus.SUCCEEDED, job.error
    with job.output_file.open("rb") as fh:
        table = read_dbf(fh.read())
    names = [f.name for f in table.fields]
    assert names == [c.code for c in degrees.COLUMNS]
    assert len(table.records) == 1
    record = dict(zip(names, table.records[0], strict=True))
    assert record["XM"] == "单小明"
    assert record["XWZSBH"] == "1099942028000001"
    assert record["ZJHM"] == cast.student.id_number


@pytest.mark.parametrize("kind", [diplomas.KIND, degrees.KIND])
def test_the_rows_read_classes_majors_and_colleges_with_the_students_not_one_by_one(
    grads: Cast, kind
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        rows = rows_of(kind, grads.registrar, year=YEAR)
    assert rows
    per_row = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].split(" FROM ", 1)[-1].startswith(('"org_schoolclass"', '"org_major"'))
    ]
    assert per_row == []
