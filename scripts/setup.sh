#!/usr/bin/env bash
# Set everything up, idempotently: .venv with pinned Python packages, front-end assets from the
# npm registry (git-ignored node_modules/), translations, database migrations and code tables.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

PYTHON="$(scripts/find-python.sh)"
if [ -x .venv/bin/python ] && ! .venv/bin/python -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)'; then
    say "Removing .venv built with an old Python"
    rm -rf .venv
fi
if [ ! -x .venv/bin/python ]; then
    say "Creating .venv with $("$PYTHON" --version) ($PYTHON)"
    "$PYTHON" -m venv .venv
fi

stamp=".venv/.xueji-deps-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
    say "Installing Python packages (pinned in pyproject.toml)"
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e '.[dev]'
    rm -f .venv/.xueji-deps-*
    touch "$stamp"
fi

if ! command -v npm >/dev/null 2>&1; then
    echo "npm is needed to install Bootstrap and icons (apt-get install npm, or install Node.js)" >&2
    exit 1
fi
npm_stamp="node_modules/.xueji-$(sha256sum package-lock.json | cut -c1-16)"
if [ ! -f "$npm_stamp" ]; then
    say "Installing front-end assets from the npm registry into node_modules/"
    npm ci --no-audit --no-fund --loglevel=error
    touch "$npm_stamp"
fi

mkdir -p "${XUEJI_VAR_DIR:-var}"
say "Compiling translations"
.venv/bin/python manage.py compile_translations
if [ "${XUEJI_SETUP_SKIP_DB:-0}" != "1" ]; then
    say "Applying database migrations"
    .venv/bin/python manage.py migrate --noinput
    .venv/bin/python manage.py load_codes
    .venv/bin/python manage.py load_change_types
    .venv/bin/python manage.py load_departments
fi
