"""The English certificate of enrolment: the pinyin name, English dates and names, only for a
type with an English template, offered on 我的证明; the data migration that installs it."""

from __future__ import annotations

import importlib
from datetime import date

import pytest
from django.apps import apps
from django.test import Client
from django.utils import timezone

from xueji.certificates.builtin import ENROLMENT_HTML_EN
from xueji.certificates.models import DocumentType, IssuedDocument
from xueji.certificates.services import document_request, english_date, english_name
from xueji.certificates.tests.conftest import pdf_text
from xueji.conftest import Cast
from xueji.core.exceptions import DomainError, ValidationFailed


def test_english_dates_read_day_month_year() -> None:
    assert english_date(date(2026, 11, 22)) == "22 November 2026"
    assert english_date(date(2027, 1, 3)) == "3 January 2027"


def test_the_english_name_is_the_pinyin_as_surname_then_given_name(cast: Cast) -> None:
    cast.student.name_pinyin = "OUYANG xiaoming"
    assert english_name(cast.student) == "Ouyang Xiaoming"
    cast.student.name_pinyin = "Shan Xiaoming"
    assert english_name(cast.student) == "Shan Xiaoming"


def test_a_student_gets_the_english_certificate_of_enrolment(registered: Cast) -> None:
    document = document_request(
        registered.actor(registered.student_user), registered.student, "zxzm", "en"
    )

    assert document.language == "en"
    with document.pdf.open("rb") as handle:
        text = " ".join(pdf_text(handle.read()).split())
    assert "Certificate of Enrolment" in text
    assert "This is to certify that Shan Xiaoming (Male, student number" in text
    assert "Example University" in text
    assert "School of Computing" in text
    # The major has no English name in the cast: its Chinese name is printed instead.
    assert "计算机科学与技术" in text
    assert "Undergraduate (Bachelor's)" in text
    assert english_date(timezone.localdate()) in text
    assert document.serial in text
    assert "兹证明" not in text


def test_a_type_without_an_english_template_is_refused_in_english(registered: Cast) -> None:
    with pytest.raises(ValidationFailed) as refused:
        document_request(
            registered.actor(registered.student_user), registered.student, "xjzm", "en"
        )
    assert "学籍证明" in refused.value.errors["language"][0]
    assert not IssuedDocument.objects.exists()


def test_a_student_without_a_pinyin_name_is_told_to_add_it(registered: Cast) -> None:
    registered.student.name_pinyin = ""
    registered.student.save()
    with pytest.raises(DomainError) as refused:
        document_request(
            registered.actor(registered.student_user), registered.student, "zxzm", "en"
        )
    assert "姓名拼音" in refused.value.message
    assert not IssuedDocument.objects.exists()


def test_my_documents_offers_chinese_and_english_for_the_certificate_of_enrolment(
    client: Client, registered: Cast
) -> None:
    client.force_login(registered.student_user)

    page = client.get("/certificates/me/").content.decode()
    zxzm = page[page.index('data-type="zxzm"') : page.index('data-type="xjzm"')]
    xjzm = page[page.index('data-type="xjzm"') :]
    assert 'name="language" value="en"' in zxzm
    assert 'name="language" value="en"' not in xjzm.split("</form>")[0]

    response = client.post("/certificates/me/", {"type": "zxzm", "language": "en"}, follow=True)
    document = IssuedDocument.objects.get()
    assert document.language == "en"
    assert "(English)" in response.content.decode()


def test_the_data_migration_fills_the_english_template_only_when_empty(db) -> None:
    migration = importlib.import_module(
        "xueji.certificates.migrations.0004_builtin_english_enrolment"
    )
    DocumentType.objects.filter(code="zxzm").update(template_html_en="<p>{{ name }}</p>")
    migration.install(apps, None)
    assert DocumentType.objects.get(code="zxzm").template_html_en == "<p>{{ name }}</p>"

    DocumentType.objects.filter(code="zxzm").update(template_html_en="")
    migration.install(apps, None)
    assert DocumentType.objects.get(code="zxzm").template_html_en == ENROLMENT_HTML_EN
    assert DocumentType.objects.get(code="xjzm").template_html_en == ""
