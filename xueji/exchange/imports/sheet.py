"""What every import kind other than the freshman one shares: finding the header for a set of
`Column`s, reading the data rows as normalised text, parsing cells by kind (text, number,
code, date, decimal) with a Chinese reason per bad cell, the plan with its counts, and the
job plumbing (read the input, hash it, save the error report, preview the errors).

The freshman import keeps its own tuned path (validate.py/runner.py); the error report and the
template builder are the same for all kinds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile

from xueji.accounts.models import User
from xueji.audit.services import audit_record
from xueji.core.context import Actor
from xueji.core.exceptions import DomainError
from xueji.core.masking import mask_id_number
from xueji.exchange.imports import normalise
from xueji.exchange.imports.columns import Column
from xueji.exchange.imports.reader import read_sheet
from xueji.jobs.models import Job
from xueji.jobs.progress import Progress
from xueji.org.models import CodeTable
from xueji.org.selectors import code_names

TICK = 500


@dataclass(frozen=True)
class KindRowError:
    """One bad cell (or row, column ""): the row as the user sees it (header = row 1)."""

    row: int
    column: str
    value: str
    reason: str
    label: str = ""


@dataclass
class SheetPlan:
    """The outcome of a dry run: what would be written, and every error.

    `new` and `updates` hold whatever the kind's commit needs; `counts()` has the keys the
    import pages and the API show for every kind."""

    header: list[str]
    raw: list[tuple[int, list[str]]]  # (row number, cell texts) for the error report
    positions: dict[str, int]
    new: list[Any] = field(default_factory=list)
    updates: list[Any] = field(default_factory=list)
    unchanged: int = 0
    errors: list[KindRowError] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.raw)

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "new": len(self.new),
            "unchanged": self.unchanged,
            "update": len(self.updates),
            "errors": len(self.errors),
            "error_rows": len({e.row for e in self.errors}),
        }


def header_key(text: str, columns: Sequence[Column]) -> str | None:
    """Which column a header cell names: the Chinese label, the key, or both, in any case."""
    cleaned = "".join(str(text).split()).upper()
    for ch in "()（）[]【】:：-_/":
        cleaned = cleaned.replace(ch, "")
    for column in columns:
        if cleaned in {
            column.key,
            column.label,
            column.key + column.label,
            column.label + column.key,
        }:
            return column.key
    return None


def locate(
    rows: list[list[Any]], columns: Sequence[Column], *, what: str
) -> tuple[list[str], dict[str, int], list[tuple[int, list[Any]]]]:
    """The header (first non-empty row), where each known column is, and the non-empty data
    rows with their sheet row numbers. Raises DomainError when the file as a whole is unusable
    (empty, a required column missing, a column twice, no data rows)."""
    found = next(
        (i for i, row in enumerate(rows) if any(normalise.text(cell) for cell in row)), None
    )
    if found is None:
        raise DomainError("文件是空的：没有表头和数据行。", field="file")
    header = [normalise.text(cell) for cell in rows[found]]
    positions: dict[str, int] = {}
    labels = {c.key: c.label for c in columns}
    for position, cell in enumerate(header):
        key = header_key(cell, columns)
        if key is None:
            continue
        if key in positions:
            raise DomainError(f"表头中“{labels[key]}”出现了两次。", field="file")
        positions[key] = position
    missing = [c.label for c in columns if c.required and c.key not in positions]
    if missing:
        raise DomainError(
            "表头缺少必填列：" + "、".join(missing) + "。请使用下载的模板。", field="file"
        )
    data = [
        (number, row)
        for number, row in enumerate(rows[found + 1 :], start=found + 2)
        if any(normalise.text(cell) for cell in row)
    ]
    if not data:
        raise DomainError(f"文件中没有数据行：请在表头下方逐行填写{what}后再上传。", field="file")
    return header, positions, data


def raw_cell(row: Sequence[Any], positions: dict[str, int], key: str) -> Any:
    position = positions.get(key)
    return row[position] if position is not None and position < len(row) else None


class Codes:
    """Code tables in memory: a cell may hold the code or its name ("1" or "男")."""

    def __init__(self, tables: Iterable[str]) -> None:
        self.names = {table: code_names(table) for table in set(tables)}
        self.by_name = {t: {n: c for c, n in names.items()} for t, names in self.names.items()}

    def resolve(self, table: str, value: str) -> str | None:
        if value in self.names[table]:
            return value
        return self.by_name[table].get(value)


class RowParser:
    """Parses one row's cells by column kind into `values`, recording at most one error per
    column in `errors` (key -> KindRowError). Empty optional cells become None."""

    def __init__(
        self,
        number: int,
        row: Sequence[Any],
        positions: dict[str, int],
        errors: dict[str, KindRowError],
    ) -> None:
        self.number, self.row, self.positions, self.errors = number, row, positions, errors

    def shown(self, key: str) -> str:
        return normalise.text(raw_cell(self.row, self.positions, key))

    def fail(self, column: Column, reason: str, value: str | None = None) -> None:
        if column.key not in self.errors:
            shown = self.shown(column.key) if value is None else value
            self.errors[column.key] = KindRowError(
                self.number, column.key, shown, reason, column.label
            )

    def parse(self, columns: Sequence[Column], codes: Codes | None = None) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for column in columns:
            values[column.key] = self.cell(column, codes)
        return values

    def cell(self, column: Column, codes: Codes | None) -> Any:
        raw = raw_cell(self.row, self.positions, column.key)
        text = normalise.compact(raw) if column.kind in ("number", "code") else normalise.text(raw)
        if not text:
            if column.required:
                self.fail(column, f"{column.label}为必填项")
            return None
        if column.max_length and len(text) > column.max_length:
            self.fail(column, f"{column.label}最长 {column.max_length} 位，实为 {len(text)} 位")
            return None
        if column.kind == "date":
            parsed: date | None = normalise.parse_date(raw)
            if parsed is None:
                self.fail(
                    column, f"{column.label}“{text}”不是有效日期，应为 YYYYMMDD 或 YYYY-MM-DD"
                )
            return parsed
        if column.kind == "decimal":
            amount: Decimal | None = normalise.parse_decimal(raw)
            if amount is None:
                self.fail(column, f"{column.label}“{text}”应为数字")
            return amount
        if column.kind == "code" and column.table and codes is not None:
            code = codes.resolve(column.table, text)
            if code is None:
                label = CodeTable(column.table).label
                self.fail(column, f"{column.label}“{text}”不是{label}中的代码或名称")
            return code
        return text


def check_unique(
    parsed: Sequence[tuple[int, dict[str, Any]]],
    key_of: Callable[[dict[str, Any]], Any],
    column: Column,
    errors: dict[tuple[int, str], KindRowError],
    *,
    shown: Callable[[dict[str, Any]], str] | None = None,
    what: str = "",
) -> None:
    """A value (or tuple of values) may occur once per file; later rows get the error."""
    seen: dict[Any, int] = {}
    for number, values in parsed:
        token = key_of(values)
        if token is None or (number, column.key) in errors:
            continue
        first = seen.setdefault(token, number)
        if first != number:
            value = shown(values) if shown else str(token)
            reason = f"{what or column.label}与第 {first} 行重复"
            errors[(number, column.key)] = KindRowError(
                number, column.key, value, reason, column.label
            )


def sort_errors(errors: Iterable[KindRowError], columns: Sequence[Column]) -> list[KindRowError]:
    order = {c.key: i for i, c in enumerate(columns)}
    return sorted(errors, key=lambda e: (e.row, order.get(e.column, -1)))


# --- job plumbing ---------------------------------------------------------------------------


def job_input(job: Job) -> tuple[bytes, str, str]:
    """The uploaded bytes, their SHA-256 and the file name the user gave."""
    with job.input_file.open("rb") as handle:
        data = handle.read()
    return data, hashlib.sha256(data).hexdigest(), job.params.get("filename") or job.input_file.name


def load_sheet(
    job: Job,
    progress: Progress,
    *,
    may_run: Callable[[User], bool],
    refusal: str,
    check: Callable[[list[list[Any]], User, Callable[[int], None]], Any],
) -> tuple[Any, str, User]:
    """The first half of a sheet import's dry run and commit: re-check who started it, read
    the uploaded sheet and check it with `check(rows, user, tick)`. Returns (plan, the file's
    SHA-256, the user)."""
    user = job.created_by
    if user is None or not may_run(user):
        raise DomainError(refusal)
    progress.phase("读取", 1)
    data, digest, filename = job_input(job)
    rows = read_sheet(data, filename)
    progress.advance()
    progress.phase("校验", max(len(rows) - 1, 0))
    plan = check(rows, user, progress.advance)
    progress.check_cancel()
    return plan, digest, user


def audit_import(
    *,
    actor: Actor,
    job: Job,
    kind: str,
    title: str,
    outcome: str,
    digest: str,
    counts: dict[str, Any],
) -> None:
    """The one audit event of a committed import: `import.<kind>`, summary
    "<title> <file>：<outcome>", with the file, its SHA-256 and the counts."""
    filename = job.params.get("filename", "")
    audit_record(
        actor=actor,
        action=f"import.{kind}",
        target=job,
        summary=f"{title} {filename}：{outcome}",
        after={"file": filename, "sha256": digest, **counts},
    )


def save_error_report(job: Job, plan: Any) -> None:
    from xueji.exchange.imports.errors_report import error_report

    stem = (job.params.get("filename") or "import").rsplit(".", 1)[0]
    job.output_file.save(f"{stem}-错误报告.xlsx", ContentFile(error_report(plan)), save=False)
    Job.objects.filter(pk=job.pk).update(output_file=job.output_file.name)


# Columns whose values are ID numbers: masked in the preview kept on the job (every registrar
# sees every job); the uploader's own error report file keeps them as uploaded.
ID_COLUMNS = frozenset({"ZJHM"})


def preview(plan: Any, limit: int = 50) -> list[dict[str, Any]]:
    return [
        {
            "row": e.row,
            "column": e.label,
            "value": mask_id_number(e.value) if e.column in ID_COLUMNS else e.value,
            "reason": e.reason,
        }
        for e in plan.errors[:limit]
    ]


def dry_run_result(job: Job, plan: Any, digest: str) -> dict[str, Any]:
    if plan.errors:
        save_error_report(job, plan)
    return {**plan.counts(), "sha256": digest, "errors_preview": preview(plan)}


def refuse_if_errors(job: Job, plan: Any) -> None:
    """The commit checks again; one bad row and nothing is written (with the report)."""
    if plan.errors:
        save_error_report(job, plan)
        raise DomainError(
            f"文件中有 {plan.counts()['error_rows']} 行存在错误，未导入任何数据；"
            "请下载错误报告修正后重新上传。"
        )
