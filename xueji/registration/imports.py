"""The finance-status import (kind "finance"): tuition paid/unpaid per student and term, as the
finance office reports it. Registered with exchange's import registry from this app's ready(),
so the generic import pages and API run it; the writes go through `finance_status_bulk_set`.

Upsert by (学号, 学期): no row yet → new; the same state, amount and note → unchanged;
otherwise the file wins (updated). An empty 备注 keeps the stored note.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_noop

from xueji.accounts.models import User
from xueji.core.context import Actor
from xueji.core.exceptions import DomainError, ValidationFailed
from xueji.exchange.imports import normalise, sheet
from xueji.exchange.imports.columns import Column
from xueji.exchange.imports.kinds import ImportKind
from xueji.exchange.imports.template import sheet_template
from xueji.jobs.models import Job
from xueji.jobs.progress import Progress
from xueji.org.models import Term
from xueji.org.selectors import term_list
from xueji.registration import permissions
from xueji.registration.models import FinanceState, FinanceStatus
from xueji.registration.services import FinanceRow, _validate_finance, finance_status_bulk_set
from xueji.students.models import Student

DRY_RUN = "import.finance.dry_run"
COMMIT = "import.finance.commit"
REFUSAL = gettext_noop("只有校级学籍管理员可以导入学费缴纳状态。")

COLUMNS: tuple[Column, ...] = (
    Column("XH", "学号", "student", True, "number", "已有学生的学号", max_length=15),
    Column("XQ", "学期", "term", True, "text",
           "学期名称（从下拉中选择，如“2025-2026学年 第一学期”）或学期代码（如 2025-2026-1）"),
    Column("JFZT", "缴费状态", "state", True, "text",
           "已缴清、未缴清或已办理缓缴或资助（下拉选择）"),
    Column("QJJE", "欠缴金额", "amount_due", False, "decimal",
           "元，如 5200.00；未缴清时必填且大于 0，已缴清时为 0 或不填"),
    Column("BZ", "备注", "note", False, "text", "最长 200 字；不填则保留原备注", max_length=200),
)  # fmt: skip
BY_KEY = {c.key: c for c in COLUMNS}
RULE = (
    "按（学号，学期）识别同一条缴费记录：没有则新增；缴费状态、欠缴金额、备注都相同则不变；否则以"
    "文件为准更新。学号不存在的行报错。先预检，全部无误才能确认导入；导入要么全部成功，要么不写入"
    "任何数据。"
)
# Which finance-service error goes to which column.
SERVICE_FIELDS = {"state": "JFZT", "amount_due": "QJJE"}


def term_code(term: Term) -> str:
    """ "2025-2026-1": the 学年学期 code campus systems commonly use."""
    start = term.academic_year.start_year
    return f"{start}-{start + 1}-{term.number}"


def _terms() -> dict[str, Term]:
    found: dict[str, Term] = {}
    for term in term_list():
        found["".join(str(term).split())] = term
        found[term_code(term)] = term
    return found


def _states() -> dict[str, str]:
    return {str(label): value for value, label in FinanceState.choices} | {
        value: value for value in FinanceState.values
    }


def finance_template() -> bytes:
    return sheet_template(
        sheet_name="学费缴纳状态",
        columns=COLUMNS,
        choices={
            "XQ": [(str(t), term_code(t)) for t in term_list()],
            "JFZT": [(str(label), value) for value, label in FinanceState.choices],
        },
        rule=RULE,
    )


def validate(
    rows: list[list[Any]], *, tick: Callable[[int], None] | None = None
) -> sheet.SheetPlan:
    """Check every row; `plan.new`/`plan.updates` hold (term, FinanceRow) to write."""
    header, positions, data = sheet.locate(rows, COLUMNS, what="学生的缴费状态")
    plan = sheet.SheetPlan(
        header=header,
        raw=[(n, [normalise.text(c) for c in row]) for n, row in data],
        positions=positions,
    )
    terms, states = _terms(), _states()
    errors: dict[tuple[int, str], sheet.KindRowError] = {}
    parsed: list[tuple[int, dict[str, Any]]] = []
    for number, row in data:
        row_errors: dict[str, sheet.KindRowError] = {}
        parser = sheet.RowParser(number, row, positions, row_errors)
        values = parser.parse(COLUMNS)
        if values["XQ"]:
            term = terms.get("".join(values["XQ"].split()))
            if term is None:
                parser.fail(BY_KEY["XQ"], f"学期“{values['XQ']}”不存在，请从下拉中选择")
            values["XQ"] = term
        if values["JFZT"]:
            state = states.get(values["JFZT"])
            if state is None:
                parser.fail(
                    BY_KEY["JFZT"],
                    f"缴费状态“{values['JFZT']}”无效，应为已缴清、未缴清或已办理缓缴或资助",
                )
            values["JFZT"] = state
        if values["JFZT"] and "QJJE" not in row_errors:
            amount, problems = _validate_finance(values["JFZT"], values["QJJE"] or Decimal("0"))
            for name, messages in problems.items():
                parser.fail(BY_KEY[SERVICE_FIELDS[name]], messages[0].rstrip("。"))
            values["QJJE"] = amount
        errors.update({(number, key): e for key, e in row_errors.items()})
        parsed.append((number, values))
    if tick:
        tick(len(data))
    sheet.check_unique(
        parsed,
        lambda v: (v["XH"], v["XQ"].pk) if v["XH"] and v["XQ"] else None,
        BY_KEY["XH"],
        errors,
        shown=lambda v: v["XH"],
        what="同一学期的学号",
    )
    numbers = {v["XH"] for _, v in parsed if v["XH"]}
    students = dict(
        Student.objects.filter(student_number__in=numbers).values_list("student_number", "pk")
    )
    term_ids = {v["XQ"].pk for _, v in parsed if v["XQ"]}
    existing = {
        (s.student_id, s.term_id): s
        for s in FinanceStatus.objects.filter(
            term_id__in=term_ids, student_id__in=list(students.values())
        )
    }
    bad = {row for row, _ in errors}
    for number, values in parsed:
        if values["XH"] and values["XH"] not in students and (number, "XH") not in errors:
            errors[(number, "XH")] = sheet.KindRowError(
                number, "XH", values["XH"], f"学号“{values['XH']}”不存在", "学号"
            )
            bad.add(number)
        if number in bad:
            continue
        term: Term = values["XQ"]
        current = existing.get((students[values["XH"]], term.pk))
        note = values["BZ"] if values["BZ"] is not None else (current.note if current else "")
        row = FinanceRow(values["XH"], values["JFZT"], values["QJJE"], note)
        if current is None:
            plan.new.append((term, row))
        elif (current.state, current.amount_due, current.note) == (row.state, row.amount_due, note):
            plan.unchanged += 1
        else:
            plan.updates.append((term, row))
    plan.errors = sheet.sort_errors(errors.values(), COLUMNS)
    return plan


def _load(job: Job, progress: Progress) -> tuple[sheet.SheetPlan, str, User]:
    return sheet.load_sheet(
        job,
        progress,
        may_run=permissions.can_set_finance_status,
        refusal=REFUSAL,
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
    by_term: dict[Term, list[FinanceRow]] = defaultdict(list)
    for term, row in [*plan.new, *plan.updates]:
        by_term[term].append(row)
    try:
        with transaction.atomic():
            # One service call per term (it writes that term's audit event); only changed rows.
            for term, rows in by_term.items():
                finance_status_bulk_set(actor=actor, term=term, rows=rows)
            sheet.audit_import(
                actor=actor,
                job=job,
                kind="finance",
                title="学费缴纳状态导入",
                outcome=f"新增 {len(plan.new)} 条，更新 {len(plan.updates)} 条，"
                f"未变 {plan.unchanged} 条",
                digest=digest,
                counts={"rows": plan.rows, "created": len(plan.new),
                        "updated": len(plan.updates), "unchanged": plan.unchanged,
                        "terms": sorted(t.pk for t in by_term)},
            )  # fmt: skip
    except ValidationFailed as exc:
        # The records changed between the check and the write (e.g. a student removed).
        raise DomainError(f"写入时校验未通过，未导入任何数据：{exc.message}") from exc
    # Progress is reported outside the transaction (it writes the job row).
    progress.advance(len(plan.new) + len(plan.updates))
    return {**plan.counts(), "sha256": digest, "created": len(plan.new),
            "updated": len(plan.updates)}  # fmt: skip


KIND = ImportKind(
    key="finance",
    title=gettext_noop("学费缴纳状态导入"),
    may_run=permissions.can_set_finance_status,
    refusal=REFUSAL,
    template=finance_template,
    template_name="finance-status-template.xlsx",
    dry_run_kind=DRY_RUN,
    commit_kind=COMMIT,
    columns=COLUMNS,
    summary=gettext_noop("财务处报送的每生每学期缴费状态；按学号与学期识别同一条记录。"),
    file_label=gettext_noop("缴费状态文件"),
    unit="条",
    order=40,
)


def register_kind() -> None:
    """Called from RegistrationConfig.ready(): the kind and its two job runners."""
    from xueji.exchange.imports.kinds import register
    from xueji.jobs.registry import register as register_job

    register(KIND)
    register_job(DRY_RUN, run_dry_run)
    register_job(COMMIT, run_commit)
