"""Jobs run by real worker processes on both task backends: the database worker and Redis (RQ)
workers. A worker killed with SIGKILL in the middle of a job leaves nothing written; the sweep
marks the job failed and it runs again to the end on a fresh worker.

Redis must be running (127.0.0.1:6379 in CI; XUEJI_TEST_REDIS_URL to point elsewhere). The
tests use their own Redis database number and flush it. Without Redis they fail, never skip.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from xueji.accounts.models import Role, Scope, User
from xueji.conftest import make_user
from xueji.core.context import Actor
from xueji.core.exceptions import DomainError
from xueji.jobs import registry, selftest, services
from xueji.jobs.models import Job, JobStatus, SelftestRow
from xueji.jobs.tasks import job_run_task

REDIS_TEST_URL = os.environ.get("XUEJI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# A safety net against a hung worker, not a speed requirement: waits end as soon as the job does.
PATIENCE = 180.0


def database_url_for_tests() -> str:
    config = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{config['NAME']}"
    user = config.get("USER") or "postgres"
    host = config.get("HOST") or "127.0.0.1"
    port = config.get("PORT") or 5432
    password = f":{config['PASSWORD']}" if config.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{port}/{config['NAME']}"


def redis_for_tests() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=5)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.fail(
            f"Redis is not reachable at {REDIS_TEST_URL} ({exc}). Start it (redis-server, or "
            "`apt-get install redis-server`), or set XUEJI_TEST_REDIS_URL.",
            pytrace=False,
        )
    return client


@pytest.fixture(params=["db", "redis"])
def backend(request: pytest.FixtureRequest, settings) -> Iterator[str]:
    """The task backend the test process enqueues to and its workers work from."""
    name = request.param
    settings.TASKS = {"default": {"BACKEND": settings.TASKS_BACKENDS[name]}}
    if name == "redis":
        client = redis_for_tests()
        client.flushdb()
        settings.RQ_QUEUES = {"default": {"URL": REDIS_TEST_URL, "DEFAULT_TIMEOUT": 3600}}
        yield name
        client.flushdb()
    else:
        yield name


def descendants(pid: int) -> list[int]:
    """Child processes of `pid`, grandchildren included (from /proc; Linux)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


class Worker:
    """`manage.py task_worker` in its own process group, against the test database."""

    def __init__(self, backend: str) -> None:
        self.log = tempfile.NamedTemporaryFile("w+", prefix="xueji-worker-", suffix=".log")  # noqa: SIM115
        env = {
            **os.environ,
            "DATABASE_URL": database_url_for_tests(),
            "XUEJI_TASKS_BACKEND": backend,
            "XUEJI_REDIS_URL": REDIS_TEST_URL,
        }
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "task_worker"],
            cwd=Path(settings.BASE_DIR),
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so a kill reaches RQ's work-horse child too
        )

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()[-4000:]

    def kill(self) -> None:
        """What a power cut does: SIGKILL to the worker and every process it forked (RQ's
        work-horse runs the job in a child that leaves the worker's process group)."""
        for pid in [*descendants(self.process.pid), self.process.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


@pytest.fixture
def start_worker(backend: str) -> Iterator[Callable[[], Worker]]:
    workers: list[Worker] = []

    def start() -> Worker:
        workers.append(Worker(backend))
        return workers[-1]

    yield start
    for worker in workers:
        worker.stop()


def wait_for(job: Job, worker: Worker, done: Callable[[Job], bool]) -> Job:
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if done(job):
            return job
        if worker.process.poll() is not None:
            pytest.fail(f"the worker exited ({worker.process.returncode}):\n{worker.output()}")
        time.sleep(0.1)
    pytest.fail(f"job {job.pk} stayed {job.status} ({job.done}/{job.total}):\n{worker.output()}")


@pytest.fixture
def registrar(transactional_db) -> User:
    # Not the shared cast: transactional tests flush the code tables the cast is built from.
    return make_user("registrar", Role.REGISTRAR, Scope.SCHOOL)


def start_selftest(registrar: User, *, rows: int, pause: float) -> Job:
    return services.job_create(
        actor=Actor(user=registrar, via="test"),
        kind=selftest.KIND,
        title="自检",
        params=selftest.selftest_params(rows=rows, pause=pause),
    )


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_selftest_job_and_commits_its_rows(backend, start_worker, capsys):
    worker = start_worker()

    call_command("job_selftest", rows=7, pause=0, wait=PATIENCE)

    job = Job.objects.get(kind=selftest.KIND)
    assert job.status == JobStatus.SUCCEEDED, worker.output()
    assert job.result == {"written": 7}
    assert job.attempts == 1
    assert sorted(job.selftest_rows.values_list("number", flat=True)) == list(range(1, 8))
    assert "写入 7 行" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_in_the_middle_leaves_no_rows_and_the_job_runs_again(
    backend, start_worker, registrar
):
    job = start_selftest(registrar, rows=30, pause=0.5)
    first = start_worker()
    wait_for(job, first, lambda j: j.status == JobStatus.RUNNING and j.done >= 1)

    first.kill()

    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING, "the job finished before the worker was killed"
    assert job.done < job.total
    assert SelftestRow.objects.count() == 0

    # Nobody is working on it: the periodic sweep gives up on it after ten minutes.
    assert services.jobs_mark_stale(timezone.now() + timedelta(minutes=11)) == 1
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "可重新运行" in job.error

    again = services.job_rerun(actor=Actor(user=registrar, via="test"), job=job)
    second = start_worker()
    wait_for(again, second, lambda j: j.is_finished)

    assert again.status == JobStatus.SUCCEEDED, again.error
    assert again.selftest_rows.count() == 30
    assert job.selftest_rows.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_task_deferred_with_run_after_waits_for_its_time_then_runs(
    backend, start_worker, registrar
):
    job = Job.objects.create(
        kind=selftest.KIND, title="自检", created_by=registrar, params={"rows": 2, "pause": 0}
    )
    result = job_run_task.using(run_after=timezone.now() + timedelta(seconds=1)).enqueue(job.pk)
    assert job_run_task.get_result(result.id).status == "READY"

    worker = start_worker()
    wait_for(job, worker, lambda j: j.is_finished)

    assert job.status == JobStatus.SUCCEEDED
    # RQ's scheduler keeps the time in whole seconds (ScheduledJobRegistry.schedule uses
    # calendar.timegm), so on Redis the task may start within the second it is due.
    due = result.task.run_after
    assert job.started_at >= (due.replace(microsecond=0) if backend == "redis" else due)
    assert job.selftest_rows.count() == 2
    finished = job_run_task.get_result(result.id)
    deadline = time.monotonic() + PATIENCE
    while finished.status != "SUCCESSFUL" and time.monotonic() < deadline:
        time.sleep(0.1)
        finished.refresh()
    assert finished.status == "SUCCESSFUL"
    assert finished.return_value == JobStatus.SUCCEEDED


@pytest.mark.django_db
def test_job_selftest_says_clearly_when_no_worker_picks_the_job_up():
    with pytest.raises(CommandError, match="task_worker"):
        call_command("job_selftest", wait=0.3)

    assert Job.objects.get(kind=selftest.KIND).status == JobStatus.QUEUED


def test_selftest_parameters_out_of_range_are_refused_with_the_field_named():
    with pytest.raises(DomainError) as error:
        selftest.selftest_params(rows=0)
    assert error.value.field == "rows"
    with pytest.raises(DomainError) as error:
        selftest.selftest_params(pause=60)
    assert error.value.field == "pause"


def test_task_worker_refuses_a_backend_it_does_not_know(settings):
    settings.TASKS = {"default": {"BACKEND": "somewhere.else.Backend"}}

    with pytest.raises(CommandError, match="XUEJI_TASKS_BACKEND"):
        call_command("task_worker", burst=True)


def swept_while_running(job: Job, progress) -> dict:
    """A run still going when the stale sweep gives up on it (a worker cut off, not dead)."""
    services.jobs_mark_stale(timezone.now() + timedelta(minutes=11))
    progress.check_cancel()
    SelftestRow.objects.create(job=job, number=1)
    return {"written": 1}


@pytest.mark.django_db
def test_a_run_the_stale_sweep_gave_up_on_writes_nothing_and_stays_failed():
    registry.register("test.swept", swept_while_running)
    job = Job.objects.create(kind="test.swept", title="被判定中断")

    assert services.job_run(job.pk) == JobStatus.FAILED

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "可重新运行" in job.error
    assert SelftestRow.objects.count() == 0
