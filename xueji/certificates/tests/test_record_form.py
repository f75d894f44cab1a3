"""The 学籍表 (full record with photo and history) and the transcript interface (成绩单 waits
for grades: refused with a reason until a provider is registered, then printed from it)."""

from __future__ import annotations

import io
import subprocess
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from PIL import Image

from xueji.certificates import transcript
from xueji.certificates.models import DocumentType
from xueji.certificates.services import document_request, document_type_preview
from xueji.certificates.tests.conftest import pdf_text
from xueji.conftest import Cast
from xueji.core.exceptions import DomainError


@pytest.fixture
def no_transcript_provider():
    transcript.register_provider(None)
    yield
    transcript.register_provider(None)


def red_photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (330, 440), (200, 30, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_the_record_form_prints_the_full_record_the_history_and_the_photo(
    registered: Cast, tmp_path
) -> None:
    cast = registered
    cast.student.photo.save("p.jpg", ContentFile(red_photo()), save=True)
    document = document_request(cast.actor(cast.student_user), cast.student, "xjb")
    content = document.pdf.read()
    text = pdf_text(content)
    for expected in (
        "学 生 学 籍 表",  # the heading is letter-spaced
        cast.student.name,
        cast.student.id_number,
        "计科2401",
        "新生建档",
    ):
        assert expected in text
    # The photo is on the page: rendered at low resolution, a patch of the photo's red appears.
    pdf = tmp_path / "xjb.pdf"
    pdf.write_bytes(content)
    subprocess.run(  # noqa: S603 (fixed program, our own file names)
        [
            "/usr/bin/pdftoppm",
            "-r",
            "40",
            "-png",
            "-f",
            "1",
            "-l",
            "1",
            str(pdf),
            str(tmp_path / "page"),
        ],
        check=True,
    )
    page = Image.open(next(tmp_path.glob("page*.png"))).convert("RGB")
    pixels = page.tobytes()
    reds = sum(
        1
        for i in range(0, len(pixels), 3)
        if pixels[i] > 170 and pixels[i + 1] < 80 and pixels[i + 2] < 80
    )
    assert reds > 500  # 28 × 38 mm at 40 dpi is ~1,600 pixels


def test_without_a_photo_the_record_form_shows_the_placeholder(registered: Cast) -> None:
    document = document_request(
        registered.actor(registered.student_user), registered.student, "xjb"
    )
    assert "（照片）" in pdf_text(document.pdf.read())


def test_the_transcript_is_refused_with_a_reason_until_grades_are_connected(
    registered: Cast, no_transcript_provider
) -> None:
    DocumentType.objects.filter(code="cjd").update(is_active=True)
    with pytest.raises(DomainError, match="成绩数据尚未接入"):
        document_request(registered.actor(registered.student_user), registered.student, "cjd")


def test_a_registered_transcript_provider_fills_the_transcript(
    registered: Cast, no_transcript_provider
) -> None:
    cast = registered
    DocumentType.objects.filter(code="cjd").update(is_active=True)
    course = transcript.Course("CS1001", "程序设计基础", Decimal("4"), "95", "必修")
    transcript.register_provider(
        lambda student: (
            transcript.Transcript(
                (transcript.TranscriptTerm("2024—2025学年第一学期", (course,)),), gpa="3.9"
            )
            if student == cast.student
            else None
        )
    )
    document = document_request(cast.actor(cast.student_user), cast.student, "cjd")
    text = pdf_text(document.pdf.read())
    for expected in ("成 绩 单", "程序设计基础", "2024—2025学年第一学期", "3.9"):
        assert expected in text
    with pytest.raises(DomainError, match="还没有成绩记录"):
        document_request(cast.actor(cast.registrar), cast.classmate_b, "cjd")


def test_the_editor_previews_the_transcript_with_sample_grades(registered: Cast) -> None:
    template = DocumentType.objects.get(code="cjd").template_html
    content = document_type_preview(registered.actor(registered.registrar), template)
    assert "高等数学（上）" in pdf_text(content)
