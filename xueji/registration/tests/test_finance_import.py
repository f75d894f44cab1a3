"""The finance-status import (registered by registration into exchange's import pages): planted
bad rows, upsert by (学号, 学期), re-run unchanged, all-or-nothing, registrar only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from xueji.audit.models import AuditEvent
from xueji.conftest import Cast
from xueji.core.exceptions import PermissionDenied
from xueji.exchange.tests.test_imports_kinds import (
    audit_after,
    client_for,
    errors_of,
    more_students,
    report_listing,
    run_kind,
    sheet_bytes,
)
from xueji.jobs.models import Job, JobStatus
from xueji.jobs.services import job_run
from xueji.org.models import Term
from xueji.registration.imports import term_code
from xueji.registration.models import FinanceState, FinanceStatus

HEADER = ["学号", "学期", "缴费状态", "欠缴金额", "备注"]


def test_a_clean_file_sets_the_statuses_and_a_rerun_changes_nothing(cast: Cast, term: Term) -> None:
    rows = [
        [cast.student.student_number, str(term), "已缴清", "", "银行代扣"],
        [cast.classmate_b.student_number, term_code(term), "未缴清", 5200, ""],
        [cast.other_student.student_number, f" {term} ", "aid", "", "绿色通道"],
    ]
    data = sheet_bytes(HEADER, rows)
    dry = run_kind(cast, "finance", data)
    assert dry.status == JobStatus.SUCCEEDED, dry.error
    assert (dry.result["new"], dry.result["errors"]) == (3, 0)
    assert not FinanceStatus.objects.exists()
    commit = run_kind(cast, "finance", data, dry_run=False)
    assert commit.status == JobStatus.SUCCEEDED, commit.error
    statuses = {s.student_id: s for s in FinanceStatus.objects.filter(term=term)}
    assert statuses[cast.student.pk].state == FinanceState.PAID
    assert statuses[cast.student.pk].note == "银行代扣"
    assert statuses[cast.classmate_b.pk].amount_due == Decimal("5200.00")
    assert statuses[cast.other_student.pk].state == FinanceState.AID
    assert statuses[cast.student.pk].updated_by_id == cast.registrar.pk
    assert audit_after("import.finance")["created"] == 3
    assert AuditEvent.objects.filter(action="finance_status.bulk_set").count() == 1
    again = run_kind(cast, "finance", data, dry_run=False)
    assert (again.result["created"], again.result["updated"], again.result["unchanged"]) == (
        0,
        0,
        3,
    )
    # Nothing to write: the service is not called again.
    assert AuditEvent.objects.filter(action="finance_status.bulk_set").count() == 1
    # Paid now, and an empty 备注 keeps the stored note.
    rows[1] = [cast.classmate_b.student_number, str(term), "已缴清", 0, ""]
    rows[0][4] = ""
    job = run_kind(cast, "finance", sheet_bytes(HEADER, rows), dry_run=False)
    assert (job.result["updated"], job.result["unchanged"]) == (1, 2)
    paid = FinanceStatus.objects.get(student=cast.classmate_b, term=term)
    assert (paid.state, paid.amount_due) == (FinanceState.PAID, Decimal("0.00"))
    assert FinanceStatus.objects.get(student=cast.student, term=term).note == "银行代扣"


def test_the_dry_run_reports_exactly_the_planted_bad_rows(cast: Cast, term: Term) -> None:
    (extra,) = more_students(cast, 1)
    rows = [
        [cast.student.student_number, str(term), "已缴清", "", ""],  # 2: fine
        ["2099999999", str(term), "已缴清", "", ""],  # 3: unknown 学号
        [cast.classmate_b.student_number, "2030-2031学年 第一学期", "已缴清", "", ""],  # 4
        [cast.classmate_b.student_number, str(term), "欠费", "", ""],  # 5: unknown state
        [cast.other_student.student_number, str(term), "未缴清", "", ""],  # 6: no amount
        [cast.student.student_number, term_code(term), "未缴清", "100", ""],  # 7: twice
        [extra.student_number, str(term), "已缴清", "abc", ""],  # 8: not a number
    ]
    job = run_kind(cast, "finance", sheet_bytes(HEADER, rows))
    assert job.status == JobStatus.SUCCEEDED, job.error
    found = errors_of(job)
    assert [(r, c) for r, c, _ in found] == [
        (3, "学号"),
        (4, "学期"),
        (5, "缴费状态"),
        (6, "欠缴金额"),
        (7, "学号"),
        (8, "欠缴金额"),
    ]
    reasons = [reason for _, _, reason in found]
    assert "学号“2099999999”不存在" in reasons[0]
    assert "学期“2030-2031学年 第一学期”不存在" in reasons[1]
    assert "缴费状态“欠费”无效" in reasons[2]
    assert "未缴清时请填写欠缴金额" in reasons[3]
    assert "同一学期的学号与第 2 行重复" in reasons[4]
    assert "应为数字" in reasons[5]
    assert report_listing(job)[0] == (3, "学号", "2099999999")
    commit = run_kind(cast, "finance", sheet_bytes(HEADER, rows), dry_run=False)
    assert commit.status == JobStatus.FAILED and "未导入任何数据" in commit.error
    assert not FinanceStatus.objects.exists()
    assert not AuditEvent.objects.filter(action__in=["import.finance", "finance_status.bulk_set"])


def test_only_the_registrar_may_import_finance_status(cast: Cast, term: Term) -> None:
    data = sheet_bytes(HEADER, [[cast.student.student_number, str(term), "已缴清", "", ""]])
    for user in (cast.college_admin, cast.counsellor, cast.auditor, cast.student_user):
        with pytest.raises(PermissionDenied):
            run_kind(cast, "finance", data, user=user)
    assert client_for(cast.college_admin).get("/exchange/imports/finance/").status_code == 403


def test_the_page_runs_the_finance_import_end_to_end(cast: Cast, term: Term) -> None:
    client = client_for(cast.registrar)
    data = sheet_bytes(HEADER, [[cast.student.student_number, str(term), "未缴清", "880.5", ""]])
    response = client.post(
        "/exchange/imports/finance/", {"file": SimpleUploadedFile("财务.xlsx", data)}
    )
    dry = Job.objects.get(kind="import.finance.dry_run")
    assert response["Location"] == f"/exchange/imports/jobs/{dry.pk}/"
    job_run(dry.pk)
    client.post(f"/exchange/imports/jobs/{dry.pk}/confirm/")
    commit = Job.objects.get(kind="import.finance.commit")
    job_run(commit.pk)
    page = client.get(f"/exchange/imports/jobs/{commit.pk}/").content.decode()
    assert "导入完成：新增 1 条，更新 0 条" in page
    status = FinanceStatus.objects.get(student=cast.student, term=term)
    assert (status.state, status.amount_due) == (FinanceState.UNPAID, Decimal("880.50"))
