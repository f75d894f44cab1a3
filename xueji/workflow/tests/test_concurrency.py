"""Two approvers at once: exactly one outcome, no lost update.

Real concurrency needs a database that lets two transactions run side by side: PostgreSQL,
where the flow row lock (SELECT … FOR UPDATE) makes the second approver wait and then see the
first one's result. SQLite serialises writers on the whole database, so there the threaded test
is skipped and the sequential double approval is checked instead (test_services).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections

from xueji.conftest import build_cast
from xueji.core.context import Actor
from xueji.core.exceptions import DomainError
from xueji.workflow.models import Flow, FlowAction, FlowStatus, StepKind, StepState
from xueji.workflow.services import STALE_MESSAGE, StepSpec, flow_approve, flow_start


def _race(flow_pk: int, actors: list[Actor], expected_version: int) -> list[Any]:
    barrier = threading.Barrier(len(actors))
    outcomes: list[Any] = [None] * len(actors)

    def approve(index: int, actor: Actor) -> None:
        try:
            flow = Flow.objects.get(pk=flow_pk)
            barrier.wait(timeout=30)
            outcomes[index] = flow_approve(
                actor=actor, flow=flow, expected_version=expected_version
            ).version
        except DomainError as exc:
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approve, args=(i, actor)) for i, actor in enumerate(actors)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("final", [False, True])
def test_two_approvers_at_once_yield_exactly_one_approval(final: bool) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the sequential double approval is tested instead")
    from xueji.org.services import code_tables_load
    from xueji.workflow.handlers import register
    from xueji.workflow.tests.conftest import RecordingHandler

    register("test", RecordingHandler())
    # A transactional test empties the tables when it ends, code tables included: load them.
    code_tables_load(actor=Actor.system())
    cast = build_cast()
    steps = [StepSpec(StepKind.REGISTRAR)] + ([] if final else [StepSpec(StepKind.COLLEGE)])
    flow = flow_start(
        actor=Actor(user=cast.student_user),
        kind="test",
        subject_id=1,
        student=cast.student,
        title="并发审批",
        steps=steps,
    )
    # Two registrars: the same step, two people, two connections.
    from xueji.accounts.models import Role, Scope
    from xueji.conftest import make_user

    second = make_user("registrar-2", Role.REGISTRAR, Scope.SCHOOL)
    outcomes = _race(flow.pk, [Actor(user=cast.registrar), Actor(user=second)], 0)

    versions = [o for o in outcomes if isinstance(o, int)]
    errors = [o for o in outcomes if isinstance(o, DomainError)]
    assert versions == [1], outcomes
    assert len(errors) == 1
    # The loser waited for the winner's lock, then saw its result: the flow finished, or moved on.
    expected = "该申请当前为“已通过”，不能再同意。" if final else STALE_MESSAGE
    assert errors[0].message == expected
    flow.refresh_from_db()
    assert flow.version == 1
    assert flow.status == (FlowStatus.APPROVED if final else FlowStatus.IN_PROGRESS)
    assert FlowAction.objects.filter(flow=flow, verb__startswith="approve").count() == 1
    step = flow.steps.get(position=1)
    assert step.state == StepState.APPROVED
    assert step.decided_by_id in {cast.registrar.pk, second.pk}
