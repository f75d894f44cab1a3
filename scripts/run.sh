#!/usr/bin/env bash
# Set up and run Xueji on the embedded defaults: SQLite in var/, demo data, the database-backed
# background worker, and the web server on 127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
export XUEJI_DEBUG="${XUEJI_DEBUG:-1}"
HOST="${XUEJI_HOST:-127.0.0.1}"
PORT="${XUEJI_PORT:-8000}"
# Links in e-mails and the QR codes on certificates point here unless set otherwise.
export XUEJI_BASE_URL="${XUEJI_BASE_URL:-http://$HOST:$PORT}"

scripts/setup.sh
.venv/bin/python manage.py seed_demo --students "${XUEJI_DEMO_STUDENTS:-2000}"

.venv/bin/python manage.py task_worker &
worker=$!
# Periodic sweeps: changes due today take effect, overdue approvals are reminded, webhook
# deliveries are retried, registration reminders go out.
.venv/bin/python manage.py run_periodic &
periodic=$!
trap 'kill $worker $periodic 2>/dev/null || true' EXIT INT TERM

cat <<MSG

  Xueji 学籍 is running:  http://$HOST:$PORT/
  API docs:               http://$HOST:$PORT/api/v1/docs/

  Demo logins (password: demo-password-2026)
    registrar       校级学籍管理员 (whole school, may view full ID numbers)
    college-admin   二级学院教务员 (first college)
    counsellor      辅导员 (one class in that college)
    advisor         学业导师 (own advisees)
    student         学生 (a student in the counsellor's class)
    parent          家长 (linked to that student, with consent)
    auditor         审计员 (audit trail, read-only)
    finance         财务处 (acknowledges status-change notices)
    dormitory       宿舍管理中心 (acknowledges status-change notices)

  Stop with Ctrl-C.
MSG
.venv/bin/python manage.py runserver "$HOST:$PORT" --noreload
