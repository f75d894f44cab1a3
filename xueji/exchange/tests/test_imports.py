"""Freshman files for the import tests: N valid rows built from the cast's majors and classes,
written as xlsx (XlsxWriter, like a registrar's sheet) or CSV in a given encoding."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from python_calamine import CalamineWorkbook

from xueji.audit.models import AuditEvent
from xueji.conftest import Cast
from xueji.core.exceptions import PermissionDenied
from xueji.exchange.imports import normalise, services
from xueji.exchange.imports.columns import FRESHMAN_COLUMNS
from xueji.exchange.imports.runner import COMMIT, DRY_RUN
from xueji.jobs.models import Job, JobStatus
from xueji.jobs.services import job_run
from xueji.students.idcards import make_resident_id
from xueji.students.models import StatusLedgerEntry, Student, StudentState

KEYS = [c.key for c in FRESHMAN_COLUMNS]
LABELS = [c.label for c in FRESHMAN_COLUMNS]


def freshman_rows(cast: Cast, count: int) -> list[dict[str, Any]]:
    """Valid rows: two thirds 计算机学院 (classes 计科2401/2402), a third 外国语学院."""
    rows = []
    for i in range(count):
        gender = "1" if i % 2 else "2"
        birth = date(2005, 1, 1) + timedelta(days=i)
        birth_cell = datetime(birth.year, birth.month, birth.day)
        if i % 3 == 2:
            major, klass, college = cast.fl_major, cast.class_fl, cast.fl
        else:
            major, klass, college = cast.cs_major, (cast.class_a, cast.class_b)[i % 2], cast.cs
        rows.append(
            {
                "KSH": f"24110102{i:06d}",
                "XH": f"2024{500000 + i:06d}",
                "XM": f"新生{i}",
                "XB": gender,
                # Dates as people type them: text in three spellings and real date cells.
                "CSRQ": birth.strftime("%Y%m%d") if i % 2 else birth_cell,
                "ZJLX": "1",
                "ZJHM": make_resident_id("110102", birth, gender, 100 + i),
                "ZZMM": "03",
                "MZ": "01",
                "ZYDM": major.national_code,
                "ZYMC": major.name,
                "FY": college.name,
                "XSH": "",
                "BH": klass.code,
                "CC": "本科" if i % 4 == 0 else major.level,
                "XXXS": "11",
                "XZ": "4",
                "RXRQ": "2024-09-01" if i % 2 else "2024/9/1",
                "YJBYRQ": "20280630",
                "SYD": "",
                "SJ": f"139{i:08d}",
            }
        )  # fmt: skip
    return rows


def xlsx_bytes(rows: list[dict[str, Any]], *, header: list[str] | None = None) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    for col, label in enumerate(header or LABELS):
        sheet.write_string(0, col, label)
    for r, row in enumerate(rows, start=1):
        for col, key in enumerate(KEYS):
            value = row.get(key, "")
            if isinstance(value, datetime):
                sheet.write_datetime(r, col, value, date_format)
            elif isinstance(value, (int, float)):
                sheet.write_number(r, col, value)
            else:
                sheet.write_string(r, col, str(value))
    book.close()
    return buffer.getvalue()


def csv_bytes(rows: list[dict[str, Any]], encoding: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(LABELS)
    for row in rows:
        writer.writerow(
            [row[k].strftime("%Y-%m-%d") if isinstance(row[k], datetime) else row[k] for k in KEYS]
        )
    return out.getvalue().encode(encoding)


def upload(data: bytes, name: str = "新生.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


# --- The tests ------------------------------------------------------------------------------


def run_import(cast: Cast, data: bytes, *, user=None, dry_run=True, name="新生.xlsx") -> Job:
    with transaction.atomic():
        job = services.freshman_import_start(
            actor=cast.actor(user or cast.registrar), upload=upload(data, name), dry_run=dry_run
        )
    job_run(job.pk)
    job.refresh_from_db()
    return job


def plant_bad_rows(cast: Cast, rows: list[dict[str, Any]]) -> dict[int, tuple[str, str]]:
    """Spoil 20 rows, each in one way; returns {sheet row: (column label, reason fragment)}."""
    planted: dict[int, tuple[str, str]] = {}

    def spoil(index: int, key: str, value: Any, label: str, reason: str) -> None:
        rows[index][key] = value
        planted[index + 2] = (label, reason)

    zjhm = rows[10]["ZJHM"]
    spoil(10, "ZJHM", zjhm[:-1] + ("0" if zjhm[-1] != "0" else "1"), "证件号码", "校验位错误")
    spoil(20, "CSRQ", "20040101", "证件号码", "与填写的出生日期")
    spoil(30, "MZ", "99", "民族", "不是民族")
    spoil(40, "XH", rows[39]["XH"], "学号", "与第 41 行重复")
    spoil(50, "XH", cast.classmate_b.student_number, "学号", "已被其他学生使用")
    spoil(60, "RXRQ", "2024-13-01", "入学日期", "不是有效日期")
    spoil(70, "XM", "  ", "姓名", "姓名为必填项")
    spoil(80, "ZYDM", "999999", "专业代码", "不是本校已设置的专业")
    spoil(90, "XB", "1" if rows[90]["XB"] == "2" else "2", "证件号码", "性别")
    spoil(100, "KSH", rows[99]["KSH"], "考生号", "与第 101 行重复")
    rows[110].update(CSRQ=rows[109]["CSRQ"], XB=rows[109]["XB"])
    spoil(110, "ZJHM", rows[109]["ZJHM"], "证件号码", "与第 111 行重复")
    # Same ID as a student already on record; keep birth date and gender consistent with it.
    rows[120].update(CSRQ=cast.other_student.birth_date.strftime("%Y%m%d"), XB="1")
    spoil(120, "ZJHM", cast.other_student.id_number, "证件号码", "已属于另一名学生")
    spoil(130, "XZ", "9", "学制", "不是学信网允许的取值")
    spoil(140, "YJBYRQ", "2024-06-30", "预计毕业日期", "应晚于入学日期")
    spoil(150, "BH", "XX9999", "班号", "不存在")
    spoil(160, "BH", cast.class_fl.code, "班号", "不属于专业")  # row 160 is a CS row
    spoil(170, "KSH", "1" * 19, "考生号", "最长 18 位")
    spoil(180, "XXXS", "夜大学x", "学习形式", "不是学习形式")
    spoil(190, "ZJLX", "Q", "证件类型", "不是证件类型")
    spoil(200, "KSH", cast.student.candidate_number, "学号", "考生号已对应学号")
    assert len(planted) == 20
    return planted


def test_a_clean_file_dry_runs_as_all_new_and_writes_no_student(cast: Cast) -> None:
    before = Student.objects.count()
    job = run_import(cast, xlsx_bytes(freshman_rows(cast, 30)))
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["rows"] == 30
    assert (job.result["new"], job.result["unchanged"], job.result["update"]) == (30, 0, 0)
    assert job.result["errors"] == 0
    assert not job.output_file
    assert Student.objects.count() == before
    assert (job.phase, job.done, job.total) == ("校验", 30, 30)


def test_the_dry_run_reports_exactly_the_twenty_planted_errors(cast: Cast) -> None:
    rows = freshman_rows(cast, 1000)
    planted = plant_bad_rows(cast, rows)
    job = run_import(cast, xlsx_bytes(rows))
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["rows"] == 1000
    assert job.result["errors"] == 20
    assert job.result["new"] == 980
    found = {e["row"]: (e["column"], e["reason"]) for e in job.result["errors_preview"]}
    assert set(found) == set(planted)
    for row, (label, fragment) in planted.items():
        assert found[row][0] == label, (row, found[row])
        assert fragment in found[row][1], (row, found[row])
    # The error report: the 20 bad rows as uploaded with 错误说明, and a list of all errors.
    data = job.output_file.read()
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    bad_rows = book.get_sheet_by_name("错误行").to_python()
    assert bad_rows[0][0] == "原行号" and bad_rows[0][-1] == "错误说明"
    assert sorted(int(r[0]) for r in bad_rows[1:]) == sorted(planted)
    listing = book.get_sheet_by_name("错误清单").to_python()
    assert len(listing) == 21
    assert {(int(r[0]), r[1]) for r in listing[1:]} == {
        (row, label) for row, (label, _) in planted.items()
    }
    # The bad cell is marked (its own style), its neighbours are not.
    sheet_xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    first = min(planted)  # row 12: 证件号码 is column G in the sheet, H in the report
    report_row = sorted(planted).index(first) + 2
    styles = dict(re.findall(rf'<c r="([A-Z]+){report_row}" s="(\d+)"', sheet_xml))
    assert styles["H"] != styles["G"] == styles["I"]
    assert Student.objects.count() == 3


def test_fixing_the_rows_commits_1000_students_and_reimporting_changes_nothing(
    cast: Cast,
) -> None:
    data = xlsx_bytes(freshman_rows(cast, 1000))
    dry = run_import(cast, data)
    assert dry.result["errors"] == 0
    with transaction.atomic():
        commit = services.freshman_import_confirm(actor=cast.actor(cast.registrar), dry_run=dry)
    job_run(commit.pk)
    commit.refresh_from_db()
    assert commit.status == JobStatus.SUCCEEDED, commit.error
    assert commit.result["created"] == 1000
    imported = Student.objects.filter(candidate_number__startswith="24110102")
    assert imported.count() == 1000
    one = imported.get(candidate_number="24110102000007")
    assert (one.school_class, one.cohort.year, one.duration) == (cast.class_b, 2024, Decimal("4"))
    assert one.birth_date == date(2005, 1, 8) and one.name_pinyin
    assert one.history.count() == 1 and one.history.first().history_user == cast.registrar
    assert StudentState.objects.filter(student__in=imported).count() == 1000
    assert StatusLedgerEntry.objects.filter(student__in=imported, note="新生导入").count() == 1000
    events = AuditEvent.objects.filter(action="import.freshmen")
    assert events.count() == 1
    after = json.loads(events.get().after)
    assert (after["created"], after["rows"]) == (1000, 1000)
    assert after["sha256"] == dry.result["sha256"] == commit.result["sha256"]
    # The same dry run cannot be confirmed twice.
    with pytest.raises(services.DomainError):
        services.freshman_import_confirm(actor=cast.actor(cast.registrar), dry_run=dry)

    history_rows = Student.history.count()
    again = run_import(cast, data, dry_run=False)
    assert again.status == JobStatus.SUCCEEDED, again.error
    assert (again.result["created"], again.result["updated"], again.result["unchanged"]) == (
        0, 0, 1000,
    )  # fmt: skip
    assert imported.count() == 1000
    assert Student.history.count() == history_rows


def test_a_changed_row_updates_only_that_student_with_a_version(cast: Cast) -> None:
    rows = freshman_rows(cast, 5)
    run_import(cast, xlsx_bytes(rows), dry_run=False)
    rows[2]["SJ"] = "13800000000"
    rows[3]["XSH"] = "软件工程系"
    job = run_import(cast, xlsx_bytes(rows), dry_run=False)
    assert (job.result["created"], job.result["updated"], job.result["unchanged"]) == (0, 2, 3)
    changed = Student.objects.get(candidate_number=rows[2]["KSH"])
    assert changed.phone == "13800000000"
    assert changed.history.count() == 2
    assert changed.history.first().history_change_reason == "新生导入（更新）"


def test_the_commit_refuses_a_file_with_errors_and_writes_nothing(cast: Cast) -> None:
    rows = freshman_rows(cast, 50)
    rows[7]["MZ"] = "99"
    job = run_import(cast, xlsx_bytes(rows), dry_run=False)
    assert job.status == JobStatus.FAILED
    assert "1 行存在错误" in job.error
    assert job.output_file  # the error report comes with the refusal
    assert not Student.objects.filter(candidate_number__startswith="24110102").exists()
    assert not AuditEvent.objects.filter(action="import.freshmen").exists()


def test_a_dry_run_with_errors_cannot_be_confirmed(cast: Cast) -> None:
    rows = freshman_rows(cast, 5)
    rows[0]["XM"] = ""
    dry = run_import(cast, xlsx_bytes(rows))
    with pytest.raises(services.DomainError, match="预检发现错误"):
        services.freshman_import_confirm(actor=cast.actor(cast.registrar), dry_run=dry)


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig", "utf-8"])
def test_csv_files_in_gbk_and_utf8_are_read(cast: Cast, encoding: str) -> None:
    job = run_import(cast, csv_bytes(freshman_rows(cast, 12), encoding), name="新生.csv")
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert (job.result["rows"], job.result["new"], job.result["errors"]) == (12, 12, 0)


def test_full_width_characters_spaces_and_excel_serial_dates_are_normalised(cast: Cast) -> None:
    rows = freshman_rows(cast, 2)
    rows[0]["KSH"] = " " + rows[0]["KSH"].translate({c: c + 0xFEE0 for c in range(0x30, 0x3A)})
    rows[0]["ZJHM"] = rows[0]["ZJHM"].lower() + " "
    rows[0]["CSRQ"] = float((date(2005, 1, 1) - normalise.EXCEL_EPOCH).days)
    rows[0]["XM"] = " 新生  0 "
    job = run_import(cast, xlsx_bytes(rows), dry_run=False)
    assert job.status == JobStatus.SUCCEEDED, job.error
    student = Student.objects.get(candidate_number="24110102000000")
    assert student.birth_date == date(2005, 1, 1)
    assert student.name == "新生 0"


def test_headers_may_carry_the_chsi_codes_and_missing_required_columns_fail_the_file(
    cast: Cast,
) -> None:
    rows = freshman_rows(cast, 3)
    coded = [f"{c.key}{c.label}" for c in FRESHMAN_COLUMNS]
    assert run_import(cast, xlsx_bytes(rows, header=coded)).result["new"] == 3
    broken = ["备注" if label == "证件号码" else label for label in LABELS]
    job = run_import(cast, xlsx_bytes(rows, header=broken))
    assert job.status == JobStatus.FAILED
    assert "表头缺少必填列：证件号码" in job.error


def test_normalise_reads_the_usual_date_spellings() -> None:
    assert normalise.parse_date("20240901") == date(2024, 9, 1)
    assert normalise.parse_date("2024/9/1") == date(2024, 9, 1)
    assert normalise.parse_date("２０２４－０９－０１") == date(2024, 9, 1)
    assert normalise.parse_date("2024年9月1日") == date(2024, 9, 1)
    assert normalise.parse_date(45536.0) == date(2024, 9, 1)
    assert normalise.parse_date("2024-02-30") is None
    assert normalise.text(2024000001.0) == "2024000001"


def test_a_college_admin_cannot_import_students_of_another_college(cast: Cast) -> None:
    rows = freshman_rows(cast, 6)  # rows 2 and 5 are 外国语学院
    job = run_import(cast, xlsx_bytes(rows), user=cast.college_admin, dry_run=False)
    assert job.status == JobStatus.FAILED
    dry = run_import(cast, xlsx_bytes(rows), user=cast.college_admin)
    assert {(e["row"], e["column"]) for e in dry.result["errors_preview"]} == {
        (4, "专业代码"), (7, "专业代码"),
    }  # fmt: skip
    assert "无权导入外国语学院" in dry.result["errors_preview"][0]["reason"]
    own = [r for i, r in enumerate(rows) if i % 3 != 2]
    job = run_import(cast, xlsx_bytes(own), user=cast.college_admin, dry_run=False)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["created"] == 4


def test_a_college_admin_cannot_change_locked_fields_by_reimporting(cast: Cast) -> None:
    rows = freshman_rows(cast, 1)
    run_import(cast, xlsx_bytes(rows), dry_run=False)
    rows[0]["XM"] = "改名"
    dry = run_import(cast, xlsx_bytes(rows), user=cast.college_admin)
    assert dry.result["errors_preview"][0]["reason"] == "该字段须由校级学籍管理员修改"


@pytest.mark.parametrize("who", ["counsellor", "auditor", "student_user", "parent"])
def test_other_roles_cannot_start_an_import(cast: Cast, who: str) -> None:
    with pytest.raises(PermissionDenied):
        services.freshman_import_start(actor=cast.actor(getattr(cast, who)), upload=upload(b"x"))
    assert not Job.objects.filter(kind__in=[DRY_RUN, COMMIT]).exists()


def test_an_empty_template_is_refused_with_a_clear_message(cast) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from xueji.exchange.imports.services import freshman_import_start
    from xueji.exchange.imports.template import freshman_template
    from xueji.jobs.services import job_run

    upload = SimpleUploadedFile("新生导入模板.xlsx", freshman_template())
    job = freshman_import_start(actor=cast.actor(cast.registrar), upload=upload, dry_run=True)
    assert job_run(job.pk) == "failed"
    job.refresh_from_db()
    assert "没有数据行" in job.error
