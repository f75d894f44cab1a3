"""`manage.py audit_verify`: passes and prints the head on an intact chain, fails naming the
first bad event after tampering, and `--expect-head` catches a chain rewritten end to end."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from xueji.audit.models import AuditEvent
from xueji.audit.tests.test_chain import (  # noqa: F401 (autouse fixtures)
    empty_chain,
    forged,
    insert_row,
    record_events,
    rehash,
    row,
    sql,
)

pytestmark = pytest.mark.django_db


def verify(*args: str) -> str:
    out = StringIO()
    call_command("audit_verify", *args, stdout=out)
    return out.getvalue()


def refusal(*args: str) -> str:
    with pytest.raises(CommandError) as caught:
        verify(*args)
    return str(caught.value)


def rewrite_from(seq: int, summary: str) -> None:
    """Edit event `seq` and recompute every later hash and the head: a thorough forger."""
    values = row(seq)
    values["summary"] = summary
    previous = values["prev_hash"]
    last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True)[0]
    for n in range(seq, last + 1):
        current = values if n == seq else row(n)
        digest = rehash(current, previous)
        sql(
            "UPDATE {t} SET summary = %s, prev_hash = %s, hash = %s WHERE seq = %s",
            [current["summary"], previous, digest, n],
        )
        previous = digest
    sql("UPDATE {h} SET hash = %s", [previous])


def test_an_intact_chain_passes_and_prints_its_head() -> None:
    events = record_events(5)
    output = verify()
    assert "audit chain OK: 5 events" in output
    assert f"chain head: 5:{events[-1].hash}" in output


def test_an_empty_chain_passes() -> None:
    assert "chain head: 0:" + "0" * 64 in verify()


def test_an_edited_event_fails_naming_its_sequence_number() -> None:
    record_events(5)
    sql("UPDATE {t} SET summary = %s WHERE seq = 2", ["无事发生"])
    message = refusal()
    assert "first bad event seq=2 " in message
    assert f"id={AuditEvent.objects.get(seq=2).pk}" in message


def test_a_deleted_event_in_the_middle_fails_naming_it() -> None:
    record_events(5)
    sql("DELETE FROM {t} WHERE seq = 3")
    assert "first bad event seq=3 " in refusal()


def test_a_deleted_last_event_fails_naming_it() -> None:
    record_events(5)
    sql("DELETE FROM {t} WHERE seq = 5")
    assert "first bad event seq=5 " in refusal()


def test_a_forged_event_appended_with_its_own_hash_fails_naming_it() -> None:
    events = record_events(5)
    insert_row(forged(6, events[-1].hash))
    assert "first bad event seq=6 " in refusal()


def test_two_swapped_events_fail_naming_the_earlier() -> None:
    record_events(5)
    sql("UPDATE {t} SET seq = -1 WHERE seq = 2")
    sql("UPDATE {t} SET seq = 2 WHERE seq = 4")
    sql("UPDATE {t} SET seq = 4 WHERE seq = -1")
    assert "first bad event seq=2 " in refusal()


def test_the_head_printed_earlier_is_accepted_while_the_chain_grows() -> None:
    record_events(3)
    head = verify().split("chain head: ")[1].strip()
    record_events(2)
    assert "audit chain OK: 5 events" in verify("--expect-head", head)


def test_a_chain_rewritten_from_an_old_event_on_passes_alone_but_fails_the_kept_head() -> None:
    record_events(5)
    kept = verify().split("chain head: ")[1].strip()
    rewrite_from(2, "改写过的历史")
    assert "audit chain OK: 5 events" in verify()  # internally consistent again
    message = refusal("--expect-head", kept)
    assert "the chain was rewritten" in message
    assert "(5)" in message


def test_a_kept_head_beyond_a_truncated_chain_fails() -> None:
    record_events(5)
    kept = verify().split("chain head: ")[1].strip()
    sql("DELETE FROM {t} WHERE seq >= 4")
    sql("UPDATE {h} SET seq = 3, hash = %s", [row(3)["hash"]])
    assert "audit chain OK: 3 events" in verify()
    assert "the chain was rewritten" in refusal("--expect-head", kept)


@pytest.mark.parametrize("value", ["5", "five:abc", ":"])
def test_a_malformed_expected_head_is_refused(value: str) -> None:
    record_events(1)
    assert refusal("--expect-head", value) == "--expect-head must look like SEQ:HASH"
