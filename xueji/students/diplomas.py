"""Writes for graduation records: numbering diplomas for a year and conferring degrees.

Both are registrar-only, run in one transaction holding a row lock on the school so two
concurrent runs cannot hand out the same serial, write per-record history and one audit event.
The number rules themselves are pure functions in `certificate_numbers`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.db.models import Max
from simple_history.utils import bulk_create_with_history

from xueji.audit.services import audit_record
from xueji.core.context import Actor
from xueji.core.exceptions import NotFound, PermissionDenied, ValidationFailed
from xueji.org.models import College, School
from xueji.students import permissions
from xueji.students.certificate_numbers import (
    DEGREE_LEVELS,
    FIRST_YEAR,
    LAST_YEAR,
    CertificateNumberError,
    degree_certificate_number,
    degree_prefix,
    diploma_number,
    diploma_prefix,
    discipline_of,
)
from xueji.students.diploma_selectors import (
    NUMBERED_OUTCOMES,
    NumberParts,
    diploma_plan,
    graduation_scope,
    school_problems,
)
from xueji.students.models import (
    DegreeAward,
    Diploma,
    DiplomaOutcome,
    Student,
    StudentStatus,
)

REISSUE_REASON = "结业换发毕业证书（证书编号不变，教学司〔2001〕80号 三）"


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationFailed({"year": [f"年份应在 {FIRST_YEAR}–{LAST_YEAR} 之间，实为 {year}"]})


def _locked_school() -> School:
    """The school row, locked until the transaction ends: the one lock every numbering run
    takes first, so runs queue instead of reading the same highest serial."""
    school = School.objects.select_for_update().order_by("pk").first()
    problems = school_problems(school)
    if problems:
        raise ValidationFailed({"__all__": problems})
    assert school is not None
    return school


def _next_serials(model: type[Diploma] | type[DegreeAward], column: str, prefix: str) -> int:
    """The serial after the highest already used under `prefix` (numbers are fixed-width
    digits, so the greatest string is the greatest number)."""
    highest = model.objects.filter(**{f"{column}__startswith": prefix}).aggregate(top=Max(column))[
        "top"
    ]
    return int(highest[len(prefix) :]) + 1 if highest else 1


@dataclass
class DiplomaAssignment:
    """What one numbering run did."""

    year: int
    numbered: int = 0
    unnumbered: int = 0  # 肄业证书 recorded without a number
    reissued: int = 0
    ranges: dict[str, list[str]] = field(default_factory=dict)  # prefix → [first, last]

    @property
    def total(self) -> int:
        return self.numbered + self.unnumbered + self.reissued


def diplomas_assign(
    *, actor: Actor, year: int, issue_date: date, college_id: int | None = None
) -> DiplomaAssignment:
    """Number the diplomas of every student whose 毕业/结业/肄业 took effect in `year` and who
    has none yet (optionally one college).

    Serials run per (school code, 办学类型, year, 培养层次), continuing after the highest already
    used, in the order college, major, 学号. 肄业 students get a 肄业证书 record without a
    number. A student holding a 结业 certificate who has since graduated gets the 毕业
    certificate under the same number. A second run finds nothing to do and changes nothing.

    Raises PermissionDenied (not the registrar), NotFound (unknown college), ValidationFailed
    (bad year, school settings incomplete, a student whose level or study form has no code
    in the number, an issue date before someone's 毕（结）业 date) and CertificateNumberError
    (serial past 999999) — all before anything is written. Side effects: Diploma rows with
    history, one audit event `students.diploma.assign`.
    """
    user = actor.require_user()
    if not permissions.can_manage_graduation(user):
        raise PermissionDenied("只有校级学籍管理员可以编制毕业证书编号。")
    _check_year(year)
    if college_id is not None and not College.objects.filter(pk=college_id).exists():
        raise NotFound("未找到该学院。")
    result = DiplomaAssignment(year=year)
    with transaction.atomic():
        school = _locked_school()
        parts = NumberParts.load()
        plan = diploma_plan(year=year, college_id=college_id, school=school, parts=parts)
        if plan.problems:
            raise ValidationFailed({"__all__": plan.problems})
        early = [
            s
            for s in [*plan.new, *plan.reissue]
            if s.outcome_date and issue_date < s.outcome_date  # type: ignore[attr-defined]
        ]
        if early:
            first = early[0]
            raise ValidationFailed(
                {
                    "issue_date": [
                        f"发证日期 {issue_date:%Y-%m-%d} 早于 {len(early)} 名学生的毕（结）业日期"
                        f"（如 {first.student_number} {first.name}："
                        f"{first.outcome_date:%Y-%m-%d}）"  # type: ignore[attr-defined]
                    ]
                }
            )
        serials: dict[str, int] = {}
        diplomas: list[Diploma] = []
        for student in plan.new:
            number: str | None = None
            if student.status in NUMBERED_OUTCOMES:
                level = parts.level_of(student)
                school_type = parts.type_of(student, school)
                prefix = diploma_prefix(
                    school_code=school.code, school_type=school_type, year=year, level=level
                )
                if prefix not in serials:
                    serials[prefix] = _next_serials(Diploma, "number", prefix)
                number = diploma_number(
                    school_code=school.code,
                    school_type=school_type,
                    year=year,
                    level=level,
                    serial=serials[prefix],
                )
                serials[prefix] += 1
                result.ranges.setdefault(prefix, [number, number])[1] = number
                result.numbered += 1
            else:
                result.unnumbered += 1
            diplomas.append(
                Diploma(
                    student=student,
                    outcome=student.status,
                    year=year,
                    outcome_date=student.outcome_date,  # type: ignore[attr-defined]
                    issue_date=issue_date,
                    number=number,
                    president_name=school.president_name,
                    created_by=user,
                )
            )
        if diplomas:
            bulk_create_with_history(
                diplomas,
                Diploma,
                batch_size=500,
                default_user=user,
                default_change_reason=f"{year} 年毕（结）业证书编号",
            )
        for student in plan.reissue:
            diploma = student.diploma
            diploma.outcome = DiplomaOutcome.GRADUATED
            diploma.year = year
            diploma.outcome_date = student.outcome_date  # type: ignore[attr-defined]
            diploma.issue_date = issue_date
            diploma.reissued_on = issue_date
            diploma.president_name = school.president_name
            diploma._history_user = user  # type: ignore[attr-defined]
            diploma._change_reason = REISSUE_REASON  # type: ignore[attr-defined]
            diploma.save()
            result.reissued += 1
        if result.total:
            audit_record(
                actor=actor,
                action="students.diploma.assign",
                target_type="students.diploma",
                target_id=str(year),
                summary=(
                    f"{year} 年毕（结）业证书：新编号 {result.numbered} 个，"
                    f"肄业证书 {result.unnumbered} 份，结业换发毕业证书 {result.reissued} 份"
                ),
                after={
                    "year": year,
                    "issue_date": issue_date.isoformat(),
                    "college_id": college_id,
                    "numbered": result.numbered,
                    "unnumbered": result.unnumbered,
                    "reissued": result.reissued,
                    "ranges": result.ranges,
                },
            )
    return result


# --- Degrees -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    student_number: str
    name: str
    reason: str


@dataclass
class DegreeConferral:
    awards: list[DegreeAward] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


def _degree_refusal(
    student: Student, *, level: str, conferral_date: date, parts: NumberParts
) -> str:
    """Why `student` cannot receive the degree `level` now ('' = eligible)."""
    if student.status != StudentStatus.GRADUATED:
        return f"学籍状态为“{student.get_status_display()}”：只有毕业生可以授予学位"
    diploma: Diploma | None = getattr(student, "diploma", None)
    if diploma is None or diploma.outcome != DiplomaOutcome.GRADUATED or not diploma.number:
        return "尚未编制毕业证书编号：请先为该年度毕业生编号"
    expected = parts.degree_level_of(student)
    if not expected:
        return f"层次“{student.level}”的毕业生不授予学位"
    if expected != level:
        return (
            f"该层次毕业生应授予{DEGREE_LEVELS[expected]}学位，"
            f"不能授予{DEGREE_LEVELS.get(level, level)}学位"
        )
    for award in student.degree_awards.all():
        if award.level == level:
            return f"已授予{award.get_level_display()}学位（证书编号 {award.certificate_number}）"
    if conferral_date < diploma.outcome_date:
        return f"获学位日期早于毕业日期 {diploma.outcome_date:%Y-%m-%d}"
    try:
        discipline_of(student.major.national_code)
    except CertificateNumberError as exc:
        return exc.message
    return ""


def degrees_confer(
    *,
    actor: Actor,
    student_ids: list[int],
    conferral_date: date,
    decision_number: str,
    level: str,
) -> DegreeConferral:
    """Confer the degree `level` (2 博士, 3 硕士, 4 学士) on the chosen graduates, numbering
    their 学位证书 per (school code, level, year of conferral) after the highest used, in the
    order college, major, 学号.

    Only students whose outcome is 毕业 and who hold a numbered 毕业证书 qualify; everyone else
    is returned in `refused` with the reason, and is not touched. Raises PermissionDenied (not
    the registrar) and ValidationFailed (no student chosen, no decision number, unknown level,
    school settings incomplete). Side effects: DegreeAward rows with history, one audit event
    `students.degree.confer` when at least one degree was conferred.
    """
    user = actor.require_user()
    if not permissions.can_manage_graduation(user):
        raise PermissionDenied("只有校级学籍管理员可以授予学位。")
    errors: dict[str, list[str]] = {}
    decision_number = decision_number.strip()
    if not decision_number:
        errors["decision_number"] = ["请填写学位评定委员会决议文号。"]
    if level not in DEGREE_LEVELS:
        errors["level"] = [f"学位级别“{level}”应为 2（博士）、3（硕士）或 4（学士）。"]
    ids = list(dict.fromkeys(student_ids))
    if not ids:
        errors["students"] = ["请至少选择一名学生。"]
    if errors:
        raise ValidationFailed(errors)
    _check_year(conferral_date.year)
    result = DegreeConferral()
    with transaction.atomic():
        school = _locked_school()
        if not school.degree_chair_name.strip():
            raise ValidationFailed(
                {
                    "__all__": [
                        "尚未填写学位评定委员会主席姓名：学位授予信息要报"
                        "（组织机构 → 编辑学校信息）。"
                    ]
                }
            )
        parts = NumberParts.load()
        found = {
            s.pk: s
            for s in Student.objects.filter(graduation_scope(user), pk__in=ids)
            .select_related("college", "major", "diploma")
            .prefetch_related("degree_awards")
        }
        eligible: list[Student] = []
        for pk in ids:
            student = found.get(pk)
            if student is None:
                result.refused.append(Refusal(str(pk), "", "未找到该学生，或您无权操作"))
                continue
            reason = _degree_refusal(
                student, level=level, conferral_date=conferral_date, parts=parts
            )
            if reason:
                result.refused.append(Refusal(student.student_number, student.name, reason))
            else:
                eligible.append(student)
        if not eligible:
            return result
        eligible.sort(key=lambda s: (s.college.code, s.major.code, s.student_number))
        year = conferral_date.year
        prefix = degree_prefix(unit_code=school.code, level=level, year=year)
        serial = _next_serials(DegreeAward, "certificate_number", prefix)
        awards: list[DegreeAward] = []
        for student in eligible:
            awards.append(
                DegreeAward(
                    student=student,
                    level=level,
                    discipline=discipline_of(student.major.national_code),
                    conferral_date=conferral_date,
                    decision_number=decision_number[:100],
                    certificate_number=degree_certificate_number(
                        unit_code=school.code, level=level, year=year, serial=serial
                    ),
                    president_name=school.president_name,
                    chair_name=school.degree_chair_name,
                    created_by=user,
                )
            )
            serial += 1
        result.awards = bulk_create_with_history(
            awards,
            DegreeAward,
            batch_size=500,
            default_user=user,
            default_change_reason=f"学位授予（{decision_number[:80]}）",
        )
        audit_record(
            actor=actor,
            action="students.degree.confer",
            target_type="students.degreeaward",
            target_id=decision_number[:80],
            summary=(
                f"授予{DEGREE_LEVELS[level]}学位 {len(awards)} 人（{decision_number}），"
                f"未授予 {len(result.refused)} 人"
            ),
            after={
                "level": level,
                "conferral_date": conferral_date.isoformat(),
                "decision_number": decision_number,
                "first": awards[0].certificate_number,
                "last": awards[-1].certificate_number,
                "count": len(awards),
                "refused": [r.student_number for r in result.refused],
            },
        )
    return result
