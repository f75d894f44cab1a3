"""Jobs: run to the end, fail cleanly, cancel without leaving data, show progress."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

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
