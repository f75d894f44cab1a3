"""Cell text as people type it into spreadsheets, made regular: full-width characters, stray
spaces, Excel serial dates, the usual date spellings, numbers Excel turned into floats."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

FULL_WIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
# Excel's day 0 (its 1900 leap-year bug makes serials from 61 on count from 1899-12-30).
EXCEL_EPOCH = date(1899, 12, 30)
DATE_PATTERNS = (
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
    re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"),
)


def text(value: Any) -> str:
    """A cell as clean text: half-width, no surrounding or doubled spaces; whole floats lose
    their ".0" (Excel stores 学号 typed into a number cell as 2024000001.0)."""
    if type(value) is str:  # the usual cell, first: imports call this for every cell
        cleaned = value if value.isascii() else value.translate(FULL_WIDTH)
        return " ".join(cleaned.split())
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    cleaned = str(value).translate(FULL_WIDTH)
    return " ".join(cleaned.split())


def compact(value: Any) -> str:
    """Numbers and codes: no spaces at all."""
    return "".join(text(value).split())


def parse_date(value: Any) -> date | None:
    """A date from a date cell, an Excel serial number or text; None when it is none of them."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 1 <= value < 2958466 and (value < 10_000_000):
            return EXCEL_EPOCH + timedelta(days=int(value))
        value = text(value)
    raw = compact(value)
    if raw.isdigit() and len(raw) <= 5:
        return EXCEL_EPOCH + timedelta(days=int(raw))
    raw = raw.split("T")[0].split("00:00:00")[0]
    for pattern in DATE_PATTERNS:
        match = pattern.fullmatch(raw)
        if match:
            try:
                return date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                return None
    return None


def parse_decimal(value: Any) -> Decimal | None:
    raw = compact(value)
    try:
        number = Decimal(raw)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None
