"""Job kinds: each app registers `run(job, progress) -> dict` for its kinds in AppConfig.ready()."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from xueji.core.exceptions import DomainError

if TYPE_CHECKING:
    from xueji.jobs.models import Job
    from xueji.jobs.progress import Progress

Runner = Callable[["Job", "Progress"], dict[str, Any]]

_RUNNERS: dict[str, Runner] = {}


def register(kind: str, run: Runner) -> None:
    _RUNNERS[kind] = run


def runner_for(kind: str) -> Runner:
    try:
        return _RUNNERS[kind]
    except KeyError:
        raise DomainError(f"没有“{kind}”这种后台任务。") from None
