"""Background jobs run by a real `db_worker` process against the test database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.tasks import TaskResultStatus

from xueji.audit.services import audit_record
from xueji.audit.tasks import audit_chain_verify_task
from xueji.core.context import Actor


def database_url_for_tests() -> str:
    config = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{config['NAME']}"
    user = config.get("USER") or "postgres"
    host = config.get("HOST") or "127.0.0.1"
    port = config.get("PORT") or 5432
    password = f":{config['PASSWORD']}" if config.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{port}/{config['NAME']}"


def run_worker() -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url_for_tests()}
    return subprocess.run(
        [sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay"],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_process_verifies_the_audit_chain_in_the_background():
    for number in range(3):
        audit_record(actor=Actor.system(), action="test.event", target_id=str(number))

    result = audit_chain_verify_task.enqueue()
    assert result.status == TaskResultStatus.READY

    finished = run_worker()
    assert finished.returncode == 0, finished.stderr

    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value["ok"] is True
    assert result.return_value["checked"] >= 3
