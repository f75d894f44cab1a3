"""Starting, running, cancelling and re-running jobs."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.core.files.base import File
from django.db import transaction
from django.http import FileResponse
from django.utils import timezone

from xueji.audit.services import audit_record
from xueji.core.context import Actor
from xueji.core.exceptions import DomainError, NotFound, PermissionDenied
from xueji.jobs import permissions
from xueji.jobs.models import FINISHED, Job, JobStatus
from xueji.jobs.progress import JobAbandoned, JobCancelled, Progress
from xueji.jobs.registry import runner_for

logger = logging.getLogger(__name__)

# A running job whose progress has not moved for this long is taken to have lost its worker.
STALE_AFTER = timedelta(minutes=10)


def job_create(
    *,
    actor: Actor,
    kind: str,
    title: str,
    params: dict[str, Any] | None = None,
    input_file: File | None = None,
) -> Job:
    """Record a job and queue it when the caller's transaction commits."""
    runner_for(kind)  # unknown kinds are refused before anything is written
    with transaction.atomic():
        job = Job(kind=kind, title=title[:200], created_by=actor.user, params=params or {})
        if input_file is not None:
            job.input_file.save(input_file.name or "input", input_file, save=False)
        job.save()
        audit_record(actor=actor, action="job.create", target=job, summary=f"后台任务：{title}")
        transaction.on_commit(lambda: job_enqueue(job.pk))
    return job


ENQUEUE_FAILED = "任务队列不可用（如 Redis 未连接），任务未开始、未写入任何数据；请稍后重新运行。"


def job_enqueue(job_id: int) -> None:
    """Hand the job to the task backend. When the backend cannot take it (Redis down), the job
    is marked failed with a clear message instead of waiting in 排队中 forever; re-run works once
    the queue is back."""
    from xueji.jobs.tasks import job_run_task

    try:
        job_run_task.enqueue(job_id)
    except Exception:
        logger.exception("could not enqueue job %s", job_id)
        Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
            status=JobStatus.FAILED, finished_at=timezone.now(), error=ENQUEUE_FAILED
        )


def job_run(job_id: int) -> str:
    """Run one job to its end (called by the task in a worker). Returns the final status.

    The runner does its reading and checking first and writes everything in one transaction
    at the end, so a cancel, an error or a killed worker leaves no partial data.
    """
    claimed = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now()
    )
    job = Job.objects.get(pk=job_id)
    if not claimed:
        return job.status  # already run, running elsewhere, or cancelled while queued
    Job.objects.filter(pk=job_id).update(attempts=job.attempts + 1)
    progress = Progress(job)
    try:
        progress.check_cancel()
        result = runner_for(job.kind)(job, progress)
    except JobCancelled as exc:
        # A runner that keeps what it finished before the cancel says so in its own words.
        return _finish(job, JobStatus.CANCELLED, error=str(exc) or "已取消，未写入任何数据。")
    except JobAbandoned:
        return Job.objects.get(pk=job_id).status  # the sweep's verdict stands
    except DomainError as exc:
        return _finish(job, JobStatus.FAILED, error=exc.message)
    except Exception as exc:  # a bug: keep the job row honest, log the traceback
        logger.exception("job %s failed", job_id)
        return _finish(job, JobStatus.FAILED, error=f"{type(exc).__name__}: {exc}")
    return _finish(job, JobStatus.SUCCEEDED, result=result or {})


def _finish(job: Job, status: str, *, error: str = "", result: dict | None = None) -> str:
    fields: dict[str, Any] = {"status": status, "finished_at": timezone.now(), "error": error}
    if result is not None:
        fields["result"] = result
    if status == JobStatus.SUCCEEDED:
        fields["done"] = max(job.done, job.total)
    # Only while still running: a job the stale sweep already failed keeps that verdict.
    Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(**fields)
    return status


def job_cancel(*, actor: Actor, job: Job) -> Job:
    """Ask a queued or running job to stop; a queued one is cancelled at once."""
    user = actor.user
    if user is None or not permissions.can_manage_job(user, job):
        raise PermissionDenied("只有发起人或校级学籍管理员可以取消该任务。")
    if job.status in FINISHED:
        raise DomainError(f"该任务已{job.get_status_display()}，不能取消。")
    with transaction.atomic():
        Job.objects.filter(pk=job.pk).update(cancel_requested=True)
        Job.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
            status=JobStatus.CANCELLED, finished_at=timezone.now(), error="已取消，未运行。"
        )
        audit_record(actor=actor, action="job.cancel", target=job, summary=f"取消：{job.title}")
    job.refresh_from_db()
    return job


def job_rerun(*, actor: Actor, job: Job) -> Job:
    """Start a finished (failed, cancelled or stale) job again as a new job with the same input."""
    user = actor.user
    if user is None or not permissions.can_manage_job(user, job):
        raise PermissionDenied("只有发起人或校级学籍管理员可以重新运行该任务。")
    if not job.is_finished:
        raise DomainError("该任务还在进行中。")
    with transaction.atomic():
        again = Job.objects.create(
            kind=job.kind,
            title=job.title,
            created_by=user,
            params=job.params,
            input_file=job.input_file.name,
        )
        audit_record(
            actor=actor, action="job.rerun", target=again, summary=f"重新运行：{job.title}"
        )
        transaction.on_commit(lambda: job_enqueue(again.pk))
    return again


def job_output_open(*, actor: Actor, job: Job) -> FileResponse:
    """The job's result file as a download, audited (exports can hold unmasked ID numbers).

    Raises NotFound when the job has no result file or the file is gone from storage, and
    PermissionDenied for an unmasked file without the full-ID grant.
    """
    if not job.output_file:
        raise NotFound("该任务没有结果文件。")
    # An export that says it is not masked holds full ID numbers: the registrar sees every
    # job, but only the full-ID grant opens such a file (the exporter's own included).
    if (job.result or {}).get("masked") is False and not (
        actor.user is not None and actor.user.can_view_full_id
    ):
        raise PermissionDenied(
            "该结果文件含完整证件号码，只有具有“可查看完整证件号”授权的人可以下载。"
        )
    # A file holding the uploader's raw rows (an import's error report) is the uploader's; other
    # viewers of the job need the full-ID grant, as the rows may carry ID numbers.
    if (
        job.params.get("output_private")
        and actor.user is not None
        and actor.user.pk != job.created_by_id
        and not actor.user.can_view_full_id
    ):
        raise PermissionDenied(
            "该文件是上传人原始数据的错误报告（可能含证件号码），只有上传人或具有“可查看完整证件号”"
            "授权的人可以下载。"
        )
    name = job.output_file.name.rsplit("/", 1)[-1]
    try:
        handle = job.output_file.open("rb")
    except FileNotFoundError:
        raise NotFound("结果文件已不在存储中（多台服务器时请确认共享了 media 目录）。") from None
    with transaction.atomic():
        audit_record(actor=actor, action="job.output", target=job, summary=f"下载结果文件：{name}")
    return FileResponse(handle, as_attachment=True, filename=name)


def jobs_mark_stale(now: datetime) -> int:
    """Running jobs whose worker went away (no progress for STALE_AFTER) become failed, so
    people see it and can re-run; their transaction was never committed. Periodic sweep."""
    return Job.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=now - STALE_AFTER).update(
        status=JobStatus.FAILED,
        finished_at=now,
        error="后台进程中断，未写入任何数据，可重新运行。",
    )
