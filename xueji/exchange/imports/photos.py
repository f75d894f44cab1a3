"""Student photos (kind "photos"): a zip of JPG/PNG files named <学号>.jpg or <考生号>.jpg.

The zip's directory is checked before anything is extracted (entry count, total and per-file
uncompressed size: the zip-bomb guard). Then each entry, at any folder depth (``__MACOSX/``,
dotfiles and Thumbs.db/desktop.ini are ignored): its name must match exactly one student the
importer may edit, it must decode as a JPEG or PNG within the size limits, and no student may
appear twice. The error report has one row per zip entry.

The commit stores each photo as JPEG (PNG converted) under a name that carries its content
hash, so a new file never overwrites one that a history row still points to, and a failed
commit deletes only the files it wrote. Re-importing identical photos changes nothing: the
stored file's bytes are hashed and compared.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop
from PIL import Image, UnidentifiedImageError

from xueji.accounts.models import Role, User
from xueji.core.context import Actor
from xueji.core.exceptions import DomainError
from xueji.exchange.imports import permissions, sheet
from xueji.exchange.imports.kinds import ImportKind
from xueji.jobs.models import Job
from xueji.jobs.progress import Progress
from xueji.students.models import Student
from xueji.students.permissions import grant_covers

DRY_RUN = "import.photos.dry_run"
COMMIT = "import.photos.commit"

# Limits. CHSI's 学历照片 are 480×640 JPGs of some tens of KB; admission photos are similar.
MAX_ENTRIES = 20_000  # files in one zip: a large school's whole intake
MAX_TOTAL = 1024 * 1024 * 1024  # 1 GiB uncompressed in all
MAX_FILE = 5 * 1024 * 1024  # 5 MB per photo: a phone photo fits, a scan at 600 dpi does not
MAX_RATIO = 200  # uncompressed / compressed for one entry; JPEG/PNG barely compress
MIN_SIDE, MAX_SIDE = 150, 6000  # px: below is unrecognisable, above is not a portrait photo
MAX_UPLOAD = 500 * 1024 * 1024
SUFFIXES = (".jpg", ".jpeg", ".png")
IGNORED = {"thumbs.db", "desktop.ini"}
FILE = "FILE"
LABEL = "文件"


@dataclass
class PhotoItem:
    number: int  # the entry's position among the zip's files (the report's row)
    name: str
    student: Student
    content: bytes  # what will be stored (JPEG)
    digest: str


def _refuse(message: str) -> DomainError:
    return DomainError(message, field="file")


def entries(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The photo entries, after the zip-bomb guard on the directory (nothing extracted yet)."""
    files = [info for info in archive.infolist() if not info.is_dir()]
    if len(files) > MAX_ENTRIES:
        raise _refuse(f"压缩包内有 {len(files)} 个文件，超过上限 {MAX_ENTRIES}，请分批导入。")
    total = sum(info.file_size for info in files)
    if total > MAX_TOTAL:
        raise _refuse(
            f"压缩包解压后共 {total / 1024 / 1024:.0f} MB，超过上限 "
            f"{MAX_TOTAL // 1024 // 1024} MB，请分批导入。"
        )
    for info in files:
        if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise _refuse(
                f"压缩包中的“{info.filename}”解压后 {info.file_size} 字节，"
                f"是压缩后的 {info.file_size // max(info.compress_size, 1)} 倍，"
                "压缩比异常（照片几乎不可压缩），已拒绝整个压缩包。"
            )
    return [info for info in files if not _ignored(info.filename)]


def _ignored(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return (
        parts[0] == "__MACOSX"
        or any(part.startswith(".") for part in parts)
        or parts[-1].lower() in IGNORED
    )


def _stem(name: str) -> tuple[str, str]:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, suffix = base.rpartition(".")
    return ("".join(stem.split()).upper(), f".{suffix.lower()}") if dot else (base, "")


def _decode(data: bytes) -> tuple[bytes | None, str]:
    """The bytes to store (JPEG as uploaded; PNG converted), or None and the reason."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format
            width, height = image.size
            if kind not in ("JPEG", "PNG"):
                return None, f"不是 JPG 或 PNG 图片（实为 {kind}）"
            if min(width, height) < MIN_SIDE or max(width, height) > MAX_SIDE:
                return None, (
                    f"图片为 {width}×{height} 像素，应在 {MIN_SIDE} 至 {MAX_SIDE} 像素之间"
                    "（学信网照片为 480×640）"
                )
            image.load()
            if kind == "JPEG":
                return data, ""
            out = io.BytesIO()
            flat = image.convert("RGBA")
            background = Image.new("RGB", flat.size, (255, 255, 255))
            background.paste(flat, mask=flat.getchannel("A"))
            background.save(out, format="JPEG", quality=92)
            return out.getvalue(), ""
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None, "无法识别为图片，文件可能已损坏"


def _in_scope(user: User, student: Student) -> bool:
    return grant_covers(user, student, Role.REGISTRAR) or grant_covers(
        user, student, Role.COLLEGE_ADMIN
    )


def _stored_digest(student: Student) -> str | None:
    if not student.photo:
        return None
    try:
        with default_storage.open(student.photo.name, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError:
        return None


def validate(
    data: bytes,
    *,
    user: User,
    tick: Callable[[int], None] | None = None,
    counted: Callable[[int], None] | None = None,
) -> sheet.SheetPlan:
    """Check every photo in the zip `data`; nothing is written. `counted` hears how many
    entries will be checked (after the zip-bomb guard), `tick` how many are done."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise _refuse("无法读取该压缩包，请上传 zip 格式的文件。") from exc
    with archive:
        infos = entries(archive)
        if not infos:
            raise _refuse("压缩包中没有照片文件：请把以学号或考生号命名的照片打包后上传。")
        if counted:
            counted(len(infos))
        plan = sheet.SheetPlan(
            header=["文件名"],
            raw=[(i, [info.filename]) for i, info in enumerate(infos, start=1)],
            positions={FILE: 0},
        )
        stems = {_stem(info.filename)[0] for info in infos}
        by_number = {
            s.student_number.upper(): s for s in Student.objects.filter(student_number__in=stems)
        }
        by_candidate = {
            s.candidate_number.upper(): s
            for s in Student.objects.filter(candidate_number__in=stems)
        }
        errors: list[sheet.KindRowError] = []
        seen: dict[int, str] = {}

        def fail(number: int, name: str, reason: str) -> None:
            errors.append(sheet.KindRowError(number, FILE, name, reason, LABEL))

        for number, info in enumerate(infos, start=1):
            name = info.filename
            stem, suffix = _stem(name)
            if suffix not in SUFFIXES:
                fail(number, name, "只接受 .jpg、.jpeg 或 .png 照片文件")
                continue
            matches = {s.pk: s for s in (by_number.get(stem), by_candidate.get(stem)) if s}
            if len(matches) > 1:
                fail(number, name, f"“{stem}”既是一名学生的学号又是另一名学生的考生号，无法确定")
                continue
            student = next(iter(matches.values()), None)
            if student is None or not _in_scope(user, student):
                fail(number, name, f"“{stem}”不是您管理范围内学生的学号或考生号")
                continue
            if student.pk in seen:
                fail(number, name, f"与“{seen[student.pk]}”是同一名学生的照片")
                continue
            seen[student.pk] = name
            if info.file_size > MAX_FILE:
                fail(
                    number,
                    name,
                    f"文件 {info.file_size // 1024} KB，超过 {MAX_FILE // 1024 // 1024} MB",
                )
                continue
            try:
                with archive.open(info) as handle:
                    raw = handle.read(MAX_FILE + 1)
            except (zipfile.BadZipFile, zlib.error, EOFError):  # CRC, truncated data
                fail(number, name, "压缩包中该文件已损坏（校验失败或数据不完整），请重新打包后上传")
                continue
            except (NotImplementedError, RuntimeError):  # deflate64/bzip2 …, or encrypted
                fail(number, name, "该文件加密或使用了不支持的压缩方式；请用 zip 标准压缩重新打包")
                continue
            content, reason = _decode(raw)
            if content is None:
                fail(number, name, reason)
                continue
            digest = hashlib.sha256(content).hexdigest()
            item = PhotoItem(number, name, student, content, digest)
            stored = _stored_digest(student)
            if stored == digest:
                plan.unchanged += 1
            elif stored is None:
                plan.new.append(item)
            else:
                plan.updates.append(item)
            if tick and number % 100 == 0:
                tick(100)
        if tick:
            tick(len(infos) % 100)
    plan.errors = errors
    return plan


def _load(job: Job, progress: Progress) -> tuple[sheet.SheetPlan, str, User]:
    user = job.created_by
    if user is None or not permissions.can_import_freshmen(user):
        raise DomainError("只有校级学籍管理员和学院教务员可以导入照片。")
    progress.phase("读取", 1)
    data, digest, _ = sheet.job_input(job)
    progress.advance()
    plan = validate(
        data,
        user=user,
        tick=progress.advance,
        counted=lambda total: progress.phase("校验", total),
    )
    progress.check_cancel()
    return plan, digest, user


def run_dry_run(job: Job, progress: Progress) -> dict[str, Any]:
    plan, digest, _ = _load(job, progress)
    return sheet.dry_run_result(job, plan, digest)


def run_commit(job: Job, progress: Progress) -> dict[str, Any]:
    plan, digest, user = _load(job, progress)
    sheet.refuse_if_errors(job, plan)
    items: list[PhotoItem] = [*plan.new, *plan.updates]
    progress.phase("写入", len(items))
    actor = Actor(user=user, via=job.params.get("via", "job"))
    now = timezone.now()
    written: list[str] = []
    try:
        with transaction.atomic():
            students: list[Student] = []
            for item in items:
                student = item.student
                name = f"photos/{student.student_number}-{item.digest[:16]}.jpg"
                written.append(default_storage.save(name, ContentFile(item.content)))
                student.photo.name = written[-1]
                student.updated_at = now
                students.append(student)
            Student.objects.bulk_update(students, ["photo", "updated_at"], batch_size=1000)
            Student.history.bulk_history_create(  # type: ignore[attr-defined]
                students,
                batch_size=1000,
                update=True,
                default_user=user,
                default_change_reason="照片导入",
                default_date=now,
            )
            sheet.audit_import(
                actor=actor,
                job=job,
                kind="photos",
                title="照片导入",
                outcome=f"新增 {len(plan.new)} 张，更换 {len(plan.updates)} 张，"
                f"未变 {plan.unchanged} 张",
                digest=digest,
                counts={"files": plan.rows, "created": len(plan.new),
                        "updated": len(plan.updates), "unchanged": plan.unchanged},
            )  # fmt: skip
    except BaseException:
        # The database rolled back: take back the files this commit wrote, and only those.
        for name in written:
            default_storage.delete(name)
        raise
    # Progress is reported outside the transaction (it writes the job row).
    progress.advance(len(items))
    return {**plan.counts(), "sha256": digest, "created": len(plan.new),
            "updated": len(plan.updates)}  # fmt: skip


KIND = ImportKind(
    key="photos",
    title=gettext_noop("照片导入"),
    may_run=permissions.can_import_freshmen,
    refusal=gettext_noop("只有校级学籍管理员和学院教务员可以导入照片。"),
    template=None,
    template_name="",
    dry_run_kind=DRY_RUN,
    commit_kind=COMMIT,
    summary=gettext_noop("zip 压缩包，照片以学号或考生号命名（如 2024000001.jpg），JPG 或 PNG。"),
    suffixes=(".zip",),
    file_label=gettext_noop("照片压缩包"),
    file_help=gettext_noop("zip 文件；照片名为学号或考生号，JPG 或 PNG，每张不超过 5 MB"),
    unit="张",
    max_upload=MAX_UPLOAD,
    order=30,
)
