"""The error report: the rows that have errors, as uploaded, with each bad cell marked and an
错误说明 column; a second sheet lists every error as (row, column, value, reason)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Protocol

import xlsxwriter


class ReportedError(Protocol):
    @property
    def row(self) -> int: ...
    @property
    def column(self) -> str: ...
    @property
    def value(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def label(self) -> str: ...


class ReportedPlan(Protocol):
    """What the report needs of a dry run: the freshman `validate.Plan` and the other kinds'
    `sheet.SheetPlan` both have it (for photos, one "row" per zip entry)."""

    @property
    def header(self) -> list[str]: ...
    @property
    def raw(self) -> Sequence[tuple[int, list[str]]]: ...
    @property
    def positions(self) -> dict[str, int]: ...
    @property
    def errors(self) -> Sequence[ReportedError]: ...


def error_report(plan: ReportedPlan) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    rows = book.add_worksheet("错误行")
    listing = book.add_worksheet("错误清单")
    bold = book.add_format({"bold": True, "bg_color": "#EDEDED", "border": 1})
    bad = book.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006", "num_format": "@"})
    plain = book.add_format({"num_format": "@"})
    note = book.add_format({"font_color": "#9C0006", "text_wrap": True})
    by_row: dict[int, list] = {}
    for error in plan.errors:
        by_row.setdefault(error.row, []).append(error)
    width = len(plan.header)
    rows.write_string(0, 0, "原行号", bold)
    for col, title in enumerate(plan.header, start=1):
        rows.write_string(0, col, title, bold)
    rows.write_string(0, width + 1, "错误说明", bold)
    rows.set_column(1, width, 14)
    rows.set_column(width + 1, width + 1, 60)
    out = 1
    for number, cells in plan.raw:
        errors = by_row.get(number)
        if not errors:
            continue
        marked = {plan.positions[e.column] for e in errors if e.column in plan.positions}
        rows.write_number(out, 0, number)
        for col in range(max(width, len(cells))):
            value = cells[col] if col < len(cells) else ""
            rows.write_string(out, col + 1, value, bad if col in marked else plain)
        rows.write_string(
            out, width + 1, "；".join(f"{e.label or '整行'}：{e.reason}" for e in errors), note
        )
        out += 1
    rows.freeze_panes(1, 1)
    for col, title in enumerate(("行号", "列", "值", "错误原因")):
        listing.write_string(0, col, title, bold)
    listing.set_column(2, 2, 22)
    listing.set_column(3, 3, 60)
    for index, error in enumerate(plan.errors, start=1):
        listing.write_number(index, 0, error.row)
        listing.write_string(index, 1, error.label)
        listing.write_string(index, 2, error.value, plain)
        listing.write_string(index, 3, error.reason)
    book.close()
    return buffer.getvalue()
