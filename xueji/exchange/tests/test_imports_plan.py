"""The fast commit: a confirmed clean dry run's kept plan, re-checked set-based, written in bulk;
and what still sends the commit back to reading and checking the whole file."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from xueji.audit.models import AuditEvent
from xueji.conftest import Cast
from xueji.exchange.imports import bulkwrite, runner, services
from xueji.exchange.imports.planfile import PLAN_KEEP, plan_load, plans_discard_stale
from xueji.exchange.tests.test_imports import freshman_rows, run_import, upload, xlsx_bytes
from xueji.jobs.models import Job, JobStatus
from xueji.jobs.services import job_create, job_run
from xueji.org.models import SchoolClass
from xueji.students.models import StatusLedgerEntry, Student, StudentState

IMPORTED = "24110102"  # every 考生号 of freshman_rows starts so


def confirm(cast: Cast, dry: Job) -> Job:
    with transaction.atomic():
        commit = services.freshman_import_confirm(actor=cast.actor(cast.registrar), dry_run=dry)
    job_run(commit.pk)
    commit.refresh_from_db()
    return commit


def imported() -> int:
    return Student.objects.filter(candidate_number__startswith=IMPORTED).count()


def test_a_confirmed_clean_dry_run_is_written_from_its_kept_plan_with_every_record(
    cast: Cast,
) -> None:
    rows = freshman_rows(cast, 60)
    dry = run_import(cast, xlsx_bytes(rows))
    assert dry.status == JobStatus.SUCCEEDED, dry.error
    assert plan_load(dry, dry.result["sha256"]) is not None
    commit = confirm(cast, dry)
    assert commit.status == JobStatus.SUCCEEDED, commit.error
    assert commit.result["plan_reused"] is True
    assert (commit.result["created"], commit.result["rows"]) == (60, 60)
    assert (commit.phase, commit.done, commit.total) == ("写入", 60, 60)
    students = Student.objects.filter(candidate_number__startswith=IMPORTED)
    assert students.count() == 60
    one = students.get(candidate_number=rows[4]["KSH"])
    assert (one.student_number, one.name, one.id_number) == (
        rows[4]["XH"],
        "新生4",
        rows[4]["ZJHM"],
    )
    assert (one.school_class, one.cohort.year, one.status) == (cast.class_a, 2024, "in_school")
    assert one.name_pinyin and one.pinyin_key.startswith("xinsheng")
    version = one.history.get()
    assert (version.history_type, version.history_user, version.history_change_reason) == (
        "+", cast.registrar, "新生导入",
    )  # fmt: skip
    assert version.name == "新生4" and version.school_class_id == cast.class_a.pk
    assert StudentState.objects.filter(student__in=students, reason="入学").count() == 60
    ledger = StatusLedgerEntry.objects.filter(student__in=students, note="新生导入")
    assert ledger.count() == 60 and {e.actor for e in ledger} == {cast.registrar}
    assert AuditEvent.objects.filter(action="import.freshmen").count() == 1
    assert plan_load(dry, dry.result["sha256"]) is None  # written once, then discarded
    # Ids came from the table's own sequence: the next ordinary insert does not collide.
    extra = Student.objects.create(**{
        f.attname: getattr(one, f.attname) for f in Student._meta.concrete_fields
        if f.attname not in ("id", "candidate_number", "student_number", "id_number", "user_id")
    }, candidate_number="X1", student_number="X1", id_number="X1")  # fmt: skip
    assert extra.pk > max(students.values_list("pk", flat=True))


def test_the_commit_refuses_when_a_student_number_was_taken_after_the_dry_run(
    cast: Cast,
) -> None:
    rows = freshman_rows(cast, 30)
    dry = run_import(cast, xlsx_bytes(rows))
    assert dry.result["errors"] == 0
    # Meanwhile someone gives an existing student the 学号 of row 7 of the file.
    Student.objects.filter(pk=cast.classmate_b.pk).update(student_number=rows[5]["XH"])
    commit = confirm(cast, dry)
    assert commit.status == JobStatus.FAILED
    assert "1 行存在错误" in commit.error
    assert commit.output_file  # the full check ran and reported the row
    assert imported() == 0
    assert not AuditEvent.objects.filter(action="import.freshmen").exists()


def test_the_commit_checks_every_row_again_when_a_class_changed_after_the_dry_run(
    cast: Cast,
) -> None:
    rows = freshman_rows(cast, 30)
    dry = run_import(cast, xlsx_bytes(rows))
    assert dry.result["errors"] == 0
    # Class 计科2401 is moved to the foreign-language major: its rows no longer fit.
    SchoolClass.objects.filter(pk=cast.class_a.pk).update(major=cast.fl_major, college=cast.fl)
    commit = confirm(cast, dry)
    assert commit.status == JobStatus.FAILED
    assert "行存在错误" in commit.error
    assert imported() == 0


def test_a_harmless_change_after_the_dry_run_costs_a_full_check_but_still_imports(
    cast: Cast,
) -> None:
    dry = run_import(cast, xlsx_bytes(freshman_rows(cast, 20)))
    SchoolClass.objects.filter(pk=cast.class_b.pk).update(name="计科2402（更名）")
    commit = confirm(cast, dry)
    assert commit.status == JobStatus.SUCCEEDED, commit.error
    assert commit.result["plan_reused"] is False
    assert commit.result["created"] == 20 and imported() == 20


def test_a_commit_without_a_dry_run_checks_and_writes_the_whole_file(cast: Cast) -> None:
    job = run_import(cast, xlsx_bytes(freshman_rows(cast, 25)), dry_run=False)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["plan_reused"] is False
    assert job.result["created"] == 25 and imported() == 25
    assert Student.history.filter(candidate_number__startswith=IMPORTED).count() == 25


def test_a_commit_naming_a_clean_dry_run_of_another_file_checks_its_own_file(
    cast: Cast,
) -> None:
    dry = run_import(cast, xlsx_bytes(freshman_rows(cast, 10)))
    rows = freshman_rows(cast, 10)
    rows[3]["MZ"] = "99"
    with transaction.atomic():
        commit = job_create(
            actor=cast.actor(cast.registrar),
            kind=runner.COMMIT,
            title="新生导入",
            params={"filename": "新生.xlsx", "via": "web", "dry_run": dry.pk},
            input_file=upload(xlsx_bytes(rows)),
        )
    job_run(commit.pk)
    commit.refresh_from_db()
    assert commit.status == JobStatus.FAILED
    assert "1 行存在错误" in commit.error
    assert imported() == 0


def test_another_users_dry_run_plan_is_not_reused(cast: Cast) -> None:
    data = xlsx_bytes(freshman_rows(cast, 10))
    dry = run_import(cast, data)
    with transaction.atomic():
        commit = job_create(
            actor=cast.actor(cast.college_admin),
            kind=runner.COMMIT,
            title="新生导入",
            params={"filename": "新生.xlsx", "via": "web", "dry_run": dry.pk},
            input_file=upload(data),
        )
    job_run(commit.pk)
    commit.refresh_from_db()
    # The college admin's own check runs: the 外国语学院 rows are outside their scope.
    assert commit.status == JobStatus.FAILED
    assert imported() == 0


def test_a_cancel_between_write_batches_leaves_no_student_history_or_audit(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulkwrite, "BATCH", 10)
    dry = run_import(cast, xlsx_bytes(freshman_rows(cast, 40)))
    written_before_cancel: list[int] = []
    report = runner._WriteProgress.__call__

    def cancel_after_first_batch(self: runner._WriteProgress, count: int) -> None:
        # What the 取消 button does, arriving while the batches are being written.
        written_before_cancel.append(imported())
        Job.objects.filter(pk=self.progress.job.pk).update(cancel_requested=True)
        report(self, count)

    monkeypatch.setattr(runner._WriteProgress, "__call__", cancel_after_first_batch)
    commit = confirm(cast, dry)
    assert commit.status == JobStatus.CANCELLED
    assert written_before_cancel == [10]  # the first batch was in, then nothing is kept
    assert imported() == 0
    assert not Student.history.filter(candidate_number__startswith=IMPORTED).exists()
    assert not StatusLedgerEntry.objects.filter(note="新生导入").exists()
    assert not AuditEvent.objects.filter(action="import.freshmen").exists()


def test_a_dry_run_with_errors_or_updates_keeps_no_plan(cast: Cast) -> None:
    rows = freshman_rows(cast, 10)
    rows[2]["MZ"] = "99"
    bad = run_import(cast, xlsx_bytes(rows))
    assert bad.result["errors"] == 1
    assert plan_load(bad, bad.result["sha256"]) is None
    rows[2]["MZ"] = "01"
    run_import(cast, xlsx_bytes(rows), dry_run=False)
    rows[0]["SJ"] = "13800000000"
    again = run_import(cast, xlsx_bytes(rows))
    assert again.result["update"] == 1
    assert plan_load(again, again.result["sha256"]) is None


def test_the_sweep_drops_plans_nobody_confirmed_and_their_commit_still_imports(
    cast: Cast,
) -> None:
    old = run_import(cast, xlsx_bytes(freshman_rows(cast, 8)))
    recent = run_import(cast, xlsx_bytes(freshman_rows(cast, 9)))
    assert plan_load(old, old.result["sha256"]) and plan_load(recent, recent.result["sha256"])
    now = timezone.now()
    Job.objects.filter(pk=old.pk).update(finished_at=now - PLAN_KEEP - timedelta(hours=1))
    Job.objects.filter(pk=recent.pk).update(finished_at=now - timedelta(hours=1))

    assert plans_discard_stale(now) == 1
    assert plan_load(old, old.result["sha256"]) is None
    assert plan_load(recent, recent.result["sha256"]) is not None
    assert plans_discard_stale(now) == 0
    # Confirming the old dry run later still works: the commit checks the whole file again.
    commit = confirm(cast, Job.objects.get(pk=old.pk))
    assert commit.status == JobStatus.SUCCEEDED, commit.error
    assert (commit.result["plan_reused"], commit.result["created"]) == (False, 8)
