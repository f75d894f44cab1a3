"""毕业证书电子注册 (学历证书电子注册): one row per 毕业 or 结业 student of a year, filled from
the student record and the diploma Xueji numbered (students.Diploma).

Layout. No public source gives the platform's upload template; the column codes follow the
naming of the new-student file and of school systems that fill this upload (BYRQ 毕业日期,
BJYJL 毕结业结论, ZSBH 证书编号, XZXM 校长姓名 — one such system writes 校长姓名 as XZM). The
content is what 教学〔2014〕11号 asks the registration to hold: identity, study period, major,
level, 学制, 毕（结）业, study form, the president's name and the certificate number, plus a
photo uploaded separately. Check the order and codes against the school's own 学信网 template
before the first upload (docs/howto/chsi-exports.md).

肄业 students are not in this file: only 毕业 and 结业 certificates are registered (教学〔2001〕4号
第五条; 教学〔2014〕11号 第三条 "毕（结）业生学历证书电子注册").
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from django.utils.translation import gettext_noop

from xueji.exchange.chsi.columns import Column, Problem
from xueji.exchange.chsi.kinds import ExportKind, ExportRow, Filters
from xueji.exchange.chsi.new_students import CodeTables, student_problems, student_values
from xueji.exchange.chsi.permissions import EXPORT_ROLES
from xueji.org.selectors import school_current
from xueji.students.certificate_numbers import diploma_number_problems
from xueji.students.diploma_selectors import NUMBERED_OUTCOMES, NumberParts, outcome_students
from xueji.students.models import Diploma, Student
from xueji.students.selectors import scope_filter

if TYPE_CHECKING:
    from xueji.accounts.models import User
    from xueji.org.models import School

COLUMNS: tuple[Column, ...] = (
    Column("KSH", "考生号", 18),
    Column("XH", "学号", 15),
    Column("XM", "姓名", 60),
    Column("XB", "性别", 1),
    Column("CSRQ", "出生日期", 8),
    Column("ZJLX", "证件类型", 2),
    Column("ZJHM", "证件号码", 30),
    Column("MZ", "民族", 2),
    Column("ZYDM", "专业代码", 8),
    Column("ZYMC", "专业名称", 100),
    Column("CC", "层次", 4),
    Column("XXXS", "学习形式", 4),
    Column("XZ", "学制", 4),
    Column("RXRQ", "入学日期", 8),
    Column("BYRQ", "毕（结）业日期", 8),
    Column("BJYJL", "毕结业结论", 4),
    Column("ZSBH", "证书编号", 18),
    Column("XZXM", "校（院）长姓名", 60),
)
CODES = frozenset(c.code for c in COLUMNS)


def graduates_for(user: User, filters: Filters) -> Iterator[Student]:
    """毕业 and 结业 students of the year in the user's export scope, in numbering order."""
    assert filters.year is not None
    students = outcome_students(year=filters.year, college_id=filters.college_id).filter(
        scope_filter(user, roles=EXPORT_ROLES), status__in=NUMBERED_OUTCOMES
    )
    return students.iterator(chunk_size=500)


def diploma_values(
    identity: dict[str, str], student: Student, diploma: Diploma | None
) -> dict[str, str]:
    """The row: identity columns as in the new-student file, then the diploma's."""
    values = {c.code: identity.get(c.code, "") for c in COLUMNS}
    outcome_date = student.outcome_date  # type: ignore[attr-defined]
    values["BYRQ"] = f"{outcome_date:%Y%m%d}" if outcome_date else ""
    values["BJYJL"] = student.get_status_display()
    values["ZSBH"] = (diploma.number or "") if diploma else ""
    values["XZXM"] = diploma.president_name if diploma else ""
    return values


def diploma_problems(
    student: Student,
    diploma: Diploma | None,
    identity: dict[str, str],
    codes: CodeTables,
    *,
    school: School | None,
    parts: NumberParts,
) -> list[Problem]:
    """What 学历注册 would refuse: the new-student file's identity checks (those on columns this
    file has), then the diploma: number present and by the rule, president's name, photo,
    dates in order."""
    problems = [
        p for p in student_problems(student, identity, codes, for_dbf=False) if p.column in CODES
    ]

    def fail(column: str, message: str, label: str = "") -> None:
        problems.append(Problem(column, message, label))

    if diploma is None or not diploma.number:
        fail("ZSBH", "尚未编制证书编号：请在“毕业证书编号”页为该年度编号")
    elif diploma.outcome != student.status:
        fail(
            "BJYJL",
            f"证书记录为“{diploma.get_outcome_display()}”，学籍状态为"
            f"“{student.get_status_display()}”：请重新编号或核对学籍状态",
        )
    elif school is not None:
        for message in diploma_number_problems(
            diploma.number,
            school_code=school.code,
            school_type=parts.type_of(student, school),
            level=parts.level_of(student),
            year=None if diploma.reissued_on else diploma.year,
        ):
            fail("ZSBH", message)
    if diploma is not None and not diploma.president_name.strip():
        fail("XZXM", "校（院）长姓名为空：请在学校信息中填写后更正该证书记录")
    if not student.photo:
        fail("ZP", "缺少照片：学历注册须上传毕业生照片", "照片")
    outcome_date = student.outcome_date  # type: ignore[attr-defined]
    if outcome_date and student.enrollment_date and outcome_date <= student.enrollment_date:
        fail("BYRQ", "毕（结）业日期应晚于入学日期")
    if diploma is not None and outcome_date and diploma.issue_date < outcome_date:
        fail("BYRQ", f"发证日期 {diploma.issue_date:%Y-%m-%d} 早于毕（结）业日期")
    return problems


def export_rows(user: User, filters: Filters) -> Iterator[ExportRow]:
    """The `diplomas` kind's rows, values unmasked (the runner masks)."""
    codes = CodeTables.load()
    parts = NumberParts.load()
    school = school_current()
    for student in graduates_for(user, filters):
        diploma: Diploma | None = getattr(student, "diploma", None)
        identity = student_values(student, codes, full_id=True)
        yield ExportRow(
            student_number=student.student_number,
            name=student.name,
            college=student.college.name,
            values=diploma_values(identity, student, diploma),
            problems=diploma_problems(
                student, diploma, identity, codes, school=school, parts=parts
            ),
        )


KIND = ExportKind(
    key="diplomas",
    title="学信网毕业证书电子注册数据",
    file_stem="xlzc",
    columns=COLUMNS,
    filter_labels=(("year", gettext_noop("毕（结）业年份")),),
    filters=("year", "college_id"),
    required_filters=("year",),
    require_all=True,
    rows=export_rows,
    order=40,
    purposes=("学信网学历证书电子注册上报", "毕业证书信息核对"),
    description="当年毕业、结业学生的学历证书电子注册信息（肄业证书不注册）；证书编号由“毕业证书编号”页编制。",
)
