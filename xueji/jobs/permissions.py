from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from xueji.accounts.models import User
    from xueji.jobs.models import Job


def can_view_job(user: User, job: Job) -> bool:
    return user.is_authenticated and (job.created_by_id == user.pk or user.is_registrar)


def can_manage_job(user: User, job: Job) -> bool:
    return can_view_job(user, job)
