"""What a running job reports through: rows done / total and the phase, and the cancel check."""

from __future__ import annotations

import time

from django.utils import timezone

from xueji.jobs.models import Job, JobStatus


class JobCancelled(Exception):
    """Raised inside a runner when someone asked to cancel; nothing of the run is kept."""


class JobAbandoned(Exception):
    """Raised inside a runner whose job was marked failed meanwhile (no progress for too long)."""


class Progress:
    """Writes progress to the job row (outside the runner's transaction, on its own
    connection-level autocommit) at most every `interval` seconds, and checks for cancel.

    Runners call `phase(name, total)` when a phase starts and `advance(n)` as rows are done.
    Progress rows are written with `Job.objects.filter(...).update(...)`, which on the runner's
    connection would be inside its transaction; so runners do their writes in one transaction
    only at the very end (validate and prepare first, then write), and report before it.
    """

    def __init__(self, job: Job, interval: float = 0.5) -> None:
        self.job = job
        self.interval = interval
        self._last = 0.0

    def phase(self, name: str, total: int = 0) -> None:
        self.job.phase, self.job.total, self.job.done = name, total, 0
        self._write(force=True)

    def advance(self, count: int = 1) -> None:
        self.job.done += count
        self._write()

    def set(self, done: int) -> None:
        self.job.done = done
        self._write()

    def check_cancel(self) -> None:
        """Stop if someone asked to cancel, or if the job is no longer this run's (the stale
        sweep gave up on it and someone may have re-run it): its writes must not land twice."""
        state = Job.objects.filter(pk=self.job.pk).values("cancel_requested", "status").first()
        if state is None or state["cancel_requested"]:
            raise JobCancelled
        if state["status"] != JobStatus.RUNNING:
            raise JobAbandoned

    def _write(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        Job.objects.filter(pk=self.job.pk).update(
            phase=self.job.phase,
            done=self.job.done,
            total=self.job.total,
            heartbeat_at=timezone.now(),
        )
        self.check_cancel()
