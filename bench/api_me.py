"""`GET /api/v1/students/me/` under load, next to a bare Django view on the same server.

    python bench/api_me.py [--db sqlite,postgresql] [--duration 15] [--connections 32]

For each database: gunicorn (`-w 2 --threads 4`, production settings) serves the application
through bench/wsgi_bench.py, which adds the bare view /bench/bare/ (bench/bare_urls.py). The
student demo account gets a token from `POST /api/v1/auth/token/`; wrk (Debian package `wrk`)
then drives 32 connections at the bare view and at /api/v1/students/me/ in turn, with the
token in the Authorization header (bench/wrk_report.lua). Prints requests/s, p50/p95 and the
ratio me/bare. Targets: ratio >= 0.5, p95 <= 50 ms.

Only 127.0.0.1 is used. The machine's cores are shared by wrk and gunicorn.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, STUDENTS, machine, prepare, say

HERE = Path(__file__).resolve().parent
PASSWORD = "demo-password-2026"
TARGET_RATIO = 0.5
TARGET_P95_MS = 50.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=STUDENTS)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--duration", type=int, default=15, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--breakdown", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.breakdown:
        breakdown()
        return
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    rows = []
    steps: dict[str, dict[str, float]] = {}
    for name in args.db.split(","):
        target = prepare(name, students=args.students, static=True)
        rows += run_server(name, target.env, args)
        child = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--breakdown"],
            env={**target.env, "XUEJI_BENCH_BARE_VIEW": "1"}, cwd=ROOT, check=True,
            capture_output=True, text=True,
        )  # fmt: skip
        steps[name] = json.loads(child.stdout.strip().splitlines()[-1])
    report(rows, args)
    print("\nIn one process, one request at a time (Django test Client), ms per request:")
    print(f"{'db':<11} " + " ".join(f"{label:>14}" for label in BREAKDOWN))
    for name, times in steps.items():
        print(f"{name:<11} " + " ".join(f"{times[label]:>14.2f}" for label in BREAKDOWN))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_server(name: str, env: dict[str, str], args: argparse.Namespace) -> list[dict]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server_env = {**env, "XUEJI_BENCH_BARE_VIEW": "1"}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [
            str(gunicorn), "bench.wsgi_bench:application", "--bind", f"127.0.0.1:{port}",
            "--workers", str(args.workers), "--threads", str(args.threads),
            "--worker-class", "gthread", "--log-level", "warning",
        ],
        cwd=ROOT, env=server_env, start_new_session=True,
    )  # fmt: skip
    try:
        wait_ready(base + "/bench/bare/")
        token = issue_token(base)
        check(base + "/api/v1/students/me/", token)
        say(f"{name}: gunicorn on port {port}; warming up")
        for path in ("/bench/bare/", "/api/v1/students/me/"):
            wrk(base + path, token, 3, args.connections)
        results = []
        for label, path in (
            ("bare view", "/bench/bare/"),
            ("/students/me", "/api/v1/students/me/"),
        ):
            say(f"{name}: {label} for {args.duration} s")
            result = wrk(base + path, token, args.duration, args.connections)
            results.append({"db": name, "case": label, **result})
        return results
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def wait_ready(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - 127.0.0.1
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer at {url}")


def issue_token(base: str) -> str:
    body = json.dumps({"username": "student", "password": PASSWORD}).encode()
    request = urllib.request.Request(  # noqa: S310 - 127.0.0.1 only
        base + "/api/v1/auth/token/", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.load(response)["token"]


def check(url: str, token: str) -> None:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        data = json.load(response)
    if response.status != 200 or "student_number" not in json.dumps(data):
        raise SystemExit(f"unexpected answer from {url}: {response.status} {data}")


def wrk(url: str, token: str, seconds: int, connections: int) -> dict:
    threads = min(2, connections)
    completed = subprocess.run(
        [
            "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
            "-s", str(HERE / "wrk_report.lua"), url,
        ],
        env={**os.environ, "XUEJI_BENCH_TOKEN": token},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    line = next(li for li in completed.stdout.splitlines() if li.startswith("WRK_JSON "))
    data = json.loads(line.removeprefix("WRK_JSON "))
    if data["errors"]:
        say(f"wrk reported {data['errors']} errors ({data['non_2xx']} non-2xx) for {url}")
    return {
        "rps": data["requests"] / (data["duration_us"] / 1e6),
        "p50": data["p50_us"] / 1000,
        "p95": data["p95_us"] / 1000,
        "p99": data["p99_us"] / 1000,
        "errors": data["errors"],
        "requests": data["requests"],
    }


def report(rows: list[dict], args: argparse.Namespace) -> None:
    print(f"\nGET /api/v1/students/me/ vs a bare Django view — {machine()}")
    print(
        f"{time.strftime('%Y-%m-%d %H:%M')}; gunicorn -w {args.workers} --threads"
        f" {args.threads} (gthread), wrk -t2 -c{args.connections} -d{args.duration}s on the same"
        " machine"
    )
    header = f"{'db':<11} {'case':<14} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
    print(header + f" {'errors':>7}")
    print("-" * (len(header) + 8))
    for row in rows:
        print(
            f"{row['db']:<11} {row['case']:<14} {row['rps']:>8.0f} {row['p50']:>8.1f}"
            f" {row['p95']:>8.1f} {row['p99']:>8.1f} {row['errors']:>7}"
        )
    print()
    for db in dict.fromkeys(row["db"] for row in rows):
        bare, me = (next(r for r in rows if r["db"] == db and r["case"] == c) for c in (
            "bare view", "/students/me"))  # fmt: skip
        ratio = me["rps"] / bare["rps"]
        ok = ratio >= TARGET_RATIO and me["p95"] <= TARGET_P95_MS
        print(
            f"{db}: /students/me at {ratio:.2f}x the bare view's throughput, p95"
            f" {me['p95']:.1f} ms — {'met' if ok else 'MISSED'} (targets >= {TARGET_RATIO}x,"
            f" p95 <= {TARGET_P95_MS:.0f} ms)"
        )


BREAKDOWN = {
    "bare Django": "/bench/bare/",
    "bare DRF": "/bench/bare-drf/",
    "DRF + token": "/bench/token-drf/",
    "/students/me": "/api/v1/students/me/",
}


def breakdown() -> None:
    """Where /students/me spends its time: the same request path step by step, in-process."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import bench.wsgi_bench  # noqa: F401 - selects bench.bare_urls before Django starts

    django.setup()
    from django.test import Client

    from xueji.accounts.models import User
    from xueji.accounts.services import api_token_issue
    from xueji.core.context import Actor

    _token, key = api_token_issue(actor=Actor.system(), user=User.objects.get(username="student"))
    client = Client(SERVER_NAME="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {key}")
    result = {}
    for label, path in BREAKDOWN.items():
        for _ in range(20):
            assert client.get(path).status_code == 200, path
        started = time.perf_counter()
        for _ in range(300):
            client.get(path)
        result[label] = (time.perf_counter() - started) / 300 * 1000
    print(json.dumps(result))


if __name__ == "__main__":
    main()
