"""Freshman import at 100k rows: dry run + commit, against the machine's limit, both databases.

    python bench/import_100k.py [--rows 100000] [--db sqlite,postgresql]

For each database a fresh one is built (migrate, load_codes, seed_demo 2,000 students for the
colleges, majors and classes), then, each step in its own child process so that peak memory
is the step's own:

1. generate — an xlsx of N freshmen with all CHSI columns (valid 居民身份证 numbers, codes,
   majors and classes of the demo school), and a second copy with 1% bad rows;
2. limit — the machine's limit: a plain python-calamine read of the file plus the fastest
   plain bulk insert of the same rows as students (executemany on SQLite, COPY on PostgreSQL;
   no ORM, no validation, no history, no states, no audit), committed like the import (the
   rows are deleted afterwards, outside the timing);
3. ours — the real import: the dry-run job then the commit job (`job_run` in-process, so the
   figure excludes the worker's pick-up delay), end to end;
4. bad — the dry run of the file with 1% bad rows (the commit is refused, nothing written).

Prints seconds, peak RSS and ours ÷ limit. Goals (issue 4): ≤ 15 s end to end, ≤ 1 GiB,
≤ 3× the limit.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    BENCH_VAR,
    PYTHON,
    ROOT,
    ensure_pg_database,
    machine,
    manage,
    say,
    target_env,
)

SCRIPT = str(Path(__file__).resolve())
GOAL_SECONDS = 15.0
GOAL_MB = 1024.0
GOAL_RATIO = 3.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        print(json.dumps(STEPS[args.step](args)))
        return
    say(f"machine: {machine()}")
    files = BENCH_VAR / "import"
    files.mkdir(parents=True, exist_ok=True)
    results = []
    for name in args.db.split(","):
        if name == "postgresql":
            ensure_pg_database("xueji_bench_import", fresh=True)
            target = target_env(name, "xueji_bench_import")
        else:
            target = target_env(name, "import-bench")
            for suffix in ("", "-wal", "-shm"):
                (BENCH_VAR / "import-bench" / f"xueji.sqlite3{suffix}").unlink(missing_ok=True)
        manage(target, "migrate", "--no-input", "-v", "0")
        manage(target, "load_codes", "-v", "0")
        manage(target, "seed_demo", "--students", "2000")
        good, bad = files / f"freshmen-{args.rows}.xlsx", files / f"freshmen-{args.rows}-bad.xlsx"
        generated = child(target, "generate", args.rows, str(good))
        say(f"{name}: generated {args.rows} rows in {generated['seconds']:.1f} s")
        limit = child(target, "limit", args.rows, str(good))
        ours = child(target, "ours", args.rows, str(good))
        bad_run = child(target, "bad", args.rows, str(bad))
        results.append((name, limit, ours, bad_run))
    print()
    print(f"freshman import, {args.rows} rows; {machine()}")
    for name, limit, ours, bad_run in results:
        ratio = ours["seconds"] / limit["seconds"]
        print(
            f"{name:<11} limit {limit['seconds']:6.1f} s (read {limit['read']:.1f} s + insert "
            f"{limit['insert']:.1f} s of which COMMIT {limit['commit']:.1f} s,"
            f" {limit['rss_mb']:.0f} MB)"
        )
        print(
            f"{name:<11} ours  {ours['seconds']:6.1f} s (dry run {ours['dry_run']:.1f} s + commit "
            f"{ours['commit']:.1f} s), peak {ours['rss_mb']:.0f} MB, {ratio:.2f}× the limit;"
            f" created {ours['created']}, errors {ours['errors']}"
        )
        print(
            f"{name:<11} where the time goes (s): "
            + ", ".join(f"{k} {v:.1f}" for k, v in ours["phases"].items())
            + f"; commit reused the dry run's plan: {ours['plan_reused']}"
        )
        verdict = {True: "met", False: "MISSED"}
        print(
            f"{name:<11} goals: ≤ {GOAL_SECONDS:.0f} s {verdict[ours['seconds'] <= GOAL_SECONDS]},"
            f" ≤ {GOAL_MB:.0f} MB {verdict[ours['rss_mb'] <= GOAL_MB]},"
            f" ≤ {GOAL_RATIO:.0f}× {verdict[ratio <= GOAL_RATIO]}"
        )
        print(
            f"{name:<11} 1% bad rows: dry run {bad_run['seconds']:.1f} s, {bad_run['errors']}"
            f" errors in {bad_run['error_rows']} rows reported, commit refused:"
            f" {bad_run['refused']}"
        )


def child(target, step: str, rows: int, path: str) -> dict:
    out = subprocess.run(
        [PYTHON, SCRIPT, "--step", step, "--rows", str(rows), "--file", path],
        env=target.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        sys.stderr.write(out.stdout + out.stderr)
        raise SystemExit(f"step {step} failed on {target.name}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _django() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def step_generate(args) -> dict:
    """Write the good file and the 1%-bad copy."""
    _django()
    import random
    from datetime import date, timedelta

    import xlsxwriter

    from xueji.exchange.imports.columns import FRESHMAN_COLUMNS
    from xueji.org.models import SchoolClass
    from xueji.students.idcards import make_resident_id

    started = time.perf_counter()
    rng = random.Random(2026)
    classes = list(SchoolClass.objects.select_related("major", "college", "cohort"))
    year = max(c.cohort.year for c in classes)
    classes = [c for c in classes if c.cohort.year == year]
    surnames = (
        "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余"
        "杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙"
        "史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
    )
    given = (
        "伟芳娜敏静丽强磊洋艳勇军杰娟涛明超秀霞平刚桂英华玉萍红娥玲飞鹏辉宇浩然子涵梓轩欣"
        "怡雨泽一诺思远嘉怡俊杰佳琪"
    )
    rows = []
    for i in range(args.rows):
        school_class = classes[i % len(classes)]
        gender = "1" if (i // 730) % 2 else "2"
        # (birth day, gender, serial) is unique for every row: 730 days × 2 × 998 serials.
        birth = date(year - 19, 9, 1) + timedelta(days=i % 730)
        rows.append(
            {
                "KSH": f"{year % 100:02d}11010{i:09d}",
                "XH": f"{year}{i:08d}",
                "XM": rng.choice(surnames) + rng.choice(given) + rng.choice(given),
                "XB": gender,
                "CSRQ": birth.strftime("%Y%m%d"),
                "ZJLX": "1",
                "ZJHM": make_resident_id("110101", birth, gender, 1 + (i // 1460) % 998),
                "ZZMM": "13",
                "MZ": "01",
                "ZYDM": school_class.major.national_code,
                "ZYMC": school_class.major.name,
                "FY": school_class.college.name,
                "XSH": "",
                "BH": school_class.code,
                "CC": school_class.major.level,
                "XXXS": "11",
                "XZ": str(school_class.major.duration.normalize()),
                "RXRQ": f"{year}0901",
                "YJBYRQ": f"{year + int(school_class.major.duration)}0630",
            }
        )
    assert len({row["ZJHM"] for row in rows}) == len(rows)
    keys = [c.key for c in FRESHMAN_COLUMNS if c.key in rows[0]]
    headers = [f"{c.label}({c.key})" for c in FRESHMAN_COLUMNS if c.key in rows[0]]
    for path, bad in ((args.file, False), (args.file.replace(".xlsx", "-bad.xlsx"), True)):
        book = xlsxwriter.Workbook(path, {"constant_memory": True})
        sheet = book.add_worksheet("新生")
        sheet.write_row(0, 0, headers)
        for n, row in enumerate(rows, start=1):
            values = [row[k] for k in keys]
            if bad and n % 100 == 0:  # 1%: a wrong check digit
                z = keys.index("ZJHM")
                values[z] = values[z][:-1] + ("0" if values[z][-1] != "0" else "1")
            sheet.write_row(n, 0, values)
        book.close()
    return {"seconds": time.perf_counter() - started}


def step_limit(args) -> dict:
    """Plain calamine read + the fastest plain bulk insert of the same student rows (one
    executemany per 2,000 rows on SQLite, COPY on PostgreSQL, no ORM), committed."""
    _django()
    from datetime import date
    from decimal import Decimal

    from django.db import connection, transaction
    from django.utils import timezone
    from python_calamine import CalamineWorkbook

    from xueji.org.models import Cohort, SchoolClass
    from xueji.students.demo.bulk import bulk_insert, large_page_cache
    from xueji.students.models import Student

    started = time.perf_counter()
    sheet = CalamineWorkbook.from_path(args.file).get_sheet_by_index(0).to_python()
    read = time.perf_counter() - started
    header, data = sheet[0], sheet[1:]
    keys = [h.split("(")[-1].rstrip(")") for h in header]
    at = {key: keys.index(key) for key in keys}
    classes = {c.code: c for c in SchoolClass.objects.all()}
    cohort = Cohort.objects.order_by("-year").first()
    now = timezone.now()
    empty = {
        f.attname: now if getattr(f, "auto_now_add", False) or getattr(f, "auto_now", False)
        else f.get_default()
        for f in Student._meta.concrete_fields
        if not f.primary_key
    }  # fmt: skip

    def day(text: str) -> date:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))

    first_id = (Student.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    started = time.perf_counter()
    with large_page_cache(), transaction.atomic():
        rows = []
        for values in data:
            school_class = classes[str(values[at["BH"]])]
            rows.append(
                empty
                | {
                    "candidate_number": str(values[at["KSH"]]),
                    "student_number": str(values[at["XH"]]),
                    "name": values[at["XM"]],
                    "gender": str(values[at["XB"]]),
                    "birth_date": day(str(values[at["CSRQ"]])),
                    "id_type": "1",
                    "id_number": str(values[at["ZJHM"]]),
                    "political_status": str(values[at["ZZMM"]]),
                    "ethnicity": str(values[at["MZ"]]),
                    "college_id": school_class.college_id,
                    "major_id": school_class.major_id,
                    "school_class_id": school_class.pk,
                    "cohort_id": cohort.pk,
                    "level": str(values[at["CC"]]),
                    "study_form": str(values[at["XXXS"]]),
                    "duration": Decimal(str(values[at["XZ"]])),
                    "enrollment_date": day(str(values[at["RXRQ"]])),
                    "expected_graduation_date": day(str(values[at["YJBYRQ"]])),
                }
            )
            if len(rows) == 5000:
                bulk_insert(Student, rows)
                rows = []
        bulk_insert(Student, rows)
        inserted = time.perf_counter()
    # Committed, like the real import: PostgreSQL checks the (deferred) foreign keys and both
    # databases flush the log at COMMIT. The rows are then removed, outside the timing.
    insert = time.perf_counter() - started
    commit = time.perf_counter() - inserted
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(Student._meta.db_table)
        cursor.execute(f"DELETE FROM {table} WHERE id >= %s", [first_id])  # noqa: S608
    return {
        "seconds": read + insert,
        "read": read,
        "insert": insert,
        "commit": commit,
        "rss_mb": _rss_mb(),
    }


def _upload(path: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = Path(path).read_bytes()
    return SimpleUploadedFile(Path(path).name, data, content_type="application/octet-stream")


def _timed(phases: dict[str, float], module, name: str, label: str) -> None:
    """Accumulate the wall time spent in module.name under phases[label] (where the time goes,
    without a profiler's overhead)."""
    original = getattr(module, name)

    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            phases[label] = phases.get(label, 0.0) + time.perf_counter() - started

    setattr(module, name, wrapper)


def step_ours(args) -> dict:
    _django()
    from xueji.accounts.models import User
    from xueji.core.context import Actor
    from xueji.exchange.imports import bulkwrite, runner, validate
    from xueji.exchange.imports.services import freshman_import_confirm, freshman_import_start
    from xueji.jobs.models import Job
    from xueji.jobs.services import job_run

    phases: dict[str, float] = {}
    _timed(phases, runner, "read_sheet", "read (calamine)")
    _timed(phases, runner, "validate_freshmen", "check rows")
    _timed(phases, validate, "_plan_against_database", "check against database")
    _timed(phases, runner, "plan_store", "keep plan")
    _timed(phases, runner, "plan_load", "load plan")
    _timed(phases, runner, "checked_against", "state digest")
    _timed(phases, runner, "taken_in_database", "re-check numbers")
    _timed(phases, runner, "new_students_insert", "write")
    _timed(phases, bulkwrite._Rows, "batch", "write: prepare rows (helper thread)")
    _timed(phases, bulkwrite, "bulk_insert", "write: inserts")
    actor = Actor(user=User.objects.get(username="registrar"), via="bench")
    started = time.perf_counter()
    dry = freshman_import_start(actor=actor, upload=_upload(args.file), dry_run=True)
    job_run(dry.pk)
    dry_seconds = time.perf_counter() - started
    dry.refresh_from_db()
    if dry.status != "succeeded" or dry.result.get("errors"):
        raise SystemExit(f"dry run: {dry.status} {dry.error} {dry.result.get('errors')}")
    commit_started = time.perf_counter()
    commit = freshman_import_confirm(actor=actor, dry_run=dry)
    job_run(commit.pk)
    commit_seconds = time.perf_counter() - commit_started
    commit = Job.objects.get(pk=commit.pk)
    if commit.status != "succeeded":
        raise SystemExit(f"commit: {commit.status} {commit.error}")
    return {
        "seconds": dry_seconds + commit_seconds,
        "dry_run": dry_seconds,
        "commit": commit_seconds,
        "rss_mb": _rss_mb(),
        "created": commit.result.get("created", commit.result.get("new")),
        "plan_reused": commit.result.get("plan_reused"),
        "phases": {k: round(v, 2) for k, v in phases.items()},
        "errors": dry.result.get("errors", 0),
    }


def step_bad(args) -> dict:
    _django()
    from xueji.accounts.models import User
    from xueji.core.context import Actor
    from xueji.core.exceptions import DomainError
    from xueji.exchange.imports.services import freshman_import_confirm, freshman_import_start
    from xueji.jobs.services import job_run

    actor = Actor(user=User.objects.get(username="registrar"), via="bench")
    started = time.perf_counter()
    dry = freshman_import_start(actor=actor, upload=_upload(args.file), dry_run=True)
    job_run(dry.pk)
    seconds = time.perf_counter() - started
    dry.refresh_from_db()
    try:
        freshman_import_confirm(actor=actor, dry_run=dry)
        refused = False
    except DomainError:
        refused = True
    return {
        "seconds": seconds,
        "errors": dry.result.get("errors", 0),
        "error_rows": dry.result.get("error_rows", 0),
        "refused": refused,
    }


STEPS = {"generate": step_generate, "limit": step_limit, "ours": step_ours, "bad": step_bad}


if __name__ == "__main__":
    main()
