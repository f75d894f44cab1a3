"""CHSI new-student export → freshman import into an empty student table reproduces the students."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from xueji.conftest import Cast
from xueji.exchange.imports.services import freshman_import_confirm, freshman_import_start
from xueji.exchange.tests.test_chsi import export, file_bytes, run
from xueji.jobs.services import job_run
from xueji.students.models import ParentLink, StatusLedgerEntry, Student, StudentState

# The fields the 19 CHSI columns carry (分院 and 系所 are derived from them).
CARRIED = (
    "candidate_number",
    "student_number",
    "name",
    "gender",
    "birth_date",
    "id_type",
    "id_number",
    "political_status",
    "ethnicity",
    "major_id",
    "college_id",
    "school_class_id",
    "cohort_id",
    "level",
    "study_form",
    "duration",
    "enrollment_date",
    "expected_graduation_date",
)


def snapshot() -> dict[str, tuple]:
    return {
        s.student_number: tuple(getattr(s, f) for f in CARRIED)
        for s in Student.objects.filter(status="in_school")
    }


def test_an_exported_chsi_file_imports_back_into_an_empty_database_as_the_same_students(
    cast: Cast,
) -> None:
    before = snapshot()
    assert len(before) == 3
    job = run(export(cast, full_id=True))
    assert job.status == "succeeded", job.error
    data = file_bytes(job)

    # An empty student table, as in a fresh database (the code tables, majors and classes stay).
    StatusLedgerEntry.objects.all().delete()
    StudentState.objects.all().delete()
    ParentLink.objects.all().delete()
    Student.history.all().delete()
    Student.objects.all().delete()

    upload = SimpleUploadedFile("新生注册.xlsx", data)
    actor = cast.actor(cast.registrar)
    dry = freshman_import_start(actor=actor, upload=upload, dry_run=True)
    assert job_run(dry.pk) == "succeeded"
    dry.refresh_from_db()
    assert dry.result["errors"] == 0, dry.result
    commit = freshman_import_confirm(actor=actor, dry_run=dry)
    assert job_run(commit.pk) == "succeeded"

    assert snapshot() == before
