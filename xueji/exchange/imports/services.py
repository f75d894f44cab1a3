"""Starting freshman imports: a dry run from an upload, and the commit (from a clean dry run
on the page, or straight from an upload over the API; the commit job checks again)."""

from __future__ import annotations

from django.core.files.base import File
from django.core.files.uploadedfile import UploadedFile

from xueji.core.context import Actor
from xueji.core.exceptions import DomainError, PermissionDenied
from xueji.exchange.imports import permissions
from xueji.exchange.imports.reader import SPREADSHEET_SUFFIXES
from xueji.exchange.imports.runner import COMMIT, DRY_RUN
from xueji.jobs.models import Job, JobStatus
from xueji.jobs.services import job_create

MAX_UPLOAD = 50 * 1024 * 1024


def freshman_import_start(*, actor: Actor, upload: UploadedFile, dry_run: bool = True) -> Job:
    """Queue a dry run (or, with dry_run=False, a commit) of the uploaded freshman file.

    Raises PermissionDenied for users who may not import, DomainError for a file that is not a
    spreadsheet or CSV. Side effect: the job is queued when the transaction commits.
    """
    user = actor.user
    if user is None or not permissions.can_import_freshmen(user):
        raise PermissionDenied("只有校级学籍管理员和学院教务员可以导入新生。")
    name = (upload.name or "").rsplit("/", 1)[-1]
    if not name.lower().endswith((*SPREADSHEET_SUFFIXES, ".csv")):
        raise DomainError("只接受 xlsx、xls 或 CSV 文件。", field="file")
    if upload.size and upload.size > MAX_UPLOAD:
        raise DomainError("文件超过 50 MB，请分批导入。", field="file")
    title = f"新生导入{'预检' if dry_run else ''}：{name}"
    return job_create(
        actor=actor,
        kind=DRY_RUN if dry_run else COMMIT,
        title=title,
        params={"filename": name, "via": actor.via},
        input_file=upload,
    )


def freshman_import_confirm(*, actor: Actor, dry_run: Job) -> Job:
    """Queue the commit of a dry run that finished without errors (the same file).

    Raises PermissionDenied for another user's dry run, DomainError when the dry run is not
    finished or found errors.
    """
    user = actor.user
    if user is None or not permissions.can_import_freshmen(user):
        raise PermissionDenied("只有校级学籍管理员和学院教务员可以导入新生。")
    if dry_run.kind != DRY_RUN:
        raise DomainError("只能确认新生导入预检任务。")
    if dry_run.created_by_id != user.pk:
        raise PermissionDenied("只能确认自己发起的预检。")
    if dry_run.status != JobStatus.SUCCEEDED:
        raise DomainError("预检尚未完成，不能确认导入。")
    if dry_run.result.get("errors"):
        raise DomainError("预检发现错误，请修正后重新上传；导入要么全部成功，要么不导入。")
    if Job.objects.filter(kind=COMMIT, params__dry_run=dry_run.pk).exists():
        raise DomainError("该预检已确认导入过。")
    name = dry_run.params.get("filename", "import.xlsx")
    with dry_run.input_file.open("rb") as handle:
        return job_create(
            actor=actor,
            kind=COMMIT,
            title=f"新生导入：{name}",
            params={"filename": name, "via": actor.via, "dry_run": dry_run.pk},
            input_file=File(handle, name=name),
        )
