"""Reading an uploaded sheet: xlsx, xls and ods through python-calamine, CSV through the csv
module (UTF-8 with or without BOM, else GB18030, which covers GBK)."""

from __future__ import annotations

import csv
import io
from typing import Any

from python_calamine import CalamineError, CalamineWorkbook, PasswordError, XmlError, ZipError

from xueji.core.exceptions import DomainError

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")


def decode_csv(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DomainError("无法识别 CSV 文件的编码，请另存为 UTF-8 或 GBK 编码的 CSV。")


def read_sheet(data: bytes, filename: str) -> list[list[Any]]:
    """All rows of the first sheet (header included) as lists of cell values."""
    name = filename.lower()
    if name.endswith(".csv"):
        text = decode_csv(data)
        try:
            return [row for row in csv.reader(io.StringIO(text, newline=""))]
        except csv.Error as exc:
            # In practice: an unmatched double quote (") makes one cell swallow the rest of
            # the file until it passes the csv module's cell limit.
            raise DomainError(
                '无法读取该 CSV 文件：某个单元格以英文双引号（"）开头却没有配对的结束引号，'
                "使其后的内容都并入了这一格。请检查并删除多余的引号，或另存为 xlsx 后上传。",
                field="file",
            ) from exc
    if not name.endswith(SPREADSHEET_SUFFIXES):
        raise DomainError("只接受 xlsx、xls 或 CSV 文件。", field="file")
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = workbook.get_sheet_by_index(0)
        return sheet.to_python(skip_empty_area=False)
    except (CalamineError, PasswordError, XmlError, ZipError, ValueError, IndexError) as exc:
        raise DomainError(f"无法读取该文件：{exc}", field="file") from exc
