"""Reads of the approval engine: the workbench, history, a flow in scope, its timeline.

Scope comes from `permissions.authority_q` / `visibility_q`: pending steps are selected by one
query condition per grant and per delegation, never by a Python loop over rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from xueji.accounts.models import Role, Scope, User
from xueji.core.exceptions import NotFound
from xueji.workflow import permissions
from xueji.workflow.handlers import handler_for
from xueji.workflow.models import (
    Attachment,
    Delegation,
    Flow,
    FlowAction,
    FlowStatus,
    FlowStep,
    StepKind,
    StepState,
)


def _pending_condition(user: User) -> Q:
    condition = permissions.authority_q(user)
    for delegation in permissions.active_delegations_to(user):
        condition |= permissions.authority_q(delegation.principal)
    return condition


def pending_steps_for(
    user: User,
    *,
    kind: str = "",
    college: int | None = None,
    overdue: bool = False,
    now: datetime | None = None,
) -> QuerySet[FlowStep]:
    """Active steps of open flows that `user` may decide (directly or as a deputy), oldest
    first, with the flow, student and college loaded."""
    condition = _pending_condition(user)
    if condition == permissions.NOTHING:
        return FlowStep.objects.none()
    steps = FlowStep.objects.filter(
        condition, state=StepState.ACTIVE, flow__status=FlowStatus.IN_PROGRESS
    )
    if kind:
        steps = steps.filter(Q(flow__kind=kind) | Q(flow__subject_type=kind))
    if college:
        steps = steps.filter(flow__student__college_id=college)
    if overdue:
        steps = steps.filter(due_at__lt=now or timezone.now())
    return steps.select_related(
        "flow__student__college", "flow__student__school_class", "flow__applicant"
    ).order_by("activated_at", "pk")


def pending_count(user: User) -> int:
    """How many steps wait for `user` (the home page badge)."""
    if not (permissions.is_approver(user) or permissions.active_delegations_to(user)):
        return 0
    return pending_steps_for(user).count()


def pending_summary(user: User, now: datetime | None = None) -> dict[str, Any]:
    """Counts for the workbench header: total, overdue, and per flow kind."""
    steps = pending_steps_for(user)
    moment = now or timezone.now()
    by_kind = {
        row["flow__kind"]: row["n"]
        for row in steps.order_by().values("flow__kind").annotate(n=Count("pk"))
    }
    return {
        "total": sum(by_kind.values()),
        "overdue": steps.filter(due_at__lt=moment).count(),
        "by_kind": by_kind,
    }


def decided_by(user: User) -> QuerySet[FlowStep]:
    """Steps `user` decided (also as a deputy), newest first: the history page."""
    return (
        FlowStep.objects.filter(decided_by=user)
        .exclude(decided_at__isnull=True)
        .select_related("flow__student__college", "on_behalf_of")
        .order_by("-decided_at", "-pk")
    )


def flows_visible_to(user: User) -> QuerySet[Flow]:
    condition = permissions.visibility_q(user)
    if condition == permissions.NOTHING:
        return Flow.objects.none()
    return Flow.objects.filter(condition).select_related(
        "student__college", "student__school_class", "applicant"
    )


def get_flow_for(user: User, pk: int) -> Flow:
    """The flow if `user` may see it; NotFound otherwise (never a 403, never a leak)."""
    flow = flows_visible_to(user).filter(pk=pk).first()
    if flow is None:
        raise NotFound("未找到该申请，或您无权查看。")
    return flow


def get_attachment_for(user: User, pk: int) -> Attachment:
    attachment = (
        Attachment.objects.filter(pk=pk, flow__in=flows_visible_to(user).values("pk"))
        .select_related("flow", "uploaded_by")
        .first()
    )
    if attachment is None:
        raise NotFound("未找到该附件，或您无权查看。")
    return attachment


def active_step(flow: Flow) -> FlowStep | None:
    """The step waiting for a decision (also the one that returned the flow)."""
    return (
        flow.steps.filter(state__in=[StepState.ACTIVE, StepState.RETURNED])
        .order_by("position")
        .first()
    )


def step_actors(step: FlowStep) -> list[User]:
    """Everyone who may decide `step` now, deputies included (for notifications)."""
    student = step.flow.student
    grants = Q(grants__is_active=True)
    if step.kind == StepKind.COUNSELLOR:
        if student.school_class_id is None:
            return []
        grants &= Q(
            grants__role=Role.COUNSELLOR,
            grants__scope=Scope.CLASSES,
            grants__classes=student.school_class_id,
        )
    elif step.kind == StepKind.COLLEGE:
        grants &= Q(
            grants__role=Role.COLLEGE_ADMIN,
            grants__scope=Scope.COLLEGE,
            grants__college_id=student.college_id,
        )
    else:
        grants &= Q(grants__role=Role.REGISTRAR, grants__scope=Scope.SCHOOL)
    principals = list(User.objects.filter(grants, is_active=True).distinct().order_by("pk"))
    today = timezone.localdate()
    deputies = User.objects.filter(
        is_active=True,
        delegations_received__principal__in=[p.pk for p in principals],
        delegations_received__revoked_at__isnull=True,
        delegations_received__starts_on__lte=today,
        delegations_received__ends_on__gte=today,
    ).distinct()
    seen = {p.pk for p in principals}
    return principals + [d for d in deputies.order_by("pk") if d.pk not in seen]


def flow_timeline(flow: Flow) -> list[FlowAction]:
    """What happened, in order, with the actor and the step loaded."""
    return list(flow.actions.select_related("actor", "step").order_by("created_at", "pk"))


def flow_steps(flow: Flow) -> list[FlowStep]:
    return list(flow.steps.select_related("decided_by", "on_behalf_of").order_by("position"))


def flow_attachments(flow: Flow) -> list[Attachment]:
    return list(flow.attachments.select_related("uploaded_by").order_by("uploaded_at", "pk"))


def flow_panel_context(user: User, flow: Flow) -> dict[str, Any]:
    """Everything `workflow/_flow_panel.html` needs for `flow` as seen by `user`."""
    step = active_step(flow)
    can_act = (
        flow.status == FlowStatus.IN_PROGRESS
        and step is not None
        and step.state == StepState.ACTIVE
        and permissions.can_act_on_step(user, step)
    )
    return {
        "flow": flow,
        "steps": flow_steps(flow),
        "active_step": step,
        "timeline": flow_timeline(flow),
        "attachments": flow_attachments(flow),
        "can_act": can_act,
        "needs_minute": can_act and step is not None and step.kind == StepKind.PRESIDENT_OFFICE,
        "can_withdraw": permissions.can_withdraw(user, flow),
        "can_resubmit": permissions.can_resubmit(user, flow),
        "can_comment": permissions.can_comment(user, flow),
        "can_attach": permissions.can_attach(user, flow),
    }


def flow_url(flow: Flow) -> str:
    return handler_for(flow.kind).url(flow)


def delegations_given(user: User) -> QuerySet[Delegation]:
    return Delegation.objects.filter(principal=user).select_related("deputy").order_by("-pk")


def delegations_received(user: User) -> QuerySet[Delegation]:
    return Delegation.objects.filter(deputy=user).select_related("principal").order_by("-pk")


def get_delegation_for(user: User, pk: int) -> Delegation:
    """A delegation the user gave; NotFound for anyone else's."""
    delegation = delegations_given(user).filter(pk=pk).first()
    if delegation is None:
        raise NotFound("未找到该代理设置。")
    return delegation


def deputy_candidates() -> QuerySet[User]:
    """Active staff accounts (a deputy must be staff)."""
    staff_roles = [Role.REGISTRAR, Role.COLLEGE_ADMIN, Role.COUNSELLOR, Role.ADVISOR]
    return (
        User.objects.filter(is_active=True, grants__is_active=True, grants__role__in=staff_roles)
        .distinct()
        .order_by("username")
    )
