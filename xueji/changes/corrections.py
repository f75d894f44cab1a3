"""Data-correction requests (信息更正) on the approval engine: submit, decide, withdraw.

The request (`students.CorrectionRequest`) and the checks of the record as it would be after
the correction live in `students`; this module puts the request through the generic engine —
学院审核, then the registrar for CHSI-locked fields — and applies the value when the last step
approves. It lives here and not in `students` because `students` sits below `workflow`
(ARCHITECTURE.md: apps depend downward). The flow is found by (kind, subject_id), which the
engine keeps unique; the request does not point at it.
"""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from xueji.accounts.models import User
from xueji.audit.services import audit_record
from xueji.core.context import Actor
from xueji.core.exceptions import DomainError, PermissionDenied
from xueji.students import permissions
from xueji.students.models import (
    CorrectionRequest,
    CorrectionStatus,
    LedgerAction,
    StatusLedgerEntry,
    Student,
)
from xueji.students.services import field_label, preview_correction, write_changes
from xueji.workflow.models import Flow, FlowStep, FlowVerb, StepKind, StepState
from xueji.workflow.permissions import can_act_on_step
from xueji.workflow.services import (
    StepSpec,
    flow_approve,
    flow_reject,
    flow_start,
    flow_withdraw,
)

CORRECTION_FLOW_KIND = "correction"

# Allowed transitions of a correction request; everything else is refused.
CORRECTION_TRANSITIONS: dict[str, frozenset[str]] = {
    CorrectionStatus.PENDING: frozenset(
        {CorrectionStatus.APPROVED, CorrectionStatus.REJECTED, CorrectionStatus.WITHDRAWN}
    ),
    CorrectionStatus.APPROVED: frozenset(),
    CorrectionStatus.REJECTED: frozenset(),
    CorrectionStatus.WITHDRAWN: frozenset(),
}

# The verb for each target, for the refusal message ("不能再通过", not "不能再已通过").
_TRANSITION_VERBS = {
    CorrectionStatus.APPROVED: "通过",
    CorrectionStatus.REJECTED: "驳回",
    CorrectionStatus.WITHDRAWN: "撤回",
}


# --- reads ---------------------------------------------------------------------------------


def correction_flow(correction: CorrectionRequest) -> Flow | None:
    """The approval flow of `correction`; None for a request submitted before the engine.

    The caller has already checked that the user may see the request.
    """
    return (
        Flow.objects.filter(kind=CORRECTION_FLOW_KIND, subject_id=correction.pk)
        .select_related("student")
        .first()
    )


def correction_can_decide(user: User, correction: CorrectionRequest) -> bool:
    """May `user` decide the step the correction waits on now?"""
    flow = correction_flow(correction)
    if flow is None:
        return permissions.can_decide_correction(user, correction)
    step = FlowStep.objects.filter(flow=flow, state=StepState.ACTIVE).first()
    if step is None:
        return False
    step.flow = flow
    return can_act_on_step(user, step)


# --- writes --------------------------------------------------------------------------------


def correction_steps(field: str) -> list[StepSpec]:
    """学院审核 for ordinary fields; CHSI-locked fields then also need the registrar."""
    steps = [StepSpec(kind=StepKind.COLLEGE)]
    if field in permissions.LOCKED_FIELDS:
        steps.append(StepSpec(kind=StepKind.REGISTRAR))
    return steps


def correction_submit(
    *, actor: Actor, student: Student, field: str, requested_value: str, reason: str
) -> CorrectionRequest:
    """A student asks to correct one field of their own record.

    Starts the request's approval flow in the same transaction (the step's approvers are
    notified on commit). Raises PermissionDenied for someone else's record, DomainError for a
    field that cannot be corrected, an empty or unchanged value, a value the record would not
    accept, a missing reason or a second pending request for the same field.
    """
    user = actor.require_user()
    if not permissions.can_request_correction(user, student):
        raise PermissionDenied("只能为本人档案提交更正申请。")
    if field not in permissions.CORRECTABLE_FIELDS:
        raise DomainError("该字段不能通过更正申请修改。", field="field")
    requested_value = requested_value.strip()
    if not requested_value:
        raise DomainError("请填写更正后的值。", field="requested_value")
    if not reason.strip():
        raise DomainError("请说明更正理由（姓名、出生日期等需附法定证明）。", field="reason")
    current = getattr(student, field)
    if str(current or "") == requested_value:
        raise DomainError("更正后的值与当前值相同。", field="requested_value")
    preview_correction(student, field, requested_value)
    if CorrectionRequest.objects.filter(
        student=student, field=field, status=CorrectionStatus.PENDING
    ).exists():
        raise DomainError("该字段已有待审核的更正申请，请等待处理或先撤回。", field="field")
    with transaction.atomic():
        correction = CorrectionRequest.objects.create(
            student=student,
            field=field,
            current_value=str(current or ""),
            requested_value=requested_value,
            reason=reason.strip(),
            submitted_by=user,
        )
        audit_record(
            actor=actor,
            action="correction.submit",
            target=correction,
            summary=f"{student.student_number} 申请更正{field_label(field)}",
            after={"field": field, "from": str(current or ""), "to": requested_value},
        )
        flow_start(
            actor=actor,
            kind=CORRECTION_FLOW_KIND,
            subject_id=correction.pk,
            student=student,
            title=f"{student.name}（{student.student_number}）更正{field_label(field)}",
            steps=correction_steps(field),
            subject_type=field,
        )
    return correction


def correction_decide(
    *, actor: Actor, correction: CorrectionRequest, approve: bool, note: str = ""
) -> CorrectionRequest:
    """Approve or reject the active step of a pending correction's flow.

    The last approval applies the value to the record (through `CorrectionFlowHandler`, in the
    same transaction). Raises DomainError on a decided request or a rejection without a reason,
    PermissionDenied for someone who may not decide the active step.
    """
    user = actor.require_user()
    target = CorrectionStatus.APPROVED if approve else CorrectionStatus.REJECTED
    flow = correction_flow(correction)
    if flow is None:
        return _correction_decide_directly(actor, correction, approve, note)
    # The request's own status speaks first ("不能再通过"), read fresh and not on the caller's
    # object (`_transition` moves the status it checks).
    _transition(CorrectionRequest.objects.get(pk=correction.pk), target)
    if not correction_can_decide(user, correction):
        raise PermissionDenied(
            "您无权审核该更正申请（涉及学信网锁定字段的须由校级学籍管理员审核）。"
        )
    if not approve and not note.strip():
        raise DomainError("驳回时请填写理由。", field="note")
    if approve:
        flow_approve(actor=actor, flow=flow, comment=note)
    else:
        flow_reject(actor=actor, flow=flow, reason=note)
    return CorrectionRequest.objects.select_related("student").get(pk=correction.pk)


def _correction_decide_directly(
    actor: Actor, correction: CorrectionRequest, approve: bool, note: str
) -> CorrectionRequest:
    """Requests submitted before the approval engine (no flow): decided in one step."""
    user = actor.require_user()
    if not permissions.can_decide_correction(user, correction):
        raise PermissionDenied(
            "您无权审核该更正申请（涉及学信网锁定字段的须由校级学籍管理员审核）。"
        )
    target = CorrectionStatus.APPROVED if approve else CorrectionStatus.REJECTED
    if not approve and not note.strip():
        raise DomainError("驳回时请填写理由。", field="note")
    with transaction.atomic():
        locked = CorrectionRequest.objects.select_for_update().get(pk=correction.pk)
        _transition(locked, target)
        _correction_settle(actor, locked, target, note)
    return locked


def correction_withdraw(*, actor: Actor, correction: CorrectionRequest) -> CorrectionRequest:
    """The submitter withdraws a pending request (and its flow).

    Raises PermissionDenied for anyone but the submitter, DomainError once decided.
    """
    user = actor.require_user()
    if correction.submitted_by_id != user.pk:
        raise PermissionDenied("只有申请人可以撤回。")
    _transition(CorrectionRequest.objects.get(pk=correction.pk), CorrectionStatus.WITHDRAWN)
    flow = correction_flow(correction)
    if flow is not None:
        flow_withdraw(actor=actor, flow=flow)
        return CorrectionRequest.objects.get(pk=correction.pk)
    with transaction.atomic():
        locked = CorrectionRequest.objects.select_for_update().get(pk=correction.pk)
        _transition(locked, CorrectionStatus.WITHDRAWN)
        _correction_settle(actor, locked, CorrectionStatus.WITHDRAWN, "")
    return locked


def _correction_settle(actor: Actor, locked: CorrectionRequest, target: str, note: str) -> None:
    """Record the outcome on the request (applying the value when approved) and audit it."""
    user = actor.user
    locked.status = target
    if target == CorrectionStatus.APPROVED:
        values = preview_correction(locked.student, locked.field, locked.requested_value)
        write_changes(actor, locked.student, values, f"更正申请 #{locked.pk}", "student.correct")
        StatusLedgerEntry.objects.create(
            student=locked.student,
            action=LedgerAction.CORRECTED,
            effective_date=timezone.localdate(),
            actor=user,
            note=f"{field_label(locked.field)}：{locked.current_value} → {locked.requested_value}",
        )
    if target != CorrectionStatus.WITHDRAWN:
        locked.decided_by = user
        locked.decided_at = timezone.now()
        locked.decision_note = note.strip()[:400]
    locked.save()
    approve = target == CorrectionStatus.APPROVED
    audit_record(
        actor=actor,
        action=f"correction.{target}",
        target=locked,
        summary=(
            f"撤回 {locked.student.student_number} 的更正申请"
            if target == CorrectionStatus.WITHDRAWN
            else f"{'通过' if approve else '驳回'} {locked.student.student_number} 的更正申请"
        ),
        before={"status": CorrectionStatus.PENDING},
        after={"status": target, "note": note} if note else {"status": target},
    )


def _transition(correction: CorrectionRequest, target: str) -> None:
    if target not in CORRECTION_TRANSITIONS[correction.status]:
        raise DomainError(
            f"该申请当前为“{correction.get_status_display()}”，不能再"
            f"{_TRANSITION_VERBS[CorrectionStatus(target)]}。"
        )
    correction.status = target


class CorrectionFlowHandler:
    """Keeps a correction request in step with its flow; the last approval applies the value."""

    label = "信息更正"

    def check_approve(self, flow: Flow, step: FlowStep, actor: Actor, final: bool) -> None:
        if final:
            correction = CorrectionRequest.objects.select_related("student").get(pk=flow.subject_id)
            # The record may have changed since submission: validate the value again now.
            preview_correction(correction.student, correction.field, correction.requested_value)

    def on_transition(self, flow: Flow, actor: Actor, verb: str) -> None:
        target = {
            FlowVerb.APPROVE_FINAL: CorrectionStatus.APPROVED,
            FlowVerb.REJECT: CorrectionStatus.REJECTED,
            FlowVerb.WITHDRAW: CorrectionStatus.WITHDRAWN,
        }.get(FlowVerb(verb))
        if target is None:
            return
        locked = (
            CorrectionRequest.objects.select_for_update()
            .select_related("student")
            .get(pk=flow.subject_id)
        )
        _transition(locked, target)
        note = (
            flow.actions.filter(verb=verb).order_by("-pk").values_list("comment", flat=True).first()
            or ""
        )
        _correction_settle(actor, locked, target, note)

    def url(self, flow: Flow) -> str:
        return reverse("correction-detail", args=[flow.subject_id])
