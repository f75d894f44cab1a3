"""学籍异动上报 as a CHSI export: one row per change that took effect in the period, with the
category code, dates, reason and before/after values; withdrawn requests and changes outside
the period are not reported; check, masking, audit, scope, DBF, page and API."""

from __future__ import annotations

import hashlib
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from python_calamine import CalamineWorkbook

from xueji.audit.models import AuditEvent
from xueji.changes.chsi import CODES
from xueji.changes.models import ChangeRequest, ChangeStatus, ChangeType
from xueji.changes.tests.conftest import applied_request
from xueji.changes.tests.test_services import approve, approve_until_done, submit, suspension
from xueji.conftest import PASSWORD, Cast
from xueji.core.exceptions import NotFound, PermissionDenied, ValidationFailed
from xueji.core.masking import mask_id_number
from xueji.exchange.chsi import selectors
from xueji.exchange.chsi.dbf import read_dbf
from xueji.exchange.chsi.kinds import Filters, kind_for
from xueji.exchange.chsi.services import chsi_export_start
from xueji.jobs.models import Job, JobStatus
from xueji.jobs.services import job_run
from xueji.org.models import Major, SchoolClass
from xueji.students.tests.test_api import api_as
from xueji.workflow.services import flow_withdraw

PURPOSE = "学信网学籍异动上报"
KIND = "status_changes"


@pytest.fixture
def changes(cast: Cast) -> dict[str, ChangeRequest]:
    """In the period (the last week): 单小明's 休学 and 李四's 转专业, both applied through the
    approval flow; 王五's 休学 withdrawn; an older 休学 of 李四 applied last year."""
    today = timezone.localdate()
    leave = approve(
        cast, cast.college_admin, approve(cast, cast.counsellor, suspension(cast, today))
    )
    software = Major.objects.create(
        college=cast.cs,
        national_code="080902",
        code="CS02",
        name="软件工程",
        level=cast.cs_major.level,
        duration=Decimal("4"),
    )
    target = SchoolClass.objects.create(
        code="RJ2401", name="软件2401", college=cast.cs, major=software, cohort=cast.cohort
    )
    move = submit(
        cast,
        cast.college_admin,
        cast.classmate_b,
        "major_change",
        {
            "effective_date": today.isoformat(),
            "target_college": cast.cs.pk,
            "target_major": software.pk,
            "target_class": target.pk,
            "reason": "对软件开发更有兴趣，\n成绩符合转专业条件。",
        },
    )
    move = approve_until_done(cast, move)
    withdrawn = submit(
        cast,
        cast.other_student_user,
        cast.other_student,
        "suspension",
        {
            "effective_date": today.isoformat(),
            "end_date": (today + timedelta(days=180)).isoformat(),
            "reason": "因病需要休养一学期，附医院诊断证明。",
        },
    )
    flow_withdraw(actor=cast.actor(cast.other_student_user), flow=withdrawn.flow)
    withdrawn.refresh_from_db()
    old = applied_request(
        cast.classmate_b,
        ChangeType.objects.get(code="suspension"),
        effective_date=date(2025, 3, 1),
        applicant=cast.registrar,
        before={"status": "in_school", "major": cast.cs_major.pk},
        after={"status": "suspended"},
    )
    assert leave.status == move.status == ChangeStatus.APPLIED
    assert withdrawn.status == ChangeStatus.WITHDRAWN
    return {"leave": leave, "move": move, "withdrawn": withdrawn, "old": old}


def period() -> Filters:
    today = timezone.localdate()
    return Filters(date_from=today - timedelta(days=7), date_to=today)


def export(cast: Cast, user=None, filters: Filters | None = None, **kwargs) -> Job:
    values = {"fmt": "xlsx", "purpose": PURPOSE, "full_id": False, "valid_only": False}
    values.update(kwargs)
    return chsi_export_start(
        actor=cast.actor(user or cast.registrar), kind=KIND, filters=filters or period(), **values
    )


def run(job: Job) -> Job:
    job_run(job.pk)
    job.refresh_from_db()
    return job


def file_bytes(job: Job) -> bytes:
    with job.output_file.open("rb") as fh:
        return fh.read()


def xlsx_rows(job: Job) -> list[dict[str, object]]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(file_bytes(job)))
    rows = book.get_sheet_by_index(0).to_python()
    assert rows[0] == list(CODES)
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def test_the_file_has_exactly_the_status_change_columns_in_order(cast: Cast, changes) -> None:
    job = run(export(cast, full_id=True))
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert CODES == ("KSH", "XH", "XM", "XB", "ZJLX", "ZJHM", "YDBH", "YDLBM", "YDLB", "YDRQ",
                     "YDYY", "SPRQ", "SPWH", "YFY", "XFY", "YZYDM", "YZYMC", "XZYDM", "XZYMC",
                     "YBH", "XBH", "YCC", "XCC", "YXZ", "XXZ", "YYJBYRQ", "XYJBYRQ", "YXJZT",
                     "XXJZT")  # fmt: skip
    assert job.output_file.name.split("/")[-1].startswith("chsi_xjyd_10999_")


def test_the_period_reports_the_applied_suspension_and_major_change_with_before_and_after(
    cast: Cast, changes
) -> None:
    rows = xlsx_rows(run(export(cast, full_id=True)))
    assert [r["YDBH"] for r in rows] == sorted([changes["leave"].number, changes["move"].number])
    by_number = {r["YDBH"]: r for r in rows}
    today = f"{timezone.localdate():%Y%m%d}"
    leave = by_number[changes["leave"].number]
    assert (leave["XH"], leave["XM"], leave["ZJHM"]) == (
        "2024000001",
        "单小明",
        cast.student.id_number,
    )
    assert (leave["YDLBM"], leave["YDLB"], leave["YDRQ"]) == ("11", "休学", today)
    assert leave["YDYY"] == "因病需要休养一学期，附医院诊断证明。"
    assert leave["SPRQ"] == today
    assert (leave["YXJZT"], leave["XXJZT"]) == ("在校", "休学")
    assert leave["YYJBYRQ"] == "20280630"
    cast.student.refresh_from_db()
    assert leave["XYJBYRQ"] == f"{cast.student.expected_graduation_date:%Y%m%d}" != "20280630"
    assert leave["YZYDM"] == leave["XZYDM"] == "080901"
    move = by_number[changes["move"].number]
    assert (move["YDLBM"], move["YDLB"]) == ("23", "转专业")
    assert (move["YZYDM"], move["YZYMC"]) == ("080901", "计算机科学与技术")
    assert (move["XZYDM"], move["XZYMC"]) == ("080902", "软件工程")
    assert (move["YBH"], move["XBH"]) == ("JK2402", "RJ2401")
    assert move["YFY"] == move["XFY"] == "计算机学院"
    assert move["YCC"] == move["XCC"] and move["YXZ"] == move["XXZ"] == "4"
    assert move["YDYY"] == "对软件开发更有兴趣， 成绩符合转专业条件。"  # one line in the file


def test_withdrawn_requests_and_changes_outside_the_period_are_not_reported(
    cast: Cast, changes
) -> None:
    numbers = {r["YDBH"] for r in xlsx_rows(run(export(cast)))}
    assert changes["withdrawn"].number not in numbers
    assert changes["old"].number not in numbers
    last_year = run(
        export(cast, filters=Filters(date_from=date(2025, 1, 1), date_to=date(2025, 12, 31)))
    )
    assert [r["YDBH"] for r in xlsx_rows(last_year)] == [changes["old"].number]


def test_a_revoked_change_is_not_reported(cast: Cast, changes) -> None:
    ChangeRequest.objects.filter(pk=changes["leave"].pk).update(status=ChangeStatus.REVOKED)
    numbers = {r["YDBH"] for r in xlsx_rows(run(export(cast)))}
    assert numbers == {changes["move"].number}


def test_check_lists_a_school_defined_type_and_a_bad_identity_per_student(
    cast: Cast, changes
) -> None:
    own = ChangeType.objects.create(code="own-leave", name="本校短期离校", steps=[], initiators=[])
    applied_request(
        cast.other_student,
        own,
        effective_date=timezone.localdate(),
        applicant=cast.registrar,
        before={"status": "in_school"},
        after={},
    )
    from xueji.students.models import Student

    Student.objects.filter(pk=cast.student.pk).update(candidate_number="")
    result = selectors.chsi_export_check(cast.registrar, kind_for(KIND), period(), fmt="xlsx")
    assert result.total == 3
    found = {(c.student_number, p.column, p.label) for c in result.found for p in c.problems}
    assert found == {("2024000003", "YDLBM", "异动类别码"), ("2024000001", "KSH", "考生号")}
    message = next(p.message for c in result.found for p in c.problems if p.column == "YDLBM")
    assert "本校短期离校" in message and "本校自定义" in message


def test_masked_unless_granted_purpose_required_and_one_audit_event_with_the_hash(
    cast: Cast, changes
) -> None:
    job = run(export(cast, user=cast.college_admin))
    rows = xlsx_rows(job)
    assert rows[0]["ZJHM"] in {
        mask_id_number(cast.student.id_number),
        mask_id_number(cast.classmate_b.id_number),
    }
    assert cast.student.id_number.encode() not in file_bytes(job)
    with pytest.raises(PermissionDenied):
        export(cast, user=cast.college_admin, full_id=True)
    with pytest.raises(ValidationFailed) as caught:
        export(cast, purpose="")
    assert "purpose" in caught.value.errors
    event = AuditEvent.objects.get(action="chsi.export")
    after = event.after if isinstance(event.after, dict) else __import__("json").loads(event.after)
    assert after["kind"] == "chsi.status_changes" and after["masked"] is True
    assert after["filters"]["date_to"] == timezone.localdate().isoformat()
    assert after["sha256"] == hashlib.sha256(file_bytes(job)).hexdigest() == job.result["sha256"]


def test_a_college_admin_reports_only_their_college_and_another_college_is_404(
    cast: Cast, changes
) -> None:
    applied_request(
        cast.other_student,
        ChangeType.objects.get(code="suspension"),
        effective_date=timezone.localdate(),
        applicant=cast.registrar,
        before={"status": "in_school"},
        after={"status": "suspended"},
    )
    everyone = {r["XH"] for r in xlsx_rows(run(export(cast)))}
    assert "2024000003" in everyone
    own = {r["XH"] for r in xlsx_rows(run(export(cast, user=cast.college_admin)))}
    assert own == {"2024000001", "2024000002"}
    other = Filters(date_from=period().date_from, date_to=period().date_to, college_id=cast.fl.pk)
    with pytest.raises(NotFound):
        export(cast, user=cast.college_admin, filters=other)


def test_the_period_is_required_and_must_not_be_reversed(cast: Cast, changes) -> None:
    with pytest.raises(ValidationFailed) as caught:
        export(cast, filters=Filters(date_from=timezone.localdate()))
    assert "date_to" in caught.value.errors
    with pytest.raises(ValidationFailed) as caught:
        export(cast, filters=Filters(date_from=date(2026, 2, 1), date_to=date(2026, 1, 1)))
    assert "早于起始日期" in caught.value.errors["date_to"][0]


def test_dbf_round_trip_keeps_the_chinese_text_in_gbk(cast: Cast, changes) -> None:
    job = run(export(cast, fmt="dbf", full_id=True))
    assert job.status == JobStatus.SUCCEEDED, job.error
    data = file_bytes(job)
    assert data[29] == 0x4D
    table = read_dbf(data)
    assert [f.name for f in table.fields] == list(CODES)
    records = {r[CODES.index("YDBH")]: r for r in table.records}
    move = records[changes["move"].number]
    assert move[CODES.index("XZYMC")] == "软件工程" and move[CODES.index("XM")] == "李四"
    assert records[changes["leave"].number][CODES.index("XXJZT")] == "休学"
    assert "软件工程".encode("gbk") in data


# --- page and API ------------------------------------------------------------------------------


def login(client: Client, user) -> Client:
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_the_page_lists_the_kinds_and_the_form_takes_the_period(
    client: Client, cast: Cast, changes
) -> None:
    login(client, cast.registrar)
    kinds = client.get("/exchange/chsi/").content.decode()
    for key in ("new_students", "yearly_registration", "status_changes"):
        assert f'data-kind="{key}"' in kinds
    form = client.get("/exchange/chsi/status_changes/").content.decode()
    assert 'name="date_from"' in form and 'name="date_to"' in form and 'name="term"' not in form
    today = timezone.localdate()
    response = client.post(
        "/exchange/chsi/status_changes/",
        {
            "date_from": (today - timedelta(days=7)).isoformat(),
            "date_to": today.isoformat(),
            "format": "dbf",
            "purpose": PURPOSE,
        },
    )
    job = Job.objects.get(kind="chsi.status_changes")
    assert response.status_code == 302 and response["Location"] == f"/exchange/chsi/jobs/{job.pk}/"
    assert job.params["filters"]["date_from"] == (today - timedelta(days=7)).isoformat()
    missing = client.post("/exchange/chsi/status_changes/", {"purpose": PURPOSE})
    assert missing.status_code == 400 and "请选择起始日期" in missing.content.decode()


def test_the_page_refuses_other_roles_an_unknown_kind_and_another_college(
    client: Client, cast: Cast, changes
) -> None:
    assert login(client, cast.counsellor).get("/exchange/chsi/status_changes/").status_code == 403
    client.logout()
    login(client, cast.college_admin)
    assert client.get("/exchange/chsi/no_such_kind/").status_code == 404
    today = timezone.localdate().isoformat()
    url = f"/exchange/chsi/status_changes/?check=1&date_from={today}&date_to={today}"
    assert client.get(f"{url}&college={cast.fl.pk}").status_code == 404
    assert client.get(url).status_code == 200


def test_the_api_lists_kinds_checks_and_starts_a_status_change_export(cast: Cast, changes) -> None:
    from rest_framework.test import APIClient

    api = api_as(cast.registrar)
    kinds = api.get("/api/v1/chsi/kinds/")
    assert kinds.status_code == 200
    listed = {k["key"]: k for k in kinds.json()}
    assert [c["code"] for c in listed["status_changes"]["columns"]] == list(CODES)
    assert listed["status_changes"]["required_filters"] == ["date_from", "date_to"]
    assert APIClient().get("/api/v1/chsi/kinds/").status_code == 401
    today = timezone.localdate().isoformat()
    check = api.get(f"/api/v1/chsi/check/?kind=status_changes&date_from={today}&date_to={today}")
    assert check.status_code == 200 and check.json()["total"] == 2
    body = {"kind": "status_changes", "date_from": today, "date_to": today, "purpose": PURPOSE}
    started = api.post("/api/v1/chsi/exports/", body, format="json")
    assert started.status_code == 202, started.content
    assert run(Job.objects.get(pk=started.json()["job"])).result["rows"] == 2
    assert (
        api_as(cast.counsellor).post("/api/v1/chsi/exports/", body, format="json").status_code
        == 403
    )
    other = api_as(cast.college_admin).post(
        "/api/v1/chsi/exports/", {**body, "college": cast.fl.pk}, format="json"
    )
    assert other.status_code == 404
    unknown = api.post("/api/v1/chsi/exports/", {**body, "kind": "nope"}, format="json")
    assert unknown.status_code == 404


def test_graduation_is_left_to_the_diploma_registration_but_completion_is_reported(
    cast: Cast, changes
) -> None:
    today = timezone.localdate()
    graduated = applied_request(
        cast.student,
        ChangeType.objects.get(code="graduation"),
        effective_date=today,
        applicant=cast.registrar,
        before={"status": "in_school"},
        after={"status": "graduated"},
    )
    completed = applied_request(
        cast.other_student,
        ChangeType.objects.get(code="completion"),
        effective_date=today,
        applicant=cast.registrar,
        before={"status": "in_school"},
        after={"status": "completed"},
    )
    rows = {r["YDBH"]: r for r in xlsx_rows(run(export(cast)))}
    assert graduated.number not in rows
    assert rows[completed.number]["YDLBM"] == "62"
