"""Reading an admission file (xlsx, xls, ods or CSV in UTF-8 or GBK) into row dicts keyed by
its headings, for `services.admission_batch_load`. A small reader of its own: the general
import machinery (exchange/imports) validates other data sets."""

from __future__ import annotations

import csv
import io
from typing import Any

from python_calamine import CalamineError, CalamineWorkbook, PasswordError, XmlError, ZipError

from xueji.core.exceptions import DomainError

MAX_BYTES = 50 * 1024 * 1024


def _csv_text(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DomainError("CSV 文件既不是 UTF-8 也不是 GBK 编码。", field="file")


def read_rows(data: bytes, filename: str) -> list[dict[str, Any]]:
    """Rows of the first sheet (or the CSV) as dicts, headings from the first row; blank rows
    are skipped, and each dict carries its row number in the file under "_row". Raises
    DomainError for an unreadable file."""
    if len(data) > MAX_BYTES:
        raise DomainError("文件超过 50 MB。", field="file")
    if filename.lower().endswith(".csv"):
        table: list[list[Any]] = list(csv.reader(io.StringIO(_csv_text(data))))
    else:
        try:
            book = CalamineWorkbook.from_filelike(io.BytesIO(data))
            table = book.get_sheet_by_index(0).to_python(skip_empty_area=False)
        except (CalamineError, PasswordError, XmlError, ZipError, ValueError) as exc:
            raise DomainError(
                f"无法读取文件“{filename}”：请上传 xlsx、xls、ods 或 CSV 文件。", field="file"
            ) from exc
    if not table:
        raise DomainError("文件是空的。", field="file")
    headings = [str(h).strip() for h in table[0]]
    rows = []
    for number, line in enumerate(table[1:], start=2):
        if not any(str(v).strip() for v in line):
            continue
        row: dict[str, Any] = {h: v for h, v in zip(headings, line, strict=False) if h}
        row["_row"] = number
        rows.append(row)
    return rows
