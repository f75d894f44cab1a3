"""Writes to the student record. Each service checks permission, runs in one transaction and
writes its audit event in that transaction.

Correction requests go through the approval engine, which sits above this app: their
services are in the changes app (`changes/corrections.py`), which uses `preview_correction`
and `write_changes` from here."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from xueji.accounts.models import User
from xueji.audit.services import audit_record
from xueji.core.context import Actor
from xueji.core.exceptions import DomainError, NotFound, PermissionDenied, ValidationFailed
from xueji.org.models import CodeItem, CodeTable
from xueji.org.selectors import code_exists
from xueji.students import permissions
from xueji.students.identity import IdentityError, check_id_number
from xueji.students.models import (
    LedgerAction,
    ParentLink,
    StatusLedgerEntry,
    Student,
    StudentState,
    StudentStatus,
    registry_for,
)
from xueji.students.pinyin import name_pinyin, search_keys_for
from xueji.students.selectors import student_list_visible_to

CODE_FIELDS = {
    "gender": CodeTable.GENDER,
    "id_type": CodeTable.ID_TYPE,
    "political_status": CodeTable.POLITICAL_STATUS,
    "ethnicity": CodeTable.ETHNICITY,
    "native_region": CodeTable.REGION,
    "level": CodeTable.EDUCATION_LEVEL,
    "study_form": CodeTable.STUDY_FORM,
}
REQUIRED_FIELDS = (
    "candidate_number",
    "student_number",
    "name",
    "gender",
    "birth_date",
    "id_type",
    "id_number",
    "political_status",
    "ethnicity",
    "college",
    "major",
    "cohort",
    "level",
    "study_form",
    "duration",
    "enrollment_date",
    "expected_graduation_date",
)
MAX_LENGTHS = {"candidate_number": 18, "student_number": 15, "name": 60}


def field_label(field: str) -> str:
    """The Chinese name of a Student field, for messages and audit summaries."""
    return str(Student._meta.get_field(field).verbose_name)


def id_check_kind(id_type: str) -> str:
    item = CodeItem.objects.filter(table=CodeTable.ID_TYPE, code=id_type).first()
    return str(item.extra.get("check", "")) if item else ""


def student_validate(data: dict[str, Any], *, instance: Student | None = None) -> dict[str, Any]:
    """Check a full set of student values; return them normalised or raise ValidationFailed.

    Checks required fields, lengths, code tables, 证件号码 (checksum, birth date, gender),
    major/college/class consistency and uniqueness of 学号, 考生号 and 证件号码.
    """
    errors: dict[str, list[str]] = {}

    def fail(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    values = dict(data)
    for field, value in list(values.items()):
        if isinstance(value, str):
            values[field] = value.strip()
    for field in REQUIRED_FIELDS:
        if values.get(field) in (None, ""):
            fail(field, f"{field_label(field)}为必填项")
    for field, limit in MAX_LENGTHS.items():
        value = values.get(field) or ""
        if len(value) > limit:
            fail(field, f"{field_label(field)}最长 {limit} 位，实为 {len(value)} 位")
    for field in ("candidate_number", "student_number"):
        value = values.get(field) or ""
        if value and not value.isalnum():
            fail(field, f"{field_label(field)}只能包含字母和数字")
    for field, table in CODE_FIELDS.items():
        value = values.get(field)
        if value and not code_exists(table, value):
            fail(field, f"{field_label(field)}代码“{value}”不在{CodeTable(table).label}中")
    duration = values.get("duration")
    if duration not in (None, ""):
        try:
            duration = Decimal(str(duration))
            values["duration"] = duration
        except ArithmeticError:
            fail("duration", "学制应为数字，如 4 或 2.5")
        else:
            if not code_exists(CodeTable.STUDY_DURATION, _duration_code(duration)):
                fail("duration", f"学制“{duration}”不是 CHSI 允许的取值（1.5 至 8 年）")
    birth = values.get("birth_date")
    if isinstance(birth, date) and birth > timezone.localdate():
        fail("birth_date", "出生日期不能晚于今天")
    if values.get("id_number") and values.get("id_type") and "id_type" not in errors:
        try:
            values["id_number"] = check_id_number(
                id_check_kind(values["id_type"]),
                values["id_number"],
                birth_date=birth if isinstance(birth, date) else None,
                gender=values.get("gender"),
            )
        except IdentityError as exc:
            fail("id_number", exc.message)
    college, major, klass, cohort = (
        values.get("college"),
        values.get("major"),
        values.get("school_class"),
        values.get("cohort"),
    )
    if college and major and major.college_id != college.pk:
        fail("major", f"专业“{major.name}”不属于{college.name}")
    if klass and major and klass.major_id != major.pk:
        fail("school_class", f"班级“{klass.name}”不属于专业“{major.name}”")
    if klass and cohort and klass.cohort_id != cohort.pk:
        fail("school_class", f"班级“{klass.name}”不属于{cohort}")
    enrolled, expected = values.get("enrollment_date"), values.get("expected_graduation_date")
    if isinstance(enrolled, date) and isinstance(expected, date) and expected <= enrolled:
        fail("expected_graduation_date", "预计毕业日期应晚于入学日期")
    others = Student.objects.all()
    if instance is not None:
        others = others.exclude(pk=instance.pk)
    for field in ("student_number", "candidate_number"):
        value = values.get(field)
        if value and field not in errors and others.filter(**{field: value}).exists():
            fail(field, f"{field_label(field)}“{value}”已被其他学生使用")
    id_number = values.get("id_number") if "id_number" not in errors else None
    if (
        id_number
        and others.filter(
            id_type__in=_same_number_types(values.get("id_type") or ""), id_number=id_number
        ).exists()
    ):
        fail("id_number", "该证件号码已属于另一名学生")
    if errors:
        raise ValidationFailed(errors)
    return values


def _same_number_types(id_type: str) -> set[str]:
    """ID types whose numbers identify the same person: a 公民身份号码 is one number whether it
    was entered from the 居民身份证 or the 户口簿."""
    if id_check_kind(id_type) != "ric":
        return {id_type}
    return {id_type} | set(
        CodeItem.objects.filter(table=CodeTable.ID_TYPE, extra__check="ric").values_list(
            "code", flat=True
        )
    )


def _duration_code(duration: Decimal) -> str:
    return format(duration.normalize(), "f")


def _apply_name(student: Student, values: dict[str, Any]) -> None:
    if "name" in values and not values.get("name_pinyin"):
        values["name_pinyin"] = name_pinyin(values["name"])
    if "name" in values or "name_pinyin" in values:
        name = values.get("name", student.name)
        pinyin = values.get("name_pinyin", student.name_pinyin)
        student.pinyin_key, student.pinyin_initials = search_keys_for(name, pinyin)


def snapshot(student: Student, fields: Any = None) -> dict[str, Any]:
    """Plain values for the audit before/after (foreign keys as ids)."""
    result: dict[str, Any] = {}
    for field in fields or (*permissions.EDITABLE_FIELDS, "student_number", "status"):
        model_field = Student._meta.get_field(field)
        value = getattr(student, model_field.attname)
        result[field] = value if isinstance(value, (str, int, type(None))) else str(value)
    return result


def student_create(*, actor: Actor, data: dict[str, Any]) -> Student:
    """Create a student in 学籍 (在籍/在校) with its first state row and ledger entry.

    Raises PermissionDenied outside the actor's college, ValidationFailed on bad input.
    """
    user = actor.require_user()
    college = data.get("college")
    if college is None or not permissions.can_create_student(user, college.pk):
        raise PermissionDenied("您无权在该学院新建学生档案。")
    values = student_validate(data)
    with transaction.atomic():
        student = Student(status=StudentStatus.IN_SCHOOL, registry_status=registry_for("in_school"))
        _apply_name(student, values)
        for field, value in values.items():
            setattr(student, field, value)
        student._change_reason = "新生建档"  # type: ignore[attr-defined]
        student._history_user = user  # type: ignore[attr-defined]
        _save_unique(student)
        StudentState.objects.create(
            student=student,
            registry_status=student.registry_status,
            status=student.status,
            valid_from=student.enrollment_date,
            reason="入学",
        )
        StatusLedgerEntry.objects.create(
            student=student,
            action=LedgerAction.ADMITTED,
            to_status=student.status,
            effective_date=student.enrollment_date,
            note="新生建档",
            actor=user,
        )
        audit_record(
            actor=actor,
            action="student.create",
            target=student,
            summary=f"新建学生档案 {student.student_number} {student.name}",
            after=snapshot(student),
        )
    return student


def student_update(
    *, actor: Actor, student: Student, changes: dict[str, Any], reason: str = ""
) -> Student:
    """Change fields of a record. Only fields the actor may edit are accepted.

    Locked CHSI fields need the registrar. Raises PermissionDenied or ValidationFailed and then
    changes nothing.
    """
    user = actor.require_user()
    allowed = permissions.editable_fields(user, student)
    if not allowed:
        raise PermissionDenied("您无权修改该学生档案。")
    current = {f: getattr(student, f) for f in permissions.EDITABLE_FIELDS}
    changed = {f: v for f, v in changes.items() if current.get(f) != v}
    refused = sorted(set(changed) - allowed)
    if refused:
        labels = "、".join(field_label(f) for f in refused)
        raise PermissionDenied(f"以下字段须由校级学籍管理员修改：{labels}", field=refused[0])
    if not changed:
        return student
    values = student_validate(
        {**current, "student_number": student.student_number, **changed}, instance=student
    )
    return write_changes(actor, student, {f: values[f] for f in changed}, reason, "student.update")


def write_changes(
    actor: Actor, student: Student, values: dict[str, Any], reason: str, action: str
) -> Student:
    """Write already validated `values` to the record, with a version and an audit event.

    No permission check: the caller (`student_update`, an approved correction) has decided
    that these values may be written. Raises ValidationFailed when a unique number collides.
    """
    with transaction.atomic():
        locked = Student.objects.select_for_update().get(pk=student.pk)
        before = snapshot(locked, values.keys())
        _apply_name(locked, values)
        for field, value in values.items():
            setattr(locked, field, value)
        locked._change_reason = reason or "档案修改"  # type: ignore[attr-defined]
        # Who made the version, also when no request is around (API workers, commands).
        locked._history_user = actor.user  # type: ignore[attr-defined]
        _save_unique(locked)
        audit_record(
            actor=actor,
            action=action,
            target=locked,
            summary=f"修改 {locked.student_number} {locked.name}："
            + "、".join(field_label(f) for f in values),
            before=before,
            after=snapshot(locked, values.keys()),
        )
    return locked


def _save_unique(student: Student) -> None:
    # Two writers racing past validation both reach here; the database constraint decides.
    try:
        with transaction.atomic():
            student.save()
    except IntegrityError as exc:
        raise ValidationFailed(
            {"student_number": ["学号、考生号或证件号码与其他学生重复"]}
        ) from exc


def student_reveal_id_number(*, actor: Actor, student: Student, purpose: str = "") -> str:
    """Return the unmasked 证件号码 for a user granted it, recording the read in the audit chain."""
    user = actor.require_user()
    if not permissions.can_view_full_id(user):
        raise PermissionDenied("您没有查看完整证件号码的权限。")
    # The grant lets a user unmask IDs within their scope, not anyone's.
    if not student_list_visible_to(user).filter(pk=student.pk).exists():
        raise NotFound("未找到该学生，或您无权查看。")
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="student.view_id",
            target=student,
            summary=f"查看 {student.student_number} 的完整证件号码"
            + (f"（{purpose}）" if purpose else ""),
        )
    return student.id_number


def _coerce(field: str, text: str) -> Any:
    model_field = Student._meta.get_field(field)
    if isinstance(model_field, models.DateField):
        try:
            return date.fromisoformat(text)
        except ValueError as exc:
            raise DomainError("日期格式应为 YYYY-MM-DD", field="requested_value") from exc
    return text


def preview_correction(student: Student, field: str, text: str) -> dict[str, Any]:
    """Validate the record as it would be after the correction, so bad values are refused early.

    Returns {field: value} with the value coerced to the field's type; raises DomainError
    (field "requested_value") with the first reason the record would refuse it.
    """
    current = {f: getattr(student, f) for f in permissions.EDITABLE_FIELDS}
    value = _coerce(field, text)
    try:
        student_validate(
            {**current, "student_number": student.student_number, field: value}, instance=student
        )
    except ValidationFailed as exc:
        raise DomainError(next(iter(exc.errors.values()))[0], field="requested_value") from exc
    return {field: value}


def student_status_set(
    *, actor: Actor, student: Student, status: str, effective_date: date, reason: str
) -> Student:
    """Record a status change as a new dated state row plus a ledger entry (registrar only).

    The full 学籍异动 flow with approvals builds on this; history is never edited: the current
    state row is closed and a new one opened.
    """
    user = actor.require_user()
    if not permissions.can_set_status(user, student):
        raise PermissionDenied("只有校级学籍管理员可以直接变更学籍状态。")
    if status not in StudentStatus.values:
        raise DomainError(f"未知的学籍状态“{status}”", field="status")
    if not reason.strip():
        raise DomainError("请填写变更原因。", field="reason")
    with transaction.atomic():
        locked = Student.objects.select_for_update().get(pk=student.pk)
        if locked.status == status:
            raise DomainError(f"该学生已是“{locked.get_status_display()}”状态。", field="status")
        current = locked.states.filter(valid_to__isnull=True).order_by("-valid_from").first()
        if current and effective_date < current.valid_from:
            raise DomainError("生效日期不能早于当前状态的起始日期。", field="effective_date")
        if current:
            current.valid_to = effective_date
            current.save(update_fields=["valid_to"])
        before = {"status": locked.status, "registry_status": locked.registry_status}
        StudentState.objects.create(
            student=locked,
            registry_status=registry_for(status),
            status=status,
            valid_from=effective_date,
            reason=reason,
        )
        StatusLedgerEntry.objects.create(
            student=locked,
            action=LedgerAction.STATUS_CHANGED,
            from_status=locked.status,
            to_status=status,
            effective_date=effective_date,
            note=reason,
            actor=user,
        )
        locked.status = status
        locked.registry_status = registry_for(status)
        locked._change_reason = reason  # type: ignore[attr-defined]
        locked._history_user = user  # type: ignore[attr-defined]
        locked.save()
        audit_record(
            actor=actor,
            action="student.status",
            target=locked,
            summary=f"{locked.student_number} 状态变更为{locked.get_status_display()}",
            before=before,
            after={
                "status": status,
                "registry_status": locked.registry_status,
                "effective_date": effective_date.isoformat(),
            },
        )
    return locked


def parent_link_create(
    *, actor: Actor, student: Student, parent: User, relation: str
) -> ParentLink:
    """Link a parent account to a student (staff in scope); visibility waits for consent."""
    user = actor.require_user()
    if not permissions.can_edit_student(user, student):
        raise PermissionDenied("您无权为该学生关联家长。")
    with transaction.atomic():
        link, created = ParentLink.objects.get_or_create(
            parent=parent, student=student, defaults={"relation": relation}
        )
        if not created:
            raise DomainError("该家长已关联此学生。")
        audit_record(
            actor=actor,
            action="parent_link.create",
            target=link,
            after={"parent": parent.username, "student": student.student_number},
        )
    return link


def parent_link_set_consent(*, actor: Actor, link: ParentLink, consent: bool) -> ParentLink:
    """The student gives or withdraws consent for a linked parent to see their record."""
    user = actor.require_user()
    if link.student.user_id != user.pk:
        raise PermissionDenied("只有学生本人可以授权或撤回家长查看。")
    with transaction.atomic():
        before = {"consent": link.has_consent}
        now = timezone.now()
        if consent:
            link.consent_given_at, link.consent_revoked_at = now, None
        else:
            link.consent_revoked_at = now
        link.save()
        audit_record(
            actor=actor,
            action="parent_link.consent",
            target=link,
            before=before,
            after={"consent": consent},
        )
    return link
