"""学年注册 (yearly registration) as a CHSI export kind: one row per student holding 学籍, with
the student's identity columns and the term's registration state as the platform's words
(已注册 / 暂缓注册 / 未注册). 未注册 and 暂缓注册 are reported as such, never left out.

The column codes follow the new-student layout's style; the 学信网 platform gives each school
its own 学年注册 template once logged in, and no public source gives its exact field names, so
the layout must be checked against the school's template (docs/howto/chsi-exports.md).

Pre-check: a student in school (在校) with no registration row for the term is a problem —
registration was never opened for them, so the file would report 未注册 by omission. A row
that is 未注册 is not a problem (it is the fact to report); the check page lists it as a
notice so the registrar sees them before uploading.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext_noop

from xueji.exchange.chsi import new_students
from xueji.exchange.chsi.columns import Column, Problem
from xueji.exchange.chsi.kinds import ExportKind, ExportRow, Filters
from xueji.exchange.chsi.selectors import chsi_new_students_for
from xueji.org.models import Term
from xueji.registration.models import RegistrationState, TermRegistration
from xueji.students.models import StudentStatus

if TYPE_CHECKING:
    from xueji.accounts.models import User

# Identity columns, as in the new-student layout (same codes, widths and checks).
_IDENTITY = ("KSH", "XH", "XM", "XB", "ZJLX", "ZJHM", "ZYDM", "ZYMC", "FY", "BH", "CC", "XZ")
_BY_CODE = {c.code: c for c in new_students.COLUMNS}
COLUMNS: tuple[Column, ...] = (
    *(_BY_CODE[code] for code in _IDENTITY),
    Column("NJ", "年级", 4),
    Column("XN", "学年", 9),
    Column("XQ", "学期", 1),
    Column("ZCZT", "注册状态", 8),
    Column("ZCRQ", "注册日期", 8),
    Column("ZHJZRQ", "暂缓注册截止日期", 8),
    Column("ZCSM", "注册说明", 200),
)
CODES = tuple(c.code for c in COLUMNS)

# The platform's words for our states; when a year has several terms the best state counts.
STATE_VALUES = {
    RegistrationState.REGISTERED: "已注册",
    RegistrationState.DEFERRED: "暂缓注册",
    RegistrationState.UNREGISTERED: "未注册",
}
_RANK = {
    RegistrationState.REGISTERED: 3,
    RegistrationState.DEFERRED: 2,
    RegistrationState.UNREGISTERED: 1,
}


def _terms(filters: Filters) -> list[Term]:
    terms = Term.objects.select_related("academic_year").order_by("start_date")
    if filters.term_id is not None:
        return list(terms.filter(pk=filters.term_id))
    if filters.year is not None:
        return list(terms.filter(academic_year__start_year=filters.year))
    return []


def export_rows(user: User, filters: Filters) -> Iterator[ExportRow]:
    """Every student with 学籍 in the user's scope (cohort/college as filtered), with the
    registration state of the term — or, for an academic year, the best state over its
    terms."""
    terms = _terms(filters)
    if not terms:
        return
    students = chsi_new_students_for(
        user, cohort_year=filters.cohort_year, college_id=filters.college_id
    )
    best: dict[int, TermRegistration] = {}
    registrations = TermRegistration.objects.filter(
        term__in=terms, student__in=students.values("pk")
    ).order_by("term__start_date")
    for reg in registrations:
        held = best.get(reg.student_id)
        if held is None or _RANK[reg.state] > _RANK[held.state]:  # type: ignore[index]
            best[reg.student_id] = reg
    year = terms[0].academic_year
    school_year = f"{year.start_year}-{year.start_year + 1}"
    term_number = str(terms[0].number) if filters.term_id is not None else ""
    codes = new_students.CodeTables.load()
    for student in students.iterator(chunk_size=500):
        identity = new_students.student_values(student, codes, full_id=True)
        problems = [
            p
            for p in new_students.student_problems(student, identity, codes, for_dbf=False)
            if p.column in _IDENTITY
        ]
        values = {code: identity[code] for code in _IDENTITY}
        values.update(
            NJ=str(student.cohort.year) if student.cohort_id else "",
            XN=school_year,
            XQ=term_number,
            ZCRQ="",
            ZHJZRQ="",
            ZCSM="",
        )
        reg = best.get(student.pk)
        if reg is None:
            values["ZCZT"] = STATE_VALUES[RegistrationState.UNREGISTERED]
            if student.status == StudentStatus.IN_SCHOOL:
                problems.append(
                    Problem(
                        "ZCZT",
                        "该学期没有此学生的注册记录（未开放注册？），请先在学期注册中开放或补办",
                        "注册状态",
                    )
                )
            else:
                values["ZCSM"] = student.get_status_display()  # type: ignore[attr-defined]
        else:
            values["ZCZT"] = STATE_VALUES[reg.state]  # type: ignore[index]
            if reg.state == RegistrationState.REGISTERED and reg.decided_at:
                values["ZCRQ"] = f"{timezone.localdate(reg.decided_at):%Y%m%d}"
            if reg.state == RegistrationState.DEFERRED and reg.defer_until:
                values["ZHJZRQ"] = f"{reg.defer_until:%Y%m%d}"
            if reg.state != RegistrationState.REGISTERED:
                values["ZCSM"] = reg.reason
        yield ExportRow(
            student_number=student.student_number,
            name=student.name,
            college=student.college.name,
            values=values,
            problems=problems,
        )


def notice(row: ExportRow) -> str:
    """Shown on the check page (the row is still exported)."""
    if row.values.get("ZCZT") == STATE_VALUES[RegistrationState.UNREGISTERED]:
        return "未注册，也未办理暂缓注册：将以“未注册”上报"
    return ""


KIND = ExportKind(
    key="yearly_registration",
    title="学信网学年注册数据",
    file_stem="xnzc",
    columns=COLUMNS,
    filter_labels=(("year", gettext_noop("学年（起始年份）")),),
    filters=("term_id", "year", "cohort_year", "college_id"),
    required_filters=("term_id", "year"),
    rows=export_rows,
    order=20,
    purposes=("学信网学年注册上报", "学年注册数据核对"),
    description="每名在籍学生一行：身份信息和所选学期（或学年）的注册状态"
    "（已注册 / 暂缓注册 / 未注册）。",
    notice=notice,
)
