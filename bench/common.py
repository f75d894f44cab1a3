"""Shared set-up for the benchmarks: seeded databases that are reused between runs.

Each benchmark prepares its databases through `prepare()`, which runs the ordinary management
commands (migrate, load_codes, collectstatic, seed_demo) in child processes, so what is measured
is exactly what a deployment would run. SQLite databases live under var/bench/ (git-ignored);
PostgreSQL databases are created on the server in XUEJI_BENCH_PG (default
postgres://postgres@127.0.0.1:5432/). A database that already holds the requested number of
demo students is reused; one that holds a different number is rebuilt.
"""

from __future__ import annotations

import math
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_VAR = Path(os.environ.get("XUEJI_BENCH_VAR", ROOT / "var" / "bench"))
PG_SERVER = os.environ.get("XUEJI_BENCH_PG", "postgres://postgres@127.0.0.1:5432/")
PYTHON = sys.executable
STUDENTS = int(os.environ.get("XUEJI_BENCH_STUDENTS", "100000"))


@dataclass(frozen=True)
class Target:
    """One database to benchmark against, and the environment that selects it."""

    name: str  # "sqlite" or "postgresql"
    env: dict[str, str]


def target_env(name: str, database: str) -> Target:
    """`database` is a directory name under var/bench for SQLite, a database name for PG."""
    var_dir = BENCH_VAR / database
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "XUEJI_VAR_DIR": str(var_dir),
        "XUEJI_STATIC_ROOT": str(BENCH_VAR / "static"),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("XUEJI_DEBUG", None)  # production settings: no query log, manifest static files
    env.pop("DATABASE_URL", None)
    if name == "postgresql":
        env["DATABASE_URL"] = PG_SERVER.rstrip("/") + "/" + database
    var_dir.mkdir(parents=True, exist_ok=True)
    return Target(name, env)


def manage(target: Target, *args: str, quiet: bool = True) -> str:
    result = subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), *args],
        env=target.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"manage.py {' '.join(args)} failed on {target.name}")
    if not quiet:
        sys.stdout.write(result.stdout)
    return result.stdout


def ensure_pg_database(name: str, *, fresh: bool = False) -> None:
    import psycopg

    url = PG_SERVER.rstrip("/").replace("postgres://", "postgresql://") + "/postgres"
    with psycopg.connect(url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and fresh:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def student_count(target: Target) -> int:
    out = manage(
        target,
        "shell",
        "-v",
        "0",
        "-c",
        "from xueji.students.models import Student; print(Student.objects.count())",
    )
    return int(out.strip().splitlines()[-1])


def prepare(name: str, *, students: int = STUDENTS, static: bool = False) -> Target:
    """A migrated database with code tables and `students` demo students (reused if present)."""
    database = f"xueji_bench_{students}" if name == "postgresql" else f"sqlite-{students}"
    if name == "postgresql":
        ensure_pg_database(database)
    target = target_env(name, database)
    manage(target, "migrate", "--no-input", "-v", "0")
    count = student_count(target)
    if count not in (0, students):
        say(f"{name}: database has {count} students, want {students}; rebuilding")
        if name == "postgresql":
            ensure_pg_database(database, fresh=True)
        else:
            for suffix in ("", "-wal", "-shm"):
                (BENCH_VAR / database / f"xueji.sqlite3{suffix}").unlink(missing_ok=True)
        manage(target, "migrate", "--no-input", "-v", "0")
        count = 0
    if count == 0:
        manage(target, "load_codes", "-v", "0")
        started = time.perf_counter()
        manage(target, "seed_demo", "--students", str(students))
        say(f"{name}: seeded {students} students in {time.perf_counter() - started:.1f} s")
    if static and not (BENCH_VAR / "static" / "staticfiles.json").exists():
        manage(target, "collectstatic", "--no-input", "-v", "0")
    return target


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0–100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summary_ms(samples: list[float]) -> dict[str, float]:
    """p50 / p95 / max in milliseconds from samples in seconds."""
    return {
        "p50": percentile(samples, 50) * 1000,
        "p95": percentile(samples, 95) * 1000,
        "mean": statistics.fmean(samples) * 1000,
        "max": max(samples) * 1000,
    }


def machine() -> str:
    cores = os.cpu_count()
    with open("/proc/meminfo") as fh:
        total_kb = int(fh.readline().split()[1])
    load = os.getloadavg()
    return (
        f"{cores} cores, {total_kb / 1024 / 1024:.1f} GiB RAM,"
        f" load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
