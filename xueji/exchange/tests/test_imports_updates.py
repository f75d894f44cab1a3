"""Student updates by 学号: planted bad rows reported exactly, locked fields sent to 信息更正,
scope as row errors, all-or-nothing commit, idempotent re-run, history and audit, code
translation through a source system's mappings."""

from __future__ import annotations

from typing import Any

from xueji.audit.models import AuditEvent
from xueji.conftest import Cast
from xueji.exchange.imports.mappings import translate_codes
from xueji.exchange.tests.test_imports_kinds import (
    audit_after,
    client_for,
    errors_of,
    more_students,
    report_listing,
    run_kind,
    sheet_bytes,
)
from xueji.jobs.models import JobStatus
from xueji.org.models import CodeMapping, CodeTable
from xueji.students.models import Student

HEADER = ["学号", "姓名", "政治面貌", "民族", "班号", "手机", "电子邮箱", "家庭地址"]


def row(student: Student, **values: Any) -> list[Any]:
    base = {"学号": student.student_number, "姓名": "", "政治面貌": "", "民族": "", "班号": "",
            "手机": "", "电子邮箱": "", "家庭地址": ""}  # fmt: skip
    base.update(values)
    return [base[h] for h in HEADER]


def test_a_clean_file_updates_only_what_differs_and_keeps_empty_cells(cast: Cast) -> None:
    cast.student.address = "北京市海淀区"
    cast.student.save()
    rows = [
        row(cast.student, 政治面貌="01", 手机="13800000001", 姓名=cast.student.name),
        row(cast.classmate_b, 班号=cast.class_a.code, 电子邮箱="lisi@example.edu.cn"),
        row(cast.other_student),  # nothing filled: unchanged
    ]
    data = sheet_bytes(HEADER, rows)
    dry = run_kind(cast, "students_update", data)
    assert dry.status == JobStatus.SUCCEEDED, dry.error
    assert (dry.result["rows"], dry.result["update"], dry.result["unchanged"]) == (3, 2, 1)
    assert dry.result["errors"] == 0
    assert Student.objects.get(pk=cast.student.pk).phone == ""  # the dry run wrote nothing
    versions = cast.student.history.count()
    commit = run_kind(cast, "students_update", data, dry_run=False)
    assert commit.status == JobStatus.SUCCEEDED, commit.error
    assert commit.result["updated"] == 2
    student = Student.objects.get(pk=cast.student.pk)
    assert (student.political_status, student.phone) == ("01", "13800000001")
    assert student.address == "北京市海淀区"  # empty cell kept the stored value
    classmate = Student.objects.get(pk=cast.classmate_b.pk)
    assert classmate.school_class_id == cast.class_a.pk
    assert classmate.email == "lisi@example.edu.cn"
    latest = student.history.first()
    assert student.history.count() == versions + 1
    assert latest.history_change_reason == "学生信息更新导入"
    assert latest.history_user_id == cast.registrar.pk and latest.history_type == "~"
    assert audit_after("import.students_update")["updated"] == 2
    # The same file again: nothing changes, no new versions, one more audit event.
    again = run_kind(cast, "students_update", data, dry_run=False)
    assert again.status == JobStatus.SUCCEEDED, again.error
    assert (again.result["updated"], again.result["unchanged"]) == (0, 3)
    assert student.history.count() == versions + 1
    assert AuditEvent.objects.filter(action="import.students_update").count() == 2


def test_the_dry_run_reports_exactly_the_planted_bad_rows(cast: Cast) -> None:
    s = more_students(cast, 6)
    rows = [
        row(cast.student, 手机="13800000001"),  # row 2: fine
        row(cast.student, 手机="13800000002"),  # row 3: 学号 twice
        row(cast.classmate_b, 姓名="李四四"),  # row 4: locked field differs
        ["2099999999", "", "", "", "", "", "", ""],  # row 5: unknown 学号
        row(s[0], 政治面貌="99"),  # row 6: code not in the table
        row(s[1], 电子邮箱="not-an-email"),  # row 7
        row(s[2], 班号=cast.class_fl.code),  # row 8: another major's class
        row(s[3], 手机="电话号码"),  # row 9
        row(s[4], 班号="NOPE01"),  # row 10
        row(cast.other_student, 姓名=cast.other_student.name),  # row 11: same value is fine
    ]
    job = run_kind(cast, "students_update", sheet_bytes(HEADER, rows))
    assert job.status == JobStatus.SUCCEEDED, job.error
    found = errors_of(job)
    assert [(r, c) for r, c, _ in found] == [
        (3, "学号"),
        (4, "姓名"),
        (5, "学号"),
        (6, "政治面貌"),
        (7, "电子邮箱"),
        (8, "班号"),
        (9, "手机"),
        (10, "班号"),
    ]
    reasons = {(r, c): reason for r, c, reason in found}
    assert "与第 2 行重复" in reasons[(3, "学号")]
    assert "信息更正" in reasons[(4, "姓名")] and "锁定" in reasons[(4, "姓名")]
    assert "不存在或不在您的管理范围内" in reasons[(5, "学号")]
    assert "不是政治面貌" in reasons[(6, "政治面貌")]
    assert "格式不正确" in reasons[(7, "电子邮箱")]
    assert "不属于该生的专业与年级" in reasons[(8, "班号")]
    assert "不是有效的电话号码" in reasons[(9, "手机")]
    assert "不存在" in reasons[(10, "班号")]
    assert (job.result["update"], job.result["unchanged"]) == (1, 1)
    assert report_listing(job)[1] == (4, "姓名", "李四四")


def test_a_commit_with_one_bad_row_writes_nothing(cast: Cast) -> None:
    rows = [row(cast.student, 手机="13800000001"), row(cast.classmate_b, 民族="99")]
    commit = run_kind(cast, "students_update", sheet_bytes(HEADER, rows), dry_run=False)
    assert commit.status == JobStatus.FAILED
    assert "未导入任何数据" in commit.error and commit.output_file
    assert Student.objects.get(pk=cast.student.pk).phone == ""
    assert not AuditEvent.objects.filter(action="import.students_update").exists()


def test_a_college_admin_gets_a_row_error_for_another_colleges_student(cast: Cast) -> None:
    rows = [row(cast.student, 手机="13800000001"), row(cast.other_student, 手机="13800000002")]
    data = sheet_bytes(HEADER, rows)
    job = run_kind(cast, "students_update", data, user=cast.college_admin)
    assert [(r, c) for r, c, _ in errors_of(job)] == [(3, "学号")]
    commit = run_kind(cast, "students_update", data, user=cast.college_admin, dry_run=False)
    assert commit.status == JobStatus.FAILED
    assert Student.objects.get(pk=cast.other_student.pk).phone == ""
    assert Student.objects.get(pk=cast.student.pk).phone == ""


def test_every_locked_column_with_a_different_value_points_to_corrections(cast: Cast) -> None:
    s = cast.student
    header = ["学号", "性别", "出生日期", "证件号码", "专业代码", "层次", "学制", "考生号"]
    gender = "男" if s.gender == "1" else "女"
    same = [s.student_number, gender, s.birth_date.strftime("%Y%m%d"), s.id_number.lower(),
            s.major.national_code, s.level, "4.0", s.candidate_number]  # fmt: skip
    other = [cast.classmate_b.student_number, "1", "2001-01-01", "110101200101010011",
             "050201", "01", "5", "999"]  # fmt: skip
    job = run_kind(cast, "students_update", sheet_bytes(header, [same, other]))
    assert job.status == JobStatus.SUCCEEDED, job.error
    found = errors_of(job)
    assert {r for r, _, _ in found} == {3}
    columns = [c for _, c, _ in found]
    assert columns == ["考生号", "性别", "出生日期", "证件号码", "专业代码", "层次", "学制"]
    assert all("信息更正" in reason for _, c, reason in found if c != "考生号")
    assert job.result["unchanged"] == 1


def test_a_gbk_csv_file_is_read(cast: Cast) -> None:
    text = "学号,家庭地址\n" + f"{cast.student.student_number},上海市　浦东新区\n"
    job = run_kind(cast, "students_update", text.encode("gbk"), name="更新.csv", dry_run=False)
    assert job.status == JobStatus.SUCCEEDED, job.error
    # The full-width space is made half-width.
    assert Student.objects.get(pk=cast.student.pk).address == "上海市 浦东新区"


def test_codes_are_translated_through_the_source_systems_mappings(cast: Cast) -> None:
    CodeMapping.objects.create(
        system="招生系统", table=CodeTable.ETHNICITY, external_code="HA", code="01"
    )
    CodeMapping.objects.create(
        system="招生系统", table=CodeTable.ETHNICITY, external_code="MG", code="02"
    )
    rows = [
        row(cast.student, 民族="MG", 政治面貌="01"),  # 政治面貌: no mappings, passes as is
        row(cast.classmate_b, 民族="ZZ"),  # unmapped
    ]
    data = sheet_bytes(HEADER, rows)
    job = run_kind(cast, "students_update", data, system="招生系统")
    assert errors_of(job) == [
        (3, "民族", "来源系统“招生系统”的民族代码映射中没有外部代码“ZZ”，请先导入该代码的映射")
    ]
    rows[1] = row(cast.classmate_b, 民族="HA")
    commit = run_kind(
        cast, "students_update", sheet_bytes(HEADER, rows), system="招生系统", dry_run=False
    )
    assert commit.status == JobStatus.SUCCEEDED, commit.error
    student = Student.objects.get(pk=cast.student.pk)
    assert (student.ethnicity, student.political_status) == ("02", "01")
    assert audit_after("import.students_update")["system"] == "招生系统"
    # Without the system, "MG" is no ethnicity code of ours.
    plain = run_kind(cast, "students_update", sheet_bytes(HEADER, [row(cast.student, 民族="MG")]))
    assert [(r, c) for r, c, _ in errors_of(plain)] == [(2, "民族")]


def test_translate_codes_is_a_pure_function_over_the_rows() -> None:
    rows = [(2, ["2024000001", "ＨＡ ", ""]), (3, ["2024000002", "XX"]), (4, ["2024000003", "MG"])]
    errors = translate_codes(
        rows,
        {"XH": 0, "MZ": 1, "ZZMM": 2},
        {"MZ": CodeTable.ETHNICITY, "ZZMM": CodeTable.POLITICAL_STATUS},
        {CodeTable.ETHNICITY: {"HA": "01", "MG": "02"}},
        system="招生系统",
        labels={"MZ": "民族"},
    )
    # Full-width and stray spaces are normalised before the look-up; unmapped cells stay.
    assert [cells[1] for _, cells in rows] == ["01", "XX", "02"]
    assert [(e.row, e.column, e.value, e.label) for e in errors] == [(3, "MZ", "XX", "民族")]


def test_the_page_uploads_with_a_source_system_and_confirms(cast: Cast) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from xueji.jobs.models import Job
    from xueji.jobs.services import job_run

    client = client_for(cast.college_admin)
    data = sheet_bytes(HEADER, [row(cast.student, 手机="13800000009")])
    response = client.post(
        "/exchange/imports/students_update/",
        {"file": SimpleUploadedFile("u.xlsx", data), "system": "  招生系统 "},
    )
    job = Job.objects.get(kind="import.students_update.dry_run")
    assert response["Location"] == f"/exchange/imports/jobs/{job.pk}/"
    assert job.params["system"] == "招生系统"
    job_run(job.pk)
    partial = client.get(f"/exchange/imports/jobs/{job.pk}/?partial=result").content.decode()
    assert 'data-count="update">1<' in partial and "确认导入" in partial
    client.post(f"/exchange/imports/jobs/{job.pk}/confirm/")
    commit = Job.objects.get(kind="import.students_update.commit")
    assert commit.params["system"] == "招生系统"
    job_run(commit.pk)
    page = client.get(f"/exchange/imports/jobs/{commit.pk}/").content.decode()
    assert "导入完成：新增 0 人，更新 1 人" in page
    assert Student.objects.get(pk=cast.student.pk).phone == "13800000009"
