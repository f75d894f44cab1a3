"""A clean dry run's plan, kept for its commit: the normalised new-student records as compact
gzipped JSON beside the job's files, keyed by the dry run, the file's SHA-256 and the state
the rows were checked against (`validate.checked_against`).

The commit of that dry run reads it instead of reading and checking the whole file again; it
still re-checks, set-based, what can change in between (the state digest, and that no 考生号,
学号 or ID number has been taken since) and falls back to the full check otherwise.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from xueji.jobs.models import Job

FORMAT = 1
DRY_RUN_KIND = "import.freshmen.dry_run"  # runner.DRY_RUN (the runner imports this module)
# How long a clean dry run's plan waits for its commit before the sweep removes it.
PLAN_KEEP = timedelta(days=2)
# Record fields in the order they are stored; dates as ISO text, the duration as text.
FIELDS = (
    "candidate_number", "student_number", "name", "gender", "birth_date", "id_type",
    "id_number", "political_status", "ethnicity", "major_id", "college_id", "department",
    "school_class_id", "level", "study_form", "duration", "enrollment_date",
    "expected_graduation_date", "native_region", "phone", "cohort_year",
)  # fmt: skip
DATES = {"birth_date", "enrollment_date", "expected_graduation_date"}


@dataclass(frozen=True)
class StoredPlan:
    dry_run: Job
    sha256: str
    state: str  # validate.checked_against() when the dry run ran
    counts: dict[str, int]
    records: list[dict[str, Any]]


def plan_path(job: Job, sha256: str) -> str:
    return f"jobs/{job.kind}/plans/{job.pk}-{sha256}.json.gz"


def plan_store(job: Job, *, sha256: str, state: str, counts: dict[str, int],
               records: list[dict[str, Any]]) -> None:  # fmt: skip
    """Write the plan of a clean, all-new dry run."""
    converted = [(i, name) for i, name in enumerate(FIELDS) if name in DATES or name == "duration"]
    rows = []
    for record in records:
        row = [record[name] for name in FIELDS]
        for i, name in converted:
            row[i] = _dump(name, row[i])
        rows.append(row)
    payload = {"format": FORMAT, "sha256": sha256, "state": state, "counts": counts,
               "fields": FIELDS, "rows": rows}  # fmt: skip
    data = gzip.compress(json.dumps(payload, ensure_ascii=False).encode(), compresslevel=1)
    path = plan_path(job, sha256)
    if default_storage.exists(path):
        default_storage.delete(path)
    default_storage.save(path, ContentFile(data))


def plan_load(job: Job, sha256: str) -> StoredPlan | None:
    """The stored plan of dry run `job` for a file with this digest, or None."""
    path = plan_path(job, sha256)
    if not default_storage.exists(path):
        return None
    with default_storage.open(path, "rb") as handle:
        payload = json.loads(gzip.decompress(handle.read()))
    if payload.get("format") != FORMAT or payload.get("sha256") != sha256:
        return None
    if tuple(payload["fields"]) != FIELDS:
        return None
    parse_date = _cached_dates()
    records = []
    for row in payload["rows"]:
        record = dict(zip(FIELDS, row, strict=True))
        for name in DATES:
            record[name] = parse_date(record[name])
        record["duration"] = Decimal(record["duration"])
        records.append(record)
    return StoredPlan(job, sha256, payload["state"], payload["counts"], records)


def plan_discard(job: Job, sha256: str) -> None:
    """Remove the kept plan once its commit has written it (a dry run is confirmed once)."""
    path = plan_path(job, sha256)
    if default_storage.exists(path):
        default_storage.delete(path)


def plans_discard_stale(now: datetime) -> int:
    """Periodic sweep: drop the kept plans of dry runs nobody confirmed within PLAN_KEEP (a
    commit without its plan checks the whole file again, so nothing depends on them). Looks
    at dry runs finished up to a week before that, so a sweep missed for days still catches
    up. Returns how many plans were removed."""
    removed = 0
    finished = Job.objects.filter(
        kind=DRY_RUN_KIND,
        finished_at__lt=now - PLAN_KEEP,
        finished_at__gte=now - PLAN_KEEP - timedelta(days=7),
    ).only("pk", "kind", "result")
    for job in finished:
        sha256 = (job.result or {}).get("sha256")
        if sha256 and default_storage.exists(plan_path(job, sha256)):
            default_storage.delete(plan_path(job, sha256))
            removed += 1
    return removed


def _dump(name: str, value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _cached_dates() -> Any:
    seen: dict[str, date] = {}

    def parse(text: str) -> date:
        found = seen.get(text)
        if found is None:
            found = seen[text] = date.fromisoformat(text)
        return found

    return parse
