"""Defects found in review of the data-exchange code, each with the test that catches it."""

from __future__ import annotations

import pytest

from xueji.conftest import Cast
from xueji.exchange.tests.test_api import api_as


@pytest.mark.parametrize("year", [0, 10000, 99999])
@pytest.mark.parametrize("kind", ["diplomas", "degrees"])
def test_a_year_out_of_range_in_the_chsi_check_api_is_a_400_naming_the_year(
    cast: Cast, kind: str, year: int
):
    response = api_as(cast.registrar).get(f"/api/v1/chsi/check/?kind={kind}&year={year}")
    assert response.status_code == 400
    assert "year" in response.json()["error"]["fields"]


@pytest.mark.parametrize("year", [0, 10000])
def test_a_year_out_of_range_in_the_chsi_export_api_is_a_400_and_queues_nothing(
    cast: Cast, year: int
):
    from xueji.jobs.models import Job

    body = {"kind": "diplomas", "year": year, "purpose": "学历注册", "format": "xlsx"}
    response = api_as(cast.registrar).post("/api/v1/chsi/exports/", body, format="json")
    assert response.status_code == 400
    assert not Job.objects.filter(kind="chsi.diplomas").exists()


def _full_id_export(cast: Cast):
    from xueji.exchange.tests.test_chsi import export, run

    job = run(export(cast, full_id=True))
    assert job.result["masked"] is False, job.error
    return job


def test_a_registrar_without_the_full_id_grant_cannot_download_anothers_unmasked_export(
    client, cast: Cast
):
    from django.urls import reverse

    from xueji.accounts.models import Role, Scope
    from xueji.audit.models import AuditEvent
    from xueji.conftest import make_user

    job = _full_id_export(cast)
    plain = make_user("registrar-2", Role.REGISTRAR, Scope.SCHOOL)
    client.force_login(plain)
    assert client.get(reverse("job-detail", args=[job.pk])).status_code == 200
    response = client.get(reverse("job-output", args=[job.pk]))
    assert response.status_code == 403
    assert "完整证件号码" in response.content.decode()
    api = api_as(plain).get(f"/api/v1/jobs/{job.pk}/output/")
    assert api.status_code == 403
    assert not AuditEvent.objects.filter(action="job.output").exists()


def test_the_exporter_with_the_grant_still_downloads_the_unmasked_file_audited(client, cast: Cast):
    from django.urls import reverse

    from xueji.audit.models import AuditEvent

    job = _full_id_export(cast)
    client.force_login(cast.registrar)
    response = client.get(reverse("job-output", args=[job.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:2] == b"PK"
    assert AuditEvent.objects.filter(action="job.output", actor_username="registrar").count() == 1


def test_a_masked_export_downloads_for_a_registrar_without_the_grant(client, cast: Cast):
    from django.urls import reverse

    from xueji.accounts.models import Role, Scope
    from xueji.conftest import make_user
    from xueji.exchange.tests.test_chsi import export, run

    job = run(export(cast))
    assert job.result["masked"] is True
    client.force_login(make_user("registrar-2", Role.REGISTRAR, Scope.SCHOOL))
    assert client.get(reverse("job-output", args=[job.pk])).status_code == 200


def test_a_damaged_photo_in_the_zip_is_a_row_error_naming_the_file_not_a_crash(
    cast: Cast, settings, tmp_path
):
    from xueji.exchange.tests.test_imports_kinds import errors_of, run_kind
    from xueji.exchange.tests.test_imports_photos import image_bytes, zip_bytes
    from xueji.jobs.models import JobStatus

    settings.MEDIA_ROOT = tmp_path / "media"
    good = image_bytes()
    data = bytearray(zip_bytes({f"{cast.student.student_number}.jpg": good}))
    # Flip bytes inside the stored photo: its CRC-32 no longer matches (a broken download).
    start = bytes(data).index(good[:64]) + 200
    data[start : start + 4] = bytes(b ^ 0xFF for b in data[start : start + 4])
    job = run_kind(cast, "photos", bytes(data), name="photos.zip")
    assert job.status == JobStatus.SUCCEEDED, job.error
    [(row, column, reason)] = errors_of(job)
    assert row == 1 and column == "文件"
    assert "损坏" in reason and "CRC" not in reason


def test_a_csv_with_a_stray_quote_fails_with_a_chinese_message_not_the_csv_modules(cast: Cast):
    from xueji.exchange.tests.test_imports_kinds import run_kind
    from xueji.jobs.models import JobStatus

    # The quote opens a field that swallows the rest of a large file.
    text = 'XH,SJ\n"2024000001,13800000000\n' + "2024000002,13800000001\n" * 8000
    job = run_kind(cast, "students_update", text.encode(), name="updates.csv")
    assert job.status == JobStatus.FAILED
    assert "引号" in job.error
    assert "field limit" not in job.error


def test_id_numbers_in_a_dry_runs_error_preview_are_masked_for_every_viewer(cast: Cast):
    from xueji.core.masking import mask_id_number
    from xueji.exchange.tests.test_imports import freshman_rows, run_import, xlsx_bytes

    rows = freshman_rows(cast, 3)
    wrong = rows[1]["ZJHM"][:-1] + ("0" if rows[1]["ZJHM"][-1] != "0" else "1")
    rows[1]["ZJHM"] = wrong
    dry = run_import(cast, xlsx_bytes(rows))
    shown = [e for e in dry.result["errors_preview"] if e["column"] == "证件号码"]
    assert shown and shown[0]["value"] == mask_id_number(wrong) != wrong
    body = api_as(cast.registrar).get(f"/api/v1/jobs/{dry.pk}/").content.decode()
    assert wrong not in body


def test_an_import_error_report_is_the_uploaders_and_needs_the_grant_for_anyone_else(
    client, cast: Cast
):
    from django.urls import reverse

    from xueji.accounts.models import Role, Scope
    from xueji.conftest import make_user
    from xueji.exchange.tests.test_imports import freshman_rows, run_import, xlsx_bytes

    rows = freshman_rows(cast, 3)
    rows[0]["MZ"] = "99"
    dry = run_import(cast, xlsx_bytes(rows), user=cast.college_admin)
    assert dry.output_file, "the dry run wrote an error report"
    url = reverse("job-output", args=[dry.pk])
    client.force_login(cast.college_admin)
    assert client.get(url).status_code == 200
    plain = make_user("registrar-3", Role.REGISTRAR, Scope.SCHOOL)
    client.force_login(plain)
    assert client.get(reverse("job-detail", args=[dry.pk])).status_code == 200
    assert client.get(url).status_code == 403
    assert api_as(plain).get(f"/api/v1/jobs/{dry.pk}/output/").status_code == 403
    assert cast.registrar.can_view_full_id
    client.force_login(cast.registrar)
    assert client.get(url).status_code == 200


def test_a_student_update_commit_keeps_a_field_someone_saved_after_the_check(
    cast: Cast, monkeypatch
):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import transaction

    from xueji.exchange.imports import services, updates
    from xueji.exchange.tests.test_imports_kinds import sheet_bytes
    from xueji.exchange.tests.test_imports_updates import HEADER, row
    from xueji.jobs.services import job_run
    from xueji.students.models import Student

    data = sheet_bytes(HEADER, [row(cast.student, 手机="13900000009")])
    with transaction.atomic():
        job = services.import_start(
            actor=cast.actor(cast.registrar),
            kind="students_update",
            upload=SimpleUploadedFile("u.xlsx", data),
            dry_run=False,
        )
    load = updates._load

    def load_then_someone_edits(job, progress):
        checked = load(job, progress)
        # Between the check and the write, the record page saves another field.
        Student.objects.filter(pk=cast.student.pk).update(address="新地址（页面保存）")
        return checked

    monkeypatch.setattr(updates, "_load", load_then_someone_edits)
    job_run(job.pk)
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    student = Student.objects.get(pk=cast.student.pk)
    assert (student.phone, student.address) == ("13900000009", "新地址（页面保存）")
    assert student.history.first().address == "新地址（页面保存）"
