"""学年注册 as a CHSI export: its columns in order, the states as the platform's words (未注册 and
暂缓注册 reported, not hidden), the pre-export check, masking, audit, scope, DBF and the page."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from python_calamine import CalamineWorkbook

from xueji.audit.models import AuditEvent
from xueji.conftest import PASSWORD, Cast
from xueji.core.exceptions import NotFound, PermissionDenied, ValidationFailed
from xueji.core.masking import mask_id_number
from xueji.exchange.chsi import selectors
from xueji.exchange.chsi.dbf import read_dbf
from xueji.exchange.chsi.kinds import Filters, kind_for
from xueji.exchange.chsi.services import chsi_export_start
from xueji.jobs.models import Job, JobStatus
from xueji.jobs.services import job_run
from xueji.org.models import Term
from xueji.registration.chsi import CODES
from xueji.registration.models import RegistrationState, TermRegistration
from xueji.registration.services import registration_set
from xueji.registration.tests.conftest import row
from xueji.students.models import Student, StudentStatus
from xueji.students.tests.test_api import api_as

PURPOSE = "学信网学年注册上报"
KIND = "yearly_registration"


@pytest.fixture
def states(cast: Cast, opened: Term) -> Term:
    """单小明 registered, 李四 deferred, 王五 left 未注册."""
    registrar = cast.actor(cast.registrar)
    registration_set(
        actor=registrar, registration=row(cast.student, opened), state=RegistrationState.REGISTERED
    )
    registration_set(
        actor=registrar,
        registration=row(cast.classmate_b, opened),
        state=RegistrationState.DEFERRED,
        reason="因病住院，出院后补办注册",
        defer_until=timezone.localdate() + timedelta(days=20),
    )
    return opened


def export(cast: Cast, term: Term, user=None, **kwargs) -> Job:
    values = {"fmt": "xlsx", "purpose": PURPOSE, "full_id": False, "valid_only": False}
    filters = Filters(term_id=term.pk, college_id=kwargs.pop("college_id", None))
    values.update(kwargs)
    return chsi_export_start(
        actor=cast.actor(user or cast.registrar), kind=KIND, filters=filters, **values
    )


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


def test_the_file_has_exactly_the_yearly_registration_columns_in_order(
    cast: Cast, states: Term
) -> None:
    job = run(export(cast, states, full_id=True))
    assert job.status == JobStatus.SUCCEEDED, job.error
    rows = xlsx_rows(job)
    assert rows[0] == list(CODES)
    assert CODES == ("KSH", "XH", "XM", "XB", "ZJLX", "ZJHM", "ZYDM", "ZYMC", "FY", "BH", "CC",
                     "XZ", "NJ", "XN", "XQ", "ZCZT", "ZCRQ", "ZHJZRQ", "ZCSM")  # fmt: skip
    assert all(isinstance(v, str) for r in rows for v in r)
    assert job.output_file.name.split("/")[-1].startswith("chsi_xnzc_10999_")


def test_each_state_is_reported_as_the_platforms_word_and_none_is_hidden(
    cast: Cast, states: Term
) -> None:
    students = by_number(xlsx_rows(run(export(cast, states, full_id=True))))
    assert set(students) == {"2024000001", "2024000002", "2024000003"}
    registered = students[cast.student.student_number]
    year = states.academic_year.start_year
    assert registered["ZCZT"] == "已注册"
    assert registered["ZCRQ"] == f"{timezone.localdate():%Y%m%d}"
    assert registered["XN"] == f"{year}-{year + 1}" and registered["XQ"] == "1"
    assert registered["XM"] == "单小明" and registered["ZJHM"] == cast.student.id_number
    assert registered["BH"] == "JK2401" and registered["NJ"] == "2024"
    deferred = students[cast.classmate_b.student_number]
    assert deferred["ZCZT"] == "暂缓注册"
    assert deferred["ZCSM"] == "因病住院，出院后补办注册"
    assert deferred["ZHJZRQ"] == f"{timezone.localdate() + timedelta(days=20):%Y%m%d}"
    assert students[cast.other_student.student_number]["ZCZT"] == "未注册"


def test_the_academic_year_takes_the_best_state_over_its_terms(cast: Cast, states: Term) -> None:
    second = Term.objects.create(
        academic_year=states.academic_year,
        number=2,
        start_date=states.end_date + timedelta(days=1),
        end_date=states.end_date + timedelta(days=120),
    )
    TermRegistration.objects.create(
        student=cast.other_student, term=second, state=RegistrationState.REGISTERED
    )
    job = chsi_export_start(
        actor=cast.actor(cast.registrar),
        kind=KIND,
        filters=Filters(year=states.academic_year.start_year),
        fmt="xlsx",
        purpose=PURPOSE,
    )
    students = by_number(xlsx_rows(run(job)))
    assert students[cast.other_student.student_number]["ZCZT"] == "已注册"
    assert students[cast.other_student.student_number]["XQ"] == ""
    assert students[cast.classmate_b.student_number]["ZCZT"] == "暂缓注册"


def test_check_lists_a_student_in_school_without_a_registration_row_and_notes_the_unregistered(
    cast: Cast, states: Term
) -> None:
    TermRegistration.objects.filter(student=cast.classmate_b).delete()
    Student.objects.filter(pk=cast.student.pk).update(ethnicity="99")
    kind = kind_for(KIND)
    result = selectors.chsi_export_check(
        cast.registrar, kind, Filters(term_id=states.pk), fmt="xlsx"
    )
    assert result.total == 3
    problems = {c.student_number: {p.column for p in c.problems} for c in result.found}
    assert problems == {"2024000002": {"ZCZT"}}  # MZ is not a yearly-registration column
    notices = {c.student_number: note for c, note in result.notices}
    assert set(notices) == {"2024000003"} and "未注册" in notices["2024000003"]


def test_a_suspended_student_without_a_row_is_reported_unregistered_with_the_status(
    cast: Cast, states: Term
) -> None:
    TermRegistration.objects.filter(student=cast.other_student).delete()
    Student.objects.filter(pk=cast.other_student.pk).update(status=StudentStatus.SUSPENDED)
    students = by_number(xlsx_rows(run(export(cast, states))))
    assert students[cast.other_student.student_number]["ZCZT"] == "未注册"
    assert students[cast.other_student.student_number]["ZCSM"] == "休学"


def test_export_refuses_while_a_row_is_missing_and_valid_only_leaves_it_out(
    cast: Cast, states: Term
) -> None:
    TermRegistration.objects.filter(student=cast.classmate_b).delete()
    failed = run(export(cast, states))
    assert failed.status == JobStatus.FAILED and "注册状态" in failed.error
    done = run(export(cast, states, valid_only=True))
    assert done.result["rows"] == 2
    assert [e["student_number"] for e in done.result["excluded"]] == ["2024000002"]


def test_masked_unless_granted_purpose_required_and_one_audit_event_with_the_hash(
    cast: Cast, states: Term
) -> None:
    masked = run(export(cast, states, user=cast.college_admin, college_id=cast.cs.pk))
    rows = by_number(xlsx_rows(masked))
    assert rows[cast.student.student_number]["ZJHM"] == mask_id_number(cast.student.id_number)
    assert cast.student.id_number.encode() not in file_bytes(masked)
    with pytest.raises(PermissionDenied):
        export(cast, states, user=cast.college_admin, college_id=cast.cs.pk, full_id=True)
    with pytest.raises(ValidationFailed) as caught:
        export(cast, states, purpose=" ")
    assert "purpose" in caught.value.errors
    event = AuditEvent.objects.get(action="chsi.export")
    after = event.after if isinstance(event.after, dict) else __import__("json").loads(event.after)
    assert after["kind"] == "chsi.yearly_registration" and after["masked"] is True
    assert after["filters"]["term_id"] == states.pk
    assert after["sha256"] == hashlib.sha256(file_bytes(masked)).hexdigest()


def test_a_college_admin_sees_only_their_college_and_another_college_is_404(
    cast: Cast, states: Term
) -> None:
    rows = by_number(xlsx_rows(run(export(cast, states, user=cast.college_admin))))
    assert set(rows) == {"2024000001", "2024000002"}
    with pytest.raises(NotFound):
        export(cast, states, user=cast.college_admin, college_id=cast.fl.pk)


def test_a_term_is_required(cast: Cast, states: Term) -> None:
    with pytest.raises(ValidationFailed) as caught:
        chsi_export_start(
            actor=cast.actor(cast.registrar), kind=KIND, filters=Filters(), fmt="xlsx",
            purpose=PURPOSE,
        )  # fmt: skip
    assert "term" in caught.value.errors


def test_dbf_round_trip_keeps_the_chinese_states_in_gbk(cast: Cast, states: Term) -> None:
    job = run(export(cast, states, fmt="dbf", full_id=True))
    assert job.status == JobStatus.SUCCEEDED, job.error
    data = file_bytes(job)
    table = read_dbf(data)
    assert [f.name for f in table.fields] == list(CODES)
    state = CODES.index("ZCZT")
    by_student = {r[1]: r for r in table.records}
    assert by_student["2024000001"][state] == "已注册"
    assert by_student["2024000002"][state] == "暂缓注册"
    assert by_student["2024000003"][CODES.index("XM")] == "王五"
    assert "暂缓注册".encode("gbk") in data


# --- page and API ------------------------------------------------------------------------------


def login(client: Client, user) -> Client:
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_the_page_offers_the_term_and_shows_the_check(
    client: Client, cast: Cast, states: Term
) -> None:
    login(client, cast.registrar)
    page = client.get("/exchange/chsi/yearly_registration/").content.decode()
    assert 'name="term"' in page and 'name="cohort"' in page
    assert "学年（起始年份）" in page  # the year filter means the academic year here
    checked = client.get(f"/exchange/chsi/yearly_registration/?check=1&term={states.pk}")
    body = checked.content.decode()
    assert checked.status_code == 200
    assert 'data-notice="2024000003"' in body and 'data-student="' not in body


def test_the_page_refuses_other_roles_and_another_college(
    client: Client, cast: Cast, states: Term
) -> None:
    url = "/exchange/chsi/yearly_registration/"
    assert client.get(url).status_code == 302
    assert login(client, cast.counsellor).get(url).status_code == 403
    client.logout()
    login(client, cast.college_admin)
    assert client.get(f"{url}?check=1&term={states.pk}&college={cast.fl.pk}").status_code == 404


def test_the_api_checks_and_starts_a_yearly_registration_export(cast: Cast, states: Term) -> None:
    api = api_as(cast.registrar)
    check = api.get(f"/api/v1/chsi/check/?kind=yearly_registration&term={states.pk}")
    assert check.status_code == 200, check.content
    assert check.json()["total"] == 3
    assert [n["student_number"] for n in check.json()["notices"]] == ["2024000003"]
    started = api.post(
        "/api/v1/chsi/exports/",
        {"kind": "yearly_registration", "term": states.pk, "purpose": PURPOSE},
        format="json",
    )
    assert started.status_code == 202, started.content
    assert Job.objects.get(pk=started.json()["job"]).kind == "chsi.yearly_registration"
    missing = api.post(
        "/api/v1/chsi/exports/", {"kind": "yearly_registration", "purpose": PURPOSE}, format="json"
    )
    assert missing.status_code == 400
    assert api_as(cast.counsellor).get("/api/v1/chsi/kinds/").status_code == 403
