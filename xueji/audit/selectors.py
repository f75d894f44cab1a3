"""Reading and verifying the audit chain."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

from xueji.audit.chain import (
    FIELDS,
    GENESIS,
    HASHED,
    SEP,
    ChainReport,
    time_text,
    verify_payloads,
    verify_rows,
)
from xueji.audit.models import AuditEvent, AuditHead


def audit_chain_verify(*, chunk_size: int = 2_000) -> ChainReport:
    """Verify every event in sequence order, streaming so memory stays flat at millions of rows.

    Returns a report naming the first bad event; raises nothing. Rows are fetched 2,000 at a
    time: larger chunks cost memory (150 MB at 20,000 on PostgreSQL, 67 MB at 2,000 for 1M
    events; see docs/benchmarks.md) without making it faster.
    """
    head = _head()
    # Only up to the head read now: services keep appending while we stream, and each append
    # moves the head in its own transaction, so rows past this head are checked below instead.
    report = _verify_intact(head, chunk_size)
    if report is None:  # something is off (or no fast path here): find and name it
        report = verify_rows(_chain_rows(upto=head[0], chunk_size=chunk_size), head)
    if not report.ok:
        return report
    # A row beyond the current head was not written by `audit_record` (which moves the head in
    # the same transaction): someone appended it around the application.
    current = max(head[0], _head()[0])
    stray = (
        AuditEvent.objects.filter(seq__gt=current).order_by("seq").values_list("seq", "id").first()
    )
    if stray is not None:
        return ChainReport(
            False,
            report.checked,
            report.head_seq,
            report.head_hash,
            stray[0],
            stray[1],
            f"事件 #{stray[0]} 位于链头记录 #{current} 之后（有事件绕过系统被追加）",
        )
    return report


def _verify_intact(head: tuple[int, str], chunk_size: int) -> ChainReport | None:
    """`chain.verify_payloads` over events up to the head: the report if the chain is intact,
    None if not or if this database cannot assemble the hashed text itself."""
    sql = _hashed_text_sql()
    if sql is None:
        return None
    events = (
        AuditEvent.objects.filter(seq__lte=head[0])
        .order_by("seq")
        .annotate(payload=RawSQL(sql[1], ()))  # noqa: S611 - built from names, no input
        .values_list("seq", "prev_hash", "hash", "payload")
    )
    with closing(_stream(events, chunk_size)) as rows:
        return verify_payloads(rows, head)


def _chain_rows(*, upto: int, chunk_size: int) -> Iterator[tuple[Any, ...]]:
    """Events with seq <= `upto` in seq order as `verify_rows` takes them (chain.FIELDS), with
    the time already as the text the hash covers (`chain.time_text`)."""
    at = FIELDS.index("occurred_at")
    events = AuditEvent.objects.filter(seq__lte=upto).order_by("seq")
    sql = _hashed_text_sql()
    if sql is None:
        rows = _stream(events.values_list(*FIELDS), chunk_size)
        yield from ((*row[:at], time_text(row[at]), *row[at + 1 :]) for row in rows)
        return
    events = events.annotate(occurred_text=RawSQL(sql[0], ()))  # noqa: S611 - no input
    yield from _stream(
        events.values_list(*FIELDS[:at], "occurred_text", *FIELDS[at + 1 :]), chunk_size
    )


def _stream(rows: QuerySet, chunk_size: int) -> Iterator[tuple[Any, ...]]:
    """Rows straight from a (on PostgreSQL server-side) cursor, `chunk_size` at a time: at a
    million events the ORM's per-value converters would cost more than the hashing."""
    sql, params = rows.query.sql_with_params()
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(chunk_size):
            yield from chunk


def _hashed_text_sql() -> tuple[str, str] | None:
    """SQL for (the time as `chain.time_text` writes it, the whole text `chain.event_hash`
    hashes), or None where the database cannot produce them exactly (Python then does it).

    SQLite keeps times as naive UTC text, with no fraction when it is zero
    ("2024-09-01 08:00:00"); PostgreSQL formats them with to_char.
    """
    quote = connection.ops.quote_name
    table = quote(AuditEvent._meta.db_table)

    def column(name: str) -> str:
        return f"{table}.{quote(name)}"

    at = column("occurred_at")
    if connection.vendor == "sqlite" and connection.timezone_name == "UTC":
        time = (
            f"replace(CAST({at} AS text), ' ', 'T')"
            f" || CASE WHEN length({at}) > 19 THEN 'Z' ELSE '.000000Z' END"
        )
        separator = f"char({ord(SEP)})"
    elif connection.vendor == "postgresql":
        time = f"""to_char({at} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
        separator = f"chr({ord(SEP)})"
    else:
        return None
    parts = [column("prev_hash")]
    for name in HASHED:
        if name == "occurred_at":
            parts.append(time)
        elif name in ("seq", "actor_id"):  # numbers: str(n), and "" for no actor
            parts.append(f"COALESCE(CAST({column(name)} AS text), '')")
        else:
            parts.append(column(name))
    return time, f" || {separator} || ".join(f"({part})" for part in parts)


def _head() -> tuple[int, str]:
    head = AuditHead.objects.filter(id=1).values_list("seq", "hash").first()
    return head if head is not None else (0, GENESIS)


def audit_event_list(
    *, action: str = "", target_id: str = "", actor: str = "", mentions: str = ""
) -> QuerySet[AuditEvent]:
    """Events newest first, filtered by action prefix, exact target id, actor username, and
    `mentions`: a target id or a text in the summary (every summary about a student names its
    学号, so an auditor can search by 学号 without this app reading the student table)."""
    events = AuditEvent.objects.order_by("-seq")
    if mentions:
        events = events.filter(Q(target_id=mentions) | Q(summary__contains=mentions))
    if action:
        events = events.filter(action__startswith=action)
    if target_id:
        events = events.filter(target_id=target_id)
    if actor:
        events = events.filter(actor_username=actor)
    return events


def audit_events_for_target(*, target_type: str, target_id: str) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(target_type=target_type, target_id=target_id).order_by("seq")


def audit_event_get(pk: int) -> AuditEvent | None:
    return AuditEvent.objects.filter(pk=pk).first()
