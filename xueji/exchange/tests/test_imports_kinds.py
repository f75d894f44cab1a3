"""The import kinds registry and the generic pages and API: who sees which kind, each kind's
template (text-formatted ID columns, dropdowns, notes), and the refusals on every page and
endpoint. Also the helpers the other kinds' tests share."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from typing import Any

import pytest
import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from python_calamine import CalamineWorkbook

from xueji.conftest import Cast
from xueji.exchange.imports import services
from xueji.exchange.imports.kinds import all_kinds, get_kind, kinds_for
from xueji.jobs.models import Job
from xueji.jobs.services import job_run
from xueji.students.tests.test_api import api_as

# --- helpers shared by the kinds' tests ------------------------------------------------------


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def sheet_bytes(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """An xlsx as a registrar would fill it: strings as text, numbers as numbers."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    for col, label in enumerate(header):
        sheet.write_string(0, col, label)
    for r, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            if isinstance(value, (int, float)):
                sheet.write_number(r, col, value)
            else:
                sheet.write_string(r, col, str(value))
    book.close()
    return buffer.getvalue()


def run_kind(
    cast: Cast,
    kind: str,
    data: bytes,
    *,
    name: str = "data.xlsx",
    user=None,
    dry_run: bool = True,
    system: str = "",
) -> Job:
    """Start an import the way the page does and run its job in-process (the real runner)."""
    with transaction.atomic():
        job = services.import_start(
            actor=cast.actor(user or cast.registrar),
            kind=kind,
            upload=SimpleUploadedFile(name, data),
            dry_run=dry_run,
            system=system,
        )
    job_run(job.pk)
    job.refresh_from_db()
    return job


def audit_after(action: str) -> dict[str, Any]:
    """The `after` of the one audit event with `action` (fails unless there is exactly one)."""
    import json

    from xueji.audit.models import AuditEvent

    return json.loads(AuditEvent.objects.get(action=action).after)


def more_students(cast: Cast, count: int, *, first_serial: int = 40) -> list:
    """Extra 计算机学院 students of class 计科2401."""
    from xueji.conftest import make_student

    return [
        make_student(
            college=cast.cs,
            major=cast.cs_major,
            school_class=cast.class_a,
            cohort=cast.cohort,
            serial=first_serial + i,
            name=f"学生{i}",
        )
        for i in range(count)
    ]


def errors_of(job: Job) -> list[tuple[int, str, str]]:
    return [(e["row"], e["column"], e["reason"]) for e in job.result["errors_preview"]]


def report_listing(job: Job) -> list[tuple[int, str, str]]:
    """The error report's 错误清单 as (row, column, value)."""
    book = CalamineWorkbook.from_filelike(io.BytesIO(job.output_file.read()))
    rows = book.get_sheet_by_name("错误清单").to_python()
    return [(int(r[0]), r[1], r[2]) for r in rows[1:]]


def template_parts(data: bytes) -> tuple[CalamineWorkbook, str, str]:
    """The workbook, its first sheet's XML and its styles XML."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    return (
        CalamineWorkbook.from_filelike(io.BytesIO(data)),
        archive.read("xl/worksheets/sheet1.xml").decode(),
        archive.read("xl/styles.xml").decode(),
    )


def text_formatted_columns(sheet_xml: str, styles_xml: str) -> set[int]:
    """0-based indexes of the columns whose default style is the text format ("@")."""
    text_ids = {"49"} | set(re.findall(r'<numFmt numFmtId="(\d+)" formatCode="@"', styles_xml))
    xfs = re.search(r"<cellXfs[^>]*>(.*?)</cellXfs>", styles_xml, re.S)
    assert xfs
    formats = re.findall(r"<xf ([^>]*?)/?>", xfs.group(1))
    text_styles = {
        i for i, attrs in enumerate(formats) if re.search(r'numFmtId="(\d+)"', attrs)[1] in text_ids
    }
    found: set[int] = set()
    for low, high, style in re.findall(
        r'<col min="(\d+)" max="(\d+)"[^>]*?style="(\d+)"', sheet_xml
    ):
        if int(style) in text_styles:
            found |= set(range(int(low) - 1, int(high)))
    return found


# --- the registry ----------------------------------------------------------------------------


def test_the_five_kinds_are_registered_with_their_job_kinds() -> None:
    keys = [kind.key for kind in all_kinds()]
    assert keys == ["freshmen", "students_update", "photos", "finance", "code_mappings"]
    assert get_kind("finance").dry_run_kind == "import.finance.dry_run"
    assert get_kind("freshmen").dry_run_kind == "import.freshmen.dry_run"


def test_each_role_is_offered_only_the_kinds_it_may_run(cast: Cast) -> None:
    assert [k.key for k in kinds_for(cast.registrar)] == [k.key for k in all_kinds()]
    assert [k.key for k in kinds_for(cast.college_admin)] == [
        "freshmen",
        "students_update",
        "photos",
    ]
    for user in (cast.counsellor, cast.auditor, cast.advisor, cast.student_user, cast.parent):
        assert kinds_for(user) == []


def test_the_home_page_lists_the_kinds_the_user_may_run(cast: Cast) -> None:
    page = client_for(cast.registrar).get("/exchange/imports/").content.decode()
    for key in ("freshmen", "students_update", "photos", "finance", "code_mappings"):
        assert f'data-kind="{key}"' in page
    page = client_for(cast.college_admin).get("/exchange/imports/").content.decode()
    assert 'data-kind="students_update"' in page
    assert 'data-kind="finance"' not in page and 'data-kind="code_mappings"' not in page


@pytest.mark.parametrize(
    ("kind", "sheet_name", "text_columns", "dropdowns"),
    [
        ("students_update", "学生信息更新", {"学号", "考生号", "证件号码", "手机"}, 6),
        ("finance", "学费缴纳状态", {"学号", "学期", "缴费状态"}, 2),
        ("code_mappings", "代码映射", {"来源系统", "外部代码", "本系统代码"}, 1),
    ],
)
def test_each_template_has_text_id_columns_dropdowns_and_notes(
    cast: Cast, kind: str, sheet_name: str, text_columns: set[str], dropdowns: int
) -> None:
    from xueji.org.models import AcademicYear, Term

    year = AcademicYear.objects.create(
        start_year=2025, start_date="2025-09-01", end_date="2026-08-31"
    )
    Term.objects.create(
        academic_year=year, number=1, start_date="2025-09-01", end_date="2026-01-20"
    )
    response = client_for(cast.registrar).get(f"/exchange/imports/{kind}/template/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book, sheet_xml, styles_xml = template_parts(response.content)
    assert book.sheet_names == [sheet_name, "代码表", "填写说明"]
    header = book.get_sheet_by_name(sheet_name).to_python()[0]
    formatted = {header[i] for i in text_formatted_columns(sheet_xml, styles_xml)}
    assert text_columns <= formatted, formatted
    assert sheet_xml.count("<dataValidation ") == dropdowns
    notes = book.get_sheet_by_name("填写说明").to_python()
    assert notes[0][:4] == ["字段代码", "列名", "必填", "规则"]
    assert [r[1] for r in notes[1 : len(header) + 1]] == header
    assert any("导入规则" in str(r[0]) for r in notes)


def test_the_finance_template_offers_the_terms_and_the_three_states(cast: Cast) -> None:
    from xueji.org.models import AcademicYear, Term

    year = AcademicYear.objects.create(
        start_year=2025, start_date="2025-09-01", end_date="2026-08-31"
    )
    Term.objects.create(
        academic_year=year, number=2, start_date="2026-02-20", end_date="2026-07-10"
    )
    response = client_for(cast.registrar).get("/exchange/imports/finance/template/")
    codes = CalamineWorkbook.from_filelike(io.BytesIO(response.content))
    table = codes.get_sheet_by_name("代码表").to_python()
    assert table[0][0] == "学期（XQ）" and table[1][:2] == ["2025-2026学年 第二学期", "2025-2026-2"]
    assert [r[3] for r in table[1:4]] == ["已缴清", "未缴清", "已办理缓缴或资助"]


def test_the_photo_import_has_no_sheet_template(cast: Cast) -> None:
    client = client_for(cast.registrar)
    assert client.get("/exchange/imports/photos/template/").status_code == 404
    page = client.get("/exchange/imports/photos/").content.decode()
    assert "照片压缩包" in page and 'accept=".zip"' in page and "download-template" not in page


def test_the_kind_page_shows_the_columns_and_the_source_system_field(cast: Cast) -> None:
    page = client_for(cast.college_admin).get("/exchange/imports/students_update/").content
    text = page.decode()
    assert 'id="import-columns"' in text and "紧急联系电话" in text
    assert 'name="system"' in text
    page = client_for(cast.registrar).get("/exchange/imports/finance/").content.decode()
    assert 'name="system"' not in page


# --- refusals ----------------------------------------------------------------------------------

PAGES = [
    f"/exchange/imports/{k}/" for k in ("students_update", "photos", "finance", "code_mappings")
]
TEMPLATES = [
    f"/exchange/imports/{k}/template/" for k in ("students_update", "finance", "code_mappings")
]


def test_anonymous_users_are_sent_to_log_in_from_every_import_page(cast: Cast) -> None:
    for url in [*PAGES, *TEMPLATES]:
        response = Client().get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


@pytest.mark.parametrize("who", ["counsellor", "auditor", "advisor"])
def test_staff_without_an_import_grant_are_refused_every_kind(cast: Cast, who: str) -> None:
    client = client_for(getattr(cast, who))
    for url in [*PAGES, *TEMPLATES]:
        assert client.get(url).status_code == 403, url
    response = client.post("/exchange/imports/students_update/", {"file": b""})
    assert response.status_code == 403


def test_a_student_is_sent_to_their_record_from_an_import_page(cast: Cast) -> None:
    response = client_for(cast.student_user).get("/exchange/imports/students_update/")
    assert response.status_code == 302


def test_a_college_admin_may_not_open_the_finance_or_mapping_imports(cast: Cast) -> None:
    client = client_for(cast.college_admin)
    for url in (
        "/exchange/imports/finance/",
        "/exchange/imports/finance/template/",
        "/exchange/imports/code_mappings/",
        "/exchange/imports/code_mappings/template/",
    ):
        assert client.get(url).status_code == 403, url
    data = sheet_bytes(["学号", "学期", "缴费状态"], [["2024000001", "x", "已缴清"]])
    response = client.post(
        "/exchange/imports/finance/", {"file": SimpleUploadedFile("f.xlsx", data)}
    )
    assert response.status_code == 403
    assert not Job.objects.exists()


def test_an_unknown_kind_is_not_found(cast: Cast) -> None:
    client = client_for(cast.registrar)
    assert client.get("/exchange/imports/grades/").status_code == 404
    assert client.get("/exchange/imports/grades/template/").status_code == 404


def test_a_file_of_the_wrong_type_is_refused_on_the_form(cast: Cast) -> None:
    client = client_for(cast.registrar)
    response = client.post(
        "/exchange/imports/photos/", {"file": SimpleUploadedFile("photos.xlsx", b"x")}
    )
    assert response.status_code == 400 and "只接受 zip 文件" in response.content.decode()
    response = client.post(
        "/exchange/imports/students_update/", {"file": SimpleUploadedFile("a.zip", b"x")}
    )
    assert (
        response.status_code == 400 and "只接受 xlsx、xls 或 CSV 文件" in response.content.decode()
    )


def test_another_users_dry_run_of_any_kind_cannot_be_confirmed(cast: Cast) -> None:
    data = sheet_bytes(["学号", "手机"], [[cast.student.student_number, "13900000000"]])
    job = run_kind(cast, "students_update", data, user=cast.college_admin)
    assert job.result["update"] == 1
    other = client_for(cast.counsellor)
    assert other.get(f"/exchange/imports/jobs/{job.pk}/").status_code in (403, 404)
    response = client_for(cast.registrar).post(f"/exchange/imports/jobs/{job.pk}/confirm/")
    assert response.status_code == 302
    assert not Job.objects.filter(kind="import.students_update.commit").exists()


def test_the_api_lists_kinds_and_refuses_those_a_user_may_not_run(cast: Cast) -> None:
    registrar = api_as(cast.registrar)
    kinds = registrar.get("/api/v1/imports/").json()
    assert [k["key"] for k in kinds] == [k.key for k in all_kinds()]
    photos = next(k for k in kinds if k["key"] == "photos")
    assert photos["suffixes"] == [".zip"] and photos["has_template"] is False
    admin = api_as(cast.college_admin)
    assert [k["key"] for k in admin.get("/api/v1/imports/").json()] == [
        "freshmen",
        "students_update",
        "photos",
    ]
    assert admin.get("/api/v1/imports/finance/template/").status_code == 403
    data = sheet_bytes(["学号", "学期", "缴费状态"], [["2024000001", "x", "已缴清"]])
    response = admin.post(
        "/api/v1/imports/finance/",
        {"file": SimpleUploadedFile("f.xlsx", data)},
        format="multipart",
    )
    assert response.status_code == 403
    assert api_as(cast.counsellor).get("/api/v1/imports/").status_code == 403
    assert api_as(cast.counsellor).get("/api/v1/imports/code_mappings/template/").status_code == 403
    assert registrar.get("/api/v1/imports/grades/template/").status_code == 404
    assert registrar.get("/api/v1/imports/photos/template/").status_code == 404
    from rest_framework.test import APIClient

    assert APIClient().get("/api/v1/imports/").status_code == 401
    assert APIClient().post("/api/v1/imports/finance/", {}).status_code == 401
    assert not Job.objects.exists()


def test_the_api_starts_a_dry_run_of_a_kind_and_the_job_reports_counts(cast: Cast) -> None:
    client = api_as(cast.registrar)
    data = sheet_bytes(["学号", "手机"], [[cast.student.student_number, "13900000001"]])
    response = client.post(
        "/api/v1/imports/students_update/",
        {"file": SimpleUploadedFile("u.xlsx", data), "dry_run": "true"},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    assert response.json()["kind"] == "import.students_update.dry_run"
    job_run(response.json()["id"])
    job = client.get(f"/api/v1/jobs/{response.json()['id']}/").json()
    assert job["status"] == "succeeded" and job["result"]["update"] == 1
    template = client.get("/api/v1/imports/students_update/template/")
    assert template.status_code == 200 and template.content[:2] == b"PK"
