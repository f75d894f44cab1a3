"""The `jobs.selftest` kind: the operator's "is a worker alive, and does it reach the database"
check (`manage.py job_selftest`), also what the worker tests run.

It prepares `rows` rows one by one, pausing `pause` seconds each (so progress is visible and a
worker can be killed in the middle), then writes them all in one transaction, like every kind.
"""

from __future__ import annotations

import time
from typing import Any

from django.db import transaction

from xueji.core.exceptions import DomainError
from xueji.jobs.models import Job, SelftestRow
from xueji.jobs.progress import Progress

KIND = "jobs.selftest"
MAX_ROWS = 10_000
MAX_PAUSE = 5.0


def selftest_params(*, rows: int = 10, pause: float = 0.1) -> dict[str, Any]:
    if not 1 <= rows <= MAX_ROWS:
        raise DomainError(f"自检行数须在 1 到 {MAX_ROWS} 之间。", field="rows")
    if not 0 <= pause <= MAX_PAUSE:
        raise DomainError(f"每行间隔须在 0 到 {MAX_PAUSE} 秒之间。", field="pause")
    return {"rows": rows, "pause": pause}


def run_selftest(job: Job, progress: Progress) -> dict[str, Any]:
    params = selftest_params(
        rows=int(job.params.get("rows", 10)), pause=float(job.params.get("pause", 0.1))
    )
    progress.phase("准备", params["rows"])
    prepared = []
    for number in range(1, params["rows"] + 1):
        time.sleep(params["pause"])
        prepared.append(SelftestRow(job=job, number=number))
        progress.advance()
    progress.check_cancel()
    progress.phase("写入", len(prepared))
    with transaction.atomic():
        SelftestRow.objects.bulk_create(prepared)
    return {"written": len(prepared)}
