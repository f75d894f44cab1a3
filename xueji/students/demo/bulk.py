"""Bulk inserts for demo data, bypassing the ORM's per-value work (and, on purpose, the
per-row audit: demo rows are not business changes)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from functools import cache
from typing import Any

from django.db import connection, models

from xueji.students.models import Student, registry_for


def history_values(row: dict[str, Any]) -> dict[str, Any]:
    columns = history_columns()
    return {column: row[column] for column in columns}


@cache
def history_columns() -> tuple[str, ...]:
    """Student columns the version history copies (it leaves out the search keys)."""
    model = Student.history.model
    names = {f.attname for f in model._meta.concrete_fields}
    return tuple(f.attname for f in Student._meta.concrete_fields if f.attname in names)


def state_row(
    student_id: int, status: str, valid_from: date, valid_to: date | None, reason: str
) -> dict[str, Any]:
    return {
        "student_id": student_id,
        "registry_status": registry_for(status),
        "status": status,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "reason": reason,
    }


def ledger_row(
    student_id: int,
    action: str,
    from_status: str,
    to_status: str,
    on: date,
    now: datetime,
    note: str,
) -> dict[str, Any]:
    return {
        "student_id": student_id,
        "action": action,
        "from_status": from_status,
        "to_status": to_status,
        "effective_date": on,
        "recorded_at": now,
        "note": note,
        "actor_id": None,
    }


@contextmanager
def large_page_cache() -> Iterator[None]:
    """On SQLite, a 256 MiB page cache while inserting: the student table has a dozen indexes,
    and with the default 2 MiB cache every insert into them goes to disk."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (previous,) = cursor.fetchone()
        cursor.execute("PRAGMA cache_size = -262144")
        try:
            yield
        finally:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")


def bulk_insert(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    """Insert rows (dicts of attname → Python value, all with the same keys) in bulk.

    The ORM's bulk_create spends most of its time preparing each value through each field;
    here only dates, datetimes and decimals are adapted, and PostgreSQL gets COPY, which makes
    100k students seconds instead of minutes. Nothing else (signals, history, audit) happens.
    """
    if not rows:
        return
    meta = model._meta
    columns = list(rows[0])
    fields = [meta.get_field(column) for column in columns]
    # Dates and the timestamp repeat a lot: adapt each distinct value once.
    adapters = [(i, cache(adapter)) for i, f in enumerate(fields) if (adapter := _adapter(f))]
    quote = connection.ops.quote_name
    # Table and column names come from the model's metadata; values are parameters.
    table = quote(meta.db_table)
    names = ", ".join(quote(f.column) for f in fields)
    values = []
    for row in rows:
        record = [row[column] for column in columns]
        for i, adapter in adapters:
            record[i] = adapter(record[i])
        values.append(record)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for record in values:
                    copy.write_row(record)
            return
        params = ", ".join(["%s"] * len(fields))
        sql = f"INSERT INTO {table} ({names}) VALUES ({params})"  # noqa: S608
        for start in range(0, len(values), 2000):
            cursor.executemany(sql, values[start : start + 2000])


def _adapter(model_field: Any) -> Callable[[Any], Any] | None:
    ops = connection.ops
    if isinstance(model_field, models.DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(model_field, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(model_field, models.DecimalField):
        digits, places = model_field.max_digits, model_field.decimal_places
        return lambda value: ops.adapt_decimalfield_value(value, digits, places)
    return None
