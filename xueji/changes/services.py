"""Status-change (学籍异动) requests: submit, check, follow the approval flow, apply.

The approval itself is the generic engine's (`xueji.workflow`); this module owns what is
specific to 学籍: who may start which type, the regulation checks, and applying the effect on the
effective date — new dated state row, ledger entry, moved class/major/cohort, recomputed dates,
an event for cooperating departments and notices to the people concerned.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from xueji.accounts.models import User
from xueji.audit.services import audit_record
from xueji.changes import effects, permissions, rules
from xueji.changes.fields import APPLICANT_FIELDS, parse_value
from xueji.changes.models import ChangeRequest, ChangeStatus, ChangeType, Initiator, RuleParameters
from xueji.core.context import Actor
from xueji.core.exceptions import DomainError, PermissionDenied, ValidationFailed
from xueji.notifications.services import notify
from xueji.org.models import Cohort, College, Major, SchoolClass
from xueji.students.models import (
    LedgerAction,
    StatusLedgerEntry,
    Student,
    StudentState,
    StudentStatus,
)
from xueji.workflow.models import Flow, FlowStatus, FlowStep, StepKind, StepState
from xueji.workflow.services import StepSpec, flow_start

FLOW_KIND = "change"

# Steps a request skips because the initiator already stands at or above them.
_INITIATOR_LEVEL = {
    Initiator.STUDENT: 0,
    Initiator.COUNSELLOR: 1,
    Initiator.COLLEGE: 2,
    Initiator.REGISTRAR: 3,
}
_STEP_LEVEL = {
    StepKind.COUNSELLOR: 1,
    StepKind.COLLEGE: 2,
    StepKind.REGISTRAR: 3,
    StepKind.PRESIDENT_OFFICE: 4,
}

# Request status mirrored from the flow's status.
_STATUS_FROM_FLOW = {
    FlowStatus.IN_PROGRESS: ChangeStatus.IN_REVIEW,
    FlowStatus.RETURNED: ChangeStatus.RETURNED,
    FlowStatus.REJECTED: ChangeStatus.REJECTED,
    FlowStatus.WITHDRAWN: ChangeStatus.WITHDRAWN,
    FlowStatus.APPROVED: ChangeStatus.APPROVED,
}

# Recorded on a skipped step, so the history says why no one decided it.
SKIP_INITIATOR = "发起人已在本环节审核"
SKIP_DELEGATED = "学院终审（学校授权）"

OPEN_STATUSES = (ChangeStatus.IN_REVIEW, ChangeStatus.RETURNED, ChangeStatus.APPROVED)


def rule_parameters() -> RuleParameters:
    params, _ = RuleParameters.objects.get_or_create(pk=1)
    return params


def plan_steps(change_type: ChangeType, initiator: str) -> list[StepSpec]:
    """The type's chain for this initiator.

    Steps at or below the initiator's own level are skipped (a counsellor who starts a request
    has already made the counsellor's judgement; a college admin does not ask the counsellor),
    and when the school lets the college finish this type, the registrar's steps after the
    college's are skipped. The 校长办公会 step is never skipped. When that would leave no step
    at all (a college admin starting a type the college may finish), the college's own step
    stays, so that every request has one explicit approval.
    """
    level = _INITIATOR_LEVEL[Initiator(initiator)]
    plan: list[tuple[str, str]] = []  # (step kind, why it is skipped or "")
    college_seen = False
    for kind in change_type.steps:
        reason = ""
        if kind != StepKind.PRESIDENT_OFFICE:
            if _STEP_LEVEL[StepKind(kind)] <= level:
                reason = SKIP_INITIATOR
            elif kind == StepKind.REGISTRAR and college_seen and change_type.college_may_finish:
                reason = SKIP_DELEGATED
        if kind == StepKind.COLLEGE:
            college_seen = True
        plan.append((kind, reason))
    if all(reason for _kind, reason in plan):
        keep = max(
            (i for i, (kind, _r) in enumerate(plan) if _STEP_LEVEL[StepKind(kind)] <= level),
            default=len(plan) - 1,
        )
        plan[keep] = (plan[keep][0], "")
    return [
        StepSpec(
            kind=kind, due_days=change_type.step_days, skipped=bool(reason), skip_reason=reason
        )
        for kind, reason in plan
    ]


def _next_number(today: date) -> str:
    prefix = f"YD{today.year}"
    last = (
        ChangeRequest.objects.filter(number__startswith=prefix)
        .aggregate(last=Max("number"))
        .get("last")
    )
    serial = int(last[len(prefix) :]) + 1 if last else 1
    return f"{prefix}{serial:06d}"


def _parse_date(value: Any, field: str, errors: dict[str, list[str]]) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        errors.setdefault(field, []).append("日期格式应为 YYYY-MM-DD")
        return None


def _parse_decimal(value: Any, field: str, errors: dict[str, list[str]]) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        errors.setdefault(field, []).append("应为数字")
        return None
    if not number.is_finite():
        errors.setdefault(field, []).append("应为数字")
        return None
    return number


def _fk(model: Any, value: Any, field: str, errors: dict[str, list[str]]) -> Any:
    if value in (None, ""):
        return None
    if isinstance(value, model):
        return value
    try:
        return model.objects.get(pk=int(value))
    except (ValueError, TypeError, model.DoesNotExist):
        errors.setdefault(field, []).append("所选项目不存在")
        return None


# Applicant fields stored on model columns; the rest go to `details`.
_COLUMN_FIELDS = {
    "end_date",
    "years",
    "target_college",
    "target_major",
    "target_class",
    "target_cohort",
}


def _build_request(
    *, student: Student, change_type: ChangeType, data: dict[str, Any]
) -> tuple[ChangeRequest, dict[str, list[str]]]:
    """An unsaved request from form/API data, and the field errors found."""
    errors: dict[str, list[str]] = {}
    asked = set(change_type.applicant_fields)
    request = ChangeRequest(student=student, change_type=change_type)
    request.reason = str(data.get("reason") or "").strip()
    if not request.reason:
        errors.setdefault("reason", []).append("请填写异动原因")
    effective = _parse_date(data.get("effective_date"), "effective_date", errors)
    if effective is None and "effective_date" not in errors:
        errors.setdefault("effective_date", []).append("请填写生效日期")
    request.effective_date = effective  # type: ignore[assignment]
    if change_type.has_period or "end_date" in asked:
        request.end_date = _parse_date(data.get("end_date"), "end_date", errors)
        if change_type.has_period and request.end_date is None and "end_date" not in errors:
            errors.setdefault("end_date", []).append("请填写截止日期")
        if effective and request.end_date and request.end_date <= effective:
            errors.setdefault("end_date", []).append("截止日期应晚于生效日期")
    if "years" in asked:
        request.years = _parse_decimal(data.get("years"), "years", errors)
        if request.years is None and "years" not in errors:
            errors.setdefault("years", []).append("请填写年数")
        elif request.years is not None and not Decimal("0.5") <= request.years <= Decimal("4"):
            errors.setdefault("years", []).append("年数应在 0.5 到 4 之间")
    if change_type.moves_org:
        request.target_major = _fk(Major, data.get("target_major"), "target_major", errors)
        request.target_class = _fk(SchoolClass, data.get("target_class"), "target_class", errors)
        request.target_college = _fk(College, data.get("target_college"), "target_college", errors)
        if request.target_major is None and "target_major" not in errors:
            errors.setdefault("target_major", []).append("请选择转入专业")
        major = request.target_major
        if major is not None:
            if request.target_college is None:
                request.target_college = major.college
            elif request.target_college.pk != major.college_id:
                errors.setdefault("target_college", []).append("转入专业不属于所选学院")
            if major.pk == student.major_id and "target_class" not in asked:
                errors.setdefault("target_major", []).append("转入专业与当前专业相同")
        if (
            request.target_class is not None
            and major is not None
            and request.target_class.major_id != major.pk
        ):
            errors.setdefault("target_class", []).append("所选班级不属于转入专业")
    if change_type.moves_cohort:
        request.target_cohort = _fk(Cohort, data.get("target_cohort"), "target_cohort", errors)
        if request.target_class is None:
            request.target_class = _fk(
                SchoolClass, data.get("target_class"), "target_class", errors
            )
        if request.target_cohort is None and "target_cohort" not in errors:
            errors.setdefault("target_cohort", []).append("请选择转入年级")
        elif request.target_cohort is not None and request.target_cohort.pk == student.cohort_id:
            errors.setdefault("target_cohort", []).append("转入年级与当前年级相同")
    details: dict[str, Any] = {}
    for name in sorted(asked - _COLUMN_FIELDS):
        spec = APPLICANT_FIELDS.get(name)
        if spec is None or spec.filled_by != "applicant":
            continue
        try:
            details[name] = parse_value(name, data.get(name))
        except ValueError as exc:
            errors.setdefault(name, []).append(str(exc))
    request.details = details
    return request, errors


def change_request_submit(
    *,
    actor: Actor,
    student: Student,
    change_type: ChangeType,
    data: dict[str, Any],
    attachments: list[tuple[str, Any]] | None = None,
    overrides: dict[str, str] | None = None,
) -> ChangeRequest:
    """Start a status change for `student`.

    Validates the fields the type asks for, the required attachments and the regulation checks
    (a registrar may set an overridable rule aside with a reason, in `overrides`), then creates
    the request and its approval flow. Raises ValidationFailed (field → messages) or
    DomainError; nothing is written when anything is refused. Side effects: notices to the
    first step's approvers (by the engine), one audit event.
    """
    user = actor.require_user()
    initiator = permissions.initiator_for(user, student)
    if initiator is None or not permissions.can_initiate(user, student, change_type):
        raise PermissionDenied(f"您不能为该学生发起“{change_type.name}”。")
    request, errors = _build_request(student=student, change_type=change_type, data=data)
    labels = [label for label, _upload in attachments or []]
    missing = [name for name in change_type.required_attachments if name not in labels]
    if missing:
        errors.setdefault("attachments", []).append("请上传：" + "、".join(missing))
    if errors:
        raise ValidationFailed(errors)
    if ChangeRequest.objects.filter(
        student=student, change_type=change_type, status__in=OPEN_STATUSES
    ).exists():
        raise DomainError(f"该学生已有一份办理中的“{change_type.name}”申请。")
    request.overrides = _override_rows(user, student, overrides or {})
    # Rules that can never be set aside refuse the application at once. Overridable ones are
    # shown to the approvers on the request page and block only the final approval, so that
    # the registrar can still set them aside with a recorded reason.
    blocking = [f for f in rules.check_request(request, stage="submit") if not f.overridable]
    if blocking:
        raise DomainError(rules.describe_failures(blocking), field="rules")
    today = timezone.localdate()
    with transaction.atomic():
        request.number = _next_number(today)
        request.applicant = user
        request.initiator = initiator
        request.status = ChangeStatus.IN_REVIEW
        request.save()
        flow = flow_start(
            actor=actor,
            kind=FLOW_KIND,
            subject_id=request.pk,
            student=student,
            title=f"{change_type.name} · {student.name}（{student.student_number}）",
            steps=plan_steps(change_type, initiator),
            subject_type=change_type.code,
            batch_approvable=change_type.batch_approvable,
        )
        request.flow = flow
        request.save(update_fields=["flow"])
        from xueji.workflow.services import attachment_add

        for label, upload in attachments or []:
            attachment_add(actor=actor, flow=flow, upload=upload, label=label)
        audit_record(
            actor=actor,
            action="change.submit",
            target=request,
            summary=f"{student.student_number} 申请{change_type.name}（{request.number}）",
            after={
                "type": change_type.code,
                "effective_date": request.effective_date.isoformat(),
                "end_date": request.end_date.isoformat() if request.end_date else None,
                "overrides": request.overrides,
            },
        )
        # A flow whose steps were all skipped is approved at once.
        if flow.status == FlowStatus.APPROVED:
            _on_approved(actor, request)
    return request


def _override_rows(user: User, student: Student, overrides: dict[str, str]) -> list[dict[str, str]]:
    rows = []
    for code, reason in overrides.items():
        rule = rules.RULES.get(code)
        if rule is None:
            raise DomainError(f"没有“{code}”这条规则。", field="overrides")
        if not rule.overridable:
            raise DomainError(f"“{rule.title}”不允许豁免（{rule.article}）。", field="overrides")
        if not reason.strip():
            raise DomainError(f"豁免“{rule.title}”须填写理由。", field="overrides")
        if not permissions.is_registrar_for(user, student):
            raise PermissionDenied("只有校级学籍管理员可以豁免规则。")
        rows.append(
            {
                "rule": code,
                "reason": reason.strip(),
                "by": user.username,
                "at": timezone.now().isoformat(timespec="seconds"),
            }
        )
    return rows


def change_rules_override(
    *, actor: Actor, request: ChangeRequest, rule: str, reason: str
) -> ChangeRequest:
    """The registrar sets one overridable rule aside for this request, with a recorded reason."""
    user = actor.require_user()
    if not permissions.can_override_rules(user, request):
        raise PermissionDenied("只有校级学籍管理员可以豁免规则。")
    with transaction.atomic():
        locked = ChangeRequest.objects.select_for_update().get(pk=request.pk)
        if locked.status not in (ChangeStatus.IN_REVIEW, ChangeStatus.RETURNED):
            raise DomainError(f"该申请当前为“{locked.get_status_display()}”，不能再豁免规则。")
        rows = _override_rows(user, locked.student, {rule: reason})
        locked.overrides = [o for o in locked.overrides if o["rule"] != rule] + rows
        locked.save(update_fields=["overrides"])
        audit_record(
            actor=actor,
            action="change.override",
            target=locked,
            summary=f"{locked.number} 豁免规则 {rule}",
            after=rows[0],
        )
    return locked


def change_details_record(
    *, actor: Actor, request: ChangeRequest, values: dict[str, Any]
) -> ChangeRequest:
    """Staff in scope record fields an approver fills (e.g. the college's 复学复查 result)."""
    user = actor.require_user()
    if permissions.initiator_for(user, request.student) in (None, Initiator.STUDENT):
        raise PermissionDenied("您无权填写该申请的审核信息。")
    with transaction.atomic():
        locked = ChangeRequest.objects.select_for_update().get(pk=request.pk)
        if locked.status not in (ChangeStatus.IN_REVIEW, ChangeStatus.RETURNED):
            raise DomainError(f"该申请当前为“{locked.get_status_display()}”，不能再修改。")
        before = dict(locked.details)
        errors: dict[str, list[str]] = {}
        for name, raw in values.items():
            spec = APPLICANT_FIELDS.get(name)
            if (
                spec is None
                or spec.filled_by != "approver"
                or name not in locked.change_type.applicant_fields
            ):
                errors.setdefault(name, []).append("该申请没有这一审核项")
                continue
            try:
                locked.details[name] = parse_value(name, raw)
            except ValueError as exc:
                errors.setdefault(name, []).append(str(exc))
        if errors:
            raise ValidationFailed(errors)
        locked.save(update_fields=["details"])
        audit_record(
            actor=actor,
            action="change.details",
            target=locked,
            summary=f"{locked.number} 记录审核信息",
            before=before,
            after=locked.details,
        )
    return locked


# --- Engine callbacks -----------------------------------------------------------------------


class ChangeFlowHandler:
    """Connects the approval engine to change requests (registered in ChangesConfig.ready)."""

    label = gettext_lazy("学籍异动")

    def check_approve(self, flow: Flow, step: Any, actor: Actor, final: bool) -> None:
        if not final:
            return
        request = ChangeRequest.objects.select_related("student", "change_type").get(
            pk=flow.subject_id
        )
        failures = rules.check_request(request, stage="approve")
        if failures:
            raise DomainError(rules.describe_failures(failures))

    def on_transition(self, flow: Flow, actor: Actor, verb: str) -> None:
        request = ChangeRequest.objects.select_for_update().get(pk=flow.subject_id)
        status = _STATUS_FROM_FLOW[FlowStatus(flow.status)]
        if request.status == status:
            return
        request.status = status
        request.save(update_fields=["status"])
        if status == ChangeStatus.APPROVED:
            _on_approved(actor, request)

    def url(self, flow: Flow) -> str:
        request = ChangeRequest.objects.only("number").get(pk=flow.subject_id)
        return reverse("change-detail", args=[request.number])


def _on_approved(actor: Actor, request: ChangeRequest) -> None:
    """Final approval: apply now when the effective date has come, else schedule it."""
    request.status = ChangeStatus.APPROVED
    request.approved_at = timezone.now()
    request.save(update_fields=["status", "approved_at"])
    if request.effective_date <= timezone.localdate():
        change_apply(actor=actor, request=request)
        return
    from xueji.changes.tasks import change_apply_task

    run_after = timezone.make_aware(datetime.combine(request.effective_date, time(0, 5)))
    transaction.on_commit(lambda: change_apply_task.using(run_after=run_after).enqueue(request.pk))


# --- Applying the effect --------------------------------------------------------------------


def change_apply(
    *, actor: Actor, request: ChangeRequest, today: date | None = None
) -> ChangeRequest:
    """Apply an approved change whose effective date has come.

    Closes the current state row and opens a new one, appends the ledger entry, moves
    class/major/cohort and recomputes the dates as the type declares, records before/after,
    emits the event for cooperating departments and tells the applicant and the student.
    Idempotent: a request already applied is returned unchanged. Raises DomainError when the
    date has not come or an apply-stage rule (e.g. the 校长办公会 decision) is not met.
    """
    today = today or timezone.localdate()
    with transaction.atomic():
        locked = (
            ChangeRequest.objects.select_for_update()
            .select_related("change_type", "applicant")
            .get(pk=request.pk)
        )
        if locked.status == ChangeStatus.APPLIED:
            return locked
        if locked.status != ChangeStatus.APPROVED:
            raise DomainError(
                f"{locked.number} 当前为“{locked.get_status_display()}”，只有已批准的异动才能生效。"
            )
        if locked.effective_date > today:
            raise DomainError(f"{locked.number} 的生效日期 {locked.effective_date} 未到。")
        params = rule_parameters()
        failures = rules.check_request(locked, stage="apply", today=today, params=params)
        if failures:
            raise DomainError(rules.describe_failures(failures))
        # Lock the student row only (PostgreSQL would otherwise lock the joined rows too).
        student = (
            Student.objects.select_for_update(of=("self",))
            .select_related("college", "major", "school_class", "cohort", "user")
            .get(pk=locked.student_id)
        )
        locked.student = student
        kind = locked.change_type
        before = effects.snapshot(student)
        after = effects.compute_after(student, locked, params)
        note = f"{kind.name}（{locked.number}）：{locked.reason}"[:400]
        new_status = after.get("status", student.status)
        if new_status != student.status:
            _open_state(student, new_status, after["registry_status"], locked, note[:200])
        StatusLedgerEntry.objects.create(
            student=student,
            action=LedgerAction.STATUS_CHANGED,
            from_status=student.status,
            to_status=new_status,
            effective_date=locked.effective_date,
            note=note,
            actor=actor.user or _final_approver(locked) or locked.applicant,
        )
        for field, value in after.items():
            setattr(student, field, value)
        student._change_reason = note  # type: ignore[attr-defined]
        student._history_user = actor.user or locked.applicant  # type: ignore[attr-defined]
        student.save()
        locked.before = before
        locked.after = effects.as_plain(after)
        locked.status = ChangeStatus.APPLIED
        locked.applied_at = timezone.now()
        locked.save(update_fields=["before", "after", "status", "applied_at"])
        if locked.revokes_id:
            ChangeRequest.objects.filter(pk=locked.revokes_id).update(status=ChangeStatus.REVOKED)
        audit_record(
            actor=actor,
            action="change.apply",
            target=locked,
            summary=f"{student.student_number} {kind.name}生效（{locked.number}）",
            before=before,
            after=locked.after,
        )
        if kind.notify_departments:
            from xueji.exchange.services import event_emit

            event_emit(
                actor=actor,
                kind="status_change.applied",
                student=student,
                effective_date=locked.effective_date,
                change_type=kind.code,
                payload={
                    "number": locked.number,
                    "type": kind.code,
                    "type_name": kind.name,
                    "effective_date": locked.effective_date.isoformat(),
                    "end_date": locked.end_date.isoformat() if locked.end_date else None,
                    "before": before,
                    "after": locked.after,
                },
            )
        people = [locked.applicant]
        if student.user_id:
            people.append(student.user)  # type: ignore[arg-type]
        notify(
            users=people,
            title=f"{kind.name}已生效：{student.name}（{locked.number}）",
            body=f"生效日期 {locked.effective_date:%Y-%m-%d}。",
            url=reverse("change-detail", args=[locked.number]),
        )
    return locked


def _final_approver(request: ChangeRequest) -> User | None:
    """Whose approval made the change final (for a change applied later by the system)."""
    step = (
        FlowStep.objects.filter(flow_id=request.flow_id, state=StepState.APPROVED)
        .select_related("decided_by")
        .order_by("-position")
        .first()
    )
    return step.decided_by if step else None


def _open_state(
    student: Student, status: str, registry_status: str, request: ChangeRequest, reason: str
) -> None:
    current = student.states.filter(valid_to__isnull=True).order_by("-valid_from").first()
    if current is not None:
        if request.effective_date < current.valid_from:
            raise DomainError("生效日期不能早于学生当前状态的起始日期。")
        current.valid_to = request.effective_date
        current.save(update_fields=["valid_to"])
    StudentState.objects.create(
        student=student,
        registry_status=registry_status,
        status=status,
        valid_from=request.effective_date,
        reason=reason,
    )


def changes_apply_due(now: datetime | None = None) -> int:
    """Apply every approved change whose effective date has come (the periodic sweep).

    Each request is applied in its own transaction; one that fails (e.g. a rule no longer holds)
    stays approved, and the failure is recorded in the audit chain once per day at most.
    """
    today = timezone.localdate(now) if now else timezone.localdate()
    applied = 0
    due = list(
        ChangeRequest.objects.filter(status=ChangeStatus.APPROVED, effective_date__lte=today)
        .order_by("effective_date", "pk")
        .values_list("pk", flat=True)
    )
    for pk in due:
        request = ChangeRequest.objects.get(pk=pk)
        try:
            change_apply(actor=Actor.system(via="periodic"), request=request, today=today)
        except DomainError as exc:
            _record_apply_failure(request, exc.message, today)
            continue
        applied += 1
    return applied


def _record_apply_failure(request: ChangeRequest, message: str, today: date) -> None:
    from xueji.audit.models import AuditEvent

    since = timezone.make_aware(datetime.combine(today, time.min))
    if AuditEvent.objects.filter(
        action="change.apply_failed", target_id=str(request.pk), occurred_at__gte=since
    ).exists():
        return
    with transaction.atomic():
        audit_record(
            actor=Actor.system(via="periodic"),
            action="change.apply_failed",
            target=request,
            summary=f"{request.number} 未能生效：{message}"[:400],
        )


# How long before a 休学 or 保留学籍 period ends the student and their counsellor are reminded
# to apply for 复学 (第二十九条: the application is made before the period ends).
ENDING_NOTICE_DAYS = 30


def changes_remind_ending(now: datetime | None = None) -> int:
    """Remind students whose 休学/保留学籍 ends within ENDING_NOTICE_DAYS, and the counsellors
    of their class, to apply for 复学 — once per request. Returns how many were reminded."""
    today = timezone.localdate(now) if now else timezone.localdate()
    due = (
        ChangeRequest.objects.filter(
            status=ChangeStatus.APPLIED,
            ending_reminded_at__isnull=True,
            end_date__isnull=False,
            end_date__lte=today + timedelta(days=ENDING_NOTICE_DAYS),
            end_date__gte=today,
            change_type__target_status__in=(
                StudentStatus.SUSPENDED,
                StudentStatus.RESERVED,
                StudentStatus.ADMISSION_RESERVED,
            ),
        )
        .select_related("student", "student__user", "change_type")
        .order_by("end_date", "pk")
    )
    reminded = 0
    for request in due:
        student = request.student
        if student.status != request.change_type.target_status:
            continue  # already resumed or changed again
        with transaction.atomic():
            claimed = ChangeRequest.objects.filter(
                pk=request.pk, ending_reminded_at__isnull=True
            ).update(ending_reminded_at=timezone.now())
            if not claimed:
                continue
            people: list[User] = list(counsellors_of(student))
            if student.user is not None:
                people.append(student.user)
            notify(
                users=people,
                title=f"{request.change_type.name}将于 {request.end_date:%Y-%m-%d} 期满："
                f"{student.name}（{student.student_number}）",
                body="请在期满前提出复学申请（教育部令第41号 第二十九条）；"
                "期满未申请复学的，按学校规定处理。",
                url=reverse("change-create")
                + "?type=resumption"
                + ("" if student.user is not None else f"&student={student.student_number}"),
            )
        reminded += 1
    return reminded


def counsellors_of(student: Student) -> Any:
    """Active counsellors whose classes include the student's class."""
    return User.objects.filter(
        is_active=True,
        grants__is_active=True,
        grants__role="counsellor",
        grants__classes=student.school_class_id,
    ).distinct()


__all__ = [
    "ChangeFlowHandler",
    "change_apply",
    "change_request_submit",
    "change_rules_override",
    "changes_apply_due",
    "plan_steps",
]
