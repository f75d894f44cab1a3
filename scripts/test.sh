#!/usr/bin/env bash
# Set up, then ruff and the whole test suite on SQLite and on PostgreSQL, browser tests in
# Chromium included. Missing services fail the run with a clear message; nothing is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL_PG="${XUEJI_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
fail() { printf '\033[1;31mFAIL:\033[0m %s\n' "$*" >&2; exit 1; }

# Tests use their own throw-away var dir so a developer's demo database is untouched.
XUEJI_VAR_DIR="$(mktemp -d)"
export XUEJI_VAR_DIR
trap 'rm -rf "$XUEJI_VAR_DIR"' EXIT
XUEJI_SETUP_SKIP_DB=1 scripts/setup.sh

say "Checking the services the tests need"
[ -x /usr/bin/chromium ] || fail "Chromium is missing: apt-get install chromium fonts-noto-cjk (or run .ci/run as root)"
.venv/bin/python - "$DATABASE_URL_PG" <<'PY' || fail "PostgreSQL is not reachable at $DATABASE_URL_PG (set XUEJI_TEST_DATABASE_URL, or start it: pg_ctlcluster <version> main start)"
import sys, psycopg
psycopg.connect(sys.argv[1].replace("postgres://", "postgresql://"), connect_timeout=5).close()
PY
certificate_packages="libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk fonts-hanazono"
.venv/bin/python - <<'PY' || fail "Certificate PDFs need Pango and their fonts: apt-get install $certificate_packages (or run .ci/run as root)"
import sys
from django.core.exceptions import ImproperlyConfigured
try:
    from xueji.certificates.pdf import installed_faces  # loads WeasyPrint, hence Pango
    installed_faces()
except (OSError, ImproperlyConfigured) as error:
    sys.exit(f"{type(error).__name__}: {error}")
PY
command -v pdftoppm >/dev/null 2>&1 || fail "pdftoppm is missing: apt-get install poppler-utils (or run .ci/run as root)"
command -v zbarimg >/dev/null 2>&1 || fail "zbarimg is missing: apt-get install zbar-tools (or run .ci/run as root)"
export XUEJI_TEST_REDIS_URL="${XUEJI_TEST_REDIS_URL:-redis://127.0.0.1:6379/15}"
.venv/bin/python - "$XUEJI_TEST_REDIS_URL" <<'PY' || fail "Redis is not reachable at $XUEJI_TEST_REDIS_URL (set XUEJI_TEST_REDIS_URL, or start it: redis-server --daemonize yes; apt-get install redis-server if missing)"
import sys, redis
redis.Redis.from_url(sys.argv[1], socket_connect_timeout=5).ping()
PY

say "ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .

say "Migrations are complete"
.venv/bin/python manage.py makemigrations --check --dry-run >/dev/null || fail "models changed without a migration: run manage.py makemigrations"

say "Tests on SQLite"
.venv/bin/pytest "$@"

say "Tests on PostgreSQL ($DATABASE_URL_PG)"
DATABASE_URL="$DATABASE_URL_PG" .venv/bin/pytest "$@"
say "All tests passed on SQLite and PostgreSQL"
