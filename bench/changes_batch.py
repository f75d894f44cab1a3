"""Status changes at volume: submit 1,000 requests, batch-approve them, apply 1,000 changes.

    python bench/changes_batch.py [--requests 1000] [--students 20000] [--db sqlite,postgresql]

Each database is rebuilt fresh (var/bench/changes-bench for SQLite, xueji_bench_changes on
PostgreSQL) with the ordinary commands: migrate, load_codes, seed_demo. The measuring runs in a
child process with production settings and goes through the real services only:

1. submit — the college admin of the first college applies for 休学 for N in-school students of
   the college, effective tomorrow (each request: validation, the regulation checks, one flow
   with its steps, notices, audit event);
2. batch approve — the same college admin approves all N from the workbench's batch action
   (`flow_batch_approve`; the school delegates the final approval of 休学 to the college, so
   this approval is final); nothing takes effect yet because the date is tomorrow;
3. apply — the periodic sweep `changes_apply_due` runs as of tomorrow and applies all N: new
   state row, ledger entry, recomputed dates, before/after, audit event, one outbox event with
   a delivery per cooperating department, notices.

Prints wall time and throughput for each phase and the child's peak RSS. No target is set by
the issue; the figures go to docs/benchmarks.md.
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
DATABASE = "xueji_bench_changes"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--students", type=int, default=20000)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    say(f"machine: {machine()}")
    rows = []
    for name in args.db.split(","):
        if name == "postgresql":
            ensure_pg_database(DATABASE, fresh=True)
            target = target_env(name, DATABASE)
        else:
            target = target_env(name, "changes-bench")
            for suffix in ("", "-wal", "-shm"):
                (BENCH_VAR / "changes-bench" / f"xueji.sqlite3{suffix}").unlink(missing_ok=True)
        manage(target, "migrate", "--no-input", "-v", "0")
        manage(target, "load_codes", "-v", "0")
        manage(target, "seed_demo", "--students", str(args.students))
        say(f"{name}: {args.students} demo students seeded; measuring {args.requests} requests")
        child = subprocess.Popen(
            [PYTHON, SCRIPT, "--measure", str(args.requests)],
            env=target.env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        out, _ = child.communicate()
        if child.returncode != 0:
            raise SystemExit(f"measuring failed on {name}")
        row = json.loads(out.strip().splitlines()[-1])
        row["db"] = name
        rows.append(row)
    print()
    print(f"status changes, {args.requests} requests, {args.students} students; {machine()}")
    header = f"{'database':<11}{'phase':<15}{'seconds':>9}{'per second':>12}{'ms each':>9}"
    print(header)
    for row in rows:
        for phase in ("submit", "batch_approve", "apply"):
            seconds = row[phase]
            print(
                f"{row['db']:<11}{phase:<15}{seconds:>9.2f}{row['n'] / seconds:>12.0f}"
                f"{seconds / row['n'] * 1000:>9.1f}"
            )
        print(f"{row['db']:<11}{'peak RSS':<15}{row['rss_mb']:>9.0f} MB")
        print(
            f"{row['db']:<11}checks: {row['applied']} applied, {row['events']} events, "
            f"{row['deliveries']} deliveries, {row['refused']} refused"
        )


def measure(count: int) -> dict[str, float | int]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from datetime import timedelta

    from django.utils import timezone

    from xueji.accounts.models import User
    from xueji.changes.catalogue import change_types_install_defaults
    from xueji.changes.models import ChangeRequest, ChangeStatus, ChangeType
    from xueji.changes.services import change_request_submit, changes_apply_due
    from xueji.core.context import Actor
    from xueji.exchange.models import Delivery, OutboxEvent
    from xueji.exchange.services import departments_seed
    from xueji.students.models import Student, StudentStatus
    from xueji.workflow.models import Flow
    from xueji.workflow.services import flow_batch_approve

    change_types_install_defaults(actor=Actor.system())
    departments_seed(actor=Actor.system())
    # The school lets colleges batch-approve 休学 for this run (a registrar's catalogue edit;
    # attachments are uploaded through the flow, so none are required here).
    ChangeType.objects.filter(code="suspension").update(
        batch_approvable=True, college_may_finish=True, required_attachments=[]
    )
    kind = ChangeType.objects.get(code="suspension")
    admin = User.objects.get(username="college-admin")
    actor = Actor(user=admin, ip="127.0.0.1", user_agent="bench", via="bench")
    college_id = admin.active_grants[0].college_id
    students = list(
        Student.objects.filter(college_id=college_id, status=StudentStatus.IN_SCHOOL)
        .exclude(change_requests__isnull=False)  # the demo's own requests
        .order_by("student_number")[:count]
    )
    if len(students) < count:
        raise SystemExit(f"only {len(students)} in-school students in the college; seed more")
    tomorrow = timezone.localdate() + timedelta(days=1)
    data = {
        "effective_date": tomorrow.isoformat(),
        "end_date": (tomorrow + timedelta(days=180)).isoformat(),
        "reason": "因病休学一学期（性能测试）",
    }

    started = time.perf_counter()
    made = [
        change_request_submit(actor=actor, student=student, change_type=kind, data=data).pk
        for student in students
    ]
    submit = time.perf_counter() - started

    # Only this run's requests (the demo seed leaves a few of its own on the workbenches).
    flows = list(Flow.objects.filter(kind="change", subject_id__in=made))
    started = time.perf_counter()
    result = flow_batch_approve(actor=actor, flows=flows, comment="同意")
    batch_approve = time.perf_counter() - started

    started = time.perf_counter()
    applied = changes_apply_due(timezone.now() + timedelta(days=1))
    apply = time.perf_counter() - started

    done = ChangeRequest.objects.filter(pk__in=made, status=ChangeStatus.APPLIED).count()
    assert done == count, f"{done} of {count} applied"
    return {
        "n": count,
        "submit": submit,
        "batch_approve": batch_approve,
        "apply": apply,
        "applied": applied,
        "refused": len(result["refused"]),
        "events": OutboxEvent.objects.filter(student__in=students).count(),
        "deliveries": Delivery.objects.filter(event__student__in=students).count(),
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


if __name__ == "__main__":
    main()
