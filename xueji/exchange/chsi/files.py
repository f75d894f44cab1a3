"""Writing an export's rows as xlsx (XlsxWriter) or DBF (our dBASE III writer)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date

import xlsxwriter

from xueji.exchange.chsi.dbf import Field, write_dbf


class ExportFormat:
    XLSX = "xlsx"
    DBF = "dbf"
    CHOICES = ((XLSX, "Excel（xlsx）"), (DBF, "DBF（dBASE III，GBK）"))


def write_xlsx(
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[str]],
    *,
    sheet: str,
    notes: Sequence[tuple[str, str]] = (),
) -> bytes:
    """One sheet: the column codes in row 1 (the platform matches them), the Chinese name as a
    cell comment, every value a text cell — 考生号 and 证件号码 keep their leading zeros and
    Excel never turns an 18-digit number into 1.2E+17. A second sheet holds `notes`."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False})
    text = book.add_format({"num_format": "@"})
    head = book.add_format({"num_format": "@", "bold": True, "bg_color": "#E7EEF7"})
    data = book.add_worksheet(sheet)
    for col, (code, label) in enumerate(columns):
        data.write_string(0, col, code, head)
        data.write_comment(0, col, label)
        data.set_column(col, col, max(10, len(code) + 2), text)
    for r, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            data.write_string(r, col, value, text)
    data.freeze_panes(1, 0)
    if notes:
        about = book.add_worksheet("导出说明")
        about.set_column(0, 0, 18)
        about.set_column(1, 1, 60)
        for r, (key, value) in enumerate(notes):
            about.write_string(r, 0, key)
            about.write_string(r, 1, value)
    book.close()
    return buffer.getvalue()


def write_dbf_file(fields: Sequence[Field], rows: Sequence[Sequence[str]], *, today: date) -> bytes:
    return write_dbf(fields, rows, updated=today)
