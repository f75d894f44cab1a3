"""The two small value types every CHSI export kind shares: a file column and a problem found
in one student's row."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    code: str
    label: str
    width: int  # DBF width in bytes (GBK: two bytes per Chinese character)


@dataclass
class Problem:
    """What the platform would refuse in one row: the column (its code) and why. `label` is the
    column's Chinese name; the runner fills it from the kind's columns when a kind leaves it
    empty."""

    column: str
    message: str
    label: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"column": self.column, "label": self.label or self.column, "message": self.message}


def dbf_problems(columns: tuple[Column, ...], values: dict[str, str]) -> list[Problem]:
    """What a DBF (GBK) file cannot hold in one row: a character GBK lacks, or a value longer
    in bytes than its column's width. The writer refuses both rather than cut a value."""
    from xueji.exchange.chsi.dbf import ENCODING

    problems: list[Problem] = []
    for column in columns:
        value = values.get(column.code, "")
        try:
            size = len(value.encode(ENCODING))
        except UnicodeEncodeError as exc:
            bad = value[exc.start : exc.end]
            problems.append(
                Problem(
                    column.code,
                    f"{column.label}中的“{bad}”无法用 GBK 编码，DBF 文件放不下",
                    column.label,
                )
            )
            continue
        if size > column.width:
            problems.append(
                Problem(
                    column.code,
                    f"{column.label}占 {size} 字节，超过 DBF 字段宽度 {column.width} 字节",
                    column.label,
                )
            )
    return problems
