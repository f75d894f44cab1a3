"""Reads for graduation records: who left with which outcome in a year, the diplomas and degree
awards a user may see, and the plan a diploma-numbering run would carry out.

Scope is the general rule (`scope_filter`) narrowed to the roles that read graduation records
(registrar: whole school; college academic admin: own college)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import OuterRef, Q, QuerySet, Subquery

from xueji.accounts.models import Scope, User
from xueji.core.exceptions import NotFound
from xueji.org.models import CodeItem, CodeTable, College, School
from xueji.students.certificate_numbers import (
    DEGREE_FOR_DIPLOMA_LEVEL,
    DIPLOMA_LEVELS,
    SCHOOL_TYPES,
)
from xueji.students.models import (
    DegreeAward,
    Diploma,
    DiplomaOutcome,
    Student,
    StudentState,
    StudentStatus,
)
from xueji.students.permissions import GRADUATION_READ_ROLES
from xueji.students.selectors import scope_filter

OUTCOME_STATUSES: tuple[str, ...] = tuple(DiplomaOutcome.values)
# Outcomes whose certificate is a 学历证书 with an 电子注册号 (教学〔2001〕4号 第五条;
# 教学〔2014〕11号 第三条 registers 毕（结）业生 only). 肄业证书 get no number.
NUMBERED_OUTCOMES = frozenset({DiplomaOutcome.GRADUATED, DiplomaOutcome.COMPLETED})


def graduation_scope(user: User) -> Q:
    return scope_filter(user, roles=GRADUATION_READ_ROLES)


def graduation_colleges_for(user: User) -> QuerySet[College]:
    """Colleges offered as a filter: all for a school-wide grant, the granted college for a
    college academic admin."""
    grants = [g for g in user.active_grants if g.role in GRADUATION_READ_ROLES]
    if any(g.scope == Scope.SCHOOL for g in grants):
        return College.objects.order_by("code")
    ids = [g.college_id for g in grants if g.scope == Scope.COLLEGE and g.college_id]
    return College.objects.filter(pk__in=ids).order_by("code")


def _check_college(user: User, college_id: int | None) -> None:
    if college_id is not None and not graduation_colleges_for(user).filter(pk=college_id).exists():
        raise NotFound("未找到该学院，或您无权查看该学院的数据。")


def outcome_students(*, year: int, college_id: int | None = None) -> QuerySet[Student]:
    """Students whose 毕业/结业/肄业 status took effect in `year`, annotated with `outcome_date`
    (the valid_from of the open StudentState row of that status), in the numbering order:
    college, major, 学号. Not scoped: callers apply scope or are registrar-only services."""
    open_state = StudentState.objects.filter(
        student_id=OuterRef("pk"), status=OuterRef("status"), valid_to__isnull=True
    ).order_by("-valid_from", "-pk")
    students = (
        Student.objects.filter(status__in=OUTCOME_STATUSES)
        .annotate(outcome_date=Subquery(open_state.values("valid_from")[:1]))
        .filter(outcome_date__gte=date(year, 1, 1), outcome_date__lte=date(year, 12, 31))
    )
    if college_id is not None:
        students = students.filter(college_id=college_id)
    return students.select_related("college", "major", "school_class", "diploma").order_by(
        "college__code", "major__code", "student_number"
    )


@dataclass
class NumberParts:
    """What a diploma number needs from the code tables: 层次 → 培养层次码 and 学习形式 →
    办学类型码 (falling back to the school's own type)."""

    levels: dict[str, str]
    types: dict[str, str]

    @classmethod
    def load(cls) -> NumberParts:
        levels: dict[str, str] = {}
        types: dict[str, str] = {}
        rows = CodeItem.objects.filter(
            table__in=(CodeTable.EDUCATION_LEVEL, CodeTable.STUDY_FORM)
        ).values_list("table", "code", "extra")
        for table, code, extra in rows:
            extra = extra or {}
            if table == CodeTable.EDUCATION_LEVEL:
                level = str(extra.get("diploma_level") or code)
                levels[code] = level if level in DIPLOMA_LEVELS else ""
            else:
                types[code] = str(extra.get("school_type", ""))
        return cls(levels=levels, types=types)

    def level_of(self, student: Student) -> str:
        return self.levels.get(student.level, "")

    def type_of(self, student: Student, school: School) -> str:
        return self.types.get(student.study_form) or school.school_type

    def degree_level_of(self, student: Student) -> str:
        """The degree a graduate of this level may receive ('' for 专科)."""
        return DEGREE_FOR_DIPLOMA_LEVEL.get(self.level_of(student), "")


def school_problems(school: School | None) -> list[str]:
    """What the school settings lack for numbering diplomas."""
    if school is None:
        return ["尚未设置学校信息：请先在“组织机构”中填写学校代码、办学类型码和校（院）长姓名。"]
    problems: list[str] = []
    if not (len(school.code) == 5 and school.code.isascii() and school.code.isdigit()):
        problems.append(f"学校代码“{school.code}”应为 5 位数字（组织机构 → 编辑学校信息）。")
    if school.school_type not in SCHOOL_TYPES:
        problems.append(f"学校的办学类型码“{school.school_type}”不是 1、5、6、7 之一。")
    if not school.president_name.strip():
        problems.append(
            "尚未填写校（院）长姓名：证书上要印、学历注册要报（组织机构 → 编辑学校信息）。"
        )
    return problems


@dataclass
class DiplomaPlan:
    """What `diplomas_assign` would do for a year: students to number (or, for 肄业, record
    without a number), 结业 certificates to exchange for 毕业 ones keeping their number, how
    many already have their diploma, and what blocks the run."""

    year: int
    new: list[Student] = field(default_factory=list)
    reissue: list[Student] = field(default_factory=list)
    already: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counts = {value: 0 for value in DiplomaOutcome.values}
        for student in self.new:
            counts[student.status] += 1
        return counts

    @property
    def runnable(self) -> bool:
        return not self.problems and bool(self.new or self.reissue)

    @property
    def numbered(self) -> int:
        return sum(1 for s in self.new if s.status in NUMBERED_OUTCOMES)


def diploma_plan(
    *, year: int, college_id: int | None, school: School | None, parts: NumberParts
) -> DiplomaPlan:
    """The plan for `year` (optionally one college). Reads only."""
    plan = DiplomaPlan(year=year, problems=school_problems(school))
    for student in outcome_students(year=year, college_id=college_id):
        existing: Diploma | None = getattr(student, "diploma", None)
        if existing is None:
            plan.new.append(student)
        elif (
            existing.outcome == DiplomaOutcome.COMPLETED
            and student.status == StudentStatus.GRADUATED
        ):
            plan.reissue.append(student)
        else:
            plan.already += 1
            continue
        if student.status in NUMBERED_OUTCOMES and school is not None:
            if not parts.level_of(student):
                plan.problems.append(
                    f"{student.student_number} {student.name}：层次“{student.level}”"
                    "没有对应的证书培养层次码（01/02/04/05/06）"
                )
            if parts.type_of(student, school) not in SCHOOL_TYPES:
                plan.problems.append(
                    f"{student.student_number} {student.name}：学习形式“{student.study_form}”"
                    "没有对应的办学类型码"
                )
    return plan


def diploma_list_visible_to(
    user: User, *, year: int | None = None, college_id: int | None = None, outcome: str = ""
) -> QuerySet[Diploma]:
    """Diplomas of students the user may read, by number. NotFound for a college outside the
    user's scope."""
    _check_college(user, college_id)
    diplomas = Diploma.objects.filter(
        student__in=Student.objects.filter(graduation_scope(user)).values("pk")
    )
    if year is not None:
        diplomas = diplomas.filter(year=year)
    if college_id is not None:
        diplomas = diplomas.filter(student__college_id=college_id)
    if outcome:
        diplomas = diplomas.filter(outcome=outcome)
    return diplomas.select_related("student__college", "student__major").order_by(
        "number", "student__student_number"
    )


def degree_award_list_visible_to(
    user: User, *, year: int | None = None, college_id: int | None = None
) -> QuerySet[DegreeAward]:
    """Degree awards of students the user may read, by certificate number."""
    _check_college(user, college_id)
    awards = DegreeAward.objects.filter(
        student__in=Student.objects.filter(graduation_scope(user)).values("pk")
    )
    if year is not None:
        awards = awards.filter(conferral_date__year=year)
    if college_id is not None:
        awards = awards.filter(student__college_id=college_id)
    return awards.select_related("student__college", "student__major", "student__diploma")


def degree_candidates(user: User, *, year: int, college_id: int | None = None) -> QuerySet[Student]:
    """Graduates of `year` (毕业 diploma numbered that year) in the user's scope who have no
    degree award yet: the list a conferral is chosen from."""
    _check_college(user, college_id)
    students = Student.objects.filter(
        graduation_scope(user),
        status=StudentStatus.GRADUATED,
        diploma__outcome=DiplomaOutcome.GRADUATED,
        diploma__year=year,
        diploma__number__isnull=False,
    ).exclude(degree_awards__isnull=False)
    if college_id is not None:
        students = students.filter(college_id=college_id)
    return students.select_related("college", "major", "school_class", "diploma").order_by(
        "college__code", "major__code", "student_number"
    )
