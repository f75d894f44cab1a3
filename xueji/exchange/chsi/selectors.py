"""Which students a CHSI export covers, scoped to the caller."""

from __future__ import annotations

from django.db.models import QuerySet

from xueji.accounts.models import Role, Scope, User
from xueji.core.exceptions import NotFound
from xueji.exchange.chsi.files import ExportFormat
from xueji.exchange.chsi.new_students import CodeTables, StudentCheck, check_students
from xueji.exchange.chsi.permissions import EXPORT_ROLES
from xueji.org.models import Cohort, College
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
