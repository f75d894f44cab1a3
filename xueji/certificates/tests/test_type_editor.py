"""The registrar's template editor: the type list, saving (validated, audited with the
template's SHA-256, nothing saved on any error), the preview with the sample student (an inline
PDF, nothing stored or issued), and who may do any of it."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.test import Client

from xueji.audit.models import AuditEvent
from xueji.certificates.models import DocumentType, IssuedDocument
from xueji.certificates.services import EDITABLE_FIELDS, document_type_preview, document_type_save
from xueji.certificates.tests.conftest import pdf_text
from xueji.conftest import Cast
from xueji.core.exceptions import PermissionDenied, ValidationFailed

URL = "/certificates/types/zxzm/"


def form_of(document_type: DocumentType, **changes: object) -> dict[str, object]:
    """The edit form as the browser posts it (checkboxes absent when unticked)."""
    data: dict[str, object] = {
        "name": document_type.name,
        "name_en": document_type.name_en,
        "free_per_term": str(document_type.free_per_term),
        "template_html": document_type.template_html,
        "template_html_en": document_type.template_html_en,
        "rules": list(document_type.rules),
    }
    for flag in ("for_students", "for_graduates", "for_staff", "auto_issue", "is_active"):
        if getattr(document_type, flag):
            data[flag] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def values_of(document_type: DocumentType, **changes: object) -> dict[str, object]:
    values = {field: getattr(document_type, field) for field in EDITABLE_FIELDS}
    values.update(changes)
    return values


def zxzm() -> DocumentType:
    return DocumentType.objects.get(code="zxzm")


def test_the_registrar_sees_the_types_and_opens_the_edit_page(client: Client, cast: Cast) -> None:
    client.force_login(cast.registrar)

    listing = client.get("/certificates/types/").content.decode()
    assert "在校证明" in listing and "学籍证明" in listing
    assert URL in listing

    page = client.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="template_html"' in html and "font-monospace" in html
    assert "本学期已注册" in html  # the rules as checkboxes


def test_the_registrar_saves_a_type_and_the_audit_has_the_template_hash_not_its_text(
    client: Client, cast: Cast
) -> None:
    client.force_login(cast.registrar)
    before = zxzm()
    old_hash = hashlib.sha256(before.template_html.encode()).hexdigest()
    new_html = before.template_html.replace("现在校就读。", "现在校就读，表现良好。")

    response = client.post(
        URL,
        form_of(before, template_html=new_html, free_per_term="3", auto_issue=None),
    )

    assert response.status_code == 302
    after = zxzm()
    assert after.template_html == new_html
    assert after.free_per_term == 3
    assert after.auto_issue is False
    event = AuditEvent.objects.get(action="document_type.update")
    assert event.target_id == str(after.pk)
    logged_before, logged_after = json.loads(event.before), json.loads(event.after)
    assert set(logged_after) == {"template_html", "free_per_term", "auto_issue"}
    assert logged_before["free_per_term"] == 5 and logged_after["free_per_term"] == 3
    assert logged_before["template_html"]["sha256"] == old_hash
    new_hash = hashlib.sha256(new_html.encode()).hexdigest()
    assert logged_after["template_html"]["sha256"] == new_hash
    assert "表现良好" not in event.after + event.before


def test_a_syntax_error_saves_nothing_and_names_the_line(client: Client, cast: Cast) -> None:
    client.force_login(cast.registrar)
    before = zxzm()
    broken = "<p>第一行</p>\n<p>{{ name }}</p>\n{% if name %}未结束\n"

    response = client.post(URL, form_of(before, template_html=broken, name="改过的名字"))

    assert response.status_code == 400
    html = response.content.decode()
    assert "模板有语法错误，第 3 行" in html and "endif" in html
    assert "改过的名字" in html  # the form keeps what was typed
    after = zxzm()
    assert after.template_html == before.template_html
    assert after.name == "在校证明"
    assert not AuditEvent.objects.filter(action="document_type.update").exists()


def test_an_unknown_variable_is_refused_and_the_known_ones_are_listed(cast: Cast) -> None:
    before = zxzm()
    html = before.template_html.replace("{{ name }}", "{{ student_name }}")

    with pytest.raises(ValidationFailed) as refused:
        document_type_save(
            cast.actor(cast.registrar), before, values_of(before, template_html=html)
        )

    message = refused.value.errors["template_html"][0]
    assert "{{ student_name }}" in message and "student_number" in message
    assert zxzm().template_html == before.template_html


def test_loop_variables_and_filters_on_known_variables_are_accepted(cast: Cast) -> None:
    before = zxzm()
    html = (
        before.template_html
        + "{% for ch in name %}{{ ch }}{{ forloop.counter }}{% endfor %}"
        + "{% with n=name %}{{ n|default:school }}{% endwith %}{{ issued|upper }}"
    )

    saved = document_type_save(
        cast.actor(cast.registrar), before, values_of(before, template_html=html)
    )

    assert saved.template_html == html


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{% load i18n %}<p>x</p>", "i18n"),
        ('{% include "base.html" %}', "include"),
        ('{% extends "base.html" %}', "extends"),
        ("{{ name|nosuchfilter }}", "nosuchfilter"),
    ],
)
def test_tags_and_filters_outside_the_sandbox_are_syntax_errors(
    cast: Cast, source: str, expected: str
) -> None:
    before = zxzm()
    with pytest.raises(ValidationFailed) as refused:
        document_type_save(
            cast.actor(cast.registrar), before, values_of(before, template_html=source)
        )
    assert expected in refused.value.errors["template_html"][0]


@pytest.mark.parametrize(
    ("changes", "field", "text"),
    [
        ({"free_per_term": "-1"}, "free_per_term", "应在 0 到"),
        ({"free_per_term": "五"}, "free_per_term", "“五”不是"),
        ({"rules": ["enrolled", "no_such_rule"]}, "rules", "no_such_rule"),
        ({"name": "  "}, "name", "请填写名称"),
        ({"template_html": "  "}, "template_html", "模板不能为空"),
        (
            {"for_students": False, "for_graduates": False, "for_staff": False},
            "for_students",
            "至少选择",
        ),
    ],
)
def test_bad_values_are_refused_and_nothing_is_saved(
    cast: Cast, changes: dict[str, object], field: str, text: str
) -> None:
    before = zxzm()
    data = values_of(before, name_en="Changed", **changes)

    with pytest.raises(ValidationFailed) as refused:
        document_type_save(cast.actor(cast.registrar), before, data)

    assert text in refused.value.errors[field][0]
    assert zxzm().name_en == "Certificate of Enrolment"
    assert not AuditEvent.objects.filter(action="document_type.update").exists()


def test_saving_without_a_change_writes_no_audit_event(cast: Cast) -> None:
    before = zxzm()
    document_type_save(cast.actor(cast.registrar), before, values_of(before))
    assert not AuditEvent.objects.filter(action="document_type.update").exists()


def test_a_preview_is_an_inline_pdf_of_the_unsaved_template_and_nothing_is_kept(
    client: Client, cast: Cast
) -> None:
    client.force_login(cast.registrar)
    before = zxzm()
    unsaved = before.template_html.replace("特此证明。", "预览专用文字。")
    audit_count = AuditEvent.objects.count()

    response = client.post(URL, form_of(before, template_html=unsaved, action="preview"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    text = pdf_text(response.content)
    assert "兹证明王䶮" in text  # the sample student, rare character included
    assert "预览专用文字" in text
    assert zxzm().template_html == before.template_html
    assert not IssuedDocument.objects.exists()
    assert AuditEvent.objects.count() == audit_count


def test_the_english_preview_renders_the_unsaved_english_template(
    client: Client, cast: Cast
) -> None:
    client.force_login(cast.registrar)
    response = client.post(
        URL,
        form_of(
            zxzm(), template_html_en="<p>Hello {{ name }}, {{ issued }}</p>", action="preview_en"
        ),
    )
    assert response.status_code == 200
    assert "Hello Wang Yan, 22 November 2026" in pdf_text(response.content)


def test_a_preview_with_a_syntax_error_shows_it_on_the_page(client: Client, cast: Cast) -> None:
    client.force_login(cast.registrar)
    response = client.post(
        URL, form_of(zxzm(), template_html="<p>\n{% endif %}</p>", action="preview")
    )
    assert response.status_code == 400
    assert "模板有语法错误，第 2 行" in response.content.decode()


def test_a_preview_with_a_character_no_font_has_shows_it_on_the_page(
    client: Client, cast: Cast
) -> None:
    client.force_login(cast.registrar)
    response = client.post(
        URL, form_of(zxzm(), template_html="<p>{{ name }}\ue000</p>", action="preview")
    )
    assert response.status_code == 400
    assert "U+E000" in response.content.decode()


@pytest.mark.parametrize("who", ["college_admin", "counsellor", "auditor", "student_user"])
def test_people_other_than_the_registrar_cannot_list_edit_save_or_preview(
    client: Client, cast: Cast, who: str
) -> None:
    client.force_login(getattr(cast, who))
    before = zxzm()

    assert client.get("/certificates/types/").status_code == 403
    assert client.get(URL).status_code == 403
    assert client.post(URL, form_of(before, name="偷改")).status_code == 403
    assert client.post(URL, form_of(before, action="preview")).status_code == 403
    assert zxzm().name == "在校证明"


def test_anonymous_visitors_are_sent_to_log_in(client: Client, cast: Cast) -> None:
    for response in (client.get("/certificates/types/"), client.post(URL, form_of(zxzm()))):
        assert response.status_code == 302
        assert "login" in response["Location"]


def test_an_unknown_type_is_404(client: Client, cast: Cast) -> None:
    client.force_login(cast.registrar)
    assert client.get("/certificates/types/nosuch/").status_code == 404


def test_the_services_refuse_anyone_but_the_registrar(cast: Cast) -> None:
    before = zxzm()
    with pytest.raises(PermissionDenied):
        document_type_save(cast.actor(cast.college_admin), before, values_of(before, name="x"))
    with pytest.raises(PermissionDenied):
        document_type_preview(cast.actor(cast.counsellor), before.template_html)


@pytest.mark.parametrize("code", ["zxzm", "xjzm"])
def test_the_built_in_templates_pass_the_editors_checks(cast: Cast, code: str) -> None:
    document_type = DocumentType.objects.get(code=code)
    saved = document_type_save(
        cast.actor(cast.registrar), document_type, values_of(document_type, name_en="Changed")
    )
    assert saved.name_en == "Changed"
