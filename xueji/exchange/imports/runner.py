"""The freshman import's two job kinds.

`import.freshmen.dry_run` reads and checks the file and writes nothing but the job's result
(counts) and, when there are errors, the error report; a clean, all-new dry run also keeps
its plan (`planfile`). `import.freshmen.commit` of such a dry run re-checks set-based what may
have changed since (code tables, organisation, scope, numbers taken) and writes the kept plan;
otherwise it reads and checks the whole file again and refuses if any row is wrong. Either
way every student is written in ONE transaction (`bulkwrite`): all or nothing.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.files.base import ContentFile
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.utils import timezone

from xueji.accounts.models import User
from xueji.audit.services import audit_record
from xueji.core.context import Actor
from xueji.core.exceptions import DomainError
from xueji.exchange.imports import sheet
from xueji.exchange.imports.bulkwrite import new_students_insert
from xueji.exchange.imports.errors_report import error_report
from xueji.exchange.imports.planfile import StoredPlan, plan_discard, plan_load, plan_store
from xueji.exchange.imports.reader import read_sheet
from xueji.exchange.imports.validate import (
    Plan,
    checked_against,
    taken_in_database,
    validate_freshmen,
)
from xueji.jobs.models import Job, JobStatus
from xueji.jobs.progress import Progress
from xueji.org.models import Cohort
from xueji.students.demo.bulk import large_page_cache
from xueji.students.models import Student
from xueji.students.pinyin import name_pinyin, search_keys_for

DRY_RUN = "import.freshmen.dry_run"
COMMIT = "import.freshmen.commit"
KINDS = (DRY_RUN, COMMIT)
BATCH = 1000


def _user(job: Job) -> User:
    if job.created_by is None:
        raise DomainError("该任务没有发起人，无法判断导入范围。")
    return job.created_by


def _read(job: Job, progress: Progress) -> tuple[bytes, str]:
    progress.phase("读取", 1)
    with job.input_file.open("rb") as handle:
        data = handle.read()
    return data, hashlib.sha256(data).hexdigest()


def _load(job: Job, progress: Progress) -> tuple[Plan, str, User]:
    user = _user(job)
    data, digest = _read(job, progress)
    rows = read_sheet(data, job.params.get("filename") or job.input_file.name)
    del data
    progress.advance()
    progress.phase("校验", max(len(rows) - 1, 0))
    plan = validate_freshmen(
        rows, user=user, tick=progress.advance, system=job.params.get("system", "")
    )
    del rows
    progress.check_cancel()
    if plan.counts()["rows"] == 0:
        raise DomainError("文件中没有数据行：请在表头下方逐行填写新生信息后再上传。", field="file")
    return plan, digest, user


def _save_report(job: Job, plan: Plan) -> None:
    stem = (job.params.get("filename") or "import").rsplit(".", 1)[0]
    job.output_file.save(f"{stem}-错误报告.xlsx", ContentFile(error_report(plan)), save=False)
    Job.objects.filter(pk=job.pk).update(output_file=job.output_file.name)


@contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """Python's cycle collector rescans every live object on each full collection; with the
    millions of cells, values and row dicts of a 100k-row file alive that costs seconds per
    import (measured: 6 s of 18). The rows hold no reference cycles, so pause it meanwhile."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def run_dry_run(job: Job, progress: Progress) -> dict[str, Any]:
    with _without_cyclic_gc():
        return _dry_run(job, progress)


def run_commit(job: Job, progress: Progress) -> dict[str, Any]:
    with _without_cyclic_gc():
        return _commit(job, progress)


def _dry_run(job: Job, progress: Progress) -> dict[str, Any]:
    system = job.params.get("system", "")
    state = checked_against(_user(job), system)
    plan, digest, user = _load(job, progress)
    if plan.errors:
        _save_report(job, plan)
    elif not plan.updates and not plan.unchanged and checked_against(user, system) == state:
        # All new and nothing changed while checking: keep the plan for the commit.
        plan_store(job, sha256=digest, state=state, counts=plan.counts(), records=plan.new)
    return {**plan.counts(), "sha256": digest, "errors_preview": _preview(plan)}


def _commit(job: Job, progress: Progress) -> dict[str, Any]:
    stored = _reusable_plan(job, progress)
    updates: list[tuple[Student, dict[str, Any]]] = []
    if stored is not None:
        new, counts, digest, user = stored.records, stored.counts, stored.sha256, _user(job)
    else:
        plan, digest, user = _load(job, progress)
        if plan.errors:
            _save_report(job, plan)
            raise DomainError(
                f"文件中有 {plan.counts()['error_rows']} 行存在错误，未导入任何数据；"
                "请下载错误报告修正后重新上传。"
            )
        new, updates, counts = plan.new, plan.updates, plan.counts()
        del plan
    progress.phase("写入", len(new) + len(updates))
    actor = Actor(user=user, via=job.params.get("via", "job"))
    report = _WriteProgress(progress)
    try:
        with large_page_cache(), transaction.atomic():
            _write(new, updates, counts, user=user, actor=actor, job=job, digest=digest,
                   between_batches=report)  # fmt: skip
    except IntegrityError as exc:
        # Another writer took a number between the check and the write.
        raise DomainError(
            "写入时发现学号、考生号或证件号码与其他学生重复，未导入任何数据。"
        ) from exc
    finally:
        report.close()
    if stored is not None:
        plan_discard(stored.dry_run, stored.sha256)
    return {**counts, "sha256": digest, "created": len(new), "updated": len(updates),
            "plan_reused": stored is not None}  # fmt: skip


def _reusable_plan(job: Job, progress: Progress) -> StoredPlan | None:
    """The plan of the clean dry run this commit confirms, if it still holds: same user, same
    file, same code tables, organisation and scope, and none of its numbers taken since."""
    dry_run = Job.objects.filter(
        pk=job.params.get("dry_run") or 0,
        kind=DRY_RUN,
        status=JobStatus.SUCCEEDED,
        created_by=job.created_by_id,
    ).first()
    if dry_run is None or job.created_by is None:
        return None
    _, digest = _read(job, progress)
    if dry_run.result.get("sha256") != digest:
        return None
    stored = plan_load(dry_run, digest)
    progress.advance()
    if stored is None:
        return None
    progress.phase("核对", len(stored.records))
    if stored.state != checked_against(job.created_by, job.params.get("system", "")):
        return None
    if taken_in_database(stored.records):
        return None
    progress.advance(len(stored.records))
    progress.check_cancel()
    return stored


class _WriteProgress:
    """Progress and the cancel check between write batches, inside the import's transaction.

    The job row must not be updated on the import's own connection then: the update would
    stay invisible until the commit and would lock the row against a cancel request. On
    PostgreSQL a second connection reports the rows written; SQLite has one writer at a time,
    so there the page shows the phase and its total until the commit."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.done = 0
        self.side: Any = None
        if connection.vendor == "postgresql":
            self.side = connections.create_connection(DEFAULT_DB_ALIAS)

    def __call__(self, count: int) -> None:
        self.done += count
        if self.side is not None:
            table = self.side.ops.quote_name(Job._meta.db_table)
            with self.side.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET done = %s, heartbeat_at = %s WHERE id = %s",  # noqa: S608
                    [self.done, timezone.now(), self.progress.job.pk],
                )
        self.progress.check_cancel()

    def close(self) -> None:
        if self.side is not None:
            self.side.close()


def _preview(plan: Plan) -> list[dict[str, Any]]:
    return sheet.preview(plan)


def _write(
    new: list[dict[str, Any]],
    updates: list[tuple[Student, dict[str, Any]]],
    counts: dict[str, int],
    *,
    user: User,
    actor: Actor,
    job: Job,
    digest: str,
    between_batches: Any,
) -> None:
    years = {r["cohort_year"] for r in new} | {
        c["cohort_year"] for _, c in updates if "cohort_year" in c
    }
    cohorts = {c.year: c for c in Cohort.objects.filter(year__in=years)}
    for year in sorted(years - set(cohorts)):
        cohorts[year] = Cohort.objects.create(year=year)
    now = timezone.now()
    new_students_insert(new, cohorts=cohorts, user=user, now=now, between_batches=between_batches)
    updated: list[Student] = []
    fields: set[str] = set()
    for student, changes in updates:
        for name, value in changes.items():
            if name == "cohort_year":
                student.cohort = cohorts[value]
                fields.add("cohort")
            else:
                setattr(student, name, value)
                fields.add(name.removesuffix("_id") if name.endswith("_id") else name)
        if "name" in changes:
            student.name_pinyin = name_pinyin(student.name)
            student.pinyin_key, student.pinyin_initials = search_keys_for(
                student.name, student.name_pinyin
            )
            fields |= {"name_pinyin", "pinyin_key", "pinyin_initials"}
        student.updated_at = now
        updated.append(student)
    if updated:
        Student.objects.bulk_update(updated, sorted(fields | {"updated_at"}), batch_size=BATCH)
        Student.history.bulk_history_create(  # type: ignore[attr-defined]
            updated,
            batch_size=BATCH,
            update=True,
            default_user=user,
            default_change_reason="新生导入（更新）",
            default_date=now,
        )
    filename = job.params.get("filename", "")
    audit_record(
        actor=actor,
        action="import.freshmen",
        target=job,
        summary=f"新生导入 {filename}：新增 {len(new)} 人，更新 {len(updated)} 人，"
        f"未变 {counts['unchanged']} 人",
        after={
            "file": filename,
            "sha256": digest,
            "rows": counts["rows"],
            "created": len(new),
            "updated": len(updated),
            "unchanged": counts["unchanged"],
        },
    )
