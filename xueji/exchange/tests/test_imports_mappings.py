"""Code mappings from other systems: the import (planted errors, upsert with history, re-run
unchanged), the selector, and the registrar-only page."""

from __future__ import annotations

from django.test import Client

from xueji.conftest import Cast
from xueji.exchange.tests.test_imports_kinds import (
    audit_after,
    client_for,
    errors_of,
    run_kind,
    sheet_bytes,
)
from xueji.jobs.models import JobStatus
from xueji.org.models import CodeMapping, CodeTable
from xueji.org.selectors import code_mapping_for

HEADER = ["来源系统", "代码表", "外部代码", "外部名称", "本系统代码"]
CLEAN = [
    ["招生系统", "民族", "HA", "汉", "01"],
    ["招生系统", "民族", "MG", "蒙", "蒙古族"],  # our code given by its name
    ["招生系统", "political_status", "TY", "团员", "03"],
    ["财务系统", "性别（GB/T 2261.1）", "M", "男", "1"],
]


def test_a_clean_file_creates_the_mappings_and_the_selector_reads_them(cast: Cast) -> None:
    data = sheet_bytes(HEADER, CLEAN)
    dry = run_kind(cast, "code_mappings", data)
    assert dry.status == JobStatus.SUCCEEDED, dry.error
    assert (dry.result["new"], dry.result["errors"]) == (4, 0)
    assert not CodeMapping.objects.exists()
    commit = run_kind(cast, "code_mappings", data, dry_run=False)
    assert commit.status == JobStatus.SUCCEEDED, commit.error
    assert code_mapping_for("招生系统", CodeTable.ETHNICITY) == {"HA": "01", "MG": "02"}
    assert code_mapping_for("财务系统", CodeTable.GENDER) == {"M": "1"}
    assert code_mapping_for("财务系统", CodeTable.ETHNICITY) == {}
    mapping = CodeMapping.objects.get(external_code="HA")
    assert mapping.history.get().history_change_reason == "代码映射导入"
    assert audit_after("import.code_mappings")["created"] == 4
    again = run_kind(cast, "code_mappings", data, dry_run=False)
    assert (again.result["created"], again.result["updated"], again.result["unchanged"]) == (
        0,
        0,
        4,
    )
    assert mapping.history.count() == 1


def test_a_changed_mapping_is_updated_with_the_old_value_in_its_history(cast: Cast) -> None:
    run_kind(cast, "code_mappings", sheet_bytes(HEADER, CLEAN), dry_run=False)
    changed = [row[:] for row in CLEAN]
    changed[0][4] = "02"
    job = run_kind(cast, "code_mappings", sheet_bytes(HEADER, changed), dry_run=False)
    assert (job.result["created"], job.result["updated"], job.result["unchanged"]) == (0, 1, 3)
    mapping = CodeMapping.objects.get(system="招生系统", external_code="HA")
    assert mapping.code == "02"
    assert [h.code for h in mapping.history.all()] == ["02", "01"]


def test_the_dry_run_reports_exactly_the_planted_bad_rows(cast: Cast) -> None:
    rows = [
        ["招生系统", "民族", "HA", "汉", "01"],  # 2: fine
        ["招生系统", "宗教", "X1", "", "01"],  # 3: no such table
        ["招生系统", "民族", "ZZ", "", "99"],  # 4: not one of our codes
        ["招生系统", "民族", "HA", "汉族", "01"],  # 5: same external code again
        ["", "民族", "QQ", "", "01"],  # 6: no system
        ["财务系统", "民族", "HA", "汉", "01"],  # 7: fine (another system)
    ]
    job = run_kind(cast, "code_mappings", sheet_bytes(HEADER, rows))
    assert job.status == JobStatus.SUCCEEDED, job.error
    found = errors_of(job)
    assert [(r, c) for r, c, _ in found] == [
        (3, "代码表"),
        (4, "本系统代码"),
        (5, "外部代码"),
        (6, "来源系统"),
    ]
    reasons = [reason for _, _, reason in found]
    assert "代码表“宗教”不存在" in reasons[0]
    assert "“99”不是民族（GB 3304）中的代码或名称" in reasons[1]
    assert "与第 2 行重复" in reasons[2]
    assert "来源系统为必填项" in reasons[3]
    assert job.result["new"] == 2
    commit = run_kind(cast, "code_mappings", sheet_bytes(HEADER, rows), dry_run=False)
    assert commit.status == JobStatus.FAILED and not CodeMapping.objects.exists()


def test_only_the_registrar_sees_the_mapping_page(cast: Cast) -> None:
    run_kind(cast, "code_mappings", sheet_bytes(HEADER, CLEAN), dry_run=False)
    page = client_for(cast.registrar).get("/org/codes/mappings/?system=招生系统")
    assert page.status_code == 200
    text = page.content.decode()
    assert "财务系统" in text and 'id="mappings"' in text
    assert ">HA<" in text and ">M<" not in text  # only the chosen system's rows
    assert (
        'id="code-mappings-link"' in client_for(cast.registrar).get("/org/codes/").content.decode()
    )
    assert (
        'id="code-mappings-link"'
        not in client_for(cast.counsellor).get("/org/codes/").content.decode()
    )
    for user in (cast.college_admin, cast.counsellor, cast.auditor):
        assert client_for(user).get("/org/codes/mappings/").status_code == 403
    response = Client().get("/org/codes/mappings/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_mapping_page_without_mappings_says_how_to_load_them(cast: Cast) -> None:
    text = client_for(cast.registrar).get("/org/codes/mappings/").content.decode()
    assert "还没有代码映射" in text
