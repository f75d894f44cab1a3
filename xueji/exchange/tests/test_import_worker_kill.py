"""A freshman import COMMIT run by a real `manage.py task_worker` (database and Redis backends)
and killed with SIGKILL while it is writing the students leaves no student behind; the stale
sweep marks the job failed, and re-running it imports every student exactly once.

"While it is writing" is observed, not guessed: after the job reports the phase "写入", the
test waits until the worker holds the write transaction — on PostgreSQL a granted
RowExclusiveLock of another backend on the student table, on SQLite the database's write
lock (a probe's BEGIN IMMEDIATE is refused) — and only then kills it. The file is large enough
that the write lasts well beyond the probe's interval; if the job still finished first, the
test says so instead of passing.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from xueji.core.context import Actor
from xueji.exchange.imports import services
from xueji.exchange.imports.runner import COMMIT
from xueji.exchange.tests import test_imports, test_worker
from xueji.jobs import services as job_services
from xueji.jobs.models import Job, JobStatus
from xueji.jobs.tests import test_workers
from xueji.students.models import StatusLedgerEntry, Student, StudentState

# The fixtures of the jobs' worker tests: the backend (db, redis) and real worker processes.
backend = test_workers.backend
start_worker = test_workers.start_worker
# The cast for a flushed (transactional) database: code tables loaded again first.
cast = test_worker.cast

ROWS = 6000
PROBE_EVERY = 0.01


def student_table_write_in_progress() -> bool:
    """True while another connection holds an open write transaction on the students."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "WHERE l.database = (SELECT oid FROM pg_database WHERE datname = "
                "current_database()) AND c.relname = %s AND l.mode = 'RowExclusiveLock' "
                "AND l.granted AND l.pid <> pg_backend_pid()",
                [Student._meta.db_table],
            )
            return cursor.fetchone()[0] > 0
    probe = sqlite3.connect(connection.settings_dict["NAME"], timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:  # "database is locked": the writer is in its transaction
        return True
    else:
        probe.execute("ROLLBACK")
        return False
    finally:
        probe.close()


def wait_until_writing(job: Job, worker: test_workers.Worker) -> None:
    test_workers.wait_for(job, worker, lambda j: j.phase == "写入" or j.is_finished)
    deadline = time.monotonic() + test_workers.PATIENCE
    while time.monotonic() < deadline:
        if student_table_write_in_progress():
            return
        job.refresh_from_db()
        if job.is_finished:
            pytest.fail(f"the import ended ({job.status}) before the write was seen: {job.error}")
        time.sleep(PROBE_EVERY)
    pytest.fail(f"the worker never started writing:\n{worker.output()}")


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_while_writing_an_import_leaves_no_students_and_a_rerun_imports_all(
    backend, start_worker, cast
):
    before = Student.objects.count()
    rows = test_imports.freshman_rows(cast, ROWS)
    upload = SimpleUploadedFile("新生.xlsx", test_imports.xlsx_bytes(rows))
    job = services.freshman_import_start(
        actor=Actor(user=cast.registrar, via="test"), upload=upload, dry_run=False
    )
    assert job.kind == COMMIT
    first = start_worker()
    wait_until_writing(job, first)

    first.kill()

    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING, "the import finished before the worker was killed"
    assert job.phase == "写入"
    assert Student.objects.count() == before
    assert not StudentState.objects.filter(student__student_number__startswith="20245").exists()
    assert not StatusLedgerEntry.objects.filter(note="新生导入").exists()

    # Nobody works on it any more: the periodic sweep gives up on it after ten minutes.
    assert job_services.jobs_mark_stale(timezone.now() + timedelta(minutes=11)) == 1
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "可重新运行" in job.error

    again = job_services.job_rerun(actor=Actor(user=cast.registrar, via="test"), job=job)
    second = start_worker()
    test_workers.wait_for(again, second, lambda j: j.is_finished)

    assert again.status == JobStatus.SUCCEEDED, again.error
    assert again.result["created"] == ROWS
    assert Student.objects.count() == before + ROWS
    imported = Student.objects.filter(candidate_number__in=[r["KSH"] for r in rows])
    assert imported.count() == imported.values("candidate_number").distinct().count() == ROWS
    assert StatusLedgerEntry.objects.filter(note="新生导入").count() == ROWS
