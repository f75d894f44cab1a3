"""The freshman import with a 来源系统: code columns go through that system's code mappings
before the checks; an unmapped code is a row error naming the system; the kept plan of the dry
run is not reused once the mapping changed."""

from __future__ import annotations

from django.db import transaction

from xueji.conftest import Cast
from xueji.exchange.imports import services
from xueji.exchange.tests.test_imports import freshman_rows, upload, xlsx_bytes
from xueji.jobs.models import Job, JobStatus
from xueji.jobs.services import job_run
from xueji.org.models import CodeMapping, CodeTable
from xueji.students.models import Student

SYSTEM = "招生系统"


def start(cast: Cast, data: bytes, *, dry_run: bool = True, system: str = SYSTEM) -> Job:
    with transaction.atomic():
        job = services.import_start(
            actor=cast.actor(cast.registrar),
            kind="freshmen",
            upload=upload(data),
            dry_run=dry_run,
            system=system,
        )
    job_run(job.pk)
    job.refresh_from_db()
    return job


def confirm(cast: Cast, dry: Job) -> Job:
    with transaction.atomic():
        commit = services.import_confirm(actor=cast.actor(cast.registrar), dry_run=dry)
    job_run(commit.pk)
    commit.refresh_from_db()
    return commit


def mapped_rows(cast: Cast, count: int) -> list[dict]:
    rows = freshman_rows(cast, count)
    for i, row in enumerate(rows):
        row["MZ"] = "HA" if i % 2 else "MG"  # the admission system's own ethnicity codes
        row["ZZMM"] = "TY"
    return rows


def test_freshmen_codes_are_translated_through_the_source_systems_mappings(cast: Cast) -> None:
    for external, code in (("HA", "01"), ("MG", "02")):
        CodeMapping.objects.create(
            system=SYSTEM, table=CodeTable.ETHNICITY, external_code=external, code=code
        )
    CodeMapping.objects.create(
        system=SYSTEM, table=CodeTable.POLITICAL_STATUS, external_code="TY", code="03"
    )
    rows = mapped_rows(cast, 6)
    rows[3]["MZ"] = "ZZ"  # not in the mapping
    dry = start(cast, xlsx_bytes(rows))
    assert dry.status == JobStatus.SUCCEEDED, dry.error
    assert [(e["row"], e["column"], e["value"]) for e in dry.result["errors_preview"]] == [
        (5, "民族", "ZZ")
    ]
    assert SYSTEM in dry.result["errors_preview"][0]["reason"]

    rows[3]["MZ"] = "HA"
    dry = start(cast, xlsx_bytes(rows))
    assert dry.status == JobStatus.SUCCEEDED and dry.result["errors"] == 0, dry.result
    commit = confirm(cast, dry)
    assert commit.status == JobStatus.SUCCEEDED, commit.error
    assert commit.result["plan_reused"] is True
    stored = Student.objects.filter(candidate_number__in=[r["KSH"] for r in rows])
    assert sorted(stored.values_list("ethnicity", flat=True)) == ["01"] * 3 + ["02"] * 3
    assert set(stored.values_list("political_status", flat=True)) == {"03"}


def test_without_the_source_system_the_external_codes_are_refused(cast: Cast) -> None:
    dry = start(cast, xlsx_bytes(mapped_rows(cast, 2)), system="")
    assert dry.result["error_rows"] == 2
    assert {e["column"] for e in dry.result["errors_preview"]} == {"民族", "政治面貌"}


def test_a_mapping_changed_after_the_dry_run_makes_the_commit_check_again(cast: Cast) -> None:
    for external, code in (("HA", "01"), ("MG", "02")):
        CodeMapping.objects.create(
            system=SYSTEM, table=CodeTable.ETHNICITY, external_code=external, code=code
        )
    CodeMapping.objects.create(
        system=SYSTEM, table=CodeTable.POLITICAL_STATUS, external_code="TY", code="03"
    )
    rows = mapped_rows(cast, 4)
    dry = start(cast, xlsx_bytes(rows))
    assert dry.result["errors"] == 0, dry.result
    CodeMapping.objects.filter(system=SYSTEM, external_code="MG").update(code="03")
    commit = confirm(cast, dry)
    assert commit.status == JobStatus.SUCCEEDED, commit.error
    assert commit.result["plan_reused"] is False
    stored = Student.objects.filter(candidate_number__in=[r["KSH"] for r in rows])
    assert sorted(stored.values_list("ethnicity", flat=True)) == ["01", "01", "03", "03"]
