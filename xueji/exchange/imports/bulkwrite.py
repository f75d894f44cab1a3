"""Writing new students in bulk: per batch, one multi-row INSERT (SQLite, executemany) or COPY
(PostgreSQL) per table instead of the ORM's per-value preparation. The rows are the ones the
ORM path wrote: the student, its first version (django-simple-history, "+", with the user,
date and reason), its first StudentState and its ADMITTED ledger entry.

Ids are taken up front so that the four tables can be written batch by batch: from the
sequence on PostgreSQL, after the highest id on SQLite (the IMMEDIATE transaction holds the
write lock, so nobody else can take them meanwhile).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connection, models

from xueji.accounts.models import User
from xueji.org.models import Cohort
from xueji.students.demo.bulk import bulk_insert, history_columns
from xueji.students.models import (
    LedgerAction,
    StatusLedgerEntry,
    Student,
    StudentState,
    StudentStatus,
    registry_for,
)
from xueji.students.pinyin import name_pinyin, search_keys_for

BATCH = 5000
REASON = "新生导入"


def new_students_insert(
    records: list[dict[str, Any]],
    *,
    cohorts: dict[int, Cohort],
    user: User,
    now: datetime,
    between_batches: Callable[[int], None] = lambda n: None,
) -> None:
    """Insert `records` (validated Student values by attname, plus cohort_year) with their
    history, state and ledger rows. Must run inside the import's transaction; calls
    `between_batches(rows)` after each batch (progress, cancel).

    The rows of the next batch are prepared (pinyin, dicts) in a helper thread while the
    database takes the current one: both sqlite3 and psycopg release the GIL while the
    database works, so the two overlap. The helper touches no database connection."""
    if not records:
        return
    rows = _Rows(cohorts=cohorts, user=user, now=now)
    ids = _take_ids(len(records))
    starts = range(0, len(records), BATCH)

    def prepare(start: int) -> list[tuple[type[models.Model], list[dict[str, Any]]]]:
        return rows.batch(records[start : start + BATCH], ids[start : start + BATCH])

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-rows") as helper:
        upcoming = helper.submit(prepare, starts[0])
        for index in range(len(starts)):
            tables = upcoming.result()
            if index + 1 < len(starts):
                upcoming = helper.submit(prepare, starts[index + 1])
            for model, table_rows in tables:
                bulk_insert(model, table_rows)
            between_batches(len(tables[0][1]))


class _Rows:
    """The four tables' rows for a batch of validated records."""

    def __init__(self, *, cohorts: dict[int, Cohort], user: User, now: datetime) -> None:
        self.cohorts = cohorts
        self.status = StudentStatus.IN_SCHOOL.value
        self.registry = registry_for(self.status)
        self.history_fields = history_columns()
        self.names: dict[str, tuple[str, str, str]] = {}
        self.base = _defaults(Student, now)
        self.history = _defaults(Student.history.model, now) | {  # type: ignore[attr-defined]
            "history_date": now,
            "history_type": "+",
            "history_change_reason": REASON,
            "history_user_id": user.pk,
        }
        self.state = _defaults(StudentState, now) | {
            "registry_status": self.registry,
            "status": self.status,
            "valid_to": None,
            "reason": "入学",
        }
        self.entry = _defaults(StatusLedgerEntry, now) | {
            "action": LedgerAction.ADMITTED.value,
            "from_status": "",
            "to_status": self.status,
            "recorded_at": now,
            "note": REASON,
            "actor_id": user.pk,
        }

    def batch(
        self, records: list[dict[str, Any]], ids: list[int]
    ) -> list[tuple[type[models.Model], list[dict[str, Any]]]]:
        students = []
        for pk, record in zip(ids, records, strict=True):
            row = self.base | record
            year = row.pop("cohort_year")
            pinyin, key, initials = _pinyin(row["name"], self.names)
            row.update(
                id=pk,
                cohort_id=self.cohorts[year].pk,
                status=self.status,
                registry_status=self.registry,
                name_pinyin=pinyin,
                pinyin_key=key,
                pinyin_initials=initials,
            )
            students.append(row)
        fields = self.history_fields
        return [
            (Student, students),
            (
                Student.history.model,  # type: ignore[attr-defined]
                [self.history | {f: row[f] for f in fields} for row in students],
            ),
            (
                StudentState,
                [
                    self.state | {"student_id": row["id"], "valid_from": row["enrollment_date"]}
                    for row in students
                ],
            ),
            (
                StatusLedgerEntry,
                [
                    self.entry | {"student_id": row["id"], "effective_date": row["enrollment_date"]}
                    for row in students
                ],
            ),
        ]


def _pinyin(name: str, seen: dict[str, tuple[str, str, str]]) -> tuple[str, str, str]:
    """(name_pinyin, pinyin_key, pinyin_initials), once per distinct name."""
    found = seen.get(name)
    if found is None:
        pinyin = name_pinyin(name)
        found = seen[name] = (pinyin, *search_keys_for(name, pinyin))
    return found


def _take_ids(count: int) -> list[int]:
    table = Student._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return [pk for (pk,) in cursor.fetchall()]
        quoted = connection.ops.quote_name(table)
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {quoted}")  # noqa: S608
        (highest,) = cursor.fetchone()
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        used = cursor.fetchone()
    first = max(highest, used[0] if used else 0) + 1
    return list(range(first, first + count))


def _defaults(model: type[models.Model], now: datetime) -> dict[str, Any]:
    """Every column of `model` but its primary key, with its default (timestamps: now)."""
    return {name: now if stamp else value for name, value, stamp in _default_values(model)}


@cache
def _default_values(model: type[models.Model]) -> Iterable[tuple[str, Any, bool]]:
    values = []
    for field in model._meta.concrete_fields:
        stamp = bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))
        if not field.primary_key:
            values.append((field.attname, field.get_default(), stamp))
    return tuple(values)
