"""The freshman import's two job kinds.

`import.freshmen.dry_run` reads and checks the file and writes nothing but the job's result
(counts) and, when there are errors, the error report. `import.freshmen.commit` checks the
file again (the database may have changed since the dry run), refuses if any row is wrong,
and otherwise writes every student in ONE transaction: all or nothing.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from xueji.accounts.models import User
from xueji.audit.services import audit_record
from xueji.core.context import Actor
from xueji.core.exceptions import DomainError
from xueji.exchange.imports.errors_report import error_report
from xueji.exchange.imports.reader import read_sheet
from xueji.exchange.imports.validate import Plan, validate_freshmen
from xueji.jobs.models import Job
from xueji.jobs.progress import Progress
from xueji.org.models import Cohort
from xueji.students.models import (
    LedgerAction,
    StatusLedgerEntry,
    Student,
    StudentState,
    StudentStatus,
    registry_for,
)
from xueji.students.pinyin import name_pinyin, search_keys_for

DRY_RUN = "import.freshmen.dry_run"
COMMIT = "import.freshmen.commit"
KINDS = (DRY_RUN, COMMIT)
BATCH = 1000


def _load(job: Job, progress: Progress) -> tuple[Plan, str, User]:
    user = job.created_by
    if user is None:
        raise DomainError("该任务没有发起人，无法判断导入范围。")
    progress.phase("读取", 1)
    with job.input_file.open("rb") as handle:
        data = handle.read()
    digest = hashlib.sha256(data).hexdigest()
    rows = read_sheet(data, job.params.get("filename") or job.input_file.name)
    progress.advance()
    progress.phase("校验", max(len(rows) - 1, 0))
    plan = validate_freshmen(rows, user=user, tick=progress.advance)
    progress.check_cancel()
    if plan.counts()["rows"] == 0:
        raise DomainError("文件中没有数据行：请在表头下方逐行填写新生信息后再上传。", field="file")
    return plan, digest, user


def _save_report(job: Job, plan: Plan) -> None:
    stem = (job.params.get("filename") or "import").rsplit(".", 1)[0]
    job.output_file.save(f"{stem}-错误报告.xlsx", ContentFile(error_report(plan)), save=False)
    Job.objects.filter(pk=job.pk).update(output_file=job.output_file.name)


def run_dry_run(job: Job, progress: Progress) -> dict[str, Any]:
    plan, digest, _ = _load(job, progress)
    if plan.errors:
        _save_report(job, plan)
    return {**plan.counts(), "sha256": digest, "errors_preview": _preview(plan)}


def run_commit(job: Job, progress: Progress) -> dict[str, Any]:
    plan, digest, user = _load(job, progress)
    if plan.errors:
        _save_report(job, plan)
        raise DomainError(
            f"文件中有 {plan.counts()['error_rows']} 行存在错误，未导入任何数据；"
            "请下载错误报告修正后重新上传。"
        )
    progress.phase("写入", len(plan.new) + len(plan.updates))
    actor = Actor(user=user, via=job.params.get("via", "job"))
    try:
        with transaction.atomic():
            _write(plan, user=user, actor=actor, job=job, digest=digest)
    except IntegrityError as exc:
        # Another writer took a number between the check and the write.
        raise DomainError(
            "写入时发现学号、考生号或证件号码与其他学生重复，未导入任何数据。"
        ) from exc
    return {**plan.counts(), "sha256": digest, "created": len(plan.new),
            "updated": len(plan.updates)}  # fmt: skip


def _preview(plan: Plan, limit: int = 50) -> list[dict[str, Any]]:
    return [
        {"row": e.row, "column": e.label, "value": e.value, "reason": e.reason}
        for e in plan.errors[:limit]
    ]


def _write(plan: Plan, *, user: User, actor: Actor, job: Job, digest: str) -> None:
    years = {r["cohort_year"] for r in plan.new} | {
        c["cohort_year"] for _, c in plan.updates if "cohort_year" in c
    }
    cohorts = {c.year: c for c in Cohort.objects.filter(year__in=years)}
    for year in sorted(years - set(cohorts)):
        cohorts[year] = Cohort.objects.create(year=year)
    now = timezone.now()
    created: list[Student] = []
    for record in plan.new:
        values = {k: v for k, v in record.items() if k != "cohort_year"}
        student = Student(
            **values,
            cohort=cohorts[record["cohort_year"]],
            status=StudentStatus.IN_SCHOOL,
            registry_status=registry_for(StudentStatus.IN_SCHOOL),
            name_pinyin=name_pinyin(record["name"]),
        )
        student.pinyin_key, student.pinyin_initials = search_keys_for(
            student.name, student.name_pinyin
        )
        created.append(student)
    Student.objects.bulk_create(created, batch_size=BATCH)
    Student.history.bulk_history_create(  # type: ignore[attr-defined]
        created,
        batch_size=BATCH,
        default_user=user,
        default_change_reason="新生导入",
        default_date=now,
    )
    StudentState.objects.bulk_create(
        [
            StudentState(
                student=s,
                registry_status=s.registry_status,
                status=s.status,
                valid_from=s.enrollment_date,
                reason="入学",
            )
            for s in created
        ],
        batch_size=BATCH,
    )
    StatusLedgerEntry.objects.bulk_create(
        [
            StatusLedgerEntry(
                student=s,
                action=LedgerAction.ADMITTED,
                to_status=s.status,
                effective_date=s.enrollment_date,
                note="新生导入",
                actor=user,
            )
            for s in created
        ],
        batch_size=BATCH,
    )
    updated: list[Student] = []
    fields: set[str] = set()
    for student, changes in plan.updates:
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
    counts = plan.counts()
    filename = job.params.get("filename", "")
    audit_record(
        actor=actor,
        action="import.freshmen",
        target=job,
        summary=f"新生导入 {filename}：新增 {len(created)} 人，更新 {len(updated)} 人，"
        f"未变 {counts['unchanged']} 人",
        after={
            "file": filename,
            "sha256": digest,
            "rows": counts["rows"],
            "created": len(created),
            "updated": len(updated),
            "unchanged": counts["unchanged"],
        },
    )
