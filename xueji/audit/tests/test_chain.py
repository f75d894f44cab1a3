"""The audit hash chain: how events are chained, and that tampering by direct SQL is caught.

Every tampering test goes around the application on purpose (raw SQL through
`django.db.connection.cursor()`), as someone with database access would, and asserts the exact
sequence number the verifier names.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from xueji.audit.chain import GENESIS, event_hash
from xueji.audit.models import AuditEvent, AuditHead
from xueji.audit.selectors import audit_chain_verify
from xueji.audit.services import audit_record
from xueji.core.context import Actor

pytestmark = pytest.mark.django_db

TABLE = AuditEvent._meta.db_table
HEAD_TABLE = AuditHead._meta.db_table
HASHED = (
    "seq", "occurred_at", "actor_id", "actor_username", "actor_role", "ip", "user_agent", "via",
    "action", "target_type", "target_id", "summary", "before", "after",
)  # fmt: skip


@pytest.fixture(autouse=True)
def empty_chain(db: None) -> None:
    """Start from an empty chain (loading the code tables for the session wrote events), so
    sequence numbers in the tests are the ones written here. Undone with the test transaction."""
    AuditEvent.objects.all().delete()
    AuditHead.objects.all().delete()


def q(name: str) -> str:
    return connection.ops.quote_name(name)


def sql(statement: str, params: list[Any] | tuple[Any, ...] = ()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement.format(t=q(TABLE), h=q(HEAD_TABLE)), params)


def record_events(count: int = 6) -> list[AuditEvent]:
    actor = Actor(user=None, ip="10.0.0.8", user_agent="pytest", via="web")
    for n in range(1, count + 1):
        audit_record(
            actor=actor,
            action="test.event",
            target_type="students.student",
            target_id=str(n),
            summary=f"第 {n} 个事件",
            before={"phone": ""},
            after={"phone": f"1380000000{n}", "姓名": "单小明"},
        )
    return list(AuditEvent.objects.order_by("seq"))


def row(seq: int) -> dict[str, Any]:
    return AuditEvent.objects.filter(seq=seq).values(*HASHED, "prev_hash", "hash").get()


def rehash(values: dict[str, Any], prev_hash: str) -> str:
    return event_hash(prev_hash=prev_hash, **{k: values[k] for k in HASHED})


def insert_row(values: dict[str, Any]) -> None:
    columns = [*HASHED, "prev_hash", "hash"]
    params = [
        connection.ops.adapt_datetimefield_value(values[c]) if c == "occurred_at" else values[c]
        for c in columns
    ]
    names = ", ".join(q(c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    # Column names come from the model; values go as parameters.
    sql(f"INSERT INTO {{t}} ({names}) VALUES ({marks})", params)  # noqa: S608


def forged(seq: int, prev_hash: str) -> dict[str, Any]:
    values = {
        "seq": seq,
        "occurred_at": timezone.now() - timedelta(days=1),
        "actor_id": None,
        "actor_username": "registrar",
        "actor_role": "registrar",
        "ip": "10.0.0.8",
        "user_agent": "pytest",
        "via": "web",
        "action": "student.update",
        "target_type": "students.student",
        "target_id": "1",
        "summary": "伪造的修改",
        "before": "",
        "after": "",
        "prev_hash": prev_hash,
    }
    values["hash"] = rehash(values, prev_hash)
    return values


def shift_from(seq: int, by: int) -> None:
    """Move every event from `seq` on by `by` positions, without tripping the unique index."""
    sql("UPDATE {t} SET seq = -seq - %s WHERE seq >= %s", [by, seq])
    sql("UPDATE {t} SET seq = -seq WHERE seq < 0")


# --- chaining ----------------------------------------------------------------------------------


def test_each_event_points_at_the_hash_of_the_one_before() -> None:
    events = record_events(5)
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == GENESIS
    for previous, event in pairwise(events):
        assert event.prev_hash == previous.hash


def test_an_event_hash_covers_its_own_fields_and_the_previous_hash() -> None:
    events = record_events(3)
    for event in events:
        assert rehash(row(event.seq), event.prev_hash) == event.hash
    assert rehash(row(2), events[0].prev_hash) != events[1].hash


def test_the_head_holds_the_last_sequence_number_and_hash() -> None:
    events = record_events(4)
    head = AuditHead.objects.get()
    assert (head.seq, head.hash) == (4, events[-1].hash)


def test_audit_record_stores_who_from_where_and_before_after_as_canonical_json() -> None:
    event = record_events(1)[0]
    assert (event.actor_username, event.ip, event.user_agent, event.via) == (
        "system",
        "10.0.0.8",
        "pytest",
        "web",
    )
    assert event.before == '{"phone":""}'
    assert event.after == '{"phone":"13800000001","姓名":"单小明"}'


def test_an_intact_chain_verifies_and_reports_its_head() -> None:
    events = record_events(6)
    report = audit_chain_verify()
    assert report.ok, report.problem
    assert (report.checked, report.head_seq, report.head_hash) == (6, 6, events[-1].hash)
    assert report.first_bad_seq is None


def test_an_empty_chain_verifies() -> None:
    report = audit_chain_verify()
    assert (report.ok, report.checked, report.head_seq, report.head_hash) == (True, 0, 0, GENESIS)


def test_verification_streams_in_small_chunks_with_the_same_result() -> None:
    record_events(7)
    assert audit_chain_verify(chunk_size=2).ok


# --- a rolled-back service leaves nothing ------------------------------------------------------


def test_an_event_recorded_in_a_transaction_that_rolls_back_leaves_no_row() -> None:
    record_events(2)
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(actor=Actor.system(), action="test.doomed")
        raise RuntimeError("the service failed after writing its event")
    assert AuditEvent.objects.count() == 2
    assert not AuditEvent.objects.filter(action="test.doomed").exists()
    assert AuditHead.objects.get().seq == 2
    audit_record(actor=Actor.system(), action="test.after")
    assert audit_chain_verify().ok
    assert row(3)["action"] == "test.after"


# --- tampering by direct SQL -------------------------------------------------------------------


@pytest.mark.parametrize(
    "column, value",
    [
        ("summary", "无事发生"),
        ("actor_username", "someone-else"),
        ("ip", "192.168.1.1"),
        ("action", "test.harmless"),
        ("target_id", "999"),
        ("before", '{"phone":"x"}'),
        ("after", '{"phone":"13999999999"}'),
        ("via", "api"),
    ],
)
def test_editing_any_field_of_an_event_is_caught_at_that_event(column: str, value: str) -> None:
    record_events(6)
    sql(f"UPDATE {{t}} SET {q(column)} = %s WHERE seq = 3", [value])  # noqa: S608
    report = audit_chain_verify()
    assert not report.ok
    assert report.first_bad_seq == 3
    assert report.first_bad_id == AuditEvent.objects.get(seq=3).pk
    assert "被修改" in report.problem


def test_editing_the_time_of_an_event_is_caught_at_that_event() -> None:
    events = record_events(6)
    moved = connection.ops.adapt_datetimefield_value(events[3].occurred_at - timedelta(hours=1))
    sql("UPDATE {t} SET occurred_at = %s WHERE seq = 4", [moved])
    assert audit_chain_verify().first_bad_seq == 4


def test_editing_the_actor_of_an_event_is_caught_at_that_event() -> None:
    record_events(6)
    sql("UPDATE {t} SET actor_id = 42 WHERE seq = 2")
    assert audit_chain_verify().first_bad_seq == 2


def test_editing_an_event_and_recomputing_its_hash_is_caught_at_that_event() -> None:
    record_events(6)
    values = row(3)
    values["summary"] = "改写后的摘要"
    sql("UPDATE {t} SET summary = %s, hash = %s WHERE seq = 3", [
        values["summary"], rehash(values, values["prev_hash"]),
    ])  # fmt: skip
    report = audit_chain_verify()
    assert not report.ok
    assert report.first_bad_seq == 3


def test_deleting_an_event_in_the_middle_names_the_missing_event() -> None:
    record_events(6)
    sql("DELETE FROM {t} WHERE seq = 3")
    report = audit_chain_verify()
    assert not report.ok
    assert report.first_bad_seq == 3
    assert "缺失" in report.problem


def test_deleting_an_event_and_closing_the_gap_is_caught_at_the_gap() -> None:
    record_events(6)
    sql("DELETE FROM {t} WHERE seq = 3")
    sql("UPDATE {t} SET seq = seq - 1 WHERE seq > 3")
    sql("UPDATE {h} SET seq = 5")
    report = audit_chain_verify()
    assert not report.ok
    assert report.first_bad_seq == 3


def test_deleting_the_first_event_is_caught() -> None:
    record_events(4)
    sql("DELETE FROM {t} WHERE seq = 1")
    assert audit_chain_verify().first_bad_seq == 1


def test_deleting_the_last_event_names_it() -> None:
    record_events(6)
    sql("DELETE FROM {t} WHERE seq = 6")
    report = audit_chain_verify()
    assert not report.ok
    assert report.first_bad_seq == 6
    assert report.checked == 5


def test_deleting_the_last_two_events_names_the_first_of_them() -> None:
    record_events(6)
    sql("DELETE FROM {t} WHERE seq >= 5")
    assert audit_chain_verify().first_bad_seq == 5


def test_appending_a_forged_event_with_a_correct_own_hash_names_it() -> None:
    events = record_events(6)
    insert_row(forged(7, events[-1].hash))
    report = audit_chain_verify()
    assert not report.ok
    assert report.first_bad_seq == 7
    assert report.first_bad_id == AuditEvent.objects.get(seq=7).pk


def test_inserting_a_forged_event_in_the_middle_names_it() -> None:
    events = record_events(6)
    shift_from(4, 1)  # events 4..6 become 5..7
    insert_row(forged(4, events[2].hash))
    sql("UPDATE {h} SET seq = 7")
    report = audit_chain_verify()
    assert not report.ok
    assert report.first_bad_seq == 4
    assert report.first_bad_id == AuditEvent.objects.get(seq=4).pk


def test_inserting_a_forged_event_before_the_first_names_it() -> None:
    record_events(3)
    insert_row(forged(0, GENESIS))
    report = audit_chain_verify()
    assert not report.ok
    assert report.first_bad_seq == 0


def test_inserting_a_forged_event_into_a_gap_of_sequence_numbers_is_caught() -> None:
    events = record_events(6)
    sql("DELETE FROM {t} WHERE seq = 3")
    insert_row(forged(3, events[1].hash))
    report = audit_chain_verify()
    assert not report.ok
    # The forged 3 chains to 2 and hashes right, but 4 still points at the real 3.
    assert report.first_bad_seq == 3


@pytest.mark.parametrize("first, second", [(2, 5), (3, 4), (1, 6)])
def test_swapping_the_order_of_two_events_is_caught_at_the_earlier_one(
    first: int, second: int
) -> None:
    record_events(6)
    sql("UPDATE {t} SET seq = -1 WHERE seq = %s", [first])
    sql("UPDATE {t} SET seq = %s WHERE seq = %s", [first, second])
    sql("UPDATE {t} SET seq = %s WHERE seq = -1", [second])
    report = audit_chain_verify()
    assert not report.ok
    assert report.first_bad_seq == first


def test_tampering_with_the_head_alone_is_caught() -> None:
    record_events(4)
    sql("UPDATE {h} SET hash = %s", ["f" * 64])
    report = audit_chain_verify()
    assert not report.ok
    assert report.first_bad_seq == 4


def test_events_checked_before_the_bad_one_are_counted() -> None:
    record_events(6)
    sql("UPDATE {t} SET summary = 'x' WHERE seq = 5")
    report = audit_chain_verify()
    assert (report.checked, report.head_seq) == (4, 4)


def test_an_event_appended_by_the_application_during_verification_is_not_taken_for_forgery(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The verifier reads the head, then streams rows; a service committing in between adds a
    # row past the head it read. That is the system at work, not tampering.
    from xueji.audit import selectors

    record_events(3)

    def after_an_append(real: Any) -> Any:
        def verify(rows: Any, head: tuple[int, str]) -> Any:
            audit_record(actor=Actor.system(), action="test.concurrent")
            return real(rows, head)

        return verify

    # An intact chain is verified by the fast path (verify_payloads) alone.
    monkeypatch.setattr(selectors, "verify_payloads", after_an_append(selectors.verify_payloads))
    monkeypatch.setattr(selectors, "verify_rows", after_an_append(selectors.verify_rows))
    report = selectors.audit_chain_verify()
    assert report.ok, report.problem
    assert report.head_seq == 3
    monkeypatch.undo()
    assert audit_chain_verify().head_seq == 4


@pytest.mark.django_db
def test_an_intact_chain_is_verified_by_the_database_assembled_fast_path():
    # The fast path must not silently fall back to the slow one: the database must assemble
    # exactly the text the hash covers, on SQLite and on PostgreSQL alike.
    from xueji.audit.selectors import _head, _verify_intact

    for number in range(5):
        audit_record(
            actor=Actor.system(),
            action="test.fast",
            target_id=str(number),
            summary="摘要",
            before={"甲": number},
            after={"乙": [number, None]},
        )
    report = _verify_intact(_head(), 2)
    assert report is not None and report.ok
