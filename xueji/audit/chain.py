"""The audit hash chain: how a row's hash is computed, and how the whole chain is verified."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
_SEP = "\x1f"


def canonical_json(value: Any) -> str:
    """Stable JSON text: sorted keys, no spaces, Chinese kept as is."""
    if value is None:
        return ""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def event_hash(
    *,
    prev_hash: str,
    seq: int,
    occurred_at: datetime,
    actor_id: int | None,
    actor_username: str,
    actor_role: str,
    ip: str,
    user_agent: str,
    via: str,
    action: str,
    target_type: str,
    target_id: str,
    summary: str,
    before: str,
    after: str,
) -> str:
    parts = (
        prev_hash,
        str(seq),
        occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "" if actor_id is None else str(actor_id),
        actor_username,
        actor_role,
        ip,
        user_agent,
        via,
        action,
        target_type,
        target_id,
        summary,
        before,
        after,
    )
    return hashlib.sha256(_SEP.join(parts).encode()).hexdigest()


# Column order used by the verifier's streaming query.
FIELDS = (
    "id",
    "seq",
    "occurred_at",
    "actor_id",
    "actor_username",
    "actor_role",
    "ip",
    "user_agent",
    "via",
    "action",
    "target_type",
    "target_id",
    "summary",
    "before",
    "after",
    "prev_hash",
    "hash",
)


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    first_bad_id: int | None = None
    problem: str = ""


def verify_rows(
    rows: Iterable[tuple[Any, ...]], stored_head: tuple[int, str] | None
) -> ChainReport:
    """Walk rows in `seq` order and report the first one that breaks the chain.

    A row is bad when its stored hash does not match its content (edited), when its prev_hash
    is not the previous row's hash (deleted, inserted or reordered), or when its seq does not
    follow the previous seq by one (deleted or inserted). The stored head must match the last
    row, which catches deletion of the newest rows.
    """
    prev = GENESIS
    expected_seq = 1
    checked = 0
    last_seq = 0
    for row in rows:
        (
            row_id,
            seq,
            occurred_at,
            actor_id,
            username,
            role,
            ip,
            agent,
            via,
            action,
            target_type,
            target_id,
            summary,
            before,
            after,
            prev_hash,
            stored,
        ) = row
        if seq != expected_seq:
            return ChainReport(
                False,
                checked,
                last_seq,
                prev,
                seq,
                row_id,
                f"序号不连续：应为 {expected_seq}，实为 {seq}（有事件被删除、插入或调换）",
            )
        if prev_hash != prev:
            return ChainReport(
                False,
                checked,
                last_seq,
                prev,
                seq,
                row_id,
                "前序哈希与上一事件不符（有事件被删除、插入或调换）",
            )
        computed = event_hash(
            prev_hash=prev_hash,
            seq=seq,
            occurred_at=occurred_at,
            actor_id=actor_id,
            actor_username=username,
            actor_role=role,
            ip=ip,
            user_agent=agent,
            via=via,
            action=action,
            target_type=target_type,
            target_id=target_id,
            summary=summary,
            before=before,
            after=after,
        )
        if computed != stored:
            return ChainReport(
                False, checked, last_seq, prev, seq, row_id, "事件内容与其哈希不符（事件被修改）"
            )
        prev = stored
        last_seq = seq
        expected_seq += 1
        checked += 1
    if stored_head is not None and (stored_head[0] != last_seq or stored_head[1] != prev):
        return ChainReport(
            False,
            checked,
            last_seq,
            prev,
            last_seq + 1,
            None,
            f"链头记录为 #{stored_head[0]}，但最后一个事件是 #{last_seq}（末尾事件被删除或追加）",
        )
    return ChainReport(True, checked, last_seq, prev)
