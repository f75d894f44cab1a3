"""A small real handler for kind "test", registered for every workflow test.

It records each transition in the database-free list `transitions`, refuses approval of flows
whose title starts with "不合规" (as a rule check would), and points at the generic flow page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import count
from typing import Any

import pytest
from django.urls import reverse

from xueji.conftest import Cast
from xueji.core.context import Actor
from xueji.core.exceptions import DomainError
from xueji.students.models import Student
from xueji.workflow.handlers import register
from xueji.workflow.models import Flow, FlowStep, StepKind
from xueji.workflow.services import StepSpec, flow_start


class RecordingHandler:
    label = "测试事项"

    def __init__(self) -> None:
        self.transitions: list[tuple[int, str, str]] = []

    def check_approve(self, flow: Flow, step: FlowStep, actor: Actor, final: bool) -> None:
        if flow.title.startswith("不合规"):
            raise DomainError("不符合第二十七条：休学次数已达上限。")

    def on_transition(self, flow: Flow, actor: Actor, verb: str) -> None:
        self.transitions.append((flow.pk, verb, flow.status))

    def url(self, flow: Flow) -> str:
        return reverse("flow-detail", args=[flow.pk])


_SUBJECT_IDS = count(1)


@pytest.fixture
def handler() -> RecordingHandler:
    made = RecordingHandler()
    register("test", made)
    return made


@pytest.fixture(autouse=True)
def _registered(handler: RecordingHandler) -> None:
    """Every workflow test has the "test" kind registered."""


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


StartFlow = Callable[..., Flow]


@pytest.fixture
def start(cast: Cast) -> StartFlow:
    """start(steps=[...], applicant=..., student=..., title=..., batch=False) -> Flow"""

    def make(
        steps: Sequence[str | StepSpec] = (StepKind.COUNSELLOR, StepKind.COLLEGE),
        *,
        applicant: Any = None,
        student: Student | None = None,
        title: str = "休学申请",
        batch: bool = False,
    ) -> Flow:
        specs = [s if isinstance(s, StepSpec) else StepSpec(kind=s) for s in steps]
        return flow_start(
            actor=cast.actor(applicant or cast.student_user),
            kind="test",
            subject_id=next(_SUBJECT_IDS),
            student=student or cast.student,
            title=title,
            steps=specs,
            subject_type="suspension",
            batch_approvable=batch,
        )

    return make
