"""Starting a CHSI export (a job) and the job's runner.

The runner reads and checks first, builds the file in memory, and only at the end saves the file
and writes the export's audit event (who, purpose, filters, rows, the file's SHA-256) in one
transaction: a cancelled or failed export leaves neither a file on the job nor an audit event.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from xueji.audit.services import audit_record
from xueji.core.context import Actor
from xueji.core.exceptions import DomainError, PermissionDenied, ValidationFailed
from xueji.core.masking import mask_id_number
from xueji.exchange.chsi import new_students, permissions, selectors
from xueji.exchange.chsi.files import ExportFormat, write_dbf_file, write_xlsx
from xueji.jobs.models import Job
from xueji.jobs.progress import Progress
from xueji.jobs.services import job_create
from xueji.org.models import College
from xueji.org.selectors import school_current

KIND_NEW_STUDENTS = "chsi.new_students"
TITLES = {KIND_NEW_STUDENTS: "学信网新生注册数据"}
SUGGESTED_PURPOSES = ("学信网新生注册上报", "新生注册数据核对")


def chsi_export_start(
    *,
    actor: Actor,
    cohort_year: int | None,
    college_id: int | None,
    fmt: str,
    purpose: str,
    full_id: bool = False,
    valid_only: bool = False,
) -> Job:
    """Queue a new-student registration export as a job (`chsi.new_students`).

    Raises PermissionDenied for roles that may not export or for unmasked IDs without the
    full-ID grant; NotFound for a college or cohort outside the caller's scope;
    ValidationFailed when no cohort or college is chosen, the format is unknown or the purpose
    is missing. Side effect: the job is queued on commit.
    """
    user = actor.user
    if user is None or not permissions.can_export_chsi(user):
        raise PermissionDenied("只有校级学籍管理员和二级学院教务员可以导出学信网数据。")
    errors: dict[str, list[str]] = {}
    purpose = purpose.strip()
    if not purpose:
        errors["purpose"] = ["请填写导出用途，如“学信网新生注册上报”；每次导出都会记录用途。"]
    if cohort_year is None and college_id is None:
        errors["cohort"] = ["请至少选择年级或学院。"]
    if fmt not in (ExportFormat.XLSX, ExportFormat.DBF):
        errors["format"] = ["文件格式应为 xlsx 或 dbf。"]
    if errors:
        raise ValidationFailed(errors)
    if full_id and not permissions.can_export_full_id(user):
        raise PermissionDenied(
            "您没有导出完整证件号码的权限；不勾选“包含完整证件号码”可导出脱敏文件。"
        )
    # Scope is checked now (a clear 404 at once) and again when the job runs.
    count = selectors.chsi_new_students_for(
        user, cohort_year=cohort_year, college_id=college_id
    ).count()
    if count == 0:
        raise ValidationFailed({"cohort": ["所选年级和学院没有在籍学生，无可导出的数据。"]})
    filters = _filters_text(cohort_year, college_id)
    params: dict[str, Any] = {
        "cohort_year": cohort_year,
        "college_id": college_id,
        "format": fmt,
        "purpose": purpose[:200],
        "full_id": full_id,
        "valid_only": valid_only,
        "client": {"ip": actor.ip, "user_agent": actor.user_agent, "via": actor.via},
    }
    return job_create(
        actor=actor,
        kind=KIND_NEW_STUDENTS,
        title=f"{TITLES[KIND_NEW_STUDENTS]}（{filters}，{fmt}）",
        params=params,
    )


def _filters_text(cohort_year: int | None, college_id: int | None) -> str:
    parts = []
    if cohort_year is not None:
        parts.append(f"{cohort_year}级")
    if college_id is not None:
        college = College.objects.filter(pk=college_id).first()
        parts.append(college.name if college else f"学院#{college_id}")
    else:
        parts.append("全部学院")
    return "，".join(parts)


def run_new_students(job: Job, progress: Progress) -> dict[str, Any]:
    """Job runner for `chsi.new_students`: check, build the file, then save it and audit."""
    params = job.params
    user = job.created_by
    if user is None or not permissions.can_export_chsi(user):
        raise PermissionDenied("发起人已无导出学信网数据的权限。")
    fmt = params["format"]
    full_id = bool(params.get("full_id")) and permissions.can_export_full_id(user)
    students = list(
        selectors.chsi_new_students_for(
            user, cohort_year=params.get("cohort_year"), college_id=params.get("college_id")
        )
    )
    codes = new_students.CodeTables.load()
    progress.phase("检查数据", len(students))
    rows: list[list[str]] = []
    excluded: list[dict[str, Any]] = []
    for student in students:
        values = new_students.student_values(student, codes, full_id=True)
        problems = new_students.student_problems(
            student, values, codes, for_dbf=fmt == ExportFormat.DBF
        )
        if problems:
            excluded.append(
                {
                    "student_number": student.student_number,
                    "name": student.name,
                    "problems": [p.as_dict() for p in problems],
                }
            )
        else:
            if not full_id:
                values["ZJHM"] = mask_id_number(values["ZJHM"])
            rows.append([values[c] for c in new_students.CODES])
        progress.advance()
    if excluded and not params.get("valid_only"):
        first = "；".join(
            f"{e['student_number']} {e['name']}：{e['problems'][0]['label']}"
            f"—{e['problems'][0]['message']}"
            for e in excluded[:3]
        )
        raise DomainError(
            f"有 {len(excluded)} 名学生的数据不符合学信网要求，未导出。请先修正，"
            f"或勾选“仅导出无误的记录”。例如：{first}"
        )
    if not rows:
        raise DomainError("没有可导出的记录：所有学生的数据都有问题。")
    progress.phase("生成文件", len(rows))
    today = timezone.localdate()
    school = school_current()
    school_code = school.code if school else "xueji"
    stamp = timezone.localtime().strftime("%Y%m%d%H%M%S")
    if fmt == ExportFormat.DBF:
        content = write_dbf_file(new_students.DBF_FIELDS, rows, today=today)
    else:
        notes = (
            ("导出内容", TITLES[KIND_NEW_STUDENTS]),
            ("筛选条件", _filters_text(params.get("cohort_year"), params.get("college_id"))),
            ("导出人", str(user)),
            ("导出时间", timezone.localtime().strftime("%Y-%m-%d %H:%M:%S")),
            ("用途", params["purpose"]),
            ("证件号码", "完整" if full_id else "已脱敏（不可用于上报）"),
            ("记录数", str(len(rows))),
            ("未导出（数据有误）", str(len(excluded))),
        )
        content = write_xlsx(
            [(c.code, c.label) for c in new_students.COLUMNS], rows, sheet="新生注册", notes=notes
        )
    progress.set(len(rows))
    progress.check_cancel()
    digest = hashlib.sha256(content).hexdigest()
    name = f"chsi_xszc_{school_code}_{stamp}{'' if full_id else '_masked'}.{fmt}"
    client = params.get("client") or {}
    actor = Actor(
        user=user,
        ip=client.get("ip", ""),
        user_agent=client.get("user_agent", ""),
        via=client.get("via", "web"),
    )
    result = {
        "rows": len(rows),
        "excluded": excluded,
        "excluded_count": len(excluded),
        "format": fmt,
        "masked": not full_id,
        "purpose": params["purpose"],
        "sha256": digest,
        "file_name": name,
    }
    with transaction.atomic():
        job.output_file.save(name, ContentFile(content), save=False)
        Job.objects.filter(pk=job.pk).update(output_file=job.output_file.name)
        audit_record(
            actor=actor,
            action="chsi.export",
            target=job,
            summary=(
                f"导出{TITLES[KIND_NEW_STUDENTS]} {len(rows)} 人（{fmt}，"
                f"{'完整证件号' if full_id else '证件号已脱敏'}），用途：{params['purpose']}"
            ),
            after={
                "kind": KIND_NEW_STUDENTS,
                "purpose": params["purpose"],
                "filters": {
                    "cohort_year": params.get("cohort_year"),
                    "college_id": params.get("college_id"),
                },
                "format": fmt,
                "masked": not full_id,
                "rows": len(rows),
                "excluded": [e["student_number"] for e in excluded],
                "sha256": digest,
                "file": name,
            },
        )
    return result
