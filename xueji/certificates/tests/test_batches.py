"""Batches: one type for a class or cohort as a background job — eligibility per student with
the reasons listed, every document numbered, stored, audited and verifiable on its own, the
output as a zip or one merged PDF, rendered on several processes; and a real worker runs it."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone
from pypdf import PdfReader

from xueji.audit.models import AuditEvent
from xueji.certificates.batches import document_batch_start
from xueji.certificates.builtin import BUILTIN_TYPES
from xueji.certificates.models import (
    BatchOutput,
    DocumentBatch,
    DocumentStatus,
    DocumentType,
    IssuedDocument,
)
from xueji.certificates.services import document_request
from xueji.certificates.tests import test_signing
from xueji.certificates.tests.conftest import pdf_text
from xueji.conftest import Cast, build_cast
from xueji.core.context import Actor
from xueji.core.exceptions import DomainError, PermissionDenied, ValidationFailed
from xueji.jobs.models import Job, JobStatus
from xueji.jobs.services import job_run
from xueji.jobs.tests import test_workers
from xueji.org.models import AcademicYear, Term
from xueji.org.selectors import code_cache_clear
from xueji.org.services import code_tables_load
from xueji.registration.models import RegistrationState, TermRegistration
from xueji.registration.services import registration_open
from xueji.students.models import Student


@pytest.fixture(autouse=True)
def two_render_processes(settings):
    """Batches render on a pool of real processes (spawned, each with its own fonts)."""
    settings.RENDER_PROCESSES = 2


def start(cast: Cast, user=None, **kwargs) -> DocumentBatch:
    kwargs.setdefault("type_code", "zxzm")
    return document_batch_start(cast.actor(user or cast.registrar), **kwargs)


def run(batch: DocumentBatch) -> Job:
    job_run(batch.job.pk)
    batch.job.refresh_from_db()
    return batch.job


def test_a_cohort_batch_issues_to_each_eligible_student_and_lists_the_others_with_why(
    registered: Cast, django_capture_on_commit_callbacks
) -> None:
    cast = registered
    with django_capture_on_commit_callbacks(execute=False):
        batch = start(cast, cohort=cast.cohort)
    job = run(batch)
    assert job.status == JobStatus.SUCCEEDED, job.error
    issued = IssuedDocument.objects.filter(batch=batch)
    assert {d.student for d in issued} == {cast.student, cast.classmate_b}
    assert job.result["issued"] == 2
    reasons = {row["student_number"]: row["reason"] for row in job.result["skipped_rows"]}
    assert reasons[cast.other_student.student_number].startswith("本学期")
    assert "尚未注册" in reasons[cast.other_student.student_number]
    batch.refresh_from_db()
    assert (batch.issued, batch.skipped) == (2, job.result["skipped"])

    # Each document stands alone: its stored file has the recorded hash and its own audit event.
    for document in issued:
        content = document.pdf.read()
        assert hashlib.sha256(content).hexdigest() == document.sha256
        assert document.student.name in pdf_text(content)
        event = AuditEvent.objects.get(action="certificate.issue", target_id=str(document.pk))
        after = json.loads(event.after)
        assert (after["sha256"], after["batch"]) == (document.sha256, batch.pk)

    with job.output_file.open("rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    names = archive.namelist()
    assert f"计科2401/{cast.student.student_number}-单小明.pdf" in names
    assert f"计科2402/{cast.classmate_b.student_number}-李四.pdf" in names
    stored = {d.sha256 for d in issued}
    pdfs = [n for n in names if n.endswith(".pdf")]
    assert {hashlib.sha256(archive.read(n)).hexdigest() for n in pdfs} == stored
    rows = list(csv.reader(io.StringIO(archive.read("未开具名单.csv").decode("utf-8-sig"))))
    assert rows[0] == ["学号", "姓名", "班级", "未开具原因"]
    assert cast.other_student.student_number in {row[0] for row in rows[1:]}


def test_a_class_batch_as_one_merged_pdf_has_a_page_per_student_in_student_number_order(
    registered: Cast, django_capture_on_commit_callbacks
) -> None:
    cast = registered
    with django_capture_on_commit_callbacks(execute=False):
        batch = start(cast, school_class=cast.class_a, output=BatchOutput.PDF)
    job = run(batch)
    assert job.status == JobStatus.SUCCEEDED, job.error
    with job.output_file.open("rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    assert len(reader.pages) == IssuedDocument.objects.filter(batch=batch).count() == 1
    assert "单小明" in reader.pages[0].extract_text()
    assert job.output_file.name.endswith(".pdf")


def test_batch_copies_do_not_use_up_the_students_free_quota(
    registered: Cast, django_capture_on_commit_callbacks
) -> None:
    cast = registered
    DocumentType.objects.filter(code="zxzm").update(free_per_term=1)
    with django_capture_on_commit_callbacks(execute=False):
        batch = start(cast, school_class=cast.class_a)
    run(batch)
    own = document_request(cast.actor(cast.student_user), cast.student, "zxzm")
    assert own.status == DocumentStatus.VALID


def test_running_a_batch_again_issues_only_to_students_it_has_not_reached(
    registered: Cast, django_capture_on_commit_callbacks
) -> None:
    cast = registered
    with django_capture_on_commit_callbacks(execute=False):
        batch = start(cast, cohort=cast.cohort)
    run(batch)
    Job.objects.filter(pk=batch.job.pk).update(status=JobStatus.QUEUED)
    job = run(batch)
    assert job.status == JobStatus.SUCCEEDED
    assert job.result["issued"] == 0
    assert IssuedDocument.objects.filter(batch=batch).count() == 2


def test_a_college_admin_batches_only_their_college_and_a_counsellor_not_at_all(
    registered: Cast, django_capture_on_commit_callbacks
) -> None:
    cast = registered
    with django_capture_on_commit_callbacks(execute=False):
        batch = start(cast, cast.college_admin, cohort=cast.cohort)
    run(batch)
    colleges = set(
        IssuedDocument.objects.filter(batch=batch).values_list("student__college", flat=True)
    )
    assert colleges == {cast.student.college_id}
    with pytest.raises(PermissionDenied):
        start(cast, cast.counsellor, school_class=cast.class_a)
    with pytest.raises(DomainError, match="没有您可以开具证明的学生"):
        start(cast, cast.college_admin, school_class=cast.class_fl)


def test_a_batch_needs_a_class_or_cohort_an_issuable_type_and_a_known_output(
    registered: Cast, monkeypatch
) -> None:
    cast = registered
    with pytest.raises(ValidationFailed) as missing:
        start(cast)
    assert "school_class" in missing.value.errors
    DocumentType.objects.filter(code="xjzm").update(auto_issue=False)
    with pytest.raises(ValidationFailed) as approval:
        start(cast, type_code="xjzm", cohort=cast.cohort)
    assert "需经审核" in approval.value.errors["type"][0]
    with pytest.raises(ValidationFailed) as output:
        start(cast, cohort=cast.cohort, output="docx")
    assert "output" in output.value.errors
    monkeypatch.setattr("xueji.certificates.batches.MAX_MERGED", 1)
    with pytest.raises(ValidationFailed) as merged:
        start(cast, cohort=cast.cohort, output=BatchOutput.PDF)
    assert "请选择 ZIP" in merged.value.errors["output"][0]
    assert not DocumentBatch.objects.exists() and not Job.objects.exists()


# --- A real worker ---------------------------------------------------------------------------

# The fixtures of the jobs' worker tests: the backend (db, redis) and real worker processes.
backend = test_workers.backend
start_worker = test_workers.start_worker


def install_builtin_types() -> None:
    """A transactional test's database was flushed by an earlier one: the built-in types that
    migrations installed are gone, so install them again."""
    for spec in BUILTIN_TYPES:
        values = {key: value for key, value in spec.items() if key != "code"}
        DocumentType.objects.update_or_create(code=spec["code"], defaults=values)


@pytest.fixture
def worker_cast(transactional_db, monkeypatch, settings) -> Cast:
    code_tables_load(actor=Actor.system())
    code_cache_clear()
    install_builtin_types()
    cast = build_cast()
    # The worker is another process: it must store the PDFs where this test reads them.
    monkeypatch.setenv("XUEJI_MEDIA_ROOT", str(settings.MEDIA_ROOT))
    monkeypatch.setenv("XUEJI_RENDER_PROCESSES", "2")
    today = timezone.localdate()
    year = AcademicYear.objects.create(
        start_year=today.year,
        start_date=today - timedelta(days=40),
        end_date=today + timedelta(days=300),
    )
    term = Term.objects.create(
        academic_year=year,
        number=1,
        start_date=today - timedelta(days=10),
        end_date=today + timedelta(days=100),
        registration_deadline=today + timedelta(days=5),
    )
    registration_open(actor=cast.actor(cast.registrar), term=term)
    TermRegistration.objects.filter(term=term).update(state=RegistrationState.REGISTERED)
    return cast


def test_a_real_worker_runs_a_batch_to_the_end_on_each_task_backend(
    backend, start_worker, worker_cast: Cast
) -> None:
    cast = worker_cast
    batch = start(cast, cohort=cast.cohort)  # queued when its transaction commits
    worker = start_worker()
    job = test_workers.wait_for(batch.job, worker, lambda job: job.is_finished)
    assert job.status == JobStatus.SUCCEEDED, job.error
    documents = IssuedDocument.objects.filter(batch=batch)
    expected = Student.objects.filter(cohort=cast.cohort).count()
    assert documents.count() == job.result["issued"] == expected
    for document in documents:
        assert hashlib.sha256(document.pdf.read()).hexdigest() == document.sha256
    with job.output_file.open("rb") as handle:
        names = zipfile.ZipFile(io.BytesIO(handle.read())).namelist()
    assert len([n for n in names if n.endswith(".pdf")]) == expected


def test_with_a_signing_key_in_the_environment_every_batch_document_is_signed(
    registered: Cast, django_capture_on_commit_callbacks, settings, monkeypatch, tmp_path
) -> None:
    """The render processes are spawned: they read the key from the environment, as a
    deployment sets it, and sign there; what they return is what is hashed and stored."""
    school = test_signing.make_cert("示例大学 证明签章")
    key, cert = test_signing.write_pem(tmp_path, school)
    monkeypatch.setenv("XUEJI_SIGNING_KEY", str(key))
    monkeypatch.setenv("XUEJI_SIGNING_CERT", str(cert))
    test_signing.configure(settings, key=key, cert=cert)
    with django_capture_on_commit_callbacks(execute=False):
        batch = start(registered, cohort=registered.cohort)
    job = run(batch)
    assert job.status == JobStatus.SUCCEEDED, job.error
    documents = list(IssuedDocument.objects.filter(batch=batch))
    assert len(documents) == 2
    for document in documents:
        content = document.pdf.read()
        assert hashlib.sha256(content).hexdigest() == document.sha256
        status = test_signing.validate(content, school.cert)
        assert status.intact and status.valid and status.trusted
