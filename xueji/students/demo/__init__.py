"""Demo data: a realistic school built in seconds, for `manage.py seed_demo` and the benchmarks.

Everything here is made up but shaped like real data: majors from the 2024 national catalogue,
居民身份证 numbers that pass GB 11643 with birth dates that fit the cohort and county codes in
force at birth, names drawn from common surnames (with the ones that have a special reading)
and common given-name characters, pinyin from `students.pinyin`.

The demo accounts (password `DEMO_PASSWORD`) are created only here, never by migrations or by
the set-up, so a production database never has them unless someone runs this command on it.
Seeding is idempotent: when the demo accounts exist, nothing is done.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from django.db import connection, transaction

from xueji.accounts.models import User
from xueji.audit.services import audit_record
from xueji.core.context import Actor
from xueji.core.exceptions import DomainError
from xueji.org.models import CodeItem, CodeTable, College
from xueji.students.demo.data import DEMO_PASSWORD, DEMO_USERNAMES, MIN_STUDENTS
from xueji.students.demo.school import SchoolBuilder, SeedReport, current_intake_year
from xueji.students.models import Student

__all__ = [
    "DEMO_PASSWORD",
    "DEMO_USERNAMES",
    "SeedReport",
    "current_intake_year",
    "demo_present",
    "demo_seed",
]


def demo_present() -> bool:
    return User.objects.filter(username__in=DEMO_USERNAMES).count() == len(DEMO_USERNAMES)


def demo_seed(
    *,
    students: int = 2000,
    seed: int = 2026,
    intake_year: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> SeedReport:
    """Build the demo school with `students` students and the demo accounts, in one transaction.

    Does nothing (created=False) when the demo accounts exist already, or when the database
    already holds colleges or students of its own. Raises DomainError when the code tables are
    not loaded or `students` is too small. Writes one audit event `demo.seed` (plus the
    `grant.create` events of the demo accounts); the bulk inserts bypass per-row audit on
    purpose — demo rows are not business changes, and one event per student would make
    seeding 100k students take minutes.
    """
    if demo_present():
        return SeedReport(False, "示例数据已存在，未做任何修改 / demo data already present.")
    taken = sorted(
        User.objects.filter(username__in=DEMO_USERNAMES).values_list("username", flat=True)
    )
    if taken:
        return SeedReport(
            False,
            f"用户名 {'、'.join(taken)} 已被占用，不再载入示例数据 / usernames taken; demo data"
            " not added.",
        )
    if Student.objects.exists() or College.objects.exists():
        return SeedReport(
            False,
            "数据库中已有学院或学生数据，不再载入示例数据 / the database already holds colleges or"
            " students; demo data not added.",
        )
    if students < MIN_STUDENTS:
        raise DomainError(f"示例学生人数至少为 {MIN_STUDENTS}。", field="students")
    if not CodeItem.objects.filter(table=CodeTable.MAJOR_CATALOGUE).exists():
        raise DomainError("代码表尚未载入，请先运行 manage.py load_codes。")
    builder = SchoolBuilder(
        students=students,
        rng=random.Random(seed),
        intake_year=intake_year or current_intake_year(),
        progress=progress or (lambda _message: None),
    )
    with transaction.atomic():
        report = builder.build()
        audit_record(
            actor=Actor.system(),
            action="demo.seed",
            target_type="demo",
            target_id="seed_demo",
            summary=f"载入示例数据：{students} 名学生、{report.counts['colleges']} 个学院、"
            f"{report.counts['classes']} 个班级及演示账号（批量写入，未逐条审计）",
            after={"seed": seed, "intake_year": builder.intake_year, **report.counts},
        )
    _analyze()
    return report


def _analyze() -> None:
    """Refresh the planner's statistics after the bulk load.

    Without them SQLite answers `ORDER BY student_number LIMIT 50` searches such as pinyin or
    学号 by walking the whole 学号 index (80 ms at 100k) instead of using the search indexes
    (under 10 ms); PostgreSQL's autovacuum would get there, but only some time later. On
    PostgreSQL, VACUUM also sets the visibility map, so paging by primary key (the list's deep
    pages) is an index-only scan: 70 instead of 87 ms for page 1000 at 100k. VACUUM cannot run
    inside a transaction (a caller's, or a test's); ANALYZE alone does then.
    """
    vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")
