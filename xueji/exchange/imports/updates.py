"""Student updates (kind "students_update"): changes to existing master records, keyed by 学号.

Rules, per row:
- the 学号 must belong to a student the importer may edit (registrar: all; college 教务员:
  their college) — otherwise a row error, never a silent skip;
- an empty cell keeps what is stored;
- a CHSI-locked column (姓名, 性别, 出生日期, 证件类型, 证件号码, 专业, 层次, 学习形式, 学制)
  may be filled to confirm the stored value; a different value is an error telling the user to
  go through 信息更正 (the corrections flow), since those changes need their own approval;
- the other columns update the record when they differ; same value → unchanged.
With a 来源系统 chosen on upload, the code columns are first translated through that system's
code mappings (`mappings.translate_codes`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from xueji.accounts.models import User
from xueji.core.context import Actor
from xueji.core.exceptions import DomainError
from xueji.exchange.imports import normalise, permissions, sheet
from xueji.exchange.imports.columns import Column
from xueji.exchange.imports.kinds import ImportKind
from xueji.exchange.imports.mappings import mappings_for, translate_codes
from xueji.exchange.imports.template import code_choices, sheet_template
from xueji.jobs.models import Job
from xueji.jobs.progress import Progress
from xueji.org.models import CodeTable, SchoolClass
from xueji.students.models import Student
from xueji.students.permissions import editable_fields

DRY_RUN = "import.students_update.dry_run"
COMMIT = "import.students_update.commit"
BATCH = 1000
CORRECTION = "是学信网锁定字段，不能通过导入修改；请通过“信息更正”办理"

COLUMNS: tuple[Column, ...] = (
    Column("XH", "学号", "student_number", True, "number",
           "已有学生的学号；按学号找到要更新的学生", max_length=15),
    Column("KSH", "考生号", "candidate_number", False, "number",
           "可不填；填写时须与档案一致（用于核对）", max_length=18),
    Column("XM", "姓名", "name", False, "text",
           "可不填；填写时须与档案一致（学信网锁定字段，修改请走信息更正）", max_length=60),
    Column("XB", "性别", "gender", False, "code",
           "可不填；代码或名称，须与档案一致（锁定字段）", CodeTable.GENDER),
    Column("CSRQ", "出生日期", "birth_date", False, "date",
           "可不填；须与档案一致（锁定字段）"),
    Column("ZJLX", "证件类型", "id_type", False, "code",
           "可不填；须与档案一致（锁定字段）", CodeTable.ID_TYPE),
    Column("ZJHM", "证件号码", "id_number", False, "number",
           "可不填；须与档案一致（锁定字段）", max_length=30),
    Column("ZYDM", "专业代码", "major", False, "number",
           "可不填；国家专业代码，须与档案一致（锁定字段，转专业走学籍异动）", max_length=8),
    Column("CC", "层次", "level", False, "code",
           "可不填；须与档案一致（锁定字段）", CodeTable.EDUCATION_LEVEL),
    Column("XXXS", "学习形式", "study_form", False, "code",
           "可不填；须与档案一致（锁定字段）", CodeTable.STUDY_FORM),
    Column("XZ", "学制", "duration", False, "decimal",
           "可不填；须与档案一致（锁定字段）"),
    Column("ZZMM", "政治面貌", "political_status", False, "code",
           "GB/T 4762 代码（如 01 中共党员、03 共青团员）或名称", CodeTable.POLITICAL_STATUS),
    Column("MZ", "民族", "ethnicity", False, "code", "GB 3304 代码或名称", CodeTable.ETHNICITY),
    Column("SYD", "生源地", "native_region", False, "code",
           "GB/T 2260 行政区划代码（6 位）或名称", CodeTable.REGION, max_length=6),
    Column("XSH", "系所", "department", False, "text", "系或研究所名称", max_length=60),
    Column("BH", "班号", "school_class", False, "number",
           "校内班号，须属于该生的专业与年级", max_length=30),
    Column("SJ", "手机", "phone", False, "number", "电话号码：数字，可带 + 与 -", max_length=20),
    Column("DZYX", "电子邮箱", "email", False, "text", "有效的电子邮箱地址", max_length=254),
    Column("JTDZ", "家庭地址", "address", False, "text", "最长 200 字", max_length=200),
    Column("JJLXR", "紧急联系人", "emergency_contact", False, "text", "最长 60 字",
           max_length=60),
    Column("JJLXDH", "紧急联系电话", "emergency_phone", False, "number",
           "电话号码：数字，可带 + 与 -", max_length=20),
)  # fmt: skip
BY_KEY = {c.key: c for c in COLUMNS}
# Columns checked against the record and never written by this import.
LOCKED = ("XM", "XB", "CSRQ", "ZJLX", "ZJHM", "ZYDM", "CC", "XXXS", "XZ")
# Columns written: key -> Student attribute (school_class by id).
WRITTEN = {
    "ZZMM": "political_status",
    "MZ": "ethnicity",
    "SYD": "native_region",
    "XSH": "department",
    "BH": "school_class_id",
    "SJ": "phone",
    "DZYX": "email",
    "JTDZ": "address",
    "JJLXR": "emergency_contact",
    "JJLXDH": "emergency_phone",
}
CODE_COLUMNS = {c.key: c.table for c in COLUMNS if c.kind == "code" and c.table}
PHONE = re.compile(r"\+?[0-9][0-9-]{2,19}")
RULE = (
    "按学号找到已有学生，只更新填写了且与档案不同的字段；空单元格保持原值。姓名、性别、出生日期、"
    "证件类型、证件号码、专业、层次、学习形式、学制是学信网锁定字段：可填写用于核对，与档案不同"
    "则报错，修改请走“信息更正”。学号不存在或不在您的管理范围内的行报错。先预检，全部无误才能"
    "确认导入；导入要么全部成功，要么不写入任何数据。同一文件重复导入不会再改动任何记录。"
)


def updates_template() -> bytes:
    return sheet_template(
        sheet_name="学生信息更新",
        columns=COLUMNS,
        choices=code_choices(COLUMNS, skip=("SYD",)),
        rule=RULE,
    )


def _locked_value(student: Student, key: str) -> Any:
    if key == "ZYDM":
        return student.major.national_code
    if key == "ZJHM":
        return student.id_number.upper()
    return getattr(student, BY_KEY[key].field)


def _same(key: str, new: Any, old: Any) -> bool:
    if key == "ZJHM":
        return str(new).upper() == old
    if key == "XZ":
        return Decimal(new) == Decimal(old)
    return bool(new == old)


def validate(
    rows: list[list[Any]],
    *,
    user: User,
    system: str = "",
    tick: Callable[[int], None] | None = None,
) -> sheet.SheetPlan:
    """Check every row against the records it names; nothing is written."""
    header, positions, data = sheet.locate(rows, COLUMNS, what="要更新的学生信息")
    plan = sheet.SheetPlan(
        header=header,
        raw=[(n, [normalise.text(c) for c in row]) for n, row in data],
        positions=positions,
    )
    errors: dict[tuple[int, str], sheet.KindRowError] = {}
    untranslated: dict[int, dict[str, sheet.KindRowError]] = {}
    if system:
        data = [(n, list(row)) for n, row in data]
        mapping = mappings_for(system, list(CODE_COLUMNS.values()))
        labels = {k: BY_KEY[k].label for k in CODE_COLUMNS}
        for error in translate_codes(
            data, positions, CODE_COLUMNS, mapping, system=system, labels=labels
        ):
            untranslated.setdefault(error.row, {})[error.column] = error
    codes = sheet.Codes(CODE_COLUMNS.values())
    parsed: list[tuple[int, dict[str, Any]]] = []
    for count, (number, row) in enumerate(data, start=1):
        row_errors = dict(untranslated.get(number, {}))
        parser = sheet.RowParser(number, row, positions, row_errors)
        values = parser.parse(COLUMNS, codes)
        _check_formats(values, parser)
        errors.update({(number, key): e for key, e in row_errors.items()})
        parsed.append((number, values))
        if tick and count % sheet.TICK == 0:
            tick(sheet.TICK)
    if tick:
        tick(len(data) % sheet.TICK)
    sheet.check_unique(
        parsed, lambda v: v["XH"], BY_KEY["XH"], errors, shown=lambda v: v["XH"] or ""
    )
    _plan_against_database(plan, parsed, user, errors)
    plan.errors = sheet.sort_errors(errors.values(), COLUMNS)
    return plan


def _check_formats(values: dict[str, Any], parser: sheet.RowParser) -> None:
    for key in ("XH", "KSH"):
        if values[key] and not values[key].isalnum():
            parser.fail(BY_KEY[key], f"{BY_KEY[key].label}只能包含字母和数字")
            values[key] = None
    for key in ("SJ", "JJLXDH"):
        if values[key] and not PHONE.fullmatch(values[key]):
            parser.fail(BY_KEY[key], f"{BY_KEY[key].label}“{values[key]}”不是有效的电话号码")
            values[key] = None
    if values["DZYX"]:
        try:
            validate_email(values["DZYX"])
        except ValidationError:
            parser.fail(BY_KEY["DZYX"], f"电子邮箱“{values['DZYX']}”格式不正确")
            values["DZYX"] = None


def _plan_against_database(
    plan: sheet.SheetPlan,
    parsed: list[tuple[int, dict[str, Any]]],
    user: User,
    errors: dict[tuple[int, str], sheet.KindRowError],
) -> None:
    """One query for the students, one for the classes; then each row is an update,
    unchanged, or an error."""
    numbers = {v["XH"] for _, v in parsed if v["XH"]}
    students = {
        s.student_number: s
        for s in Student.objects.filter(student_number__in=numbers).select_related("major")
    }
    classes = {
        k.code: k
        for k in SchoolClass.objects.filter(code__in={v["BH"] for _, v in parsed if v["BH"]})
    }

    bad_rows = {row for row, _ in errors}

    def fail(number: int, key: str, value: Any, reason: str) -> None:
        shown = "" if value is None else normalise.text(value)
        errors.setdefault(
            (number, key), sheet.KindRowError(number, key, shown, reason, BY_KEY[key].label)
        )
        bad_rows.add(number)

    for number, values in parsed:
        if (number, "XH") in errors:
            continue
        student = students.get(values["XH"])
        allowed = editable_fields(user, student) if student is not None else frozenset()
        if student is None or not allowed:
            # Out of scope reads as unknown: whether the number exists elsewhere is not told.
            fail(number, "XH", values["XH"], f"学号“{values['XH']}”不存在或不在您的管理范围内")
            continue
        if values["KSH"] and values["KSH"] != student.candidate_number:
            fail(
                number, "KSH", values["KSH"], f"考生号与学号“{student.student_number}”的档案不一致"
            )
        for key in LOCKED:
            new = values[key]
            if new is None or (number, key) in errors:
                continue
            if not _same(key, new, _locked_value(student, key)):
                fail(number, key, new, f"{BY_KEY[key].label}与档案不一致：{CORRECTION}")
        changes: dict[str, Any] = {}
        for key, attribute in WRITTEN.items():
            new = values[key]
            if new is None or (number, key) in errors:
                continue
            if key == "BH":
                klass = classes.get(new)
                if klass is None:
                    fail(number, key, new, f"班号“{new}”不存在")
                    continue
                if klass.major_id != student.major_id or klass.cohort_id != student.cohort_id:
                    fail(number, key, new, f"班级“{klass.name}”不属于该生的专业与年级")
                    continue
                new = klass.pk
            if getattr(student, attribute) == new:
                continue
            field = attribute.removesuffix("_id")
            if field not in allowed:
                fail(number, key, values[key], f"您无权修改该学生的{BY_KEY[key].label}")
                continue
            changes[attribute] = new
        if number in bad_rows:
            continue
        if changes:
            plan.updates.append((student, changes))
        else:
            plan.unchanged += 1


def _load(job: Job, progress: Progress) -> tuple[sheet.SheetPlan, str, User]:
    system = job.params.get("system", "")
    return sheet.load_sheet(
        job,
        progress,
        may_run=permissions.can_import_freshmen,
        refusal=KIND.refusal,
        check=lambda rows, user, tick: validate(rows, user=user, system=system, tick=tick),
    )


def run_dry_run(job: Job, progress: Progress) -> dict[str, Any]:
    plan, digest, _ = _load(job, progress)
    return sheet.dry_run_result(job, plan, digest)


def run_commit(job: Job, progress: Progress) -> dict[str, Any]:
    plan, digest, user = _load(job, progress)
    sheet.refuse_if_errors(job, plan)
    progress.phase("写入", len(plan.updates))
    actor = Actor(user=user, via=job.params.get("via", "job"))
    now = timezone.now()
    updated: list[Student] = []
    fields: set[str] = set()
    try:
        with transaction.atomic():
            # Re-read and lock the rows: a field the file does not change keeps what someone
            # may have saved since the check, in the record and in its history row.
            fresh = Student.objects.select_for_update().in_bulk(
                [student.pk for student, _ in plan.updates]
            )
            for student, changes in plan.updates:
                current = fresh[student.pk]
                for attribute, value in changes.items():
                    setattr(current, attribute, value)
                    fields.add(attribute.removesuffix("_id"))
                current.updated_at = now
                updated.append(current)
            if updated:
                Student.objects.bulk_update(
                    updated, sorted(fields | {"updated_at"}), batch_size=BATCH
                )
                Student.history.bulk_history_create(  # type: ignore[attr-defined]
                    updated,
                    batch_size=BATCH,
                    update=True,
                    default_user=user,
                    default_change_reason="学生信息更新导入",
                    default_date=now,
                )
            sheet.audit_import(
                actor=actor,
                job=job,
                kind="students_update",
                title="学生信息更新导入",
                outcome=f"更新 {len(updated)} 人，未变 {plan.unchanged} 人",
                digest=digest,
                counts={"system": job.params.get("system", ""), "rows": plan.rows,
                        "updated": len(updated), "unchanged": plan.unchanged,
                        "fields": sorted(fields)},
            )  # fmt: skip
    except IntegrityError as exc:
        raise DomainError("写入时与其他数据冲突，未导入任何数据；请重新预检。") from exc
    progress.advance(len(updated))
    return {**plan.counts(), "sha256": digest, "created": 0, "updated": len(updated)}


KIND = ImportKind(
    key="students_update",
    title=gettext_noop("学生信息更新"),
    may_run=permissions.can_import_freshmen,
    refusal=gettext_noop("只有校级学籍管理员和学院教务员可以导入学生信息更新。"),
    template=updates_template,
    template_name="students-update-template.xlsx",
    dry_run_kind=DRY_RUN,
    commit_kind=COMMIT,
    columns=COLUMNS,
    summary=gettext_noop(
        "按学号更新已有学生的联系方式、政治面貌、班级等；学信网锁定字段只核对不修改。"
    ),
    file_label=gettext_noop("学生信息更新文件"),
    accepts_system=True,
    order=20,
)
