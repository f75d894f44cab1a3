"""Starting imports of any kind (see `kinds`): a dry run from an upload, and the commit (from
a clean dry run on the page, or straight from an upload over the API; the commit job checks
again). `freshman_import_start` / `freshman_import_confirm` are the freshman kind's."""

from __future__ import annotations

from django.core.files.base import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from xueji.core.context import Actor
from xueji.core.exceptions import DomainError, PermissionDenied
from xueji.exchange.imports.kinds import ImportKind, get_kind, kind_of_job
from xueji.jobs.models import Job, JobStatus
from xueji.jobs.services import job_create

MAX_UPLOAD = 50 * 1024 * 1024
MAX_SYSTEM = 40


def _suffixes(kind: ImportKind) -> str:
    shown = [
        s.lstrip(".").replace("csv", "CSV") for s in kind.suffixes if s not in (".xlsm", ".ods")
    ]
    return "、".join(shown[:-1]) + " 或 " + shown[-1] if len(shown) > 1 else shown[0]


def import_start(
    *,
    actor: Actor,
    kind: str,
    upload: UploadedFile,
    dry_run: bool = True,
    system: str = "",
) -> Job:
    """Queue a dry run (or, with dry_run=False, a commit) of `upload` as an import of `kind`.

    `system` (来源系统) asks kinds that accept it to translate code columns through the code
    mappings of that system. Raises NotFound for an unknown kind, PermissionDenied for users
    who may not run it, DomainError for a file of the wrong type or size. Side effect: the job
    is queued when the transaction commits.
    """
    found = get_kind(kind)
    user = actor.user
    if user is None or not found.may_run(user):
        raise PermissionDenied(found.refusal)
    name = (upload.name or "").replace("\\", "/").rsplit("/", 1)[-1]
    if not name.lower().endswith(found.suffixes):
        raise DomainError(f"只接受 {_suffixes(found)} 文件。", field="file")
    if upload.size and upload.size > found.max_upload:
        mb = found.max_upload // (1024 * 1024)
        raise DomainError(f"文件超过 {mb} MB，请分批导入。", field="file")
    system = " ".join(system.split())
    if system and not found.accepts_system:
        raise DomainError(f"{found.title}不使用来源系统代码映射。", field="system")
    if len(system) > MAX_SYSTEM:
        raise DomainError(f"来源系统最长 {MAX_SYSTEM} 字。", field="system")
    params = {"filename": name, "via": actor.via, "import": found.key, "output_private": True}
    if system:
        params["system"] = system
    return job_create(
        actor=actor,
        kind=found.dry_run_kind if dry_run else found.commit_kind,
        title=f"{found.title}{'预检' if dry_run else ''}：{name}",
        params=params,
        input_file=upload,
    )


def import_confirm(*, actor: Actor, dry_run: Job) -> Job:
    """Queue the commit of a dry run that finished without errors (the same file and options).

    Raises PermissionDenied for another user's dry run (or a user who may no longer run the
    kind), DomainError when the job is not a dry run, not finished, or found errors.
    """
    kind = kind_of_job(dry_run.kind)
    if kind is None or dry_run.kind != kind.dry_run_kind:
        raise DomainError("只能确认导入预检任务。")
    user = actor.user
    if user is None or not kind.may_run(user):
        raise PermissionDenied(kind.refusal)
    if dry_run.created_by_id != user.pk:
        raise PermissionDenied("只能确认自己发起的预检。")
    if dry_run.status != JobStatus.SUCCEEDED:
        raise DomainError("预检尚未完成，不能确认导入。")
    if dry_run.result.get("errors"):
        raise DomainError("预检发现错误，请修正后重新上传；导入要么全部成功，要么不导入。")
    name = dry_run.params.get("filename", "import.xlsx")
    params = {
        "filename": name,
        "via": actor.via,
        "dry_run": dry_run.pk,
        "import": kind.key,
        "output_private": True,
    }
    if dry_run.params.get("system"):
        params["system"] = dry_run.params["system"]
    with transaction.atomic():
        # The dry run's row lock makes "confirmed once" hold for two quick clicks too.
        Job.objects.select_for_update().filter(pk=dry_run.pk).first()
        if Job.objects.filter(kind=kind.commit_kind, params__dry_run=dry_run.pk).exists():
            raise DomainError("该预检已确认导入过。")
        with dry_run.input_file.open("rb") as handle:
            return job_create(
                actor=actor,
                kind=kind.commit_kind,
                title=f"{kind.title}：{name}",
                params=params,
                input_file=File(handle, name=name),
            )


def freshman_import_start(*, actor: Actor, upload: UploadedFile, dry_run: bool = True) -> Job:
    """Queue a dry run (or a commit) of a freshman file; see `import_start`."""
    return import_start(actor=actor, kind="freshmen", upload=upload, dry_run=dry_run)


def freshman_import_confirm(*, actor: Actor, dry_run: Job) -> Job:
    """Queue the commit of a clean freshman dry run; see `import_confirm`."""
    if dry_run.kind != get_kind("freshmen").dry_run_kind:
        raise DomainError("只能确认新生导入预检任务。")
    return import_confirm(actor=actor, dry_run=dry_run)
