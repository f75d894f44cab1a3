"""Jobs: run to the end, fail cleanly, cancel without leaving data, show progress."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.db import transaction
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from xueji.audit.models import AuditEvent
from xueji.conftest import Cast
from xueji.core.exceptions import DomainError, PermissionDenied
from xueji.jobs import registry, services
from xueji.jobs.models import Job, JobStatus
from xueji.notifications.models import Notification
from xueji.students.tests.test_api import api_as


def write_notices(job, progress):
    """A job that prepares N rows with progress, then writes them in one transaction."""
    count = job.params["count"]
    progress.phase("准备", count)
    rows = []
    for i in range(count):
        if job.params.get("fail_at") == i:
            raise DomainError(f"第 {i + 1} 行有误")
        rows.append(Notification(user_id=job.created_by_id, title=f"通知 {i}"))
        progress.advance()
    with transaction.atomic():
        Notification.objects.bulk_create(rows)
    return {"written": len(rows)}


@pytest.fixture(autouse=True)
def test_kind():
    registry.register("test.notices", write_notices)


def start(cast: Cast, **params) -> Job:
    with transaction.atomic():
        return services.job_create(
            actor=cast.actor(cast.counsellor), kind="test.notices", title="写通知", params=params
        )


def test_a_job_runs_to_the_end_and_reports_its_result(cast: Cast) -> None:
    job = start(cast, count=5)
    assert services.job_run(job.pk) == JobStatus.SUCCEEDED
    job.refresh_from_db()
    assert (job.status, job.done, job.total, job.result) == ("succeeded", 5, 5, {"written": 5})
    assert job.percent == 100
    assert Notification.objects.filter(user=cast.counsellor).count() == 5
    # Running it again does nothing: a job runs once.
    assert services.job_run(job.pk) == JobStatus.SUCCEEDED
    assert Notification.objects.filter(user=cast.counsellor).count() == 5


def test_a_failing_job_writes_nothing_and_says_why(cast: Cast) -> None:
    job = start(cast, count=5, fail_at=3)
    assert services.job_run(job.pk) == JobStatus.FAILED
    job.refresh_from_db()
    assert job.error == "第 4 行有误"
    assert not Notification.objects.filter(user=cast.counsellor).exists()


def test_a_cancelled_job_writes_nothing_and_can_be_rerun(cast: Cast) -> None:
    job = start(cast, count=5)
    services.job_cancel(actor=cast.actor(cast.counsellor), job=job)
    assert services.job_run(job.pk) == JobStatus.CANCELLED
    assert not Notification.objects.filter(user=cast.counsellor).exists()
    again = services.job_rerun(actor=cast.actor(cast.counsellor), job=job)
    assert services.job_run(again.pk) == JobStatus.SUCCEEDED
    assert Notification.objects.filter(user=cast.counsellor).count() == 5


def test_a_running_job_stops_at_the_next_checkpoint_when_cancelled(cast: Cast) -> None:
    job = start(cast, count=3)

    def cancel_midway(job, progress):
        progress.phase("准备", 3)
        Job.objects.filter(pk=job.pk).update(cancel_requested=True)
        progress.phase("写入", 3)  # a checkpoint: raises JobCancelled
        Notification.objects.create(user_id=job.created_by_id, title="不应写入")
        return {}

    registry.register("test.notices", cancel_midway)
    assert services.job_run(job.pk) == JobStatus.CANCELLED
    assert not Notification.objects.filter(user=cast.counsellor).exists()


def test_a_job_whose_worker_vanished_is_marked_failed(cast: Cast) -> None:
    job = start(cast, count=1)
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, heartbeat_at=timezone.now() - timedelta(minutes=30)
    )
    assert services.jobs_mark_stale(timezone.now()) == 1
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "重新运行" in job.error


def test_only_the_creator_or_the_registrar_may_cancel(cast: Cast) -> None:
    job = start(cast, count=1)
    with pytest.raises(PermissionDenied):
        services.job_cancel(actor=cast.actor(cast.college_admin), job=job)
    services.job_cancel(actor=cast.actor(cast.registrar), job=job)


def test_the_job_page_shows_progress_to_its_owner_only(client: Client, cast: Cast) -> None:
    job = start(cast, count=4)
    client.force_login(cast.counsellor)
    page = client.get(f"/jobs/{job.pk}/")
    assert page.status_code == 200 and 'id="job-progress"' in page.content.decode()
    partial = client.get(f"/jobs/{job.pk}/?partial=1").content.decode()
    assert 'hx-trigger="every 1s"' in partial  # still queued: the bar keeps polling
    services.job_run(job.pk)
    partial = client.get(f"/jobs/{job.pk}/?partial=1").content.decode()
    assert "hx-trigger" not in partial and "100%" in partial
    client.force_login(cast.college_admin)
    assert client.get(f"/jobs/{job.pk}/").status_code == 404
    client.logout()
    assert client.get(f"/jobs/{job.pk}/").status_code == 302


def test_the_job_api_reports_progress_and_cancels(cast: Cast) -> None:
    job = start(cast, count=2)
    body = api_as(cast.counsellor).get(f"/api/v1/jobs/{job.pk}/").json()
    assert (body["status"], body["percent"]) == ("queued", 0)
    assert api_as(cast.college_admin).get(f"/api/v1/jobs/{job.pk}/").status_code == 404
    cancelled = api_as(cast.counsellor).post(f"/api/v1/jobs/{job.pk}/cancel/").json()
    assert cancelled["status"] == "cancelled"


def write_report(job, progress):
    """A job whose result is a file, as exports and error reports are."""
    content = ContentFile("学号,姓名\n2026001,张三\n".encode())
    job.output_file.save("report.csv", content, save=False)
    Job.objects.filter(pk=job.pk).update(output_file=job.output_file.name)
    return {"rows": 1}


def test_an_api_client_downloads_the_result_file_with_its_token_and_it_is_audited(
    cast: Cast,
) -> None:
    registry.register("test.report", write_report)
    with transaction.atomic():
        job = services.job_create(
            actor=cast.actor(cast.registrar), kind="test.report", title="导出", params={}
        )
    services.job_run(job.pk)
    body = api_as(cast.registrar).get(f"/api/v1/jobs/{job.pk}/").json()
    assert body["output_url"] == f"/api/v1/jobs/{job.pk}/output/"
    download = api_as(cast.registrar).get(body["output_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content).decode() == "学号,姓名\n2026001,张三\n"
    assert AuditEvent.objects.filter(action="job.output", target_id=str(job.pk)).count() == 1
    assert api_as(cast.college_admin).get(body["output_url"]).status_code == 404
    assert APIClient().get(body["output_url"]).status_code == 401
    no_file = start(cast, count=1)
    services.job_run(no_file.pk)
    assert api_as(cast.counsellor).get(f"/api/v1/jobs/{no_file.pk}/output/").status_code == 404


def test_a_job_the_queue_cannot_take_is_marked_failed_with_a_clear_message(
    cast: Cast, settings, django_capture_on_commit_callbacks
) -> None:
    # A real Redis backend pointed at a port nothing listens on: the enqueue raises.
    settings.TASKS = {"default": {"BACKEND": settings.TASKS_BACKENDS["redis"]}}
    settings.RQ_QUEUES = {"default": {"URL": "redis://127.0.0.1:1/0", "DEFAULT_TIMEOUT": 60}}
    with django_capture_on_commit_callbacks(execute=True):
        job = start(cast, count=1)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == services.ENQUEUE_FAILED
    assert Notification.objects.filter(user=cast.counsellor).count() == 0
