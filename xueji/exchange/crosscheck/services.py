"""Loading admission data, comparing it with the registered students, settling differences.

Matching: an admission record is matched to a student by 考生号; when no student has that
考生号, by 证件号码 (the 考生号 itself is then reported as a difference). Compared fields:
姓名, 证件号码, 性别, 出生日期, 专业代码 (the national code of the student's major), 层次, 学制
and whether a photo is present. A field left blank in the admission data is not compared
(there is nothing to compare with). Students of the batch's year (年级) that no record matched
are "registered but not admitted"; records that matched no student are "admitted, never
registered".
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from xueji.audit.services import audit_record
from xueji.core.context import Actor
from xueji.core.exceptions import DomainError, PermissionDenied, ValidationFailed
from xueji.exchange.crosscheck import permissions
from xueji.exchange.models import (
    AdmissionBatch,
    AdmissionRecord,
    Discrepancy,
    DiscrepancyKind,
    DiscrepancyStatus,
)
from xueji.jobs.models import Job
from xueji.org.models import Major
from xueji.students.models import Student

JOB_KIND = "crosscheck.run"

# Column headings accepted in admission files (CHSI / 录取库 names and plain ones) → our keys.
HEADINGS: dict[str, str] = {
    "考生号": "candidate_number",
    "ksh": "candidate_number",
    "姓名": "name",
    "xm": "name",
    "证件号码": "id_number",
    "身份证号": "id_number",
    "sfzh": "id_number",
    "性别": "gender",
    "xb": "gender",
    "出生日期": "birth_date",
    "csrq": "birth_date",
    "专业代码": "major_code",
    "录取专业代码": "major_code",
    "zydm": "major_code",
    "专业名称": "major_name",
    "录取专业": "major_name",
    "zymc": "major_name",
    "层次": "level",
    "cc": "level",
    "学制": "duration",
    "xz": "duration",
    "照片": "photo_present",
    "有照片": "photo_present",
    "zp": "photo_present",
}
KEYS = frozenset(HEADINGS.values())

# Field key → label shown in the queue, in the order they are compared.
FIELD_LABELS: dict[str, str] = {
    "candidate_number": "考生号",
    "name": "姓名",
    "id_number": "证件号码",
    "gender": "性别",
    "birth_date": "出生日期",
    "major": "专业代码",
    "level": "层次",
    "duration": "学制",
    "photo": "照片",
}

_COLUMN_LABELS = {**FIELD_LABELS, "photo_present": "照片"}
_GENDERS = {"1": "1", "2": "2", "男": "1", "女": "2", "9": "9", "0": "0"}
_YES = {"1", "是", "有", "y", "yes", "true", "t"}
_NO = {"", "0", "否", "无", "n", "no", "false", "f"}
_EXCEL_EPOCH = date(1899, 12, 30)


def clean_text(value: Any) -> str:
    """Half-width, no stray spaces (full-width digits and spaces from Excel are common)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "".join(unicodedata.normalize("NFKC", str(value)).split())


def _date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float):  # an Excel serial date
        return _EXCEL_EPOCH + timedelta(days=int(value))
    text = clean_text(value).replace("/", "-").replace(".", "-")
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError


def _duration(value: Any) -> Decimal | None:
    text = clean_text(value).removesuffix("年")
    if not text:
        return None
    number = Decimal(text)
    if not Decimal("0.5") <= number <= Decimal("10"):
        raise InvalidOperation
    return number


def show_decimal(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}"


@dataclass(frozen=True)
class RowProblem:
    """One bad cell of an admission file: its row number in the file, the column, the value
    as given and why it is refused."""

    row: int
    column: str
    value: str
    reason: str


class AdmissionRowsInvalid(ValidationFailed):
    """The admission rows were refused. `errors` is {column: ["第 N 行：why", ...]} as for any
    ValidationFailed; `problems` lists the same one cell at a time (for the API)."""

    def __init__(self, problems: list[RowProblem]) -> None:
        errors: dict[str, list[str]] = {}
        for problem in problems:
            errors.setdefault(problem.column, []).append(f"第 {problem.row} 行：{problem.reason}")
        super().__init__(errors)
        self.problems = problems


def _record_from(row: Mapping[str, Any], number: int, problems: list[RowProblem]) -> Any:
    """One AdmissionRecord from a row keyed by our keys or by the file's headings."""
    values = {HEADINGS.get(clean_text(k).lower(), k): v for k, v in row.items()}

    def fail(key: str, message: str) -> None:
        given = values.get(key)
        problems.append(
            RowProblem(number, _COLUMN_LABELS[key], "" if given is None else str(given), message)
        )

    candidate = clean_text(values.get("candidate_number"))
    name = clean_text(values.get("name"))
    if not candidate:
        fail("candidate_number", "考生号不能为空")
    elif len(candidate) > 18:
        fail("candidate_number", f"考生号“{candidate}”超过 18 位")
    if not name:
        fail("name", "姓名不能为空")
    gender_text = clean_text(values.get("gender"))
    gender = _GENDERS.get(gender_text) if gender_text else ""
    if gender is None:
        fail("gender", f"性别“{gender_text}”应为 1/2 或 男/女")
    try:
        birth = _date(values.get("birth_date"))
    except (ValueError, OverflowError):
        birth = None
        fail("birth_date", f"出生日期“{values.get('birth_date')}”不是有效日期（应为 YYYY-MM-DD）")
    try:
        duration = _duration(values.get("duration"))
    except InvalidOperation:
        duration = None
        fail("duration", f"学制“{values.get('duration')}”应为 0.5–10 之间的年数")
    photo_text = clean_text(values.get("photo_present")).lower()
    if photo_text not in _YES | _NO:
        fail("photo_present", f"照片一栏“{photo_text}”应为 是/否")
    return AdmissionRecord(
        row=number,
        candidate_number=candidate[:18],
        name=name[:60],
        id_number=clean_text(values.get("id_number")).upper()[:30],
        gender=gender or "",
        birth_date=birth,
        major_code=clean_text(values.get("major_code"))[:8],
        major_name=clean_text(values.get("major_name"))[:100],
        level=clean_text(values.get("level"))[:10],
        duration=duration,
        photo_present=photo_text in _YES,
    )


def admission_batch_load(
    *,
    actor: Actor,
    name: str,
    year: int,
    rows: Iterable[Mapping[str, Any]],
    source_name: str = "",
    first_row: int = 2,
) -> AdmissionBatch:
    """Store an admission data set from `rows` (dicts keyed by our keys or by the headings of
    the admission file; `first_row` is the file row number of the first dict, for messages).

    Raises PermissionDenied (not the registrar) and AdmissionRowsInvalid (a ValidationFailed)
    listing every bad cell (row number, column, value, why); then nothing is stored. One audit
    event.
    """
    if actor.user is None or not permissions.can_load(actor.user):
        raise PermissionDenied("只有校级学籍管理员可以导入录取数据。")
    name = name.strip()
    if not name:
        raise DomainError("请填写批次名称。", field="name")
    if not 2000 <= year <= 2100:
        raise DomainError("录取年份应为四位年份，如 2024。", field="year")
    problems: list[RowProblem] = []
    records: list[AdmissionRecord] = []
    seen: dict[str, int] = {}
    for offset, row in enumerate(rows):
        number = int(row.get("_row") or first_row + offset)
        record = _record_from(row, number, problems)
        if record.candidate_number in seen:
            problems.append(
                RowProblem(
                    number,
                    "考生号",
                    record.candidate_number,
                    f"考生号“{record.candidate_number}”与第 {seen[record.candidate_number]} 行重复",
                )
            )
        seen.setdefault(record.candidate_number, number)
        records.append(record)
    if not records and not problems:
        raise DomainError("文件中没有录取记录。", field="file")
    if problems:
        raise AdmissionRowsInvalid(problems)
    with transaction.atomic():
        batch = AdmissionBatch.objects.create(
            name=name[:120],
            year=year,
            source_name=source_name[:200],
            record_count=len(records),
            loaded_by=actor.user,
        )
        for record in records:
            record.batch = batch
        AdmissionRecord.objects.bulk_create(records, batch_size=1000)
        audit_record(
            actor=actor,
            action="crosscheck.batch_load",
            target=batch,
            summary=f"导入录取数据“{batch.name}”：{len(records)} 条",
            after={"year": year, "records": len(records), "source": source_name},
        )
    return batch


def crosscheck_start(*, actor: Actor, batch: AdmissionBatch) -> Job:
    """Queue the comparison of `batch` as a job (runs after commit). Registrar only."""
    from xueji.jobs.services import job_create

    if actor.user is None or not permissions.can_load(actor.user):
        raise PermissionDenied("只有校级学籍管理员可以运行比对。")
    return job_create(
        actor=actor,
        kind=JOB_KIND,
        title=f"录取与学籍比对：{batch.name}",
        params={"batch": batch.pk},
    )


@dataclass(frozen=True)
class Found:
    """One difference found by a comparison, before it is written to the queue."""

    kind: str
    candidate_number: str
    field: str = ""
    name: str = ""
    admission_value: str = ""
    record_value: str = ""
    record_id: int | None = None
    student_id: int | None = None
    college_id: int | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.candidate_number, self.field)


def _student_values(student: Student) -> dict[str, str]:
    return {
        "candidate_number": student.candidate_number,
        "name": student.name,
        "id_number": student.id_number.upper(),
        "gender": student.gender,
        "birth_date": student.birth_date.isoformat(),
        "major": student.major.national_code,
        "level": student.level,
        "duration": show_decimal(student.duration),
        "photo": "有" if student.photo else "无",
    }


def _record_values(record: AdmissionRecord) -> dict[str, str]:
    return {
        "candidate_number": record.candidate_number,
        "name": record.name,
        "id_number": record.id_number,
        "gender": record.gender,
        "birth_date": record.birth_date.isoformat() if record.birth_date else "",
        "major": record.major_code,
        "level": record.level,
        "duration": show_decimal(record.duration),
        "photo": "有" if record.photo_present else "无",
    }


def _chunks(items: list[str], size: int = 500) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def crosscheck_compare(
    batch: AdmissionBatch,
    *,
    advance: Callable[[int], None] = lambda n: None,
    phase: Callable[[str, int], None] = lambda name, total: None,
) -> list[Found]:
    """Every difference between `batch` and the registered students. Reads only."""
    records = list(batch.records.order_by("row", "pk"))
    students = Student.objects.select_related("major").only(
        *("candidate_number", "name", "id_number", "gender", "birth_date", "level"),
        *("duration", "photo", "college_id", "major__national_code", "cohort_id"),
    )
    phase("查找对应学生", len(records))
    by_candidate: dict[str, Student] = {}
    for chunk in _chunks([r.candidate_number for r in records]):
        by_candidate.update(
            {s.candidate_number: s for s in students.filter(candidate_number__in=chunk)}
        )
        advance(len(chunk) // 2)
    unmatched_ids = [
        r.id_number for r in records if r.candidate_number not in by_candidate and r.id_number
    ]
    by_id: dict[str, Student] = {}
    for chunk in _chunks(unmatched_ids):
        by_id.update({s.id_number.upper(): s for s in students.filter(id_number__in=chunk)})
    colleges_by_major = dict(
        Major.objects.filter(national_code__in={r.major_code for r in records if r.major_code})
        .order_by("-pk")
        .values_list("national_code", "college_id")
    )
    phase("逐字段比对", len(records))
    found: list[Found] = []
    matched: set[int] = set()
    for record in records:
        student = by_candidate.get(record.candidate_number) or by_id.get(record.id_number)
        if student is None or student.pk in matched:
            found.append(
                Found(
                    kind=DiscrepancyKind.NOT_REGISTERED,
                    candidate_number=record.candidate_number,
                    name=record.name,
                    admission_value=" ".join(
                        v for v in (record.name, record.major_code, record.major_name) if v
                    ),
                    record_id=record.pk,
                    college_id=colleges_by_major.get(record.major_code),
                )
            )
            advance(1)
            continue
        matched.add(student.pk)
        theirs, ours = _record_values(record), _student_values(student)
        for field in FIELD_LABELS:
            if field != "photo" and not theirs[field]:
                continue  # not given in the admission data: nothing to compare
            if theirs[field] != ours[field]:
                found.append(
                    Found(
                        kind=DiscrepancyKind.FIELD,
                        candidate_number=record.candidate_number,
                        field=field,
                        name=record.name,
                        admission_value=theirs[field],
                        record_value=ours[field],
                        record_id=record.pk,
                        student_id=student.pk,
                        college_id=student.college_id,
                    )
                )
        advance(1)
    phase("查找不在录取名单的学生", 0)
    extra = students.filter(cohort__year=batch.year).exclude(pk__in=matched).order_by("pk")
    for student in extra.iterator(chunk_size=1000):
        if student.pk in matched:
            continue
        found.append(
            Found(
                kind=DiscrepancyKind.NOT_ADMITTED,
                candidate_number=student.candidate_number,
                name=student.name,
                record_value=f"{student.student_number} {student.name}",
                student_id=student.pk,
                college_id=student.college_id,
            )
        )
    return found


def crosscheck_apply(*, actor: Actor, batch: AdmissionBatch, found: list[Found]) -> dict[str, int]:
    """Write a comparison's result to the queue in one transaction, keyed so that a re-run
    updates rather than duplicates: a new difference is opened; one still found keeps its
    state unless its values changed or it was marked corrected (then it is reopened); an open
    one no longer found is closed as corrected by the system. One audit event."""
    now = timezone.now()
    counts = {"found": len(found), "new": 0, "reopened": 0, "closed": 0}
    with transaction.atomic():
        existing = {
            (d.kind, d.candidate_number, d.field): d
            for d in Discrepancy.objects.select_for_update().filter(batch=batch)
        }
        create: list[Discrepancy] = []
        update: list[Discrepancy] = []
        for item in found:
            values = {
                "name": item.name[:60],
                "admission_value": item.admission_value[:200],
                "record_value": item.record_value[:200],
                "record_id": item.record_id,
                "student_id": item.student_id,
                "college_id": item.college_id,
                "last_seen_at": now,
            }
            row = existing.pop(item.key, None)
            if row is None:
                create.append(
                    Discrepancy(
                        batch=batch,
                        kind=item.kind,
                        candidate_number=item.candidate_number,
                        field=item.field,
                        found_at=now,
                        **values,
                    )
                )
                counts["new"] += 1
                continue
            changed = (row.admission_value, row.record_value) != (
                values["admission_value"],
                values["record_value"],
            )
            if row.status == DiscrepancyStatus.RESOLVED or (
                row.status == DiscrepancyStatus.ACCEPTED and changed
            ):
                row.status = DiscrepancyStatus.OPEN
                row.resolution_note = f"复核时仍不一致，重新打开（原说明：{row.resolution_note}）"[
                    :400
                ]
                row.resolved_by, row.resolved_at = None, None
                counts["reopened"] += 1
            for name, value in values.items():
                setattr(row, name, value)
            update.append(row)
        for row in existing.values():
            if row.status == DiscrepancyStatus.OPEN:
                row.status = DiscrepancyStatus.RESOLVED
                row.resolved_by, row.resolved_at = None, now
                row.resolution_note = "复核时已一致（系统自动关闭）"
                update.append(row)
                counts["closed"] += 1
        Discrepancy.objects.bulk_create(create, batch_size=1000)
        Discrepancy.objects.bulk_update(
            update,
            [
                *("name", "admission_value", "record_value", "record_id", "student_id"),
                *("college_id", "last_seen_at", "status", "resolution_note", "resolved_by"),
                "resolved_at",
            ],
            batch_size=1000,
        )
        AdmissionBatch.objects.filter(pk=batch.pk).update(checked_at=now)
        audit_record(
            actor=actor,
            action="crosscheck.run",
            target=batch,
            summary=f"录取与学籍比对“{batch.name}”：发现 {counts['found']} 处差异，"
            f"新增 {counts['new']}，重新打开 {counts['reopened']}，自动关闭 {counts['closed']}",
            after=counts,
        )
    return counts


def discrepancy_resolve(
    *, actor: Actor, discrepancy: Discrepancy, status: str, note: str
) -> Discrepancy:
    """Settle one difference: `resolved` (the record or the admission data was corrected) or
    `accepted` (the difference is legitimate, e.g. 转专业 after admission). A note is required.
    Raises PermissionDenied outside the resolver's college, DomainError for a bad status or a
    missing note. Audited with before/after."""
    user = actor.user
    if user is None or not permissions.can_resolve(user, discrepancy):
        raise PermissionDenied("只有校级学籍管理员或该学院的教务员可以处理此差异。")
    if status not in (DiscrepancyStatus.RESOLVED, DiscrepancyStatus.ACCEPTED):
        raise DomainError("处理结果应为“已更正”或“确认无误”。", field="status")
    note = note.strip()
    if not note:
        raise DomainError("请写明如何处理（更正了什么，或为何确认无误）。", field="note")
    with transaction.atomic():
        row = Discrepancy.objects.select_for_update().get(pk=discrepancy.pk)
        before = {"status": row.status, "note": row.resolution_note}
        row.status = status
        row.resolution_note = note[:400]
        row.resolved_by = user
        row.resolved_at = timezone.now()
        row.save(update_fields=["status", "resolution_note", "resolved_by", "resolved_at"])
        label = FIELD_LABELS.get(row.field, row.get_kind_display())
        audit_record(
            actor=actor,
            action="crosscheck.discrepancy_resolve",
            target=row,
            summary=f"处理比对差异：{row.candidate_number} {label} → {row.get_status_display()}",
            before=before,
            after={"status": status, "note": row.resolution_note},
        )
    return row
