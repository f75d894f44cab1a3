"""Starting a CHSI export (a job) and the one runner every export kind shares.

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
from xueji.exchange.chsi import permissions, selectors
from xueji.exchange.chsi.files import ExportFormat, write_dbf_file, write_xlsx
from xueji.exchange.chsi.kinds import ExportKind, Filters, kind_for
from xueji.exchange.chsi.selectors import FORM_FIELDS
from xueji.jobs.models import Job
from xueji.jobs.progress import Progress
from xueji.jobs.services import job_create
from xueji.org.selectors import school_current

KIND_NEW_STUDENTS = "chsi.new_students"
NO_RIGHT = "只有校级学籍管理员和二级学院教务员可以导出学信网数据。"


def chsi_export_start(
    *,
    actor: Actor,
    kind: str = "new_students",
    filters: Filters | None = None,
    cohort_year: int | None = None,
    college_id: int | None = None,
    fmt: str,
    purpose: str,
    full_id: bool = False,
    valid_only: bool = False,
) -> Job:
    """Queue a CHSI export of `kind` (its key, or the job kind `chsi.<key>`) as a job.

    `filters` holds the kind's filters; `cohort_year`/`college_id` are the short form the
    new-student export has always taken (used when `filters` is None).

    Raises PermissionDenied for roles that may not export or for unmasked IDs without the
    full-ID grant; NotFound for an unknown kind, or a college, cohort or term outside the
    caller's scope; ValidationFailed when a required filter is missing, the period is
    reversed, the format is unknown or not offered for the kind, the purpose is missing or
    nothing matches. Side effect: the job is queued on commit.
    """
    user = actor.user
    if user is None or not permissions.can_export_chsi(user):
        raise PermissionDenied(NO_RIGHT)
    export_kind = selectors.chsi_kind_for(user, kind)
    if filters is None:
        filters = Filters(cohort_year=cohort_year, college_id=college_id)
    filters = selectors.kind_filters(export_kind, filters)
    errors = selectors.filter_errors(export_kind, filters)
    purpose = purpose.strip()
    if not purpose:
        example = export_kind.purposes[0] if export_kind.purposes else "学信网数据上报"
        errors["purpose"] = [f"请填写导出用途，如“{example}”；每次导出都会记录用途。"]
    if fmt not in (ExportFormat.XLSX, ExportFormat.DBF):
        errors["format"] = ["文件格式应为 xlsx 或 dbf。"]
    elif fmt == ExportFormat.DBF and not export_kind.dbf:
        errors["format"] = [f"{export_kind.title}只提供 xlsx 格式。"]
    if errors:
        raise ValidationFailed(errors)
    if full_id and not permissions.can_export_full_id(user):
        raise PermissionDenied(
            "您没有导出完整证件号码的权限；不勾选“包含完整证件号码”可导出脱敏文件。"
        )
    # Scope is checked now (a clear 404 at once) and again when the job runs.
    selectors.check_filter_scope(user, filters)
    if next(iter(export_kind.rows(user, filters)), None) is None:
        field = FORM_FIELDS[export_kind.required_filters[0]] if export_kind.filters else "kind"
        raise ValidationFailed({field: [f"所选条件下没有可导出的数据（{export_kind.title}）。"]})
    text = selectors.filters_text(export_kind, filters)
    params: dict[str, Any] = {
        "kind": export_kind.key,
        "filters": filters.as_params(),
        # The new-student export's params as they always were (older jobs have only these).
        "cohort_year": filters.cohort_year,
        "college_id": filters.college_id,
        "format": fmt,
        "purpose": purpose[:200],
        "full_id": full_id,
        "valid_only": valid_only,
        "client": {"ip": actor.ip, "user_agent": actor.user_agent, "via": actor.via},
    }
    return job_create(
        actor=actor,
        kind=export_kind.job_kind,
        title=f"{export_kind.title}（{text}，{fmt}）",
        params=params,
    )


def _job_filters(kind: ExportKind, params: dict[str, Any]) -> Filters:
    stored = params.get("filters")
    if stored is None:  # a new-student export queued before there were kinds
        stored = {"cohort_year": params.get("cohort_year"), "college_id": params.get("college_id")}
    return selectors.kind_filters(kind, Filters.from_params(stored))


def run_export(job: Job, progress: Progress) -> dict[str, Any]:
    """Job runner for every `chsi.<key>` kind: read and check, build the file, then save it
    and audit."""
    kind = kind_for(job.kind.removeprefix("chsi."))
    params = job.params
    user = job.created_by
    if user is None or not permissions.can_export_chsi(user):
        raise PermissionDenied("发起人已无导出学信网数据的权限。")
    fmt = params["format"]
    full_id = bool(params.get("full_id")) and permissions.can_export_full_id(user)
    filters = _job_filters(kind, params)
    selectors.check_filter_scope(user, filters)
    progress.phase("读取数据")
    found = list(kind.rows(user, filters))
    progress.phase("检查数据", len(found))
    rows: list[list[str]] = []
    excluded: list[dict[str, Any]] = []
    for row in found:
        problems = selectors.row_problems(kind, row, fmt)
        if problems:
            excluded.append(
                {
                    "student_number": row.student_number,
                    "name": row.name,
                    "problems": [p.as_dict() for p in problems],
                }
            )
        else:
            values = dict(row.values)
            if not full_id:
                for code in kind.masked_columns:
                    values[code] = mask_id_number(values.get(code, ""))
            rows.append([str(values.get(code, "")) for code in kind.codes])
        progress.advance()
    if excluded and not params.get("valid_only"):
        first = "；".join(
            f"{e['student_number']} {e['name']}：{e['problems'][0]['label']}"
            f"—{e['problems'][0]['message']}"
            for e in excluded[:3]
        )
        people = len({e["student_number"] for e in excluded})
        raise DomainError(
            f"有 {len(excluded)} 条记录（{people} 名学生）的数据不符合学信网要求，未导出。"
            f"请先修正，或勾选“仅导出无误的记录”。例如：{first}"
        )
    if not rows:
        raise DomainError("没有可导出的记录：所有记录的数据都有问题。")
    progress.phase("生成文件", len(rows))
    school = school_current()
    school_code = school.code if school else "xueji"
    stamp = timezone.localtime().strftime("%Y%m%d%H%M%S")
    text = selectors.filters_text(kind, filters)
    if fmt == ExportFormat.DBF:
        content = write_dbf_file(selectors.dbf_fields(kind), rows, today=timezone.localdate())
    else:
        notes = (
            ("导出内容", kind.title),
            ("筛选条件", text),
            ("导出人", str(user)),
            ("导出时间", timezone.localtime().strftime("%Y-%m-%d %H:%M:%S")),
            ("用途", params["purpose"]),
            ("证件号码", "完整" if full_id else "已脱敏（不可用于上报）"),
            ("记录数", str(len(rows))),
            ("未导出（数据有误）", str(len(excluded))),
        )
        content = write_xlsx(
            [(c.code, c.label) for c in kind.columns], rows, sheet=kind.sheet, notes=notes
        )
    progress.set(len(rows))
    progress.check_cancel()
    digest = hashlib.sha256(content).hexdigest()
    name = f"chsi_{kind.file_stem}_{school_code}_{stamp}{'' if full_id else '_masked'}.{fmt}"
    client = params.get("client") or {}
    actor = Actor(
        user=user,
        ip=client.get("ip", ""),
        user_agent=client.get("user_agent", ""),
        via=client.get("via", "web"),
    )
    result = {
        "kind": kind.key,
        "rows": len(rows),
        "excluded": excluded,
        "excluded_count": len(excluded),
        "format": fmt,
        "masked": not full_id,
        "purpose": params["purpose"],
        "sha256": digest,
        "file_name": name,
    }
    all_filters = filters.as_params()
    with transaction.atomic():
        job.output_file.save(name, ContentFile(content), save=False)
        Job.objects.filter(pk=job.pk).update(output_file=job.output_file.name)
        audit_record(
            actor=actor,
            action="chsi.export",
            target=job,
            summary=(
                f"导出{kind.title} {len(rows)} 条（{text}，{fmt}，"
                f"{'完整证件号' if full_id else '证件号已脱敏'}），用途：{params['purpose']}"
            ),
            after={
                "kind": kind.job_kind,
                "purpose": params["purpose"],
                "filters": {name: all_filters[name] for name in kind.filters},
                "format": fmt,
                "masked": not full_id,
                "rows": len(rows),
                "excluded": [e["student_number"] for e in excluded],
                "sha256": digest,
                "file": name,
            },
        )
    return result


# Kept for callers that ran the new-student export by name.
run_new_students = run_export
