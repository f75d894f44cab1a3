"""Review findings, each with the test that failed before its fix: a render process that dies
fails the batch instead of hanging it; a fresh copy is refused when its language has no
template or the rules no longer hold; a template that compiles but cannot fill in is refused
when saved and never gives a 500; a type changed after a batch was queued stops it; a re-run
batch follows its new job; a cancelled batch says what it kept; zip entry names stay inside
their folder; an oversized anonymous upload is refused before it is read."""

from __future__ import annotations

import os

import pytest
from django.test import Client

from xueji.certificates import batches
from xueji.certificates.batches import document_batch_start
from xueji.certificates.models import DocumentStatus, DocumentType, IssuedDocument
from xueji.certificates.renderpool import RenderFailed, RenderPool
from xueji.certificates.services import document_reissue, document_request, document_type_save
from xueji.conftest import Cast
from xueji.core.exceptions import DomainError, ValidationFailed
from xueji.jobs.models import Job, JobStatus
from xueji.jobs.services import job_run
from xueji.registration.models import RegistrationState, TermRegistration
from xueji.students.models import StudentStatus


def die_on_third(item: tuple[str, str]) -> bytes:
    """A render job whose third document kills its process (as the OOM killer would)."""
    if item[0] == "3":
        os._exit(9)
    return item[0].encode()


def test_a_render_process_that_dies_fails_the_batch_instead_of_hanging_it() -> None:
    items = [(str(i), "") for i in range(12)]
    with pytest.raises(RenderFailed, match="意外退出"), RenderPool(2, job=die_on_third) as pool:
        list(pool.render(items))


def test_the_pool_renders_in_order_when_nothing_dies() -> None:
    items = [(str(i), "") for i in range(10) if i != 3]
    with RenderPool(2, job=die_on_third) as pool:
        assert [r.decode() for r in pool.render(items)] == [i for i, _ in items]


def test_a_fresh_copy_is_refused_when_its_language_lost_its_template(registered: Cast) -> None:
    cast = registered
    english = document_request(cast.actor(cast.student_user), cast.student, "zxzm", "en")
    DocumentType.objects.filter(code="zxzm").update(template_html_en="")
    with pytest.raises(DomainError) as refused:
        document_reissue(cast.actor(cast.registrar), english, "更正后")
    assert refused.value.code == "language"
    english.refresh_from_db()
    assert english.status == DocumentStatus.VALID


def test_a_fresh_copy_is_refused_when_the_rules_no_longer_hold(registered: Cast) -> None:
    cast = registered
    old = document_request(cast.actor(cast.student_user), cast.student, "zxzm")
    type(cast.student).objects.filter(pk=cast.student.pk).update(status=StudentStatus.SUSPENDED)
    with pytest.raises(DomainError, match="休学"):
        document_reissue(cast.actor(cast.registrar), old, "更正后")
    old.refresh_from_db()
    assert old.status == DocumentStatus.VALID
    assert IssuedDocument.objects.count() == 1


def test_a_template_that_compiles_but_cannot_fill_in_is_refused_when_saved(
    registered: Cast,
) -> None:
    document_type = DocumentType.objects.get(code="xjzm")
    data = {
        field: getattr(document_type, field)
        for field in ("name", "name_en", "for_students", "for_graduates", "for_staff")
    }
    data.update(
        rules=document_type.rules,
        auto_issue=True,
        free_per_term=5,
        is_active=True,
        template_html_en="",
        template_html=document_type.template_html.replace(
            "</body>", '{% url "no-such-page" %}</body>'
        ),
    )
    with pytest.raises(ValidationFailed) as refused:
        document_type_save(registered.actor(registered.registrar), document_type, data)
    assert "NoReverseMatch" in refused.value.errors["template_html"][0]


def test_a_stored_template_that_cannot_fill_in_gives_a_message_not_a_500(
    client: Client, registered: Cast
) -> None:
    DocumentType.objects.filter(code="zxzm").update(
        template_html="{% for a, b in history %}{{ a }}{% endfor %}"
    )
    client.force_login(registered.student_user)
    response = client.post("/certificates/me/", {"type": "zxzm"})
    assert response.status_code == 400
    assert "模板无法生成文件" in response.content.decode()
    assert not IssuedDocument.objects.exists()


def test_a_batch_whose_type_was_switched_off_after_queueing_issues_nothing(
    registered: Cast, django_capture_on_commit_callbacks, settings
) -> None:
    settings.RENDER_PROCESSES = 1
    with django_capture_on_commit_callbacks(execute=False):
        batch = document_batch_start(
            registered.actor(registered.registrar), type_code="zxzm", cohort=registered.cohort
        )
    DocumentType.objects.filter(code="zxzm").update(is_active=False)
    job_run(batch.job_id)
    job = Job.objects.get(pk=batch.job_id)
    assert job.status == JobStatus.FAILED and "已停用" in job.error
    assert not IssuedDocument.objects.exists()


def test_a_re_run_batch_follows_its_new_job_and_a_cancel_says_what_was_kept(
    registered: Cast, django_capture_on_commit_callbacks, settings, monkeypatch
) -> None:
    settings.RENDER_PROCESSES = 1
    monkeypatch.setattr(batches, "CHUNK", 1)
    TermRegistration.objects.filter(student=registered.other_student).update(
        state=RegistrationState.REGISTERED
    )
    with django_capture_on_commit_callbacks(execute=False):
        batch = document_batch_start(
            registered.actor(registered.registrar), type_code="zxzm", cohort=registered.cohort
        )
    real_store = batches._store_chunk

    def store_then_cancel(*args, **kwargs):
        stored = real_store(*args, **kwargs)
        Job.objects.filter(pk=batch.job_id).update(cancel_requested=True)
        return stored

    monkeypatch.setattr(batches, "_store_chunk", store_then_cancel)
    job_run(batch.job_id)
    job = Job.objects.get(pk=batch.job_id)
    assert job.status == JobStatus.CANCELLED
    kept = IssuedDocument.objects.filter(batch=batch).count()
    assert kept >= 1 and f"取消前已开具 {kept} 份" in job.error

    monkeypatch.setattr(batches, "_store_chunk", real_store)
    rerun = Job.objects.create(
        kind=job.kind, title=job.title, created_by=job.created_by, params=job.params
    )
    job_run(rerun.pk)
    batch.refresh_from_db()
    assert batch.job_id == rerun.pk
    assert IssuedDocument.objects.filter(batch=batch).count() == 3


def test_zip_entry_names_cannot_leave_their_folder() -> None:
    assert batches._entry_name("../../etc/passwd") == "_.._etc_passwd"
    assert batches._entry_name("计科/2401") == "计科_2401"
    assert batches._entry_name("..") == "_"


def test_an_oversized_anonymous_upload_is_refused_before_it_is_read(
    client: Client, registered: Cast
) -> None:
    document = document_request(
        registered.actor(registered.student_user), registered.student, "zxzm"
    )
    response = client.post(
        f"/verify/{document.verification_code}/",
        {"pdf": b"%PDF-1.7"},
        CONTENT_LENGTH=str(500 * 1024 * 1024),
    )
    assert response.status_code == 200
    assert "文件过大" in response.content.decode()
