"""National code tables (国家标准代码表) read from versioned data files.

Pure Python on purpose: migrations, management commands, importers and tests can read the tables
without Django settings or a database. The CSV files under ``data/codes`` are the source of truth;
``data/codes/versions.json`` says which edition of which standard each file reproduces.

Regions (GB/T 2260) are not copied into this repository: python-stdnum already ships the county
codes with their history for its ID-card check, so reading the same file keeps our region table and
``stdnum.cn.ric`` in agreement by construction.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

CODES_DIR = files("xueji.org").joinpath("data", "codes")

TABLES: tuple[str, ...] = (
    "gender",
    "ethnicity",
    "political_status",
    "id_type",
    "education_level",
    "study_form",
    "study_duration",
    "discipline",
    "major_category_2024",
    "major_catalogue_2024",
)

REGION_TABLE = "region"


@dataclass(frozen=True)
class CodeRow:
    """One code of one table, valid from ``valid_from`` to ``valid_to`` (years, inclusive)."""

    table: str
    code: str
    name: str
    name_en: str = ""
    parent: str = ""
    valid_from: int | None = None
    valid_to: int | None = None
    # Excluded from hashing so rows stay usable in sets although a dict is not hashable.
    extra: dict[str, Any] = field(default_factory=dict, hash=False)

    @property
    def is_current(self) -> bool:
        return self.valid_to is None

    def is_valid_in(self, year: int) -> bool:
        """True when the code was in force at some time during ``year``."""
        if self.valid_from is not None and year < self.valid_from:
            return False
        return self.valid_to is None or year <= self.valid_to


def _year(value: str) -> int | None:
    return int(value) if value.strip() else None


def iter_code_table(table: str) -> Iterator[CodeRow]:
    """Yield the rows of one CSV table in file order (the order of the standard)."""
    if table not in TABLES:
        raise KeyError(f"unknown code table {table!r}; known: {', '.join(TABLES)}")
    with CODES_DIR.joinpath(f"{table}.csv").open(encoding="utf-8", newline="") as fh:
        for record in csv.DictReader(fh):
            yield CodeRow(
                table=table,
                code=record["code"],
                name=record["name"],
                name_en=record["name_en"],
                parent=record["parent"],
                valid_from=_year(record["valid_from"]),
                valid_to=_year(record["valid_to"]),
                extra=json.loads(record["extra"]) if record["extra"] else {},
            )


# loc.dat lists a 2-digit province line, then its codes as indented 4-digit suffixes, e.g.
#   11 province="北京市"
#     0103 county="[-2010]崇文区"
#     0110 county="[-1991]东郊区,[1992-]东丽区"
_LOC_LINE = re.compile(r'^(?P<indent>\s*)(?P<code>\d+) (?P<key>\w+)="(?P<value>[^"]*)"$')
_PERIOD = re.compile(r"^\[(?P<start>\d{4})?-(?P<end>\d{4})?\](?P<name>.+)$")


def _split_history(value: str) -> list[tuple[str, int | None, int | None]]:
    """Split ``[-1991]东郊区,[1992-]东丽区`` into (name, valid_from, valid_to) periods."""
    periods: list[tuple[str, int | None, int | None]] = []
    for part in re.split(r",(?=\[)", value):
        match = _PERIOD.match(part)
        if match is None:
            periods.append((part, None, None))
        else:
            start, end = match["start"], match["end"]
            periods.append(
                (match["name"], int(start) if start else None, int(end) if end else None)
            )
    return periods


def _region_level(code: str) -> str:
    if code.endswith("0000"):
        return "province"
    return "prefecture" if code.endswith("00") else "county"


def _region_parent(code: str, known: set[str]) -> str:
    level = _region_level(code)
    if level == "province":
        return ""
    prefecture = code[:4] + "00"
    # Counties numbered directly under a province (e.g. 海南 460001) hang off the province; the
    # membership check keeps every parent resolvable even if a prefecture row is ever missing.
    if level == "county" and prefecture in known and not prefecture.endswith("0000"):
        return prefecture
    return code[:2] + "0000"


def _region_entries() -> list[tuple[str, str]]:
    """(6-digit code, raw value) for every entry of stdnum's loc.dat, in file order."""
    text = files("stdnum.cn").joinpath("loc.dat").read_text(encoding="utf-8")
    entries: list[tuple[str, str]] = []
    provinces: dict[str, str] = {}
    province = ""
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LOC_LINE.match(line)
        if match is None:
            raise ValueError(f"unexpected line in stdnum cn/loc.dat: {line!r}")
        if not match["indent"]:
            province = match["code"]
            provinces[province] = match["value"]
        else:
            entries.append((province + match["code"], match["value"]))
    # Provinces normally have a "0000" entry carrying their history; fall back to the header.
    listed = {code for code, _ in entries}
    entries += [(p + "0000", name) for p, name in provinces.items() if p + "0000" not in listed]
    return entries


def iter_regions() -> Iterator[CodeRow]:
    """Yield GB/T 2260 regions, one row per (code, name, period); historical rows have valid_to."""
    entries = _region_entries()
    known = {code for code, _ in entries}
    for code, value in entries:
        parent = _region_parent(code, known)
        level = _region_level(code)
        for name, valid_from, valid_to in _split_history(value):
            yield CodeRow(
                table=REGION_TABLE,
                code=code,
                name=name,
                parent=parent,
                valid_from=valid_from,
                valid_to=valid_to,
                extra={"level": level},
            )


@cache
def _versions() -> dict[str, dict[str, str]]:
    return json.loads(CODES_DIR.joinpath("versions.json").read_text(encoding="utf-8"))


def table_version(table: str) -> str:
    """The edition of the standard a table reproduces, e.g. ``"2024"`` for the major catalogue."""
    return _versions()[table]["version"]


def table_info(table: str) -> dict[str, str]:
    """Version, source and note of a table, as written in versions.json."""
    return dict(_versions().get(table, {}))
