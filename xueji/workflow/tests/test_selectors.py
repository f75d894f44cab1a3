"""Workbench reads: the set-based pending list agrees with the per-step predicate."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from xueji.accounts.models import Role, Scope
from xueji.conftest import Cast, make_user
from xueji.core.exceptions import NotFound
from xueji.workflow import permissions, selectors
from xueji.workflow.models import Delegation, FlowStep, StepKind
from xueji.workflow.tests.conftest import StartFlow

KINDS = [StepKind.COUNSELLOR, StepKind.COLLEGE, StepKind.REGISTRAR, StepKind.PRESIDENT_OFFICE]


def test_pending_steps_are_exactly_the_steps_each_person_may_act_on(
    cast: Cast, start: StartFlow
) -> None:
    for student in (cast.student, cast.classmate_b, cast.other_student):
        for kind in KINDS:
            start([kind], student=student, applicant=cast.registrar)
    today = timezone.localdate()
    deputy = make_user("deputy", Role.ADVISOR, Scope.ADVISEES)
    Delegation.objects.create(
        principal=cast.college_admin, deputy=deputy, starts_on=today, ends_on=today
    )
    people = [
        cast.registrar,
        cast.college_admin,
        cast.counsellor,
        cast.advisor,
        cast.auditor,
        cast.student_user,
        cast.parent,
        deputy,
    ]
    steps = list(FlowStep.objects.select_related("flow__student"))
    for user in people:
        listed = set(selectors.pending_steps_for(user).values_list("pk", flat=True))
        allowed = {s.pk for s in steps if permissions.can_act_on_step(user, s)}
        assert listed == allowed, user.username
        assert selectors.pending_count(user) == len(listed)
    assert len(set(selectors.pending_steps_for(cast.registrar))) == 6
    assert len(set(selectors.pending_steps_for(cast.college_admin))) == 2
    assert len(set(selectors.pending_steps_for(cast.counsellor))) == 1
    assert len(set(selectors.pending_steps_for(deputy))) == 2


def test_step_actors_include_active_deputies_only(cast: Cast, start: StartFlow) -> None:
    flow = start()
    step = flow.steps.get(position=1)
    assert selectors.step_actors(step) == [cast.counsellor]
    today = timezone.localdate()
    Delegation.objects.create(
        principal=cast.counsellor, deputy=cast.advisor, starts_on=today, ends_on=today
    )
    Delegation.objects.create(
        principal=cast.counsellor,
        deputy=cast.registrar,
        starts_on=today - timedelta(days=9),
        ends_on=today - timedelta(days=1),
    )
    assert selectors.step_actors(step) == [cast.counsellor, cast.advisor]


def test_get_flow_for_is_scoped(cast: Cast, start: StartFlow) -> None:
    flow = start()
    for user in (cast.registrar, cast.college_admin, cast.counsellor, cast.advisor, cast.auditor):
        assert selectors.get_flow_for(user, flow.pk) == flow
    other_counsellor = make_user("c-b", Role.COUNSELLOR, Scope.CLASSES, classes=[cast.class_b])
    for user in (cast.other_student_user, cast.parent, other_counsellor):
        try:
            selectors.get_flow_for(user, flow.pk)
        except NotFound as exc:
            assert exc.message == "未找到该申请，或您无权查看。"
        else:
            raise AssertionError(f"{user.username} saw a flow outside their scope")
