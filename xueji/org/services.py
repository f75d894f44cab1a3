"""Writes to the organisation: code tables (by command) and the school's own structure."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as ModelValidationError
from django.db import IntegrityError, models, transaction

from xueji.audit.services import audit_record
from xueji.core.context import Actor
from xueji.core.exceptions import DomainError, PermissionDenied, ValidationFailed
from xueji.org import code_data
from xueji.org.models import (
    AcademicYear,
    CodeItem,
    CodeTable,
    CodeTableVersion,
    Cohort,
    College,
    Major,
    School,
    SchoolClass,
    Term,
)
from xueji.org.selectors import code_cache_clear, code_exists


def code_tables_load(*, actor: Actor) -> dict[str, int]:
    """Load every code table from the shipped data files, replacing older versions.

    Idempotent: a table whose version is already loaded is skipped. Returns rows per table.
    """
    loaded: dict[str, int] = {}
    sources = {table: code_data.iter_code_table for table in code_data.TABLES}
    sources[CodeTable.REGION] = lambda _table: code_data.iter_regions()
    for table, reader in sources.items():
        version = code_data.table_version(table)
        current = CodeTableVersion.objects.filter(table=table).first()
        if current is not None and current.version == version and current.rows:
            continue
        rows = list(reader(table))
        with transaction.atomic():
            CodeItem.objects.filter(table=table).delete()
            CodeItem.objects.bulk_create(
                [
                    CodeItem(
                        table=table,
                        code=row.code,
                        name=row.name,
                        name_en=row.name_en,
                        parent=row.parent,
                        valid_from=row.valid_from,
                        valid_to=row.valid_to,
                        extra=row.extra,
                        sort=index,
                    )
                    for index, row in enumerate(rows)
                ],
                batch_size=2000,
            )
            CodeTableVersion.objects.update_or_create(
                table=table,
                defaults={"version": version, "rows": len(rows), "source": _source(table)},
            )
            audit_record(
                actor=actor,
                action="codes.load",
                target_type="code_table",
                target_id=table,
                summary=f"载入代码表 {table} 版本 {version}（{len(rows)} 条）",
                before={"version": current.version if current else None},
                after={"version": version, "rows": len(rows)},
            )
        loaded[table] = len(rows)
    code_cache_clear()
    return loaded


def _source(table: str) -> str:
    info = code_data.table_info(table)
    return str(info.get("source", ""))[:200]


def _require_registrar(actor: Actor) -> None:
    if actor.user is not None and not actor.user.is_registrar:
        raise PermissionDenied("只有校级学籍管理员可以维护学校组织机构。")


def _snapshot(instance: models.Model) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        value = getattr(instance, field.attname)
        values[field.name] = (
            value if isinstance(value, (str, int, bool, type(None))) else str(value)
        )
    return values


def _save(actor: Actor, instance: models.Model, values: dict[str, Any], action: str) -> Any:
    """Set `values`, validate model constraints, save and audit — one transaction."""
    before = _snapshot(instance) if instance.pk else None
    for field, value in values.items():
        setattr(instance, field, value.strip() if isinstance(value, str) else value)
    try:
        instance.full_clean(validate_unique=True)
    except ModelValidationError as exc:
        raise ValidationFailed(
            {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
        ) from exc
    with transaction.atomic():
        try:
            instance.save()
        except IntegrityError as exc:
            raise DomainError("与已有记录重复。") from exc
        audit_record(
            actor=actor,
            action=action,
            target=instance,
            summary=f"{action} {instance}",
            before=before,
            after=_snapshot(instance),
        )
    return instance


def school_save(*, actor: Actor, values: dict[str, Any]) -> School:
    _require_registrar(actor)
    school = School.objects.order_by("pk").first() or School()
    return _save(actor, school, values, "org.school.save")


def college_save(
    *, actor: Actor, values: dict[str, Any], college: College | None = None
) -> College:
    _require_registrar(actor)
    return _save(actor, college or College(), values, "org.college.save")


def major_save(*, actor: Actor, values: dict[str, Any], major: Major | None = None) -> Major:
    """Create or edit a major; its national code must exist in the loaded catalogue."""
    _require_registrar(actor)
    national = str(values.get("national_code", major.national_code if major else "")).strip()
    if not code_exists(CodeTable.MAJOR_CATALOGUE, national):
        raise ValidationFailed(
            {"national_code": [f"国家专业代码“{national}”不在 2024 年本科专业目录中"]}
        )
    level = values.get("level", major.level if major else "")
    if level and not code_exists(CodeTable.EDUCATION_LEVEL, level):
        raise ValidationFailed({"level": [f"层次代码“{level}”不存在"]})
    duration = values.get("duration", major.duration if major else None)
    if duration is not None:
        text = format(Decimal(str(duration)).normalize(), "f")
        if not code_exists(CodeTable.STUDY_DURATION, text):
            raise ValidationFailed({"duration": [f"学制“{text}”不是允许的取值"]})
    valid_from = values.get("valid_from")
    valid_to = values.get("valid_to")
    if isinstance(valid_from, date) and isinstance(valid_to, date) and valid_to < valid_from:
        raise ValidationFailed({"valid_to": ["停用日期不能早于启用日期"]})
    return _save(actor, major or Major(), values, "org.major.save")


def cohort_ensure(*, actor: Actor, year: int) -> Cohort:
    _require_registrar(actor)
    cohort = Cohort.objects.filter(year=year).first()
    if cohort:
        return cohort
    return _save(actor, Cohort(), {"year": year}, "org.cohort.save")


def class_save(
    *, actor: Actor, values: dict[str, Any], school_class: SchoolClass | None = None
) -> SchoolClass:
    """Create or edit a class; its major must belong to its college."""
    _require_registrar(actor)
    major = values.get("major") or (school_class.major if school_class else None)
    college = values.get("college") or (school_class.college if school_class else None)
    if major is not None and college is not None and major.college_id != college.pk:
        raise ValidationFailed({"major": [f"专业“{major.name}”不属于{college.name}"]})
    return _save(actor, school_class or SchoolClass(), values, "org.class.save")


def academic_year_save(*, actor: Actor, start_year: int) -> AcademicYear:
    """Create an academic year (1 Sep – 31 Aug) with its two terms."""
    _require_registrar(actor)
    if AcademicYear.objects.filter(start_year=start_year).exists():
        raise DomainError(f"{start_year}-{start_year + 1}学年已存在。")
    with transaction.atomic():
        year = _save(
            actor,
            AcademicYear(),
            {
                "start_year": start_year,
                "start_date": date(start_year, 9, 1),
                "end_date": date(start_year + 1, 8, 31),
            },
            "org.academic_year.save",
        )
        Term.objects.create(
            academic_year=year,
            number=1,
            start_date=date(start_year, 9, 1),
            end_date=date(start_year + 1, 2, 14),
            registration_deadline=date(start_year, 9, 15),
        )
        Term.objects.create(
            academic_year=year,
            number=2,
            start_date=date(start_year + 1, 2, 15),
            end_date=date(start_year + 1, 8, 31),
            registration_deadline=date(start_year + 1, 3, 1),
        )
    return year
