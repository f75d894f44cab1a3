"""Background jobs of the audit app (run by `manage.py db_worker`)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.tasks import task

from xueji.audit.selectors import audit_chain_verify


@task
def audit_chain_verify_task() -> dict[str, Any]:
    """Verify the whole chain in the background; the result is the report as a dict."""
    return asdict(audit_chain_verify())
