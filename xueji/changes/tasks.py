"""Background jobs of status changes: apply a future-dated change on its day."""

from __future__ import annotations

from django.tasks import task

from xueji.changes.models import ChangeRequest, ChangeStatus
from xueji.core.context import Actor


@task
def change_apply_task(request_id: int) -> str:
    """Apply one approved change (scheduled for its effective date); a no-op if already done.

    The periodic sweep `changes_apply_due` applies anything this task missed (a worker that was
    down on the day), so a lost task delays a change by at most one sweep, never drops it.
    """
    from xueji.changes.services import change_apply

    request = ChangeRequest.objects.get(pk=request_id)
    if request.status != ChangeStatus.APPROVED:
        return request.status
    change_apply(actor=Actor.system(via="task"), request=request)
    return ChangeStatus.APPLIED
