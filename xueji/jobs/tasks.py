"""The one task every job runs through; the backend (database or Redis) only carries the id."""

from __future__ import annotations

from django.tasks import task


@task
def job_run_task(job_id: int) -> str:
    from xueji.jobs.services import job_run

    return job_run(job_id)
