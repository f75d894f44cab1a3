"""Which students a CHSI export covers, scoped to the caller."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from django.db.models import QuerySet

from xueji.accounts.models import Role, Scope, User
from xueji.core.exceptions import DomainError, NotFound
from xueji.exchange.chsi.columns import Problem, dbf_problems
from xueji.exchange.chsi.dbf import Field
from xueji.exchange.chsi.files import ExportFormat
from xueji.exchange.chsi.kinds import FILTER_NAMES, ExportKind, ExportRow, Filters, kind_for, kinds
from xueji.exchange.chsi.new_students import CodeTables, StudentCheck, check_students
from xueji.exchange.chsi.permissions import EXPORT_ROLES, can_export_chsi
from xueji.org.models import Cohort, College, Term
from xueji.students.models import RegistryStatus, Student
from xueji.students.selectors import scope_filter


def chsi_colleges_for(user: User) -> QuerySet[College]:
    """Colleges the user may export: all for the registrar, their own for a college admin."""
    grants = [g for g in user.active_grants if g.role in EXPORT_ROLES]
    if any(g.role == Role.REGISTRAR and g.scope == Scope.SCHOOL for g in grants):
        return College.objects.order_by("code")
    ids = [g.college_id for g in grants if g.scope == Scope.COLLEGE and g.college_id]
    return College.objects.filter(pk__in=ids).order_by("code")


def chsi_new_students_for(
    user: User, *, cohort_year: int | None, college_id: int | None
) -> QuerySet[Student]:
    """Students with 学籍 of the cohort and/or college, within the caller's export scope.

    Raises NotFound for a college outside the scope (its existence does not leak) or an
    unknown cohort. Students holding no 学籍 (保留入学资格, 退学 …) are not registered.
    """
    students = Student.objects.filter(scope_filter(user, roles=EXPORT_ROLES))
    if college_id is not None:
        if not chsi_colleges_for(user).filter(pk=college_id).exists():
            raise NotFound("未找到该学院，或您无权导出该学院的数据。")
        students = students.filter(college_id=college_id)
    if cohort_year is not None:
        if not Cohort.objects.filter(year=cohort_year).exists():
            raise NotFound(f"没有 {cohort_year} 级。")
        students = students.filter(cohort__year=cohort_year)
    return (
        students.filter(registry_status=RegistryStatus.ENROLLED)
        .select_related("college", "major", "school_class", "cohort")
        .order_by("college__code", "student_number")
    )


def chsi_new_students_check(
    user: User, *, cohort_year: int | None, college_id: int | None, fmt: str
) -> tuple[int, list[StudentCheck]]:
    """The pre-export check: (number of students covered, students with problems)."""
    students = chsi_new_students_for(user, cohort_year=cohort_year, college_id=college_id)
    codes = CodeTables.load()
    rows = list(students)
    return len(rows), check_students(rows, codes, for_dbf=fmt == ExportFormat.DBF)


# --- every export kind -------------------------------------------------------------------------

# The form / API parameter that carries each filter (the new-student export's names are kept).
FORM_FIELDS: dict[str, str] = {
    "cohort_year": "cohort",
    "college_id": "college",
    "term_id": "term",
    "date_from": "date_from",
    "date_to": "date_to",
    "year": "year",
}
FILTER_LABELS: dict[str, str] = {
    "cohort_year": "年级",
    "college_id": "学院",
    "term_id": "学期",
    "date_from": "起始日期",
    "date_to": "截止日期",
    "year": "年份",
}


def chsi_kinds_for(user: User) -> list[ExportKind]:
    """The kinds the user may export (every registered kind, for a registrar or college
    admin; none for anyone else)."""
    return kinds() if can_export_chsi(user) else []


def chsi_kind_for(user: User, key: str) -> ExportKind:
    """The kind by its key (or job kind `chsi.<key>`); NotFound when unknown."""
    try:
        kind = kind_for(key.removeprefix("chsi."))
    except DomainError:
        raise NotFound(f"没有“{key}”这种学信网导出。") from None
    if kind not in chsi_kinds_for(user):
        raise NotFound(f"没有“{key}”这种学信网导出。")
    return kind


def kind_filters(kind: ExportKind, filters: Filters) -> Filters:
    """The filters with those the kind does not show cleared."""
    return replace(filters, **{name: None for name in FILTER_NAMES if name not in kind.filters})


def filter_errors(kind: ExportKind, filters: Filters) -> dict[str, list[str]]:
    """Missing required filters and a reversed period, by form field."""
    errors: dict[str, list[str]] = {}
    required = kind.required_filters
    missing = [name for name in required if getattr(filters, name) is None]
    if kind.require_all:
        for name in missing:
            errors[FORM_FIELDS[name]] = [f"请选择{FILTER_LABELS[name]}。"]
    elif required and len(missing) == len(required):
        names = "或".join(FILTER_LABELS[name] for name in required)
        errors[FORM_FIELDS[required[0]]] = [f"请至少选择{names}。"]
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        errors["date_to"] = [
            f"截止日期 {filters.date_to:%Y-%m-%d} 早于起始日期 {filters.date_from:%Y-%m-%d}。"
        ]
    return errors


def check_filter_scope(user: User, filters: Filters) -> None:
    """NotFound for a college outside the user's export scope (its existence does not leak),
    an unknown cohort or an unknown term."""
    if filters.college_id is not None and not (
        chsi_colleges_for(user).filter(pk=filters.college_id).exists()
    ):
        raise NotFound("未找到该学院，或您无权导出该学院的数据。")
    if filters.cohort_year is not None and not (
        Cohort.objects.filter(year=filters.cohort_year).exists()
    ):
        raise NotFound(f"没有 {filters.cohort_year} 级。")
    if filters.term_id is not None and not Term.objects.filter(pk=filters.term_id).exists():
        raise NotFound("没有该学期。")


def filters_text(kind: ExportKind, filters: Filters) -> str:
    """The filters in words, for the job title, the file's notes and the audit summary."""
    parts: list[str] = []
    if filters.cohort_year is not None:
        parts.append(f"{filters.cohort_year}级")
    if filters.term_id is not None:
        term = Term.objects.select_related("academic_year").filter(pk=filters.term_id).first()
        parts.append(str(term) if term else f"学期#{filters.term_id}")
    if filters.date_from or filters.date_to:
        start = f"{filters.date_from:%Y-%m-%d}" if filters.date_from else "…"
        end = f"{filters.date_to:%Y-%m-%d}" if filters.date_to else "…"
        parts.append(f"{start} 至 {end}")
    if filters.year is not None:
        parts.append(f"{filters.year}年")
    if filters.college_id is not None:
        college = College.objects.filter(pk=filters.college_id).first()
        parts.append(college.name if college else f"学院#{filters.college_id}")
    elif "college_id" in kind.filters:
        parts.append("全部学院")
    return "，".join(parts)


def dbf_fields(kind: ExportKind) -> tuple[Field, ...]:
    return tuple(Field(c.code, c.width) for c in kind.columns)


def row_problems(kind: ExportKind, row: ExportRow, fmt: str) -> list[Problem]:
    """The kind's problems for the row with column labels filled in, plus what a DBF file
    cannot hold when exporting DBF."""
    labels = kind.labels
    problems = [
        p if p.label else Problem(p.column, p.message, labels.get(p.column, p.column))
        for p in row.problems
    ]
    if fmt == ExportFormat.DBF:
        known = {(p.column, p.message) for p in problems}
        problems += [
            p for p in dbf_problems(kind.columns, row.values) if (p.column, p.message) not in known
        ]
    return problems


@dataclass
class RowCheck:
    """One row of a kind's pre-export check that has problems."""

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


@dataclass
class CheckResult:
    total: int  # rows covered
    found: list[RowCheck]  # rows with problems (not exportable)
    notices: list[tuple[RowCheck, str]]  # rows exported anyway, with what to note


def chsi_export_check(user: User, kind: ExportKind, filters: Filters, *, fmt: str) -> CheckResult:
    """The pre-export check of any kind: every row's problems (column, label, reason) and the
    kind's notices. Scope as the export (NotFound for another college)."""
    filters = kind_filters(kind, filters)
    check_filter_scope(user, filters)
    result = CheckResult(total=0, found=[], notices=[])
    for row in kind.rows(user, filters):
        result.total += 1
        problems = row_problems(kind, row, fmt)
        note = kind.notice(row) if kind.notice else ""
        if problems or note:
            checked = RowCheck(
                student_number=row.student_number,
                name=row.name,
                college=row.college,
                school_class=row.values.get("BH", ""),
                problems=problems,
            )
            if problems:
                result.found.append(checked)
            else:
                result.notices.append((checked, note))
    return result
