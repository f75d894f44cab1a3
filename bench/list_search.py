"""Staff student list and search: p50/p95 at 100k demo students, on SQLite and PostgreSQL.

    python bench/list_search.py [--students 100000] [--db sqlite,postgresql] [--repeat 40]

Requests go through the real page (`/students/`, the full middleware stack, template rendering,
session save) with Django's test Client, logged in as `registrar` (whole school), as
`college-admin` and as `counsellor` (one class). Next to each page, the selector alone
(`student_search(...)`: one page of rows plus the count) is timed, so slow SQL and slow
rendering can be told apart. Target: p95 <= 100 ms. With --explain, the slowest query of each
case that misses the target is shown with its plan.

Each database is measured in its own child process (Django is configured once per process).
Production settings: XUEJI_DEBUG unset, collected static files.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PYTHON, STUDENTS, machine, prepare, say, summary_ms

TARGET_MS = 100.0
SCRIPT = str(Path(__file__).resolve())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=STUDENTS)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.repeat, args.explain)
        return
    results = []
    for name in args.db.split(","):
        target = prepare(name, students=args.students, static=True)
        say(f"{name}: measuring ({args.repeat} requests per case)")
        child = subprocess.run(
            [PYTHON, SCRIPT, "--worker", "--repeat", str(args.repeat)]
            + (["--explain"] if args.explain else []),
            env=target.env,
            capture_output=True,
            text=True,
            check=False,
        )
        sys.stderr.write(child.stderr)
        if child.returncode != 0:
            raise SystemExit(f"worker failed on {name}")
        for line in child.stdout.splitlines():
            if line.startswith("{"):
                results.append({"db": name, **json.loads(line)})
            else:
                print(line)
    report(results, args.students)


def report(results: list[dict], students: int) -> None:
    print(f"\nStudent list/search at {students} students — {machine()}")
    print(f"{time.strftime('%Y-%m-%d %H:%M')}; target p95 <= {TARGET_MS:.0f} ms\n")
    header = (
        f"{'db':<10} {'user':<13} {'case':<26} {'status':>6} {'rows':>7}"
        f" {'page p50':>9} {'page p95':>9} {'sel p50':>8} {'sel p95':>8} {'queries':>7}"
    )
    print(header)
    print("-" * len(header))
    missed = []
    for r in results:
        page, sel = r["page"], r["selector"]
        flag = "" if page["p95"] <= TARGET_MS else "  <-- over target"
        if flag:
            missed.append(r)
        print(
            f"{r['db']:<10} {r['user']:<13} {r['case']:<26} {r['status']:>6} {r['rows']:>7}"
            f" {page['p50']:>9.1f} {page['p95']:>9.1f} {sel['p50']:>8.1f} {sel['p95']:>8.1f}"
            f" {r['queries']:>7}{flag}"
        )
    worst = max((r["page"]["p95"] for r in results), default=0.0)
    print(f"\nworst page p95: {worst:.1f} ms ({'met' if not missed else 'MISSED'} target)")


# --- worker: runs inside a configured Django process --------------------------------------


def worker(repeat: int, explain: bool) -> None:
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from xueji.accounts.models import User
    from xueji.org.models import College
    from xueji.students.models import Student
    from xueji.students.selectors import student_list_visible_to, student_search

    sample = Student.objects.order_by("pk")[Student.objects.count() // 2]
    college = College.objects.order_by("code").first()
    counsellor = User.objects.get(username="counsellor")
    own = student_list_visible_to(counsellor).order_by("student_number").first()
    assert own is not None, "the counsellor sees no student"
    cases: dict[str, list[tuple[str, dict[str, str]]]] = {
        "registrar": [
            ("list, first page", {}),
            ("list, page 1000", {"page": "1000"}),
            ("search name prefix 张", {"q": "张"}),
            ("search name prefix 王小", {"q": "王小"}),
            ("search pinyin zhangw", {"q": "zhangw"}),
            ("search initials zxm", {"q": "zxm"}),
            ("search 学号 exact", {"q": sample.student_number}),
            ("search 考生号 exact", {"q": sample.candidate_number}),
            ("search ID number exact", {"q": sample.id_number}),
            ("filter college+status", {"college": str(college.pk), "status": "suspended"}),
            ("filter college+in school", {"college": str(college.pk), "status": "in_school"}),
            ("filter college+search li", {"college": str(college.pk), "q": "li"}),
        ],
        "college-admin": [
            ("list, first page", {}),
            ("list, page 200", {"page": "200"}),
            ("search pinyin wang", {"q": "wang"}),
            ("filter status suspended", {"status": "suspended"}),
        ],
        "counsellor": [
            ("list, first page", {}),
            ("search name prefix 王", {"q": "王"}),
            ("search pinyin zh", {"q": "zh"}),
            ("search own 学号", {"q": own.student_number}),
            ("search other 学号 (none)", {"q": sample.student_number}),
        ],
    }
    for username, user_cases in cases.items():
        user = User.objects.get(username=username)
        client = Client(SERVER_NAME="127.0.0.1")
        client.force_login(user)
        for case, params in user_cases:
            result = measure(client, user, params, repeat, student_search, connection)
            with CaptureQueriesContext(connection) as captured:
                client.get("/students/", params)
            result.update(user=username, case=case, queries=len(captured.captured_queries))
            print(json.dumps(result), flush=True)
            if explain and result["page"]["p95"] > TARGET_MS:
                show_plan(connection, captured.captured_queries, f"{username}: {case}")


def measure(client, user, params, repeat, student_search, connection) -> dict:
    query = params.get("q", "")
    filters = {
        key: int(params[key])
        for key in ("college", "major", "school_class", "cohort")
        if key in params
    }
    page_number = int(params.get("page", "1"))
    status = params.get("status", "")
    page_times, selector_times = [], []
    rows = 0
    code = 0
    for i in range(repeat + 3):
        started = time.perf_counter()
        response = client.get("/students/", params)
        elapsed = time.perf_counter() - started
        code = response.status_code
        started = time.perf_counter()
        qs = student_search(user=user, query=query, status=status, **filters)
        offset = (page_number - 1) * 50
        rows = qs.count()
        list(qs[offset : offset + 50])
        selector_elapsed = time.perf_counter() - started
        if i >= 3:  # the first requests warm caches; they are not counted
            page_times.append(elapsed)
            selector_times.append(selector_elapsed)
    return {
        "status": code,
        "rows": rows,
        "page": summary_ms(page_times),
        "selector": summary_ms(selector_times),
    }


def show_plan(connection, queries: list[dict], title: str) -> None:
    slowest = max(queries, key=lambda q: float(q["time"]))
    sql = slowest["sql"]
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN ANALYZE "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql)
        plan = "\n".join("  " + " ".join(str(c) for c in row) for row in cursor.fetchall())
    print(
        f"\n-- slowest query for {title} ({float(slowest['time']) * 1000:.1f} ms):\n{sql}\n{plan}"
    )


if __name__ == "__main__":
    os.chdir(Path(__file__).resolve().parent.parent)
    main()
