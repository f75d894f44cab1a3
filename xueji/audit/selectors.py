"""Reading and verifying the audit chain."""

from __future__ import annotations

from django.db.models import QuerySet

from xueji.audit.chain import FIELDS, ChainReport, verify_rows
from xueji.audit.models import AuditEvent, AuditHead


def audit_chain_verify(*, chunk_size: int = 20_000) -> ChainReport:
    """Verify every event in sequence order, streaming so memory stays flat at millions of rows.

    Returns a report naming the first bad event; raises nothing.
    """
    head = AuditHead.objects.filter(id=1).values_list("seq", "hash").first()
    rows = AuditEvent.objects.order_by("seq").values_list(*FIELDS).iterator(chunk_size=chunk_size)
    return verify_rows(rows, head if head is not None else (0, "0" * 64))


def audit_event_list(
    *, action: str = "", target_id: str = "", actor: str = ""
) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.order_by("-seq")
    if action:
        events = events.filter(action__startswith=action)
    if target_id:
        events = events.filter(target_id=target_id)
    if actor:
        events = events.filter(actor_username=actor)
    return events


def audit_events_for_target(*, target_type: str, target_id: str) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(target_type=target_type, target_id=target_id).order_by("seq")
