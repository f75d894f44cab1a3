"""新生注册 (new-student registration): the 19 CHSI columns, filled from the student record,
and the pre-export check that lists, per student, what the platform would refuse.

Column order and meaning are CHSI's (../shared/PRODUCT.md): codes are written as codes (性别
GB/T 2261.1, 政治面貌 GB/T 4762, 民族 GB 3304, 证件类型, 层次, 学习形式), dates as YYYYMMDD,
学制 as the platform's value ("4", "2.5"), 分院 as the college name and 班号 as the class code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from xueji.core.masking import mask_id_number
from xueji.exchange.chsi.columns import Column, Problem, dbf_problems
from xueji.exchange.chsi.dbf import Field
from xueji.exchange.chsi.kinds import ExportKind, ExportRow, Filters
from xueji.org.models import CodeItem, CodeTable
from xueji.students.identity import IdentityError, check_id_number
from xueji.students.models import Student

if TYPE_CHECKING:
    from xueji.accounts.models import User


COLUMNS: tuple[Column, ...] = (
    Column("KSH", "考生号", 18),
    Column("XH", "学号", 15),
    Column("XM", "姓名", 60),
    Column("XB", "性别", 1),
    Column("CSRQ", "出生日期", 8),
    Column("ZJLX", "证件类型", 2),
    Column("ZJHM", "证件号码", 30),
    Column("ZZMM", "政治面貌", 2),
    Column("MZ", "民族", 2),
    Column("ZYDM", "专业代码", 8),
    Column("ZYMC", "专业名称", 100),
    Column("FY", "分院", 100),
    Column("XSH", "系所", 60),
    Column("BH", "班号", 30),
    Column("CC", "层次", 4),
    Column("XXXS", "学习形式", 4),
    Column("XZ", "学制", 4),
    Column("RXRQ", "入学日期", 8),
    Column("YJBYRQ", "预计毕业日期", 8),
)
CODES: tuple[str, ...] = tuple(c.code for c in COLUMNS)
LABELS: dict[str, str] = {c.code: c.label for c in COLUMNS}
DBF_FIELDS: tuple[Field, ...] = tuple(Field(c.code, c.width) for c in COLUMNS)
# Columns the platform requires; 系所 may be empty.
REQUIRED: frozenset[str] = frozenset(CODES) - {"XSH"}
# Undergraduate levels (by their national level code) whose majors must be in the 2024
# undergraduate catalogue; other levels use catalogues Xueji does not load, so only the form
# (6 digits, or the catalogue's few 7-digit codes) is checked.
CATALOGUE_LEVELS = frozenset({"04", "05"})


@dataclass
class CodeTables:
    """The code tables the export reads, loaded once per run (a dict lookup per cell)."""

    names: dict[str, set[str]]
    extras: dict[tuple[str, str], dict[str, Any]]

    @classmethod
    def load(cls) -> CodeTables:
        tables = (
            CodeTable.GENDER,
            CodeTable.ID_TYPE,
            CodeTable.POLITICAL_STATUS,
            CodeTable.ETHNICITY,
            CodeTable.EDUCATION_LEVEL,
            CodeTable.STUDY_FORM,
            CodeTable.STUDY_DURATION,
            CodeTable.MAJOR_CATALOGUE,
        )
        names: dict[str, set[str]] = {str(t): set() for t in tables}
        extras: dict[tuple[str, str], dict[str, Any]] = {}
        rows = CodeItem.objects.filter(table__in=tables).values_list("table", "code", "extra")
        for table, code, extra in rows:
            names[table].add(code)
            if table in (CodeTable.ID_TYPE, CodeTable.EDUCATION_LEVEL):
                extras[(table, code)] = extra or {}
        return cls(names=names, extras=extras)

    def has(self, table: str, code: str) -> bool:
        return code in self.names.get(str(table), set())

    def extra_of(self, table: str, code: str) -> dict[str, Any]:
        return self.extras.get((str(table), code), {})

    def chsi_level(self, level: str) -> str:
        """The platform's 层次 code: a school's local level (专升本 05Z) is reported under the
        national level it belongs to (本科 05)."""
        extra = self.extra_of(CodeTable.EDUCATION_LEVEL, level)
        return str(extra.get("diploma_level") or level) if extra.get("local") else level


def duration_value(duration: Decimal | None) -> str:
    return format(duration.normalize(), "f") if duration is not None else ""


def student_values(student: Student, codes: CodeTables, *, full_id: bool) -> dict[str, str]:
    """The 19 values of one student; 证件号码 masked unless `full_id`."""
    s = student
    return {
        "KSH": s.candidate_number,
        "XH": s.student_number,
        "XM": s.name,
        "XB": s.gender,
        "CSRQ": f"{s.birth_date:%Y%m%d}" if s.birth_date else "",
        "ZJLX": s.id_type,
        "ZJHM": s.id_number if full_id else mask_id_number(s.id_number),
        "ZZMM": s.political_status,
        "MZ": s.ethnicity,
        "ZYDM": s.major.national_code,
        "ZYMC": s.major.name,
        "FY": s.college.name,
        "XSH": s.department,
        "BH": s.school_class.code if s.school_class_id else "",  # type: ignore[union-attr]
        "CC": codes.chsi_level(s.level),
        "XXXS": s.study_form,
        "XZ": duration_value(s.duration),
        "RXRQ": f"{s.enrollment_date:%Y%m%d}" if s.enrollment_date else "",
        "YJBYRQ": f"{s.expected_graduation_date:%Y%m%d}" if s.expected_graduation_date else "",
    }


@dataclass
class StudentCheck:
    student_number: str
    name: str
    college: str
    school_class: str
    problems: list[Problem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "student_number": self.student_number,
            "name": self.name,
            "college": self.college,
            "school_class": self.school_class,
            "problems": [p.as_dict() for p in self.problems],
        }


_ALNUM = re.compile(r"[0-9A-Za-z]+")
_MAJOR_CODE = re.compile(r"\d{6}[A-Z0-9]?")


def student_problems(
    student: Student, values: dict[str, str], codes: CodeTables, *, for_dbf: bool
) -> list[Problem]:
    """What the platform would refuse in one student's row, each with the column and why."""
    problems: list[Problem] = []

    def fail(column: str, message: str) -> None:
        problems.append(Problem(column, message, LABELS.get(column, column)))

    for column in COLUMNS:
        if column.code in REQUIRED and not values[column.code].strip():
            if column.code == "BH":
                fail("BH", "未分班：请先为学生分配班级")
            else:
                fail(column.code, f"{column.label}为空")
    ksh, xh = values["KSH"], values["XH"]
    if ksh and (len(ksh) > 18 or not _ALNUM.fullmatch(ksh)):
        fail("KSH", f"考生号“{ksh}”应为不超过 18 位的字母或数字")
    if xh and (len(xh) > 15 or not _ALNUM.fullmatch(xh)):
        fail("XH", f"学号“{xh}”应为不超过 15 位的字母或数字")
    simple_codes = (
        ("XB", CodeTable.GENDER, "性别代码（GB/T 2261.1）"),
        ("ZZMM", CodeTable.POLITICAL_STATUS, "政治面貌代码表（GB/T 4762）"),
        ("MZ", CodeTable.ETHNICITY, "民族代码表（GB 3304）"),
        ("XXXS", CodeTable.STUDY_FORM, "学习形式代码表"),
    )
    for column_code, table, table_name in simple_codes:
        value = values[column_code]
        if value and not codes.has(table, value):
            fail(column_code, f"{LABELS[column_code]}代码“{value}”不在{table_name}中")
    if values["XB"] in {"0", "9"}:
        fail("XB", "学信网要求性别为 1（男）或 2（女）")
    id_type = student.id_type
    if id_type and not codes.has(CodeTable.ID_TYPE, id_type):
        fail("ZJLX", f"证件类型代码“{id_type}”不在证件类型代码表中")
    elif id_type and codes.extra_of(CodeTable.ID_TYPE, id_type).get("local"):
        fail("ZJLX", f"证件类型“{id_type}”是本校扩展代码，学信网不接受，请改用平台的证件类型")
    elif id_type and student.id_number:
        kind = str(codes.extra_of(CodeTable.ID_TYPE, id_type).get("check", ""))
        try:
            check_id_number(
                kind, student.id_number, birth_date=student.birth_date, gender=student.gender
            )
        except IdentityError as exc:
            fail("ZJHM", exc.message)
    level = student.level
    if level and not codes.has(CodeTable.EDUCATION_LEVEL, level):
        fail("CC", f"层次代码“{level}”不在层次代码表中")
    major_code = values["ZYDM"]
    if major_code and not _MAJOR_CODE.fullmatch(major_code):
        fail("ZYDM", f"专业代码“{major_code}”应为 6 位数字（目录中少数专业为 7 位）")
    elif (
        major_code
        and values["CC"] in CATALOGUE_LEVELS
        and not codes.has(CodeTable.MAJOR_CATALOGUE, major_code)
    ):
        fail("ZYDM", f"专业代码“{major_code}”不在《普通高等学校本科专业目录》中")
    xz = values["XZ"]
    if xz and not codes.has(CodeTable.STUDY_DURATION, xz):
        fail("XZ", f"学制“{xz}”不是学信网的取值（1.5、2、2.5 … 8 年）")
    if (
        student.enrollment_date
        and student.expected_graduation_date
        and student.expected_graduation_date <= student.enrollment_date
    ):
        fail("YJBYRQ", "预计毕业日期应晚于入学日期")
    if for_dbf:
        problems.extend(dbf_problems(COLUMNS, values))
    return problems


def check_students(
    students: Iterable[Student], codes: CodeTables, *, for_dbf: bool = False
) -> list[StudentCheck]:
    """Every student with at least one problem, in the order given."""
    found: list[StudentCheck] = []
    for student in students:
        values = student_values(student, codes, full_id=True)
        problems = student_problems(student, values, codes, for_dbf=for_dbf)
        if problems:
            found.append(
                StudentCheck(
                    student_number=student.student_number,
                    name=student.name,
                    college=student.college.name,
                    school_class=student.school_class.name if student.school_class_id else "",  # type: ignore[union-attr]
                    problems=problems,
                )
            )
    return found


def export_rows(user: User, filters: Filters) -> Iterator[ExportRow]:
    """The `new_students` kind's rows: every student with 学籍 of the cohort and/or college in
    the user's scope, values unmasked, with the platform's problems (DBF checks are the
    runner's)."""
    from xueji.exchange.chsi.selectors import chsi_new_students_for

    students = chsi_new_students_for(
        user, cohort_year=filters.cohort_year, college_id=filters.college_id
    )
    codes = CodeTables.load()
    for student in students.iterator(chunk_size=500):
        values = student_values(student, codes, full_id=True)
        yield ExportRow(
            student_number=student.student_number,
            name=student.name,
            college=student.college.name,
            values=values,
            problems=student_problems(student, values, codes, for_dbf=False),
        )


KIND = ExportKind(
    key="new_students",
    title="学信网新生注册数据",
    file_stem="xszc",
    columns=COLUMNS,
    filters=("cohort_year", "college_id"),
    required_filters=("cohort_year", "college_id"),
    rows=export_rows,
    order=10,
    purposes=("学信网新生注册上报", "新生注册数据核对"),
    description="新生入学后上报学信网的 19 项学籍信息，每名在籍学生一行。",
)
