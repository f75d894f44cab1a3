"""Writing audit events. Every service that changes data calls `audit_record` in its transaction."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.utils import timezone

from xueji.audit.chain import canonical_json, event_hash
from xueji.audit.models import AuditEvent, AuditHead
from xueji.core.context import Actor


def audit_record(
    *,
    actor: Actor,
    action: str,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str = "",
    summary: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction.

    Locks the chain head so concurrent writers append one after another; if the caller's
    transaction rolls back, the event (and the head move) roll back with it.
    """
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or str(target.pk)
    user = actor.user
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(id=1)
        seq = head.seq + 1
        fields = {
            "seq": seq,
            "occurred_at": timezone.now(),
            "actor_id": user.pk if user is not None else None,
            "actor_username": user.get_username() if user is not None else "system",
            "actor_role": getattr(user, "role_label", "") if user is not None else "system",
            "ip": actor.ip,
            "user_agent": actor.user_agent,
            "via": actor.via,
            "action": action,
            "target_type": target_type,
            "target_id": str(target_id)[:80],
            "summary": summary[:400],
            "before": canonical_json(before),
            "after": canonical_json(after),
        }
        digest = event_hash(prev_hash=head.hash, **fields)
        event = AuditEvent.objects.create(prev_hash=head.hash, hash=digest, **fields)
        head.seq = seq
        head.hash = digest
        head.save(update_fields=["seq", "hash"])
    return event
