"""Issuing one document type for a whole class or cohort, as a background job with progress.

`document_batch_start` checks the request and queues the job; `run_batch` (the job) checks
each student's eligibility (the ineligible are listed with the reason, not issued), then issues
in chunks: serials for the chunk are taken in one short transaction (the counter is not held
while rendering, so a student's own request is not kept waiting), the PDFs are rendered on
every core (`renderpool`), and each chunk's files, rows and audit events — one
`certificate.issue` with its SHA-256 per document — are written in one transaction. A failed or
cancelled run keeps the chunks already written (they are valid documents, listed on the
batch) and leaves gaps in the serials it had taken; re-running it issues only to the students
of the batch who have no document from it yet.

The output is one merged PDF for printing (up to MAX_MERGED documents) or a zip with one PDF
per student and a list of those not issued (`未开具名单.csv`).
"""

from __future__ import annotations

import csv
import io
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from typing import Any

from django.core.files import File
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from pypdf import PdfWriter

from xueji.audit.services import audit_record
from xueji.certificates import permissions, selectors
from xueji.certificates.models import (
    BatchOutput,
    DocumentBatch,
    DocumentType,
    IssuedDocument,
    SerialCounter,
)
from xueji.certificates.pdf import GlyphMissing
from xueji.certificates.renderpool import RenderPool, render_processes
from xueji.certificates.rules import Context, check_eligibility
from xueji.core.context import Actor
from xueji.core.exceptions import DomainError, PermissionDenied, ValidationFailed
from xueji.jobs.models import Job
from xueji.jobs.progress import JobCancelled, Progress
from xueji.jobs.services import job_create
from xueji.org.models import Cohort, College, Major, SchoolClass
from xueji.students.models import Student
from xueji.students.selectors import scope_filter

JOB_KIND = "certificates.batch"
CHUNK = 200
MAX_MERGED = 1000
MAX_BATCH = 20000


def batch_students(
    user,
    *,
    school_class: SchoolClass | None = None,
    cohort: Cohort | None = None,
    college: College | None = None,
    major: Major | None = None,
) -> QuerySet[Student]:
    """The students of a class, or of a cohort (narrowed to a college / major), that the
    registrar or college admin `user` may issue for; by class, then 学号."""
    rows = Student.objects.filter(scope_filter(user, permissions.ISSUING_ROLES))
    if school_class is not None:
        rows = rows.filter(school_class=school_class)
    if cohort is not None:
        rows = rows.filter(cohort=cohort)
    if college is not None:
        rows = rows.filter(college=college)
    if major is not None:
        rows = rows.filter(major=major)
    return rows.select_related("college", "major", "school_class").order_by(
        "school_class__code", "student_number"
    )


def document_batch_start(
    actor: Actor,
    *,
    type_code: str,
    language: str = "zh",
    output: str = BatchOutput.ZIP,
    school_class: SchoolClass | None = None,
    cohort: Cohort | None = None,
    college: College | None = None,
    major: Major | None = None,
) -> DocumentBatch:
    """Queue a batch. A class, or a cohort, is required; the students are those of it in the
    caller's scope. Refused: an unknown or inactive type, a type staff may not issue, a type
    that needs approval, an unsupported language, no students, a merged PDF over MAX_MERGED."""
    from xueji.certificates.services import LANGUAGES

    user = actor.require_user()
    if not permissions.can_issue_batch(user):
        raise PermissionDenied("只有学籍管理部门和学院管理员可以批量开具证明。")
    errors: dict[str, list[str]] = {}
    document_type = DocumentType.objects.filter(code=type_code, is_active=True).first()
    if document_type is None:
        errors["type"] = ["没有这种证明类型，或该类型已停用。"]
    elif not document_type.for_staff:
        errors["type"] = [f"{document_type.name}不能由教职工代为开具。"]
    elif not document_type.auto_issue:
        errors["type"] = [f"{document_type.name}需经审核，不能批量开具。"]
    elif language not in LANGUAGES or language not in document_type.languages:
        errors["language"] = [f"暂不支持该语言的{document_type.name}：{language}。"]
    if output not in BatchOutput.values:
        errors["output"] = [f"未知的输出方式：{output}。"]
    if school_class is None and cohort is None:
        errors["school_class"] = ["请选择班级，或选择年级。"]
    if errors:
        raise ValidationFailed(errors)
    assert document_type is not None
    count = batch_students(
        user, school_class=school_class, cohort=cohort, college=college, major=major
    ).count()
    if count == 0:
        raise DomainError("所选范围内没有您可以开具证明的学生。", code="empty")
    if count > MAX_BATCH:
        raise DomainError(f"一次最多开具 {MAX_BATCH} 人，所选范围有 {count} 人，请缩小范围。")
    if output == BatchOutput.PDF and count > MAX_MERGED:
        raise ValidationFailed(
            {
                "output": [
                    f"合并 PDF 最多 {MAX_MERGED} 份（所选 {count} 人），请选择 ZIP 或缩小范围。"
                ]
            }
        )
    where = school_class.name if school_class else f"{cohort}"
    if school_class is None:
        where += "".join(f" {part.name}" for part in (college, major) if part is not None)
    with transaction.atomic():
        batch = DocumentBatch.objects.create(
            document_type=document_type,
            language=language,
            school_class=school_class,
            cohort=cohort,
            college=college,
            major=major,
            output=output,
            requested_by=user,
        )
        batch.job = job_create(
            actor=actor,
            kind=JOB_KIND,
            title=f"批量开具{document_type.name}：{where}（{count} 人）",
            # The file may hold ID numbers (学籍表): the requester's, or the full-ID grant's.
            params={"batch": batch.pk, "output_private": True},
        )
        batch.save(update_fields=["job"])
        audit_record(
            actor=actor,
            action="certificate.batch",
            target=batch,
            summary=f"批量开具{document_type.name}：{where}，{count} 人",
            after={"type": document_type.code, "language": language, "output": output},
        )
    return batch


def _reserve_serials(document_type: DocumentType, year: int, count: int) -> list[str]:
    """`count` consecutive serials, taken in one short transaction."""
    with transaction.atomic():
        SerialCounter.objects.get_or_create(document_type=document_type, year=year)
        counter = SerialCounter.objects.select_for_update().get(
            document_type=document_type, year=year
        )
        first = counter.last + 1
        counter.last = F("last") + count
        counter.save(update_fields=["last"])
    prefix = f"{year}{document_type.code.upper()}"
    return [f"{prefix}{number:06d}" for number in range(first, first + count)]


def _chunks(items: Sequence[Student], size: int) -> Iterator[Sequence[Student]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def run_batch(job: Job, progress: Progress) -> dict[str, Any]:

    batch = DocumentBatch.objects.select_related(
        "document_type", "school_class", "cohort", "college", "major", "requested_by"
    ).get(pk=job.params["batch"])
    actor = Actor(user=batch.requested_by, via="job")
    document_type = batch.document_type
    # The type may have changed since the batch was queued.
    if not (document_type.is_active and document_type.for_staff and document_type.auto_issue):
        raise DomainError(
            f"{document_type.name}已停用、不再允许代为开具或改为需审核，本批次未开具。"
        )
    if batch.job_id != job.pk:  # a re-run: the batch's page and API follow the new job
        DocumentBatch.objects.filter(pk=batch.pk).update(job=job)
    students = list(
        batch_students(
            batch.requested_by,
            school_class=batch.school_class,
            cohort=batch.cohort,
            college=batch.college,
            major=batch.major,
        )
    )
    done_already = set(
        IssuedDocument.objects.filter(batch=batch).values_list("student_id", flat=True)
    )
    term = selectors.current_term()
    progress.phase("检查开具条件", len(students))
    eligible: list[Student] = []
    skipped: list[tuple[Student, str]] = []
    for student in students:
        if student.pk in done_already:
            continue
        failures = check_eligibility(
            Context(student=student, document_type=document_type, term=term, for_self=False)
        )
        if failures:
            skipped.append((student, failures[0].message))
        else:
            eligible.append(student)
        progress.advance()

    progress.phase("生成证明", len(eligible))
    issued = 0
    try:
        with RenderPool(min(render_processes(), max(len(eligible), 1))) as pool:
            # A pipeline: while the render processes work on one chunk, this process fills in the
            # next chunk's templates and stores the chunk before it.
            waiting: tuple[list[IssuedDocument], Iterator[bytes], int] | None = None
            for chunk in _chunks(eligible, CHUNK):
                progress.check_cancel()
                prepared, items = _prepare_chunk(batch, chunk, term, skipped)
                rendering = (prepared, pool.render(items), len(chunk))
                if waiting is not None:
                    issued += _store_chunk(actor, batch, *waiting[:2])
                    progress.advance(waiting[2])
                waiting = rendering
            if waiting is not None:
                issued += _store_chunk(actor, batch, *waiting[:2])
                progress.advance(waiting[2])

    except JobCancelled:
        # Progress checks for a cancel too; whatever raised it, say what was kept.
        raise JobCancelled(
            f"已取消。取消前已开具 {issued} 份，这些证明有效并列在本批次中；"
            "重新运行会为其余学生开具。"
        ) from None
    DocumentBatch.objects.filter(pk=batch.pk).update(skipped=len(skipped))
    progress.phase("打包", 0)
    _write_output(job, batch, skipped)
    return {
        "issued": issued,
        "skipped": len(skipped),
        "skipped_rows": [
            {"student_number": s.student_number, "name": s.name, "reason": reason}
            for s, reason in skipped[:200]
        ],
    }


def _prepare_chunk(
    batch: DocumentBatch,
    chunk: Sequence[Student],
    term,
    skipped: list[tuple[Student, str]],
) -> tuple[list[IssuedDocument], list[tuple[str, str]]]:
    """Serials for the chunk (one short transaction), and each student's filled-in HTML with
    its unsaved row; a student whose text cannot be printed (no glyph) is added to `skipped`."""
    from xueji.certificates import services

    document_type = batch.document_type
    now = timezone.now()
    today = timezone.localdate(now)
    serials = iter(_reserve_serials(document_type, today.year, len(chunk)))
    prepared: list[IssuedDocument] = []
    items: list[tuple[str, str]] = []
    for student in chunk:
        serial, code = next(serials), services._new_code()
        try:
            html = services.document_content(
                document_type, student, batch.language, issued=today, serial=serial, code=code
            )
        except (GlyphMissing, DomainError) as exc:
            skipped.append((student, exc.message))
            continue
        items.append((html, f"{document_type.name} {serial}"))
        prepared.append(
            IssuedDocument(
                document_type=document_type,
                student=student,
                term=term,
                serial=serial,
                verification_code=code,
                language=batch.language,
                requested_by=batch.requested_by,
                issued_at=now,
                batch=batch,
            )
        )
    return prepared, items


def _store_chunk(
    actor: Actor, batch: DocumentBatch, prepared: list[IssuedDocument], contents: Iterator[bytes]
) -> int:
    """Store the chunk's PDFs, rows and audit events in one transaction; on failure remove the
    files written. Returns how many were issued."""
    from xueji.certificates import services

    name = batch.document_type.name
    with services.files_removed_on_error() as stored, transaction.atomic():
        for document, content in zip(prepared, contents, strict=True):
            summary = f"{document.student.student_number} 批量开具{name}（{document.serial}）"
            services._store(actor, document, content, stored, summary)
        DocumentBatch.objects.filter(pk=batch.pk).update(issued=F("issued") + len(prepared))
    return len(prepared)


def _entry_name(text: str) -> str:
    """A name as one path segment of a zip entry: no separators, no leading dots."""
    cleaned = "".join("_" if ch in "/\\:" or ord(ch) < 32 else ch for ch in text)
    return cleaned.lstrip(".") or "_"


def _skipped_csv(skipped: list[tuple[Student, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["学号", "姓名", "班级", "未开具原因"])
    for student, reason in skipped:
        klass = student.school_class.name if student.school_class else ""
        writer.writerow([student.student_number, student.name, klass, reason])
    return out.getvalue().encode("utf-8-sig")  # Excel opens UTF-8 with a BOM as Chinese


def _write_output(job: Job, batch: DocumentBatch, skipped: list[tuple[Student, str]]) -> None:
    documents = (
        IssuedDocument.objects.filter(batch=batch)
        .select_related("student", "student__school_class")
        .order_by("student__school_class__code", "student__student_number")
    )
    name = f"{batch.document_type.name}-批量-{batch.pk}"
    with tempfile.TemporaryFile() as handle:
        if batch.output == BatchOutput.PDF:
            writer = PdfWriter()
            for document in documents.iterator():
                with document.pdf.open("rb") as pdf:
                    writer.append(io.BytesIO(pdf.read()))
            writer.write(handle)
            filename = f"{name}.pdf"
        else:
            with zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED) as archive:
                for document in documents.iterator():
                    klass = document.student.school_class
                    folder = f"{_entry_name(klass.name)}/" if klass else ""
                    entry = (
                        f"{folder}{document.student.student_number}-"
                        f"{_entry_name(document.student.name)}.pdf"
                    )
                    with document.pdf.open("rb") as pdf:
                        archive.writestr(entry, pdf.read())
                if skipped:
                    archive.writestr("未开具名单.csv", _skipped_csv(skipped))
            filename = f"{name}.zip"
        handle.seek(0)
        job.output_file.save(filename, File(handle), save=False)
    Job.objects.filter(pk=job.pk).update(output_file=job.output_file.name)


def _by_id(model, value: str, field: str):
    """The row with primary key `value` (a form's select), None for empty; else ValidationFailed."""
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise ValidationFailed({field: ["请从列表中选择。"]})
    row = model.objects.filter(pk=int(value)).first()
    if row is None:
        raise ValidationFailed({field: ["所选项目不存在，请刷新页面后重新选择。"]})
    return row


def batch_scope_from_ids(*, school_class: str, cohort: str, college: str, major: str) -> dict:
    """The batch's class / cohort / college / major from a form's ids."""
    return {
        "school_class": _by_id(SchoolClass, school_class, "school_class"),
        "cohort": _by_id(Cohort, cohort, "cohort"),
        "college": _by_id(College, college, "college"),
        "major": _by_id(Major, major, "major"),
    }


def batch_choices(user) -> dict[str, Any]:
    """What the batch form offers: issuable types, and the classes, cohorts, colleges and
    majors of the students in the user's scope."""
    students = Student.objects.filter(scope_filter(user, permissions.ISSUING_ROLES))
    return {
        "types": DocumentType.objects.filter(is_active=True, for_staff=True, auto_issue=True),
        "classes": SchoolClass.objects.filter(pk__in=students.values("school_class_id")).order_by(
            "code"
        ),
        "cohorts": Cohort.objects.filter(pk__in=students.values("cohort_id")),
        "colleges": College.objects.filter(pk__in=students.values("college_id")),
        "majors": Major.objects.filter(pk__in=students.values("major_id")).order_by("code"),
        "outputs": BatchOutput.choices,
    }
