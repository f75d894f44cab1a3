"""Periodic jobs: each app registers its sweeps here (in `AppConfig.ready`), and
`manage.py run_periodic` runs the due ones — started beside the worker by `make run`, or from
cron in a deployment (`manage.py run_periodic --once` every few minutes).

Sweeps must be idempotent and safe to run twice at once: they re-check state under a lock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every_seconds: int
    run: Callable[[datetime], object]


_JOBS: dict[str, PeriodicJob] = {}


def register(name: str, every_seconds: int, run: Callable[[datetime], object]) -> None:
    """Register `run(now)` to be called at most every `every_seconds`; re-registering replaces."""
    _JOBS[name] = PeriodicJob(name=name, every_seconds=every_seconds, run=run)


def jobs() -> list[PeriodicJob]:
    return sorted(_JOBS.values(), key=lambda job: job.name)
