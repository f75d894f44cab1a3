"""Code mappings from other campus systems (kind "code_mappings"), and `translate_codes`, which
turns a sheet's external codes into ours through them.

A mapping row says: in source system S, code table T, the external code E (named N there) is
our code C. The import upserts by (S, T, E): new → created, same C and N → unchanged,
different → updated (the file wins; the earlier value stays in the record's history).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableSequence, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from xueji.accounts.models import User
from xueji.core.context import Actor
from xueji.exchange.imports import normalise, sheet
from xueji.exchange.imports.columns import Column
from xueji.exchange.imports.kinds import ImportKind
from xueji.exchange.imports.template import sheet_template
from xueji.jobs.models import Job
from xueji.jobs.progress import Progress
from xueji.org.models import CodeMapping, CodeTable
from xueji.org.permissions import can_manage_org
from xueji.org.selectors import code_mapping_for

DRY_RUN = "import.code_mappings.dry_run"
COMMIT = "import.code_mappings.commit"

COLUMNS: tuple[Column, ...] = (
    Column("LYXT", "来源系统", "system", True, "text",
           "对方系统的名称，如“招生系统”“财务系统”，最长 40 字；导入其他数据时按此名称选用映射",
           max_length=40),
    Column("DMB", "代码表", "table", True, "text",
           "本系统的代码表：从下拉中选择（如“民族”），也可填代码表标识（如 ethnicity）"),
    Column("WBDM", "外部代码", "external_code", True, "number",
           "对方系统中的代码，最长 40 位；同一来源系统、同一代码表内不得重复", max_length=40),
    Column("WBMC", "外部名称", "external_name", False, "text",
           "对方系统中该代码的名称，仅供核对，可不填", max_length=100),
    Column("BXTDM", "本系统代码", "code", True, "number",
           "本系统代码表中的代码或名称，须存在于所选代码表", max_length=12),
)  # fmt: skip
BY_KEY = {c.key: c for c in COLUMNS}
RULE = (
    "按（来源系统，代码表，外部代码）识别同一条映射：不存在则新增；存在且本系统代码与外部名称"
    "都相同则不变；不同则以文件为准更新（旧值保留在版本记录中）。先预检，全部无误才能确认导入；"
    "导入要么全部成功，要么不写入任何数据。"
)


def table_short_name(table: str) -> str:
    """ "民族" for "民族（GB 3304）": what people call the table."""
    return str(CodeTable(table).label).split("（")[0]


def _table_key(text: str) -> str:
    # As cells are read: full-width brackets half-width, no spaces, any case.
    return "".join(normalise.text(text).split()).lower()


def _tables_by_name() -> dict[str, str]:
    names: dict[str, str] = {}
    for value, label in CodeTable.choices:
        for name in (value, str(label), table_short_name(value)):
            names[_table_key(name)] = value
    return names


def mapping_template() -> bytes:
    return sheet_template(
        sheet_name="代码映射",
        columns=COLUMNS,
        choices={"DMB": [(table_short_name(v), v) for v, _ in CodeTable.choices]},
        rule=RULE,
    )


# --- translation (used by the student-updates import; the freshman import can use it too) ---


@dataclass(frozen=True)
class CodeTranslation:
    """Which columns of a sheet hold codes of which table, and their labels for messages."""

    columns: Mapping[str, str]  # column key -> CodeTable value
    labels: Mapping[str, str]  # column key -> Chinese label


def mappings_for(system: str, tables: Sequence[str]) -> dict[str, dict[str, str]]:
    """{table: {external code: our code}} for `system`, only tables that have mappings."""
    found = {table: code_mapping_for(system, table) for table in set(tables)}
    return {table: mapping for table, mapping in found.items() if mapping}


def translate_codes(
    rows: Sequence[tuple[int, MutableSequence[Any]]],
    positions: Mapping[str, int],
    columns: Mapping[str, str],
    mapping: Mapping[str, Mapping[str, str]],
    *,
    system: str,
    labels: Mapping[str, str] | None = None,
) -> list[sheet.KindRowError]:
    """Replace external codes in the code columns of `rows` by ours, in place.

    `rows` are (sheet row number, cells) — the data rows as read, header excluded; `positions`
    maps a column key to its cell index; `columns` maps a column key to its CodeTable value;
    `mapping` is {table: {external code: our code}} as `mappings_for` gives it. A table the
    system has no mappings for is left as it is (that system uses our codes there). A
    non-empty cell whose code the system's mapping lacks is an error (row, column key, value,
    reason naming the system); its cell is left unchanged. Pure apart from mutating `rows`:
    no database access.
    """
    errors: list[sheet.KindRowError] = []
    wanted = [
        (key, positions[key], columns[key])
        for key in columns
        if key in positions and mapping.get(columns[key])
    ]
    for number, cells in rows:
        for key, position, table in wanted:
            if position >= len(cells):
                continue
            value = normalise.compact(cells[position])
            if not value:
                continue
            ours = mapping[table].get(value)
            if ours is None:
                label = (labels or {}).get(key, key)
                reason = (
                    f"来源系统“{system}”的{table_short_name(table)}代码映射中没有外部代码"
                    f"“{value}”，请先导入该代码的映射"
                )
                errors.append(sheet.KindRowError(number, key, value, reason, label))
            else:
                cells[position] = ours
    return errors


# --- the import ---------------------------------------------------------------------------


def validate(rows: list[list[Any]], tick: Any = None) -> sheet.SheetPlan:
    header, positions, data = sheet.locate(rows, COLUMNS, what="代码映射")
    plan = sheet.SheetPlan(
        header=header,
        raw=[(n, [normalise.text(c) for c in row]) for n, row in data],
        positions=positions,
    )
    tables = _tables_by_name()
    codes = sheet.Codes(value for value, _ in CodeTable.choices)
    errors: dict[tuple[int, str], sheet.KindRowError] = {}
    parsed: list[tuple[int, dict[str, Any]]] = []
    for number, row in data:
        row_errors: dict[str, sheet.KindRowError] = {}
        parser = sheet.RowParser(number, row, positions, row_errors)
        values = parser.parse(COLUMNS)
        if values["DMB"]:
            table = tables.get(_table_key(values["DMB"]))
            if table is None:
                parser.fail(BY_KEY["DMB"], f"代码表“{values['DMB']}”不存在，请从下拉中选择")
            values["DMB"] = table
        if values["DMB"] and values["BXTDM"]:
            code = codes.resolve(values["DMB"], values["BXTDM"])
            if code is None:
                parser.fail(
                    BY_KEY["BXTDM"],
                    f"“{values['BXTDM']}”不是{CodeTable(values['DMB']).label}中的代码或名称",
                )
            values["BXTDM"] = code
        errors.update({(number, key): e for key, e in row_errors.items()})
        parsed.append((number, values))
    if tick:
        tick(len(data))
    sheet.check_unique(
        parsed,
        lambda v: (
            (v["LYXT"], v["DMB"], v["WBDM"]) if v["LYXT"] and v["DMB"] and v["WBDM"] else None
        ),
        BY_KEY["WBDM"],
        errors,
        shown=lambda v: v["WBDM"],
        what="同一来源系统与代码表的外部代码",
    )
    bad = {row for row, _ in errors}
    good = [(n, v) for n, v in parsed if n not in bad]
    systems = {v["LYXT"] for _, v in good}
    existing = {
        (m.system, m.table, m.external_code): m
        for m in CodeMapping.objects.filter(system__in=systems)
    }
    for _, values in good:
        record = {
            "system": values["LYXT"],
            "table": values["DMB"],
            "external_code": values["WBDM"],
            "external_name": values["WBMC"] or "",
            "code": values["BXTDM"],
        }
        current = existing.get((record["system"], record["table"], record["external_code"]))
        if current is None:
            plan.new.append(record)
            continue
        changes = {
            name: record[name]
            for name in ("code", "external_name")
            if getattr(current, name) != record[name]
        }
        if changes:
            plan.updates.append((current, changes))
        else:
            plan.unchanged += 1
    plan.errors = sheet.sort_errors(errors.values(), COLUMNS)
    return plan


def _load(job: Job, progress: Progress) -> tuple[sheet.SheetPlan, str, User]:
    return sheet.load_sheet(
        job,
        progress,
        may_run=can_manage_org,
        refusal=KIND.refusal,
        check=lambda rows, user, tick: validate(rows, tick=tick),
    )


def run_dry_run(job: Job, progress: Progress) -> dict[str, Any]:
    plan, digest, _ = _load(job, progress)
    return sheet.dry_run_result(job, plan, digest)


def run_commit(job: Job, progress: Progress) -> dict[str, Any]:
    plan, digest, user = _load(job, progress)
    sheet.refuse_if_errors(job, plan)
    progress.phase("写入", len(plan.new) + len(plan.updates))
    actor = Actor(user=user, via=job.params.get("via", "job"))
    now = timezone.now()
    with transaction.atomic():
        created = CodeMapping.objects.bulk_create(
            [CodeMapping(**record) for record in plan.new], batch_size=1000
        )
        CodeMapping.history.bulk_history_create(  # type: ignore[attr-defined]
            created, default_user=user, default_change_reason="代码映射导入", default_date=now
        )
        updated: list[CodeMapping] = []
        for mapping, changes in plan.updates:
            for name, value in changes.items():
                setattr(mapping, name, value)
            mapping.updated_at = now
            updated.append(mapping)
        if updated:
            CodeMapping.objects.bulk_update(
                updated, ["code", "external_name", "updated_at"], batch_size=1000
            )
            CodeMapping.history.bulk_history_create(  # type: ignore[attr-defined]
                updated,
                update=True,
                default_user=user,
                default_change_reason="代码映射导入（更新）",
                default_date=now,
            )
        sheet.audit_import(
            actor=actor,
            job=job,
            kind="code_mappings",
            title="代码映射导入",
            outcome=f"新增 {len(created)} 条，更新 {len(updated)} 条，未变 {plan.unchanged} 条",
            digest=digest,
            counts={"rows": plan.rows, "created": len(created), "updated": len(updated),
                    "unchanged": plan.unchanged},
        )  # fmt: skip
    progress.advance(len(plan.new) + len(plan.updates))
    return {**plan.counts(), "sha256": digest, "created": len(created), "updated": len(updated)}


KIND = ImportKind(
    key="code_mappings",
    title=gettext_noop("代码映射导入"),
    may_run=can_manage_org,
    refusal=gettext_noop("只有校级学籍管理员可以导入代码映射。"),
    template=mapping_template,
    template_name="code-mappings-template.xlsx",
    dry_run_kind=DRY_RUN,
    commit_kind=COMMIT,
    columns=COLUMNS,
    summary=gettext_noop(
        "其他系统的代码与本系统代码表的对应关系；导入学生信息时可按来源系统自动转换代码。"
    ),
    file_label=gettext_noop("代码映射文件"),
    unit="条",
    order=50,
)
