"""Reads of the organisation and code tables."""

from __future__ import annotations

from functools import lru_cache

from django.db.models import Count, Q, QuerySet

from xueji.org.models import (
    AcademicYear,
    CodeItem,
    CodeMapping,
    CodeTable,
    CodeTableVersion,
    Cohort,
    College,
    Major,
    School,
    SchoolClass,
    Term,
)


def school_current() -> School | None:
    return School.objects.order_by("pk").first()


def college_list() -> QuerySet[College]:
    return College.objects.order_by("code")


def college_list_with_counts() -> QuerySet[College]:
    """Colleges with `major_count` and `class_count`, for the organisation overview."""
    return College.objects.annotate(
        major_count=Count("majors", distinct=True), class_count=Count("classes", distinct=True)
    ).order_by("code")


def major_list(*, college: int | None = None) -> QuerySet[Major]:
    majors = Major.objects.select_related("college", "replaced_by").order_by(
        "college__code", "code"
    )
    if college:
        majors = majors.filter(college_id=college)
    return majors


def class_list(*, college: int | None = None, major: int | None = None) -> QuerySet[SchoolClass]:
    classes = SchoolClass.objects.select_related("college", "major", "cohort").order_by("code")
    if college:
        classes = classes.filter(college_id=college)
    if major:
        classes = classes.filter(major_id=major)
    return classes


def cohort_list() -> QuerySet[Cohort]:
    return Cohort.objects.order_by("-year")


def academic_year_list() -> QuerySet[AcademicYear]:
    return AcademicYear.objects.prefetch_related("terms").order_by("-start_year")


def term_list(*, academic_year: int | None = None) -> QuerySet[Term]:
    """Terms, newest first, with their academic year (one query)."""
    terms = Term.objects.select_related("academic_year").order_by("-start_date")
    if academic_year:
        terms = terms.filter(academic_year__start_year=academic_year)
    return terms


def term_current(on: object | None = None) -> Term | None:
    from django.utils import timezone

    day = on or timezone.localdate()
    return (
        Term.objects.filter(start_date__lte=day, end_date__gte=day)
        .select_related("academic_year")
        .first()
    )


def code_table_list() -> list[dict[str, object]]:
    versions = {v.table: v for v in CodeTableVersion.objects.all()}
    return [
        {"table": value, "label": label, "version": versions.get(value)}
        for value, label in CodeTable.choices
    ]


def code_item_list(
    *, table: str, query: str = "", include_historical: bool = True
) -> QuerySet[CodeItem]:
    items = CodeItem.objects.filter(table=table).order_by("sort", "code")
    if not include_historical:
        items = items.filter(valid_to__isnull=True)
    if query:
        items = items.filter(Q(code__startswith=query) | Q(name__contains=query))
    return items


@lru_cache(maxsize=64)
def _code_names(table: str) -> dict[str, str]:
    # Code tables change only by `load_codes`; which clears this cache.
    names: dict[str, str] = {}
    for code, name, valid_to in CodeItem.objects.filter(table=table).values_list(
        "code", "name", "valid_to"
    ):
        # A current name wins over historical ones for the same code.
        if code not in names or valid_to is None:
            names[code] = name
    return names


def code_names(table: str) -> dict[str, str]:
    return _code_names(table)


def code_name(table: str, code: str) -> str:
    return _code_names(table).get(code, "")


def code_exists(table: str, code: str) -> bool:
    return code in _code_names(table)


def code_cache_clear() -> None:
    _code_names.cache_clear()


def code_mapping_for(system: str, table: str) -> dict[str, str]:
    """{external code: our code} for one source system and code table (empty when none)."""
    return dict(
        CodeMapping.objects.filter(system=system, table=table).values_list("external_code", "code")
    )


def code_mapping_systems() -> list[dict[str, object]]:
    """The source systems that have mappings, with how many each, by name."""
    return list(CodeMapping.objects.values("system").annotate(count=Count("id")).order_by("system"))


def code_mapping_list(*, system: str = "", table: str = "") -> QuerySet[CodeMapping]:
    mappings = CodeMapping.objects.order_by("system", "table", "external_code")
    if system:
        mappings = mappings.filter(system=system)
    if table:
        mappings = mappings.filter(table=table)
    return mappings
