"""A student's 在校证明 over HTTP from a warm server: request, then download, 200 times in a row.

    python bench/certificate_server.py [--db sqlite,postgresql] [--requests 200]

For each database: a fresh install the way `make run` sets one up (migrate, load_codes,
load_change_types, load_departments, seed_demo, collectstatic) in a temporary XUEJI_VAR_DIR
(SQLite) or a freshly created database `xueji_bench_certificates` (PostgreSQL), with
production settings; the demo student is registered for the current term and the 在校证明's
free quota is raised so that every request may issue one. gunicorn (config.wsgi, `-w 2
--threads 4`, gthread) serves it on 127.0.0.1. One client logs in as the demo student through
the login page (a session cookie, one keep-alive connection, as a browser) and, after 10
warm-up round trips, times each round trip one after another:

    POST /certificates/me/ type=zxzm      (issues the document: rules, quota, PDF, audit)
    GET  /certificates/me/                (the redirect: the page listing the documents)
    GET  /certificates/<newest>/download/ (the PDF, audited)

then the download alone, over the documents just issued. Prints p50/p95/max; the figure held
against the target (issue 5: p95 <= 300 ms for a certificate on a warm server) is one
certificate, the POST that issues it plus its download; the page in between is the portal
listing all of the student's documents, shown on its own line. Every document is
checked (a 302 after the POST, a PDF after the download), so a failing request stops the run
instead of being timed.

The machine's cores are shared by the client, gunicorn and the database; the load average
before and after each run is printed with it.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from http.cookies import SimpleCookie
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    PG_SERVER,
    ROOT,
    Target,
    ensure_pg_database,
    machine,
    manage,
    say,
    summary_ms,
)

PASSWORD = "demo-password-2026"
TARGET_P95_MS = 300.0
PG_DATABASE = "xueji_bench_certificates"
DOCUMENT_TYPE = "zxzm"

# Run in `manage.py shell` before the server starts: every request may issue a 在校证明 (the
# demo quota is a few a term; the field holds up to 32767) and the demo student is registered
# this term (the demo registers most students, at random).
BENCH_SETUP = """
from django.utils import timezone
from xueji.certificates.models import DocumentType
from xueji.org.selectors import term_current
from xueji.registration.models import RegistrationState, TermRegistration
from xueji.students.selectors import student_for_user
from xueji.accounts.models import User

DocumentType.objects.filter(code={code!r}).update(free_per_term=30_000, is_active=True)
student = student_for_user(User.objects.get(username="student"))
term = term_current(timezone.localdate())
assert term is not None, "no current term in the demo data"
TermRegistration.objects.update_or_create(
    student=student, term=term, defaults={{"state": RegistrationState.REGISTERED}}
)
print(student.student_number, term)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default="sqlite,postgresql", help="sqlite, postgresql or both")
    parser.add_argument("--requests", type=int, default=200, help="timed round trips")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--students", type=int, default=2000, help="demo school size")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--keep", action="store_true", help="keep the temporary var directory")
    args = parser.parse_args()
    say(f"machine: {machine()}")
    results = []
    for name in args.db.split(","):
        results.append(run(name.strip(), args))
    report(results, args)


def run(name: str, args: argparse.Namespace) -> dict:
    var_dir = Path(tempfile.mkdtemp(prefix=f"xueji-bench-cert-{name}-"))
    try:
        target = fresh_install(name, var_dir, args.students)
        load_before = os.getloadavg()
        server, base = start_server(target, var_dir, args)
        try:
            client = Client(base)
            client.log_in("student", PASSWORD)
            say(f"{name}: warming up ({args.warmup} round trips)")
            pks = [round_trip(client)[1] for _ in range(args.warmup)]
            say(f"{name}: {args.requests} round trips, one after another")
            trips, steps = [], {"POST": [], "page": [], "download": []}
            for _ in range(args.requests):
                (seconds, pk, parts) = round_trip(client)
                trips.append(seconds)
                pks.append(pk)
                for key, value in parts.items():
                    steps[key].append(value)
            say(f"{name}: {args.requests} downloads alone")
            downloads = []
            for i in range(args.requests):
                started = time.perf_counter()
                client.download(pks[i % len(pks)])
                downloads.append(time.perf_counter() - started)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        load_after = os.getloadavg()
        one = [post + got for post, got in zip(steps["POST"], steps["download"], strict=True)]
        return {
            "db": name,
            # One certificate: issue it and download it (the page in between is the portal's).
            "certificate": summary_ms(one),
            "trip": summary_ms(trips),
            "steps": {key: summary_ms(values) for key, values in steps.items()},
            "download": summary_ms(downloads),
            # The page lists every document of the student, so it grows with each one issued.
            "page_first_last": (
                summary_ms(steps["page"][:20])["p50"],
                summary_ms(steps["page"][-20:])["p50"],
            ),
            "load": (load_before, load_after),
            "documents": len(pks),
        }
    finally:
        if args.keep:
            say(f"{name}: kept {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)


def fresh_install(name: str, var_dir: Path, students: int) -> Target:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "XUEJI_VAR_DIR": str(var_dir),
        "XUEJI_STATIC_ROOT": str(var_dir / "static"),
        "PYTHONPATH": str(ROOT),
    }
    for unset in ("XUEJI_DEBUG", "DATABASE_URL", "XUEJI_CACHE_URL", "XUEJI_MEDIA_ROOT"):
        env.pop(unset, None)  # production settings, the default cache, media in var_dir
    if name == "postgresql":
        ensure_pg_database(PG_DATABASE, fresh=True)
        env["DATABASE_URL"] = PG_SERVER.rstrip("/") + "/" + PG_DATABASE
    elif name != "sqlite":
        raise SystemExit(f"unknown database {name!r}: sqlite or postgresql")
    target = Target(name, env)
    started = time.perf_counter()
    # The steps of scripts/setup.sh and scripts/run.sh, then the static files production serves.
    manage(target, "migrate", "--no-input", "-v", "0")
    for command in ("load_codes", "load_change_types", "load_departments"):
        manage(target, command, "-v", "0")
    manage(target, "seed_demo", "--students", str(students))
    manage(target, "collectstatic", "--no-input", "-v", "0")
    out = manage(target, "shell", "-v", "0", "-c", BENCH_SETUP.format(code=DOCUMENT_TYPE))
    say(
        f"{name}: fresh install with {students} students in {time.perf_counter() - started:.0f} s;"
        f" demo student {out.strip().splitlines()[-1]}"
    )
    return target


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(
    target: Target, var_dir: Path, args: argparse.Namespace
) -> tuple[subprocess.Popen, str]:
    port = free_port()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    log = (var_dir / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [
            str(gunicorn), "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
            "--workers", str(args.workers), "--threads", str(args.threads),
            "--worker-class", "gthread", "--log-level", "warning",
        ],
        cwd=ROOT, env=target.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/accounts/login/")
            if connection.getresponse().status == 200:
                connection.close()
                say(f"{target.name}: gunicorn on port {port}, -w {args.workers}"
                    f" --threads {args.threads}")  # fmt: skip
                return server, f"127.0.0.1:{port}"
        except OSError:
            time.sleep(0.3)
    os.killpg(server.pid, signal.SIGTERM)
    raise SystemExit(f"gunicorn did not answer:\n{(var_dir / 'gunicorn.log').read_text()}")


class Client:
    """One browser: a keep-alive connection, the cookies the server sets, the CSRF header."""

    def __init__(self, host: str) -> None:
        self.connection = http.client.HTTPConnection(host, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        content = response.read()
        for value in response.headers.get_all("Set-Cookie") or []:
            for morsel in SimpleCookie(value).values():
                self.cookies[morsel.key] = morsel.value
        return response.status, dict(response.headers), content

    def log_in(self, username: str, password: str) -> None:
        self.request("GET", "/accounts/login/")  # sets the CSRF cookie
        status, _headers, _ = self.request(
            "POST", "/accounts/login/", {"username": username, "password": password}
        )
        if status != 302 or "sessionid" not in self.cookies:
            raise SystemExit(f"log-in as {username} failed ({status})")

    def download(self, pk: int) -> bytes:
        status, _headers, content = self.request("GET", f"/certificates/{pk}/download/")
        if status != 200 or not content.startswith(b"%PDF"):
            raise SystemExit(f"download of document {pk} failed ({status}): {content[:200]!r}")
        return content


DOWNLOAD_LINK = re.compile(rb'href="/certificates/(\d+)/download/"')


def round_trip(client: Client) -> tuple[float, int, dict[str, float]]:
    """Request a 在校证明, follow the redirect to the page, download the newest document."""
    started = time.perf_counter()
    status, headers, content = client.request(
        "POST", "/certificates/me/", {"type": DOCUMENT_TYPE, "language": "zh"}
    )
    posted = time.perf_counter()
    if status != 302:
        message = re.findall(rb'class="alert[^"]*"[^>]*>(.*?)<', content, re.S)
        raise SystemExit(f"requesting a certificate failed ({status}): {message}")
    status, headers, page = client.request("GET", urllib.parse.urlsplit(headers["Location"]).path)
    listed = time.perf_counter()
    pks = [int(pk) for pk in DOWNLOAD_LINK.findall(page)]
    if status != 200 or not pks:
        raise SystemExit(f"the documents page answered {status} without download links")
    newest = max(pks)
    client.download(newest)
    done = time.perf_counter()
    parts = {"POST": posted - started, "page": listed - posted, "download": done - listed}
    return done - started, newest, parts


def report(results: list[dict], args: argparse.Namespace) -> None:
    print(f"\n在校证明 over HTTP from a warm gunicorn — {machine()}")
    print(
        f"{time.strftime('%Y-%m-%d %H:%M')}; gunicorn -w {args.workers} --threads {args.threads}"
        f" (gthread), production settings, fresh install with {args.students} demo students;"
        f" one client, {args.requests} requests one after another after {args.warmup} warm-up"
    )
    header = f"{'db':<11} {'case':<34} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'p95/300':>8}"
    print(header)
    print("-" * len(header))
    for row in results:
        cases = [("one certificate: POST + download", row["certificate"])]
        cases += [("request + page + download", row["trip"])]
        cases += [(f"  of which {key}", stats) for key, stats in row["steps"].items()]
        cases += [("download alone", row["download"])]
        for label, stats in cases:
            print(
                f"{row['db']:<11} {label:<34} {stats['p50']:>8.1f} {stats['p95']:>8.1f}"
                f" {stats['max']:>8.1f} {stats['p95'] / TARGET_P95_MS:>8.2f}"
            )
    print()
    for row in results:
        before, after = row["load"]
        p95 = row["certificate"]["p95"]
        verdict = "met" if p95 <= TARGET_P95_MS else "MISSED"
        print(
            f"{row['db']}: one certificate (issue + download) p95 {p95:.0f} ms ="
            f" {p95 / TARGET_P95_MS:.2f}x the"
            f" {TARGET_P95_MS:.0f} ms target — {verdict}; {row['documents']} documents issued;"
            f" load average {before[0]:.2f} before, {after[0]:.2f} after"
        )
        first, last = row["page_first_last"]
        print(
            f"{row['db']}: the page listing the student's documents, p50 {first:.0f} ms over the"
            f" first 20 round trips, {last:.0f} ms over the last 20 (it lists them all)"
        )


if __name__ == "__main__":
    main()
