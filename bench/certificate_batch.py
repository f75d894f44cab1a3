"""A batch of 5,000 certificates (在校证明) for a cohort, issued by a real background worker.

    python bench/certificate_batch.py [--count 5000] [--students 24000] [--db sqlite,postgresql]
                                      [--output zip] [--processes 0]

Each database is rebuilt fresh (var/bench/certificate-batch for SQLite, xueji_bench_certificates
on PostgreSQL) with the ordinary commands: migrate, load_codes, seed_demo. Then, in a child
process with production settings:

1. in the demo's largest cohort, the first COUNT in-school students (by class and 学号) are
   registered for the current term and the rest of the cohort is not, so exactly COUNT of the
   cohort can get a 在校证明 (the others are checked and listed as not registered); the batch
   is started for the whole cohort through `document_batch_start`, as the batch page does;
2. a real `manage.py task_worker` (database task backend) picks the job up and runs it —
   eligibility of every student, serials, rendering on XUEJI_RENDER_PROCESSES processes (0 =
   one per core), each PDF stored with its row and its audit event (SHA-256), the zip;
3. the time from starting the batch to the job's SUCCEEDED is the figure; the worker's peak RSS
   (with its render processes) and the output's size are printed too.

Target (issue 5): 5,000 in <= 3 minutes on this machine. The ratio to 180 s is printed.
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
DATABASE = "xueji_bench_certificate_batch"
TARGET_SECONDS = 180.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--students", type=int, default=24000)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--output", default="zip", choices=["zip", "pdf"])
    parser.add_argument("--processes", type=int, default=0, help="render processes, 0 = cores")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.count, args.output)))
        return
    say(f"machine: {machine()}")
    rows = []
    for name in args.db.split(","):
        if name == "postgresql":
            ensure_pg_database(DATABASE, fresh=True)
            target = target_env(name, DATABASE)
        else:
            target = target_env(name, "certificate-batch")
            for suffix in ("", "-wal", "-shm"):
                (BENCH_VAR / "certificate-batch" / f"xueji.sqlite3{suffix}").unlink(missing_ok=True)
        target.env["XUEJI_RENDER_PROCESSES"] = str(args.processes)
        target.env["XUEJI_MEDIA_ROOT"] = str(BENCH_VAR / f"certificate-batch-media-{name}")
        manage(target, "migrate", "--no-input", "-v", "0")
        manage(target, "load_codes", "-v", "0")
        manage(target, "seed_demo", "--students", str(args.students))
        say(f"{name}: {args.students} demo students seeded; batch of {args.count}")
        child = subprocess.run(
            [PYTHON, SCRIPT, "--measure", "--count", str(args.count), "--output", args.output],
            env=target.env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
            check=False,
        )
        if child.returncode != 0:
            raise SystemExit(f"measuring failed on {name}")
        row = json.loads(child.stdout.strip().splitlines()[-1])
        row["db"] = name
        rows.append(row)
    print()
    print(f"certificate batch, {args.count} 在校证明 as {args.output}; {machine()}")
    print(
        f"{'database':<11}{'issued':>7}{'seconds':>9}{'per second':>11}{'÷ 180 s':>9}"
        f"{'worker RSS':>12}{'output':>10}"
    )
    for row in rows:
        print(
            f"{row['db']:<11}{row['issued']:>7}{row['seconds']:>9.1f}"
            f"{row['issued'] / row['seconds']:>11.1f}{row['seconds'] / TARGET_SECONDS:>9.2f}"
            f"{row['rss_mb']:>9.0f} MB{row['output_mb']:>7.0f} MB"
        )
        print(f"{'':<11}phases: {row['phases']}; processes: {row['processes']}")


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants, in MB (from /proc)."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            with open(f"/proc/{current}/task/{current}/children") as fh:
                pending.extend(int(child) for child in fh.read().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total / 1024


def measure(count: int, output: str) -> dict[str, object]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.db import transaction
    from django.db.models import Count

    from xueji.accounts.models import User
    from xueji.certificates.batches import document_batch_start
    from xueji.certificates.models import DocumentBatch, DocumentType, IssuedDocument
    from xueji.certificates.renderpool import render_processes
    from xueji.core.context import Actor
    from xueji.jobs.models import Job, JobStatus
    from xueji.org.models import Cohort
    from xueji.org.selectors import term_current
    from xueji.registration.models import RegistrationState, TermRegistration
    from xueji.students.models import Student, StudentStatus

    term = term_current()
    biggest = (
        Student.objects.filter(status=StudentStatus.IN_SCHOOL)
        .values("cohort")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    cohort = Cohort.objects.get(pk=biggest["cohort"])
    in_school = Student.objects.filter(cohort=cohort, status=StudentStatus.IN_SCHOOL)
    chosen = list(in_school.order_by("school_class__code", "student_number")[:count])
    if len(chosen) < count:
        raise SystemExit(f"cohort {cohort} has {len(chosen)} in-school students, want {count}")
    TermRegistration.objects.filter(term=term, student__in=chosen).update(
        state=RegistrationState.REGISTERED
    )
    # The rest of the cohort is left unregistered, so exactly COUNT are eligible.
    TermRegistration.objects.filter(term=term, student__cohort=cohort).exclude(
        student__in=chosen
    ).update(state=RegistrationState.UNREGISTERED)
    DocumentType.objects.filter(code="zxzm").update(is_active=True)
    registrar = User.objects.get(username="registrar")

    worker = subprocess.Popen(
        [PYTHON, str(ROOT / "manage.py"), "task_worker"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(3)  # the worker's start-up is not part of the batch
        started = time.perf_counter()
        with transaction.atomic():
            batch = document_batch_start(
                Actor(user=registrar, ip="127.0.0.1", user_agent="bench", via="bench"),
                type_code="zxzm",
                cohort=cohort,
                output=output,
            )
        peak = 0.0
        phases: dict[str, float] = {}
        last_phase, phase_started = "", started
        while True:
            job = Job.objects.get(pk=batch.job_id)
            if job.phase != last_phase:
                if last_phase:
                    phases[last_phase] = round(time.perf_counter() - phase_started, 1)
                last_phase, phase_started = job.phase, time.perf_counter()
            peak = max(peak, _tree_rss_mb(worker.pid))
            if job.is_finished:
                break
            if worker.poll() is not None:
                raise SystemExit(f"the worker exited ({worker.returncode})")
            time.sleep(0.25)
        seconds = time.perf_counter() - started
        phases[last_phase] = round(time.perf_counter() - phase_started, 1)
    finally:
        worker.terminate()
        worker.wait(30)
    if job.status != JobStatus.SUCCEEDED:
        raise SystemExit(f"the batch job ended {job.status}: {job.error}")
    batch = DocumentBatch.objects.get(pk=batch.pk)
    issued = IssuedDocument.objects.filter(batch=batch).count()
    assert issued == batch.issued == count, (issued, batch.issued, count)
    return {
        "issued": issued,
        "seconds": seconds,
        "rss_mb": peak,
        "output_mb": job.output_file.size / 1024 / 1024,
        "phases": phases,
        "processes": render_processes(),
    }


if __name__ == "__main__":
    main()
