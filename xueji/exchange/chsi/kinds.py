"""The registry of CHSI (学信网) export kinds.

A kind is one of the platform's upload layouts (新生注册, 学年注册, 学籍异动, 毕业证书电子注册,
学位授予信息 …): its columns, the filters its form shows and a `rows` function that yields one
ExportRow per student (or per change) with every value UNMASKED and the domain problems found.
The generic runner (services.run_export) does the rest for every kind: permission re-check, the
DBF width/GBK checks, the valid-only option, masking of `masked_columns`, xlsx/DBF writing, the
result file and one audit event with the file's SHA-256.

Kinds are registered from the owning app's AppConfig.ready() — exchange for new_students (and
the diploma and degree kinds), registration for yearly registration, changes for the
status-change report — so exchange never imports the higher apps that fill them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import date
from typing import TYPE_CHECKING

from xueji.core.exceptions import DomainError
from xueji.exchange.chsi.columns import Column, Problem

if TYPE_CHECKING:
    from xueji.accounts.models import User

__all__ = [
    "FILTER_NAMES",
    "Column",
    "ExportKind",
    "ExportRow",
    "Filters",
    "Problem",
    "job_kind",
    "kind_for",
    "kinds",
    "register",
]


@dataclass(frozen=True)
class Filters:
    cohort_year: int | None = None
    college_id: int | None = None
    term_id: int | None = None  # yearly registration
    date_from: date | None = None  # status-change report period
    date_to: date | None = None
    year: int | None = None  # graduation / degree year

    def as_params(self) -> dict[str, int | str | None]:
        """JSON-safe form (dates as ISO strings), for job params and audit events."""
        out: dict[str, int | str | None] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = value.isoformat() if isinstance(value, date) else value
        return out

    @classmethod
    def from_params(cls, params: dict[str, object]) -> Filters:
        values: dict[str, object] = {}
        for name in FILTER_NAMES:
            value = params.get(name)
            if value in (None, ""):
                continue
            if name in ("date_from", "date_to"):
                values[name] = value if isinstance(value, date) else date.fromisoformat(str(value))
            else:
                values[name] = int(value)  # type: ignore[call-overload]
        return cls(**values)  # type: ignore[arg-type]


FILTER_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Filters))


@dataclass(frozen=True)
class ExportRow:
    student_number: str
    name: str
    college: str
    values: dict[str, str]  # by column code, ID numbers UNMASKED (the runner masks)
    problems: list[Problem]  # empty = exportable


@dataclass(frozen=True)
class ExportKind:
    key: str  # job kind is f"chsi.{key}"; "new_students" exists
    title: str  # Chinese, e.g. "学信网学年注册数据"
    file_stem: str  # e.g. "xnzc" → chsi_xnzc_<school>_<stamp>.xlsx
    columns: tuple[Column, ...]  # order = file order
    filters: tuple[str, ...]  # subset of Filters field names the form must show
    required_filters: tuple[str, ...]  # see `require_all`
    rows: Callable[[User, Filters], Iterable[ExportRow]]  # already scoped to the user
    masked_columns: tuple[str, ...] = ("ZJHM",)  # masked unless full-ID grant
    dbf: bool = True  # whether DBF (GBK) is offered besides xlsx
    order: int = 100
    # False: at least one of required_filters must be given; True: all of them.
    require_all: bool = False
    # Suggested purposes shown in the form (the purpose itself is always free text).
    purposes: tuple[str, ...] = ()
    # One line under the title on the export page.
    description: str = ""
    # A note the pre-export check shows for a row that is exported anyway (e.g. 未注册);
    # "" = nothing to note.
    notice: Callable[[ExportRow], str] | None = None
    # Labels for filters whose meaning is the kind's own, e.g. {"year": "学年（起始年份）"}.
    filter_labels: tuple[tuple[str, str], ...] = ()

    @property
    def job_kind(self) -> str:
        return job_kind(self.key)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.columns)

    @property
    def labels(self) -> dict[str, str]:
        return {c.code: c.label for c in self.columns}

    @property
    def sheet(self) -> str:
        """The xlsx sheet name: the title without the platform's name (Excel allows 31)."""
        return self.title.removeprefix("学信网").removesuffix("数据")[:31] or self.key


_KINDS: dict[str, ExportKind] = {}


def job_kind(key: str) -> str:
    return f"chsi.{key}"


def register(kind: ExportKind) -> None:
    """Register (or, on a repeated ready(), replace) an export kind. Its job runner kind
    `chsi.<key>` is registered with the jobs registry by the exchange app (services.run_export
    serves them all)."""
    unknown = set(kind.filters) - set(FILTER_NAMES)
    if unknown or not set(kind.required_filters) <= set(kind.filters):
        raise ValueError(f"CHSI export kind {kind.key!r}: bad filters {sorted(unknown)}")
    masked = set(kind.masked_columns) - set(kind.codes)
    if masked:
        raise ValueError(f"CHSI export kind {kind.key!r}: masked columns not in file {masked}")
    _KINDS[kind.key] = kind
    from xueji.exchange.chsi.services import run_export
    from xueji.jobs.registry import register as register_job

    register_job(kind.job_kind, run_export)


def kinds() -> list[ExportKind]:
    """Every registered kind, sorted by `order` (then key)."""
    return sorted(_KINDS.values(), key=lambda k: (k.order, k.key))


def kind_for(key: str) -> ExportKind:
    try:
        return _KINDS[key]
    except KeyError:
        raise DomainError(f"未知的学信网导出类型“{key}”。") from None
