"""学位授予信息 (the degree-centre submission): one row per graduate of a year whose level
earns a degree, filled from the student record, the diploma and the degree award.

Field codes and widths follow 《学位授予信息年报数据结构及代码手册》 (国务院学位委员会办公室,
2012 and 2018 editions, known here through excerpts: XM C40, XMPY C60, XBM C1, MZM C2, ZZMMM C2,
CSRQ C8, ZJLXM C2, ZJHM C18, XWSYDWM C5, XZXM C40, ZXXM C40, PYDWM C5, XWLBM C5, ZYDM C7) and
the "学位网格式" export of the openurp student-information system (XWSYDW, XWLB, ZYMC, KSH, XH,
RXNY, XZ, BYNY, HXWRQ, XWZSBH, JYBH). Widths not given by either are our choice. The handbook
has more fields than Xueji holds (thesis, supervisor, prior degree…); this file carries the
ones filled from Xueji's records. Check it against the year's 学位授予信息 template before
uploading (docs/howto/chsi-exports.md).

学位类别码 (XWLBM) is written as the degree-level digit and the 学科门类 code (408 工学学士),
the coding the 学位 code tables use for academic degrees; see docs/howto/graduation-records.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from django.db.models import Prefetch
from django.utils.translation import gettext_noop

from xueji.exchange.chsi.columns import Column, Problem
from xueji.exchange.chsi.kinds import ExportKind, ExportRow, Filters
from xueji.exchange.chsi.new_students import CodeTables, student_problems, student_values
from xueji.exchange.chsi.permissions import EXPORT_ROLES
from xueji.org.selectors import school_current
from xueji.students.certificate_numbers import (
    DEGREE_LEVELS,
    degree_category_code,
    degree_category_name,
    degree_number_problems,
)
from xueji.students.diploma_selectors import NumberParts, outcome_students
from xueji.students.models import DegreeAward, Student, StudentStatus
from xueji.students.selectors import scope_filter

if TYPE_CHECKING:
    from xueji.accounts.models import User
    from xueji.org.models import School

COLUMNS: tuple[Column, ...] = (
    Column("XM", "姓名", 40),
    Column("XMPY", "姓名拼音", 60),
    Column("XBM", "性别码", 1),
    Column("MZM", "民族码", 2),
    Column("ZZMMM", "政治面貌码", 2),
    Column("CSRQ", "出生日期", 8),
    Column("ZJLXM", "身份证件类型码", 2),
    Column("ZJHM", "身份证件号码", 18),
    Column("XWSYDWM", "学位授予单位码", 5),
    Column("XWSYDW", "学位授予单位", 60),
    Column("XZXM", "学位授予单位校长姓名", 40),
    Column("ZXXM", "学位评定委员会主席姓名", 40),
    Column("PYDWM", "培养单位码", 5),
    Column("XWLBM", "学位类别码", 5),
    Column("XWLB", "学位类别", 40),
    Column("ZYDM", "专业代码", 7),
    Column("ZYMC", "专业名称", 60),
    Column("KSH", "考生号", 40),
    Column("XH", "学号", 15),
    Column("RXNY", "入学年月", 6),
    Column("XZ", "学制", 4),
    Column("BYNY", "毕业年月", 6),
    Column("HXWRQ", "获学位日期", 8),
    Column("XWZSBH", "学位证书编号", 20),
    Column("JYBH", "学位评定委员会决议文号", 60),
)
CODES = frozenset(c.code for c in COLUMNS)
# The new-student file's column for the same value, for reusing its identity checks.
IDENTITY_COLUMNS = {
    "XM": "XM",
    "XB": "XBM",
    "MZ": "MZM",
    "ZZMM": "ZZMMM",
    "CSRQ": "CSRQ",
    "ZJLX": "ZJLXM",
    "ZJHM": "ZJHM",
    "ZYDM": "ZYDM",
    "KSH": "KSH",
    "XH": "XH",
}


def degree_graduates_for(user: User, filters: Filters, parts: NumberParts) -> Iterator[Student]:
    """毕业 students of the year in the user's export scope whose level earns a degree, with
    their degree awards."""
    assert filters.year is not None
    students = (
        outcome_students(year=filters.year, college_id=filters.college_id)
        .filter(scope_filter(user, roles=EXPORT_ROLES), status=StudentStatus.GRADUATED)
        .prefetch_related(
            Prefetch("degree_awards", queryset=DegreeAward.objects.order_by("conferral_date"))
        )
    )
    for student in students.iterator(chunk_size=500):
        if parts.degree_level_of(student):
            yield student


def degree_values(
    identity: dict[str, str],
    student: Student,
    award: DegreeAward | None,
    school: School | None,
) -> dict[str, str]:
    values = {new: identity.get(old, "") for old, new in IDENTITY_COLUMNS.items()}
    outcome_date = student.outcome_date  # type: ignore[attr-defined]
    values.update(
        {
            "XMPY": student.name_pinyin,
            "XWSYDWM": school.code if school else "",
            "XWSYDW": school.name if school else "",
            "PYDWM": school.code if school else "",
            "ZYMC": student.major.name,
            "RXNY": f"{student.enrollment_date:%Y%m}" if student.enrollment_date else "",
            "XZ": identity.get("XZ", ""),
            "BYNY": f"{outcome_date:%Y%m}" if outcome_date else "",
            "XZXM": award.president_name if award else "",
            "ZXXM": award.chair_name if award else "",
            "XWLBM": degree_category_code(award.level, award.discipline) if award else "",
            "XWLB": degree_category_name(award.level, award.discipline) if award else "",
            "HXWRQ": f"{award.conferral_date:%Y%m%d}" if award else "",
            "XWZSBH": award.certificate_number if award else "",
            "JYBH": award.decision_number if award else "",
        }
    )
    return {c.code: values.get(c.code, "") for c in COLUMNS}


def degree_problems(
    student: Student,
    award: DegreeAward | None,
    identity: dict[str, str],
    codes: CodeTables,
    *,
    school: School | None,
    expected_level: str,
) -> list[Problem]:
    """What the degree centre would refuse: no degree, a number off the rule, missing names,
    dates out of order, and the identity checks of the new-student file."""
    problems = [
        Problem(IDENTITY_COLUMNS[p.column], p.message)
        for p in student_problems(student, identity, codes, for_dbf=False)
        if p.column in IDENTITY_COLUMNS
    ]

    def fail(column: str, message: str) -> None:
        problems.append(Problem(column, message))

    if not student.name_pinyin.strip():
        fail("XMPY", "姓名拼音为空")
    if award is None:
        fail("XWZSBH", f"未授予学位：该毕业生应授予{DEGREE_LEVELS[expected_level]}学位")
        return problems
    if school is not None:
        for message in degree_number_problems(
            award.certificate_number,
            unit_code=school.code,
            level=award.level,
            year=award.conferral_date.year,
        ):
            fail("XWZSBH", message)
    if not award.president_name.strip():
        fail("XZXM", "学位授予单位校长姓名为空")
    if not award.chair_name.strip():
        fail("ZXXM", "学位评定委员会主席姓名为空")
    if not award.decision_number.strip():
        fail("JYBH", "学位评定委员会决议文号为空")
    outcome_date = student.outcome_date  # type: ignore[attr-defined]
    if outcome_date and award.conferral_date < outcome_date:
        fail("HXWRQ", f"获学位日期早于毕业日期 {outcome_date:%Y-%m-%d}")
    return problems


def export_rows(user: User, filters: Filters) -> Iterator[ExportRow]:
    """The `degrees` kind's rows, values unmasked (the runner masks)."""
    codes = CodeTables.load()
    parts = NumberParts.load()
    school = school_current()
    for student in degree_graduates_for(user, filters, parts):
        expected = parts.degree_level_of(student)
        award = next((a for a in student.degree_awards.all() if a.level == expected), None)
        identity = student_values(student, codes, full_id=True)
        yield ExportRow(
            student_number=student.student_number,
            name=student.name,
            college=student.college.name,
            values=degree_values(identity, student, award, school),
            problems=degree_problems(
                student, award, identity, codes, school=school, expected_level=expected
            ),
        )


KIND = ExportKind(
    key="degrees",
    title="学位授予信息上报数据",
    file_stem="xwsy",
    columns=COLUMNS,
    filter_labels=(("year", gettext_noop("毕业年份")),),
    filters=("year", "college_id"),
    required_filters=("year",),
    require_all=True,
    rows=export_rows,
    order=50,
    purposes=("学位授予信息上报", "学位授予信息核对"),
    description="当年毕业生的学位授予信息（学位中心上报字段），未授予学位的毕业生列为问题。",
)
