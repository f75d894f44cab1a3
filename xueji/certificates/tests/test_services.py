"""Issuing, revoking and verifying documents through the services: eligibility with reasons,
the free quota, glyph checks, serials, and the audit chain holding each PDF's SHA-256."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.db import IntegrityError
from django.utils import timezone
from PIL import Image

from xueji.audit.models import AuditEvent
from xueji.certificates.models import (
    DocumentStatus,
    DocumentType,
    IssuedDocument,
    SerialCounter,
)
from xueji.certificates.pdf import GlyphMissing
from xueji.certificates.services import (
    document_request,
    document_revoke,
    document_verify,
    mask_name,
    mask_number,
)
from xueji.certificates.tests.conftest import pdf_text
from xueji.conftest import Cast
from xueji.core.exceptions import DomainError, NotFound, PermissionDenied, ValidationFailed
from xueji.registration.models import RegistrationState, TermRegistration
from xueji.students.models import StudentStatus

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"


def request_zxzm(cast: Cast, user=None, student=None) -> IssuedDocument:
    return document_request(cast.actor(user or cast.student_user), student or cast.student, "zxzm")


def test_the_built_in_types_are_installed_by_the_migration(db) -> None:
    types = {t.code: t for t in DocumentType.objects.all()}

    assert types["zxzm"].name == "在校证明"
    assert types["zxzm"].rules == ["enrolled", "in_school", "registered_this_term"]
    assert types["xjzm"].name == "学籍证明"
    assert all(t.is_builtin and t.auto_issue for t in types.values())


def test_a_registered_student_gets_a_pdf_naming_them_with_the_serial_and_verify_url(
    registered: Cast,
) -> None:
    document = request_zxzm(registered)

    content = document.pdf.read()
    text = pdf_text(content)
    assert "兹证明单小明" in text
    assert document.serial in text
    assert "示例大学" in text
    assert f"https://xueji.example.edu.cn/verify/{document.verification_code}/" in text
    assert re.fullmatch(r"\d{4}ZXZM000001", document.serial)
    assert len(document.verification_code) >= 12
    assert document.sha256 == hashlib.sha256(content).hexdigest()
    assert document.status == DocumentStatus.VALID


def test_the_issue_date_is_printed_in_chinese_format(registered: Cast) -> None:
    document = request_zxzm(registered)

    day = timezone.localdate(document.issued_at)
    text = pdf_text(document.pdf.read())
    assert f"{day.year}年{day.month}月{day.day}日" in text


def test_serials_follow_one_another_and_codes_differ(registered: Cast) -> None:
    first = request_zxzm(registered)
    second = request_zxzm(registered)

    assert int(second.serial[-6:]) == int(first.serial[-6:]) + 1
    assert first.verification_code != second.verification_code


def test_the_issue_is_audited_with_the_pdfs_sha256(registered: Cast) -> None:
    document = request_zxzm(registered)

    event = AuditEvent.objects.get(action="certificate.issue", target_id=str(document.pk))
    assert json.loads(event.after)["sha256"] == document.sha256
    assert event.actor_username == "student"


def test_a_suspended_student_is_refused_a_certificate_of_enrolment_and_told_why(
    registered: Cast,
) -> None:
    registered.student.status = StudentStatus.SUSPENDED
    registered.student.save()

    with pytest.raises(DomainError) as refused:
        request_zxzm(registered)

    assert refused.value.message == "您当前为休学状态，不能开具在校证明。"
    assert not IssuedDocument.objects.exists()


def test_a_suspended_student_may_still_get_a_certificate_of_student_status(
    registered: Cast,
) -> None:
    registered.student.status = StudentStatus.SUSPENDED
    registered.student.save()

    document = document_request(
        registered.actor(registered.student_user), registered.student, "xjzm"
    )

    assert "现学籍状态为“休学”" in pdf_text(document.pdf.read())


def test_a_student_unregistered_this_term_is_refused_and_told_to_register(
    registered: Cast,
) -> None:
    TermRegistration.objects.filter(student=registered.student).update(
        state=RegistrationState.UNREGISTERED
    )

    with pytest.raises(DomainError) as refused:
        request_zxzm(registered)

    assert "尚未注册" in refused.value.message
    assert "不能开具在校证明" in refused.value.message
    assert refused.value.code == "rule_registered_this_term"


def test_a_student_without_a_registration_row_or_outside_any_term_is_refused(cast: Cast) -> None:
    with pytest.raises(DomainError) as refused:
        request_zxzm(cast)

    assert "当前不在任何学期内" in refused.value.message


def test_a_name_with_a_rare_character_renders_and_extracts(registered: Cast) -> None:
    registered.student.name = "王䶮"
    registered.student.save()

    document = request_zxzm(registered)

    assert "兹证明王䶮" in pdf_text(document.pdf.read())


def test_a_name_without_a_glyph_is_refused_naming_the_character_and_leaves_no_file(
    registered: Cast, media_root
) -> None:
    registered.student.name = "王\ue000"
    registered.student.save()

    with pytest.raises(GlyphMissing) as refused:
        request_zxzm(registered)

    assert "U+E000" in refused.value.message
    assert "没有字形" in refused.value.message
    assert not IssuedDocument.objects.exists()
    assert not AuditEvent.objects.filter(action="certificate.issue").exists()
    assert not list(media_root.rglob("*.pdf"))


def test_the_free_quota_per_term_is_enforced(registered: Cast) -> None:
    DocumentType.objects.filter(code="zxzm").update(free_per_term=2)
    request_zxzm(registered)
    request_zxzm(registered)

    with pytest.raises(DomainError) as refused:
        request_zxzm(registered)

    assert refused.value.code == "quota"
    assert "免费份数（2 份）已用完" in refused.value.message
    assert IssuedDocument.objects.count() == 2
    # Another type has its own quota.
    document_request(registered.actor(registered.student_user), registered.student, "xjzm")


def test_the_registrar_and_the_college_admin_may_issue_for_a_student_in_scope(
    registered: Cast,
) -> None:
    by_registrar = request_zxzm(registered, user=registered.registrar)
    by_college = request_zxzm(registered, user=registered.college_admin)

    assert by_registrar.requested_by == registered.registrar
    assert by_college.requested_by == registered.college_admin


def test_staff_refusals_speak_of_the_student_not_of_you(registered: Cast) -> None:
    registered.student.status = StudentStatus.SUSPENDED
    registered.student.save()

    with pytest.raises(DomainError) as refused:
        request_zxzm(registered, user=registered.registrar)

    assert refused.value.message == "该学生当前为休学状态，不能开具在校证明。"


@pytest.mark.parametrize("who", ["other_student_user", "parent", "counsellor", "advisor"])
def test_others_cannot_request_a_document_for_the_student(registered: Cast, who: str) -> None:
    with pytest.raises(NotFound):
        request_zxzm(registered, user=getattr(registered, who))


def test_a_college_admin_cannot_request_for_a_student_of_another_college(
    registered: Cast,
) -> None:
    with pytest.raises(NotFound):
        request_zxzm(registered, user=registered.college_admin, student=registered.other_student)


def test_an_unsupported_language_is_refused(registered: Cast) -> None:
    with pytest.raises(ValidationFailed):
        document_request(
            registered.actor(registered.student_user), registered.student, "zxzm", language="fr"
        )


def test_only_the_registrar_revokes_and_a_reason_is_required(registered: Cast) -> None:
    document = request_zxzm(registered)

    with pytest.raises(PermissionDenied):
        document_revoke(registered.actor(registered.college_admin), document, "误开")
    with pytest.raises(ValidationFailed):
        document_revoke(registered.actor(registered.registrar), document, "  ")

    revoked = document_revoke(registered.actor(registered.registrar), document, "学生已休学")

    assert revoked.status == DocumentStatus.REVOKED
    assert revoked.revoked_by == registered.registrar
    event = AuditEvent.objects.get(action="certificate.revoke")
    assert "学生已休学" in event.summary
    with pytest.raises(DomainError):
        document_revoke(registered.actor(registered.registrar), revoked, "再次撤销")


def test_verification_compares_the_uploaded_file_and_records_only_the_ip(
    registered: Cast,
) -> None:
    document = request_zxzm(registered)
    content = document.pdf.read()
    tampered = bytearray(content)
    tampered[len(tampered) // 2] ^= 0x01

    assert (
        document_verify(ip="203.0.113.9", code=document.verification_code, upload=content)[1]
        is True
    )
    assert (
        document_verify(ip="203.0.113.9", code=document.verification_code, upload=bytes(tampered))[
            1
        ]
        is False
    )
    events = AuditEvent.objects.filter(action="certificate.verify")
    assert events.count() == 2
    assert {(e.ip, e.actor_id, e.user_agent) for e in events} == {("203.0.113.9", None, "")}


def test_names_and_numbers_are_masked() -> None:
    assert mask_name("王五") == "王*"
    assert mask_name("张小三") == "张*三"
    assert mask_name("欧阳小明") == "欧**明"
    assert mask_number("2024000001") == "2024****01"


def test_a_failure_after_the_pdf_is_stored_removes_the_file_and_the_record(
    registered: Cast, media_root
) -> None:
    # A serial already taken (say, a counter restored from an old backup) makes the insert fail
    # after the file was written.
    first = request_zxzm(registered)
    SerialCounter.objects.update(last=0)

    with pytest.raises(IntegrityError):
        request_zxzm(registered)

    assert list(IssuedDocument.objects.all()) == [first]
    assert [p.name for p in media_root.rglob("*.pdf")] == [f"{first.serial}.pdf"]
    assert AuditEvent.objects.filter(action="certificate.issue").count() == 1


def test_the_issued_certificate_renders_to_a_png_a_person_can_look_at(registered: Cast) -> None:
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "pdftoppm is missing: apt-get install poppler-utils"
    registered.student.name = "王䶮"
    registered.student.save()
    document = request_zxzm(registered)
    ARTIFACTS.mkdir(exist_ok=True)
    source = ARTIFACTS / "certificate-issued.pdf"
    source.write_bytes(document.pdf.read())

    subprocess.run(  # noqa: S603 (fixed program and our own paths)
        [pdftoppm, "-r", "80", "-png", "-singlefile", "-f", "1", str(source), str(source)[:-4]],
        check=True,
    )

    image = Image.open(ARTIFACTS / "certificate-issued.png").convert("L")
    assert image.getextrema()[0] < 64  # there is dark text on the page
