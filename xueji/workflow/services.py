"""The approval engine: one transition table and the services that perform transitions.

Every transition locks the flow row, checks the table, the actor's authority on the active step
and the version the actor saw, writes the FlowAction and the audit event in the same
transaction, notifies the people concerned, and lets the subject's handler sync its own status.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import PurePath
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from xueji.accounts.models import User
from xueji.audit.services import audit_record
from xueji.core.context import Actor
from xueji.core.exceptions import DomainError, PermissionDenied
from xueji.notifications.services import notify
from xueji.students.models import Student
from xueji.workflow import permissions, selectors
from xueji.workflow.handlers import handler_for
from xueji.workflow.models import (
    Attachment,
    Delegation,
    Flow,
    FlowAction,
    FlowStatus,
    FlowStep,
    FlowVerb,
    StepKind,
    StepState,
)

# The verbs live on the model (FlowAction.verb); services speak of them as `Verb`.
Verb = FlowVerb


# The one table of allowed transitions: (status now, verb) -> status after. Anything else is
# refused by `_transition` with the status and the verb spelled out.
TRANSITIONS: dict[tuple[str, str], str] = {
    (FlowStatus.IN_PROGRESS, Verb.APPROVE): FlowStatus.IN_PROGRESS,
    (FlowStatus.IN_PROGRESS, Verb.APPROVE_FINAL): FlowStatus.APPROVED,
    (FlowStatus.IN_PROGRESS, Verb.REJECT): FlowStatus.REJECTED,
    (FlowStatus.IN_PROGRESS, Verb.RETURN): FlowStatus.RETURNED,
    (FlowStatus.IN_PROGRESS, Verb.WITHDRAW): FlowStatus.WITHDRAWN,
    (FlowStatus.RETURNED, Verb.RESUBMIT): FlowStatus.IN_PROGRESS,
    (FlowStatus.RETURNED, Verb.WITHDRAW): FlowStatus.WITHDRAWN,
}

# How a refusal names the verb: "不能再同意", for the final approval too.
_REFUSAL_VERBS = {
    Verb.APPROVE: "同意",
    Verb.APPROVE_FINAL: "同意",
    Verb.REJECT: "驳回",
    Verb.RETURN: "退回",
    Verb.RESUBMIT: "重新提交",
    Verb.WITHDRAW: "撤回",
}

SKIPPED_COMMENT = "学院终审（学校授权）"
STALE_MESSAGE = "该申请已被他人处理，请刷新后再试。"
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
# Accepted uploads by extension, each with the bytes its content must start with.
ATTACHMENT_TYPES = {
    ".pdf": (b"%PDF-",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
}
MAX_TEXT = 2000


@dataclass(frozen=True)
class StepSpec:
    """One step of a chain to start: a `StepKind` value, an optional label, its deadline in
    days, and whether it is skipped — with the reason recorded on the step (by default: the
    school let the college finish before it)."""

    kind: str
    label: str = ""
    due_days: int = 5
    skipped: bool = False
    skip_reason: str = ""


def _transition(flow: Flow, verb: str) -> str:
    """The status `verb` leads to from the flow's status; DomainError when the table has no
    such transition."""
    target = TRANSITIONS.get((flow.status, verb))
    if target is None:
        raise DomainError(
            f"该申请当前为“{flow.get_status_display()}”，不能再{_REFUSAL_VERBS[Verb(verb)]}。",
            code="invalid_transition",
        )
    return target


def _clean_text(text: str, field: str, *, required: str = "") -> str:
    text = (text or "").strip()
    if required and not text:
        raise DomainError(required, field=field)
    if len(text) > MAX_TEXT:
        raise DomainError(f"内容最长 {MAX_TEXT} 字，实为 {len(text)} 字。", field=field)
    return text


def _lock(flow: Flow) -> Flow:
    return Flow.objects.select_for_update().select_related("student").get(pk=flow.pk)


def _check_version(flow: Flow, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != flow.version:
        raise DomainError(STALE_MESSAGE, code="stale")


def _current_step(flow: Flow, state: str = StepState.ACTIVE) -> FlowStep:
    step = flow.steps.select_for_update().filter(state=state).order_by("position").first()
    if step is None:  # the table and the steps disagree: a data error, not a user error
        raise DomainError("该申请没有待处理的审批环节，请联系学籍管理员。")
    return step


def _activate(step: FlowStep, now: datetime) -> None:
    step.state = StepState.ACTIVE
    step.activated_at = now
    step.due_at = now + timedelta(days=step.due_days)
    step.reminded_at = None
    step.save(update_fields=["state", "activated_at", "due_at", "reminded_at"])


def _record(
    flow: Flow, verb: str, user: User | None, comment: str = "", step: FlowStep | None = None
) -> FlowAction:
    return FlowAction.objects.create(flow=flow, step=step, actor=user, verb=verb, comment=comment)


def _applicant_side(flow: Flow) -> list[User]:
    users: list[User] = [flow.applicant]
    student_user = flow.student.user
    if student_user is not None:
        users.append(student_user)
    return users


def _notify_step(
    flow: Flow, step: FlowStep, title: str, body: str = "", *, email: bool = True
) -> None:
    notify(
        users=selectors.step_actors(step),
        title=title,
        body=body,
        url=handler_for(flow.kind).url(flow),
        email=email,
    )


def _finish(flow: Flow, actor: Actor, verb: str, status: str, now: datetime) -> None:
    before = {"status": flow.status, "version": flow.version}
    flow.status = status
    flow.version += 1
    if status in (FlowStatus.APPROVED, FlowStatus.REJECTED, FlowStatus.WITHDRAWN):
        flow.finished_at = now
    flow.save(update_fields=["status", "version", "finished_at"])
    audit_record(
        actor=actor,
        action=f"workflow.{verb}",
        target=flow,
        summary=f"{flow.title}：{Verb(verb).label}",
        before=before,
        after={"status": flow.status, "version": flow.version},
    )
    handler_for(flow.kind).on_transition(flow, actor, verb)


def flow_start(
    *,
    actor: Actor,
    kind: str,
    subject_id: int,
    student: Student,
    title: str,
    steps: Sequence[StepSpec],
    subject_type: str = "",
    batch_approvable: bool = False,
) -> Flow:
    """Start a flow for a subject: create its steps, activate the first one not skipped and tell
    the people who may decide it.

    Runs inside the caller's transaction (the subject and its flow are created together).
    Who may apply is the subject's rule; the caller checks it. Raises DomainError for an empty
    chain or an unknown step kind; audit "workflow.start".
    """
    user = actor.require_user()
    handler = handler_for(kind)
    if not any(not spec.skipped for spec in steps):
        raise DomainError("审批流程至少需要一个不跳过的环节。")
    for spec in steps:
        if spec.kind not in StepKind.values:
            raise DomainError(f"未知的审批环节“{spec.kind}”。")
        if spec.skipped and spec.kind == StepKind.PRESIDENT_OFFICE:
            # 41号令 第三十一条、第五十六条: the 校长办公会 decides; no one may finish before it.
            raise DomainError("校长办公会决定环节不能跳过。")
        if spec.due_days < 1:
            raise DomainError("每步办理期限至少 1 天。")
    now = timezone.now()
    with transaction.atomic():
        flow = Flow.objects.create(
            kind=kind,
            subject_id=subject_id,
            student=student,
            applicant=user,
            title=title[:200],
            subject_type=subject_type,
            batch_approvable=batch_approvable,
        )
        created = FlowStep.objects.bulk_create(
            FlowStep(
                flow=flow,
                position=position,
                kind=spec.kind,
                label=spec.label,
                due_days=spec.due_days,
                state=StepState.SKIPPED if spec.skipped else StepState.WAITING,
                comment=(spec.skip_reason or SKIPPED_COMMENT) if spec.skipped else "",
            )
            for position, spec in enumerate(steps, start=1)
        )
        first = flow.steps.filter(state=StepState.WAITING).order_by("position").first()
        assert first is not None  # at least one step is not skipped (checked above)
        _activate(first, now)
        _record(flow, Verb.START, user)
        audit_record(
            actor=actor,
            action="workflow.start",
            target=flow,
            summary=f"提交申请：{flow.title}",
            after={
                "kind": kind,
                "subject_id": subject_id,
                "steps": [step.kind for step in created],
                "skipped": [step.kind for step in created if step.state == StepState.SKIPPED],
            },
        )
        _notify_step(flow, first, f"待审批：{flow.title}", f"{first.title}，请在期限内办理。")
        handler.on_transition(flow, actor, Verb.START)
    return flow


def flow_approve(
    *,
    actor: Actor,
    flow: Flow,
    comment: str = "",
    expected_version: int | None = None,
    minute_number: str = "",
    minute_date: date | None = None,
) -> Flow:
    """Approve the active step: the next step not skipped becomes active, or the flow is
    approved when this was the last one.

    Raises DomainError when the flow is not in progress, when it moved since the actor saw it
    (`expected_version`), when a 校长办公会 step lacks its minute, or when the subject's handler
    refuses; PermissionDenied when the actor may not decide the active step. A deputy's
    decision records the principal in `on_behalf_of`. Audit "workflow.approve" /
    "workflow.approve_final"; notifies the next approvers or the applicant.
    """
    user = actor.require_user()
    comment = _clean_text(comment, "comment")
    now = timezone.now()
    with transaction.atomic():
        locked = _lock(flow)
        _transition(locked, Verb.APPROVE)
        _check_version(locked, expected_version)
        step = _current_step(locked)
        principal = permissions.step_principal(user, step)
        if principal is None:
            raise PermissionDenied(f"您不是当前环节（{step.title}）的审批人。")
        minute_number = (minute_number or "").strip()
        if step.kind == StepKind.PRESIDENT_OFFICE and (not minute_number or minute_date is None):
            raise DomainError(
                "请填写校长办公会纪要编号和会议日期", field="minute_number", code="minute_required"
            )
        following = (
            locked.steps.select_for_update()
            .filter(position__gt=step.position, state=StepState.WAITING)
            .order_by("position")
            .first()
        )
        final = following is None
        verb = Verb.APPROVE_FINAL if final else Verb.APPROVE
        status = _transition(locked, verb)
        handler_for(locked.kind).check_approve(locked, step, actor, final)
        step.state = StepState.APPROVED
        step.decided_by = user
        step.on_behalf_of = principal if principal.pk != user.pk else None
        step.decided_at = now
        step.comment = comment
        if step.kind == StepKind.PRESIDENT_OFFICE:
            step.minute_number = minute_number[:60]
            step.minute_date = minute_date
        step.save()
        if following is not None:
            _activate(following, now)
        _record(locked, verb, user, comment, step)
        _finish(locked, actor, verb, status, now)
        if following is not None:
            _notify_step(locked, following, f"待审批：{locked.title}", f"{following.title}")
        else:
            notify(
                users=_applicant_side(locked),
                title=f"申请已通过：{locked.title}",
                body=comment,
                url=handler_for(locked.kind).url(locked),
            )
    return locked


def _decide_against(
    *,
    actor: Actor,
    flow: Flow,
    verb: str,
    reason: str,
    expected_version: int | None,
    step_state: str,
    missing: str,
) -> Flow:
    user = actor.require_user()
    reason = _clean_text(reason, "reason", required=missing)
    now = timezone.now()
    with transaction.atomic():
        locked = _lock(flow)
        status = _transition(locked, verb)
        _check_version(locked, expected_version)
        step = _current_step(locked)
        principal = permissions.step_principal(user, step)
        if principal is None:
            raise PermissionDenied(f"您不是当前环节（{step.title}）的审批人。")
        step.state = step_state
        step.decided_by = user
        step.on_behalf_of = principal if principal.pk != user.pk else None
        step.decided_at = now
        step.comment = reason
        step.save()
        if verb == Verb.REJECT:
            locked.steps.filter(state=StepState.WAITING).update(state=StepState.CANCELLED)
        _record(locked, verb, user, reason, step)
        _finish(locked, actor, verb, status, now)
        if verb == Verb.REJECT:
            title, body = f"申请被驳回：{locked.title}", f"驳回理由：{reason}"
        else:
            title, body = f"申请被退回补充：{locked.title}", f"需补充的内容：{reason}"
        notify(
            users=_applicant_side(locked),
            title=title,
            body=body,
            url=handler_for(locked.kind).url(locked),
        )
    return locked


def flow_reject(
    *, actor: Actor, flow: Flow, reason: str, expected_version: int | None = None
) -> Flow:
    """Reject at the active step (final): the applicant and the student are told the reason.

    Raises DomainError without a reason, on an illegal transition or a stale version;
    PermissionDenied for someone who may not decide the step. Audit "workflow.reject".
    """
    return _decide_against(
        actor=actor,
        flow=flow,
        verb=Verb.REJECT,
        reason=reason,
        expected_version=expected_version,
        step_state=StepState.REJECTED,
        missing="请填写驳回理由。",
    )


def flow_return(
    *, actor: Actor, flow: Flow, reason: str, expected_version: int | None = None
) -> Flow:
    """Send the flow back to the applicant for more information; it resumes at the same step
    when resubmitted. Same checks as `flow_reject`; audit "workflow.return"."""
    return _decide_against(
        actor=actor,
        flow=flow,
        verb=Verb.RETURN,
        reason=reason,
        expected_version=expected_version,
        step_state=StepState.RETURNED,
        missing="请说明需要补充的内容。",
    )


def flow_resubmit(*, actor: Actor, flow: Flow, comment: str = "") -> Flow:
    """The applicant (or the student) sends a returned flow back to the step that returned it,
    with a fresh deadline. Audit "workflow.resubmit"; the step's people are told."""
    user = actor.require_user()
    comment = _clean_text(comment, "comment")
    now = timezone.now()
    with transaction.atomic():
        locked = _lock(flow)
        if not permissions.is_applicant_side(user, locked):
            raise PermissionDenied("只有申请人或学生本人可以重新提交。")
        status = _transition(locked, Verb.RESUBMIT)
        step = _current_step(locked, StepState.RETURNED)
        step.decided_by = None
        step.on_behalf_of = None
        step.decided_at = None
        step.comment = ""
        step.save(update_fields=["decided_by", "on_behalf_of", "decided_at", "comment"])
        _activate(step, now)
        _record(locked, Verb.RESUBMIT, user, comment, step)
        _finish(locked, actor, Verb.RESUBMIT, status, now)
        _notify_step(locked, step, f"已重新提交，待审批：{locked.title}", comment)
    return locked


def flow_withdraw(*, actor: Actor, flow: Flow, reason: str = "") -> Flow:
    """The applicant (or the student the flow is about) stops the flow; steps not decided are
    cancelled. Audit "workflow.withdraw"; the active step's people are told."""
    user = actor.require_user()
    reason = _clean_text(reason, "reason")
    now = timezone.now()
    with transaction.atomic():
        locked = _lock(flow)
        if not permissions.is_applicant_side(user, locked):
            raise PermissionDenied("只有申请人或学生本人可以撤回。")
        status = _transition(locked, Verb.WITHDRAW)
        waiting_on = locked.steps.filter(state=StepState.ACTIVE).first()
        locked.steps.filter(
            state__in=[StepState.ACTIVE, StepState.WAITING, StepState.RETURNED]
        ).update(state=StepState.CANCELLED)
        _record(locked, Verb.WITHDRAW, user, reason)
        _finish(locked, actor, Verb.WITHDRAW, status, now)
        if waiting_on is not None:
            _notify_step(locked, waiting_on, f"申请已撤回：{locked.title}", reason, email=False)
    return locked


def flow_comment(*, actor: Actor, flow: Flow, text: str) -> FlowAction:
    """A comment on the flow's record (any status). The applicant side's comments reach the
    active step's people, staff comments reach the applicant side (in-app only).
    Audit "workflow.comment"."""
    user = actor.require_user()
    text = _clean_text(text, "text", required="请填写留言内容。")
    if not permissions.can_comment(user, flow):
        raise PermissionDenied("您无权在该申请下留言。")
    with transaction.atomic():
        locked = _lock(flow)
        action = _record(locked, Verb.COMMENT, user, text)
        audit_record(
            actor=actor,
            action="workflow.comment",
            target=locked,
            summary=f"{locked.title}：留言",
            after={"text": text},
        )
        url = handler_for(locked.kind).url(locked)
        if permissions.is_applicant_side(user, locked):
            waiting_on = locked.steps.filter(state=StepState.ACTIVE).first()
            if waiting_on is not None:
                _notify_step(locked, waiting_on, f"申请人留言：{locked.title}", text, email=False)
        else:
            others = [u for u in _applicant_side(locked) if u.pk != user.pk]
            notify(users=others, title=f"审批留言：{locked.title}", body=text, url=url, email=False)
    return action


def _check_upload(upload: UploadedFile) -> tuple[str, str, int]:
    """(extension, sha256, size) of an acceptable upload; DomainError naming the problem."""
    name = PurePath(upload.name or "").name
    extension = PurePath(name).suffix.lower()
    if extension not in ATTACHMENT_TYPES:
        raise DomainError("附件只能是 PDF、JPG 或 PNG 文件。", field="file")
    size = upload.size or 0
    if size == 0:
        raise DomainError("附件是空文件。", field="file")
    if size > MAX_ATTACHMENT_BYTES:
        raise DomainError(
            f"附件不能超过 10 MB（该文件 {size / 1024 / 1024:.1f} MB）。", field="file"
        )
    digest = hashlib.sha256()
    head = b""
    for chunk in upload.chunks():
        if not head:
            head = bytes(chunk[:16])
        digest.update(chunk)
    if not head.startswith(ATTACHMENT_TYPES[extension]):
        raise DomainError(
            f"文件内容与扩展名“{extension}”不符，请上传真实的 PDF、JPG 或 PNG 文件。",
            field="file",
        )
    upload.seek(0)
    return extension, digest.hexdigest(), size


def attachment_add(*, actor: Actor, flow: Flow, upload: UploadedFile, label: str) -> Attachment:
    """Attach a PDF/JPG/PNG (≤ 10 MB) to a flow, storing its SHA-256.

    The applicant side may attach while the flow is open; approvers whose scope covers the
    student at any time. Raises DomainError for a bad file or label, PermissionDenied otherwise.
    Audit "workflow.attach".
    """
    user = actor.require_user()
    label = _clean_text(label, "label", required="请填写材料名称。")[:100]
    if not permissions.can_attach(user, flow):
        raise PermissionDenied("您无权为该申请上传附件（申请已办结，或不在您的范围内）。")
    extension, sha256, size = _check_upload(upload)
    original = PurePath(upload.name or "").name[:200]
    with transaction.atomic():
        locked = _lock(flow)
        if not permissions.can_attach(user, locked):
            raise PermissionDenied("您无权为该申请上传附件（申请已办结，或不在您的范围内）。")
        attachment = Attachment(
            flow=locked,
            label=label,
            original_name=original,
            size=size,
            sha256=sha256,
            uploaded_by=user,
        )
        # A generated name: the original may hold characters a file system refuses.
        attachment.file.save(f"{uuid.uuid4().hex}{extension}", upload, save=False)
        attachment.save()
        _record(locked, Verb.ATTACH, user, f"{label}（{original}）")
        audit_record(
            actor=actor,
            action="workflow.attach",
            target=locked,
            summary=f"{locked.title}：上传附件 {label}",
            after={"attachment": attachment.pk, "name": original, "sha256": sha256, "size": size},
        )
    return attachment


def flow_batch_approve(*, actor: Actor, flows: Iterable[Flow], comment: str = "") -> dict[str, Any]:
    """Approve each flow in its own transaction (one refusal does not undo the others).

    Only flows whose type allows batch approval are approved. Returns
    {"approved": [flow ids], "refused": {flow id: message}}.
    """
    actor.require_user()
    approved: list[int] = []
    refused: dict[int, str] = {}
    for flow in flows:
        if not flow.batch_approvable:
            refused[flow.pk] = "该类申请不允许批量审批，请逐件办理。"
            continue
        try:
            flow_approve(actor=actor, flow=flow, comment=comment)
        except DomainError as exc:
            refused[flow.pk] = exc.message
        else:
            approved.append(flow.pk)
    return {"approved": approved, "refused": refused}


def delegation_create(
    *, actor: Actor, deputy: User, starts_on: date, ends_on: date, note: str = ""
) -> Delegation:
    """An approver lets a deputy (a member of staff) act on their approvals for a period.

    Raises PermissionDenied for a non-approver, DomainError for a bad deputy or period.
    Audit "workflow.delegation_create"; the deputy is told.
    """
    user = actor.require_user()
    if not permissions.can_delegate(user):
        raise PermissionDenied("只有审批人员可以设置审批代理。")
    if deputy.pk == user.pk:
        raise DomainError("不能把审批委托给自己。", field="deputy")
    if not deputy.is_active or not deputy.is_staff_member:
        raise DomainError("代理人须为在职教职工账号。", field="deputy")
    if ends_on < starts_on:
        raise DomainError("结束日期不能早于开始日期。", field="ends_on")
    if ends_on < timezone.localdate():
        raise DomainError("结束日期不能早于今天。", field="ends_on")
    note = _clean_text(note, "note")[:200]
    with transaction.atomic():
        delegation = Delegation.objects.create(
            principal=user, deputy=deputy, starts_on=starts_on, ends_on=ends_on, note=note
        )
        audit_record(
            actor=actor,
            action="workflow.delegation_create",
            target=delegation,
            summary=f"{user} 委托 {deputy} 代为审批 {starts_on}–{ends_on}",
            after={
                "deputy": deputy.username,
                "starts_on": starts_on.isoformat(),
                "ends_on": ends_on.isoformat(),
            },
        )
        notify(
            users=[deputy],
            title=f"{user} 委托您代为审批",
            body=f"期间：{starts_on} 至 {ends_on}。{note}",
            url="/workbench/",
        )
    return delegation


def delegation_revoke(*, actor: Actor, delegation: Delegation) -> Delegation:
    """The principal ends a delegation early. Audit "workflow.delegation_revoke"."""
    user = actor.require_user()
    if delegation.principal_id != user.pk:
        raise PermissionDenied("只有委托人可以撤销该代理。")
    with transaction.atomic():
        locked = Delegation.objects.select_for_update().get(pk=delegation.pk)
        if locked.revoked_at is not None:
            raise DomainError("该代理已撤销。")
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action="workflow.delegation_revoke",
            target=locked,
            summary=f"撤销对 {locked.deputy} 的审批代理",
            before={"revoked": False},
            after={"revoked": True},
        )
    return locked


REMIND_EVERY = timedelta(days=1)


def flow_remind_overdue(now: datetime) -> int:
    """Remind the people of active steps past their deadline, at most once a day per step.

    Safe to run twice at once: each step is re-checked under its row lock. Returns how many
    steps were reminded.
    """
    due = Q(reminded_at__isnull=True) | Q(reminded_at__lte=now - REMIND_EVERY)
    candidates = FlowStep.objects.filter(
        due, state=StepState.ACTIVE, flow__status=FlowStatus.IN_PROGRESS, due_at__lt=now
    ).values_list("pk", flat=True)
    reminded = 0
    for pk in list(candidates):
        with transaction.atomic():
            step = (
                FlowStep.objects.select_for_update()
                .filter(due, pk=pk, state=StepState.ACTIVE, due_at__lt=now)
                .select_related("flow__student")
                .first()
            )
            if step is None or step.flow.status != FlowStatus.IN_PROGRESS:
                continue
            step.reminded_at = now
            step.save(update_fields=["reminded_at"])
            overdue_days = max(1, (now - step.due_at).days) if step.due_at else 1
            _notify_step(
                step.flow,
                step,
                f"催办：{step.flow.title}",
                f"{step.title}已超过办理期限 {overdue_days} 天，请尽快处理。",
            )
            reminded += 1
    return reminded
