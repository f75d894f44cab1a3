"""Reads of the cross-check: batches and the discrepancy queue, scoped.

The registrar and school auditors see every difference; a college admin sees those of their
college (the student's college, or for an admitted-but-not-registered candidate the college
of the admitted major). Anything else is NotFound, never 403.
"""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from xueji.accounts.models import Role, Scope, User
from xueji.core.exceptions import NotFound
from xueji.exchange.crosscheck import permissions
from xueji.exchange.models import AdmissionBatch, Discrepancy, DiscrepancyStatus

NOTHING = Q(pk__in=[])


def _discrepancy_scope(user: User, prefix: str = "") -> Q:
    """A Q on Discrepancy (fields under `prefix`) selecting what `user` may see."""
    if not permissions.can_view_queue(user):
        return NOTHING
    colleges: list[int] = []
    for grant in user.active_grants:
        if grant.role == Role.REGISTRAR or (
            grant.role == Role.AUDITOR and grant.scope == Scope.SCHOOL
        ):
            return Q()
        if grant.role == Role.COLLEGE_ADMIN and grant.scope == Scope.COLLEGE and grant.college_id:
            colleges.append(grant.college_id)
    return Q(**{f"{prefix}college_id__in": colleges}) if colleges else NOTHING


def batch_list_visible_to(user: User) -> QuerySet[AdmissionBatch]:
    """Batches with the number of open differences the user can see in each."""
    if not permissions.can_view_queue(user):
        return AdmissionBatch.objects.none()
    open_here = Q(discrepancies__status=DiscrepancyStatus.OPEN) & _discrepancy_scope(
        user, prefix="discrepancies__"
    )
    return (
        AdmissionBatch.objects.select_related("loaded_by")
        .annotate(open_count=Count("discrepancies", filter=open_here, distinct=True))
        .order_by("-loaded_at", "-pk")
    )


def get_batch_for(user: User, pk: int) -> AdmissionBatch:
    batch = batch_list_visible_to(user).filter(pk=pk).first()
    if batch is None:
        raise NotFound("未找到该录取数据批次，或您无权查看。")
    return batch


def discrepancy_list(
    user: User,
    *,
    batch: AdmissionBatch | None = None,
    status: str = "",
    kind: str = "",
    field: str = "",
    college: int | None = None,
) -> QuerySet[Discrepancy]:
    """The queue as `user` may see it, by batch, 考生号, kind and field. `college` narrows it
    to one college's differences (within what the user may see: never wider)."""
    rows = Discrepancy.objects.filter(_discrepancy_scope(user)).select_related(
        "student", "college", "resolved_by", "batch"
    )
    if batch is not None:
        rows = rows.filter(batch=batch)
    if status:
        rows = rows.filter(status=status)
    if kind:
        rows = rows.filter(kind=kind)
    if field:
        rows = rows.filter(field=field)
    if college is not None:
        rows = rows.filter(college_id=college)
    return rows.order_by("batch", "candidate_number", "kind", "field", "pk")


def get_discrepancy_for(user: User, pk: int) -> Discrepancy:
    found = discrepancy_list(user).filter(pk=pk).first()
    if found is None:
        raise NotFound("未找到该差异，或您无权查看。")
    return found


def discrepancy_counts(user: User, batch: AdmissionBatch) -> dict[str, int]:
    """Counts by status of the differences `user` can see in `batch`."""
    rows = discrepancy_list(user, batch=batch).order_by().values("status")
    counts = {row["status"]: row["n"] for row in rows.annotate(n=Count("pk"))}
    return {status: counts.get(status, 0) for status in DiscrepancyStatus.values}
