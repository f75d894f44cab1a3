"""Who may act on a step and who may see a flow, always relative to the student it is about.

One rule each, written as a query condition (`authority_q`, `visibility_q`) so that the
workbench lists exactly the steps the predicates allow — the predicates ask the same condition
of a single row.

A step is resolved by role + scope: 辅导员审核 → a counsellor whose classes include the
student's class; 学院审核 → the college admin of the student's college; 学校学籍管理部门审核 and
校长办公会决定 (the registrar records the minute) → the registrar. A deputy acts for a principal
during an active delegation, with the principal's authority at the time of acting.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from xueji.accounts.models import Role, Scope, User
from xueji.students.models import Student
from xueji.students.selectors import scope_filter
from xueji.workflow.models import Delegation, Flow, FlowStatus, FlowStep, StepKind

NOTHING = Q(pk__in=[])
APPROVER_ROLES = (Role.REGISTRAR, Role.COLLEGE_ADMIN, Role.COUNSELLOR)


def _usable(user: User | None) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def active_delegations_to(user: User) -> list[Delegation]:
    """Delegations `user` holds today as a deputy (not revoked, principal still active)."""
    if not _usable(user):
        return []
    today = timezone.localdate()
    return list(
        Delegation.objects.filter(
            deputy=user,
            revoked_at__isnull=True,
            starts_on__lte=today,
            ends_on__gte=today,
            principal__is_active=True,
        )
        .select_related("principal")
        .order_by("pk")
    )


def authority_q(user: User, prefix: str = "") -> Q:
    """The steps `user` may decide in their own right, as a Q on FlowStep (`prefix` puts it on
    a related model, e.g. "steps__")."""
    if not _usable(user):
        return NOTHING
    condition = NOTHING
    for grant in user.active_grants:
        if grant.role == Role.COUNSELLOR and grant.scope == Scope.CLASSES:
            class_ids = [c.pk for c in grant.classes.all()]
            if class_ids:
                condition |= Q(
                    **{
                        f"{prefix}kind": StepKind.COUNSELLOR,
                        f"{prefix}flow__student__school_class_id__in": class_ids,
                    }
                )
        elif grant.role == Role.COLLEGE_ADMIN and grant.scope == Scope.COLLEGE:
            if grant.college_id:
                condition |= Q(
                    **{
                        f"{prefix}kind": StepKind.COLLEGE,
                        f"{prefix}flow__student__college_id": grant.college_id,
                    }
                )
        elif grant.role == Role.REGISTRAR and grant.scope == Scope.SCHOOL:
            condition |= Q(**{f"{prefix}kind__in": [StepKind.REGISTRAR, StepKind.PRESIDENT_OFFICE]})
    return condition


def _may_decide(user: User, step: FlowStep) -> bool:
    condition = authority_q(user)
    if condition == NOTHING:
        return False
    return FlowStep.objects.filter(condition, pk=step.pk).exists()


def step_principal(user: User, step: FlowStep) -> User | None:
    """Whose authority `user` would act with on `step`: themselves, the principal of an
    active delegation, or None when they may not act."""
    if not _usable(user):
        return None
    if _may_decide(user, step):
        return user
    for delegation in active_delegations_to(user):
        if _may_decide(delegation.principal, step):
            return delegation.principal
    return None


def can_act_on_step(user: User, step: FlowStep) -> bool:
    """May `user` (in their own right or as a deputy) decide `step`? Authority only: whether the
    step is the active one is the service's check."""
    return step_principal(user, step) is not None


def visibility_q(user: User) -> Q:
    """The flows `user` may see, as a Q on Flow: their own applications, flows about
    themselves, and — for staff — flows about students in their scope (also through an active
    delegation: a deputy sees what the principal sees)."""
    if not _usable(user):
        return NOTHING
    condition = Q(applicant_id=user.pk) | Q(student__user_id=user.pk)
    viewers = [user] + [d.principal for d in active_delegations_to(user)]
    for viewer in viewers:
        if not viewer.is_staff_member:
            continue
        scope = scope_filter(viewer)
        if scope == Q():
            return Q()
        if scope != NOTHING:
            condition |= Q(student__in=Student.objects.filter(scope).values("pk"))
    return condition


def can_view_flow(user: User, flow: Flow) -> bool:
    if not _usable(user):
        return False
    if flow.applicant_id == user.pk:
        return True
    return Flow.objects.filter(visibility_q(user), pk=flow.pk).exists()


def is_applicant_side(user: User, flow: Flow) -> bool:
    """The applicant, or the student the flow is about."""
    if not _usable(user):
        return False
    if flow.applicant_id == user.pk:
        return True
    student_user_id = Student.objects.filter(pk=flow.student_id).values_list("user_id", flat=True)
    return user.pk in set(student_user_id)


def can_withdraw(user: User, flow: Flow) -> bool:
    return is_applicant_side(user, flow) and flow.status in (
        FlowStatus.IN_PROGRESS,
        FlowStatus.RETURNED,
    )


def can_resubmit(user: User, flow: Flow) -> bool:
    return is_applicant_side(user, flow) and flow.status == FlowStatus.RETURNED


def is_approver(user: User) -> bool:
    return _usable(user) and user.has_role(*APPROVER_ROLES)


def can_attach(user: User, flow: Flow) -> bool:
    """The applicant side while the flow is open; approvers whose scope covers the student at
    any time (a signed decision may be filed after the fact)."""
    if not can_view_flow(user, flow):
        return False
    if is_applicant_side(user, flow):
        return flow.status in (FlowStatus.IN_PROGRESS, FlowStatus.RETURNED)
    return is_approver(user) or bool(active_delegations_to(user))


def can_comment(user: User, flow: Flow) -> bool:
    if not can_view_flow(user, flow):
        return False
    return is_applicant_side(user, flow) or is_approver(user) or bool(active_delegations_to(user))


def can_delegate(user: User) -> bool:
    """Any approver may name a deputy for their own approvals."""
    return is_approver(user)
