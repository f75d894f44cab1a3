from __future__ import annotations

from django.db.models import Q, QuerySet

from xueji.accounts.models import User
from xueji.core.exceptions import NotFound
from xueji.jobs.models import Job


def jobs_visible_to(user: User) -> QuerySet[Job]:
    if not user.is_authenticated:
        return Job.objects.none()
    if user.is_registrar:
        return Job.objects.select_related("created_by")
    return Job.objects.filter(Q(created_by=user)).select_related("created_by")


def get_job_for(user: User, pk: int) -> Job:
    job = jobs_visible_to(user).filter(pk=pk).first()
    if job is None:
        raise NotFound("未找到该任务，或您无权查看。")
    return job
