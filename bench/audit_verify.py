"""`manage.py audit_verify` over 1M audit events: time and peak memory, SQLite and PostgreSQL.

    python bench/audit_verify.py [--events 1000000] [--db sqlite,postgresql]

The chain is built quickly but for real: rows shaped like the application's events (actors,
Chinese summaries, before/after JSON), each hash computed with xueji.audit.chain.event_hash
over the previous one, bulk inserted (executemany on SQLite, COPY on PostgreSQL) with the chain
head row. A database that already holds a chain of the requested length is reused.

Verification runs `manage.py audit_verify` as a child process; its wall time and peak RSS come
from os.wait4's rusage (ru_maxrss), so interpreter start-up and Django set-up are included.
The time the command reports for verification alone is printed next to it.
Targets: <= 10 s and <= 200 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PYTHON, ROOT, ensure_pg_database, machine, manage, say, target_env

SCRIPT = str(Path(__file__).resolve())
TARGET_S = 10.0
TARGET_MB = 200.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--runs", type=int, default=3, help="verifications per database")
    parser.add_argument("--build", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        build(args.build)
        return
    rows = []
    for name in args.db.split(","):
        database = f"xueji_bench_audit_{args.events}"
        if name == "postgresql":
            ensure_pg_database(database)
        else:
            database = f"audit-sqlite-{args.events}"
        target = target_env(name, database)
        manage(target, "migrate", "--no-input", "-v", "0")
        started = time.perf_counter()
        child = subprocess.run(
            [PYTHON, SCRIPT, "--build", str(args.events)], env=target.env, cwd=ROOT, check=True,
            capture_output=True, text=True,
        )  # fmt: skip
        sys.stderr.write(child.stderr)
        built = json.loads(child.stdout.strip().splitlines()[-1])
        if built["built"]:
            say(f"{name}: built {args.events} events in {time.perf_counter() - started:.1f} s")
        for run in range(args.runs):
            result = verify(target.env)
            say(
                f"{name} run {run + 1}: {result['wall']:.2f} s wall, verify"
                f" {result['verify']:.2f} s, {result['rss_mb']:.0f} MB"
            )
            rows.append({"db": name, **result})
    report(rows, args.events)


def verify(env: dict[str, str]) -> dict:
    started = time.perf_counter()
    process = subprocess.Popen(
        [PYTHON, str(ROOT / "manage.py"), "audit_verify"], env=env, cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    output = process.stdout.read() if process.stdout else ""
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"audit_verify failed:\n{output}")
    match = re.search(r"(\d+) events in ([\d.]+)s", output)
    if match is None:
        raise SystemExit(f"unexpected audit_verify output:\n{output}")
    return {
        "events": int(match.group(1)),
        "verify": float(match.group(2)),
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,  # KiB on Linux
    }


def report(rows: list[dict], events: int) -> None:
    print(f"\naudit_verify over {events} events — {machine()}")
    print(f"{time.strftime('%Y-%m-%d %H:%M')}; targets <= {TARGET_S:.0f} s, <= {TARGET_MB:.0f} MB")
    header = (
        f"{'db':<11} {'events':>8} {'verify s':>9} {'process s':>10} {'cpu s':>7} {'peak MB':>8}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['db']:<11} {row['events']:>8} {row['verify']:>9.2f} {row['wall']:>10.2f}"
            f" {row['cpu']:>7.2f} {row['rss_mb']:>8.0f}"
        )
    for db in dict.fromkeys(row["db"] for row in rows):
        runs = [r for r in rows if r["db"] == db]
        best = min(runs, key=lambda r: r["wall"])
        worst = max(runs, key=lambda r: r["wall"])
        peak = max(r["rss_mb"] for r in runs)
        ok = worst["wall"] <= TARGET_S and peak <= TARGET_MB
        print(
            f"{db}: {best['wall']:.2f}–{worst['wall']:.2f} s for the whole process, peak"
            f" {peak:.0f} MB — {'met' if ok else 'MISSED'}"
        )


# --- builder: runs inside a configured Django process ---------------------------------------

ACTIONS = (
    ("student.update", "students.student", "修改 {n} {name}：手机、家庭地址"),
    ("student.view_id", "students.student", "查看 {n} 的完整证件号码"),
    ("student.status", "students.student", "{n} 状态变更为休学"),
    ("correction.submit", "students.correctionrequest", "{n} 申请更正姓名拼音"),
    ("correction.approved", "students.correctionrequest", "通过 {n} 的更正申请"),
    ("student.create", "students.student", "新建学生档案 {n} {name}"),
)
AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/131.0.0.0 Safari/537.36"
)


def build(count: int) -> None:
    import django

    django.setup()
    from xueji.audit.models import AuditEvent, AuditHead

    head = AuditHead.objects.filter(id=1).first()
    if head is not None and head.seq == count and AuditEvent.objects.count() == count:
        print(json.dumps({"built": False}))
        return
    _build(count)
    print(json.dumps({"built": True}))


def _build(count: int) -> None:
    import random
    from datetime import UTC, datetime, timedelta

    from django.db import connection, transaction

    from xueji.audit.chain import GENESIS, canonical_json, event_hash
    from xueji.audit.models import AuditEvent, AuditHead

    rng = random.Random(1)
    columns = (
        "seq", "occurred_at", "actor_id", "actor_username", "actor_role", "ip", "user_agent",
        "via", "action", "target_type", "target_id", "summary", "before", "after", "prev_hash",
        "hash",
    )  # fmt: skip
    actors = [
        (2, "registrar", "registrar"), (3, "college-admin", "college_admin"),
        (4, "counsellor", "counsellor"), (None, "system", "system"),
    ]  # fmt: skip
    start = datetime(2024, 9, 1, tzinfo=UTC)
    adapt = connection.ops.adapt_datetimefield_value
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    prev = GENESIS
    with transaction.atomic():
        AuditEvent.objects.all().delete()
        AuditHead.objects.all().delete()
        batch: list[tuple] = []
        at = start
        for seq in range(1, count + 1):
            at += timedelta(microseconds=rng.randrange(1, 60_000_000))
            actor_id, username, role = rng.choice(actors)
            action, target_type, summary = rng.choice(ACTIONS)
            number = f"2024{rng.randrange(10**9):09d}"
            before = canonical_json({"phone": "138****0000", "address": "湖北省武汉市洪山区……"})
            after = canonical_json({"phone": "139****1111", "address": "湖北省武汉市武昌区……"})
            fields = {
                "seq": seq, "occurred_at": at, "actor_id": actor_id, "actor_username": username,
                "actor_role": role, "ip": f"10.{seq % 250}.{seq % 7}.{seq % 200}",
                "user_agent": AGENT, "via": "web" if seq % 5 else "api", "action": action,
                "target_type": target_type, "target_id": str(seq % 100_000),
                "summary": summary.format(n=number, name="张小明"), "before": before,
                "after": after,
            }  # fmt: skip
            digest = event_hash(prev_hash=prev, **fields)
            fields["occurred_at"] = adapt(at)
            batch.append((*fields.values(), prev, digest))
            prev = digest
            if len(batch) == 20_000 or seq == count:
                _write(connection, table, names, columns, batch)
                batch = []
        AuditHead.objects.create(id=1, seq=count, hash=prev)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _write(connection, table: str, names: str, columns: tuple[str, ...], batch: list) -> None:
    if connection.vendor == "postgresql":
        raw = connection.connection  # psycopg 3: COPY is several times faster than INSERT
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in batch:
                copy.write_row(row)
        return
    params = ", ".join(["%s"] * len(columns))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({params})", batch)  # noqa: S608


if __name__ == "__main__":
    main()
