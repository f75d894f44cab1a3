"""The `crosscheck.run` job: compare one admission batch with the registered students.

Reads and compares first (with progress), then writes the whole result in one transaction, so
a cancelled or killed run leaves the queue as it was and can simply be re-run.
"""

from __future__ import annotations

from typing import Any

from xueji.core.context import Actor
from xueji.core.exceptions import DomainError
from xueji.exchange.crosscheck import services
from xueji.exchange.models import AdmissionBatch
from xueji.jobs.models import Job
from xueji.jobs.progress import Progress


def run(job: Job, progress: Progress) -> dict[str, Any]:
    batch = AdmissionBatch.objects.filter(pk=job.params.get("batch")).first()
    if batch is None:
        raise DomainError("该录取数据批次已不存在。")
    found = services.crosscheck_compare(batch, advance=progress.advance, phase=progress.phase)
    progress.check_cancel()
    progress.phase("写入差异清单", len(found))
    counts = services.crosscheck_apply(
        actor=Actor(user=job.created_by, via="job"), batch=batch, found=found
    )
    progress.set(len(found))
    return {"batch": batch.pk, **counts}


def register_job_kinds() -> None:
    """Called from ExchangeConfig.ready()."""
    from xueji.jobs.registry import register

    register(services.JOB_KIND, run)
