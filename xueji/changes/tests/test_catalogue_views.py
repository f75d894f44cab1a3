"""The registrar's catalogue pages: who gets in, what a registrar sees and is told."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from xueji.audit.models import AuditEvent
from xueji.changes.models import ChangeType, RuleParameters

pytestmark = pytest.mark.django_db

PAGES = [
    ("change-type-list", []),
    ("change-type-create", []),
    ("change-type-edit", ["suspension"]),
    ("rule-parameters", []),
]


def type_form(change_type: ChangeType, **overrides):
    data = {
        "name": change_type.name,
        "name_en": change_type.name_en,
        "description": change_type.description,
        "order": change_type.order,
        "target_status": change_type.target_status,
        "from_statuses": change_type.from_statuses,
        "graduation_effect": change_type.graduation_effect,
        "max_study_effect": change_type.max_study_effect,
        "applicant_fields": change_type.applicant_fields,
        "required_attachments": "\n".join(change_type.required_attachments),
        "initiators": change_type.initiators,
        "steps": change_type.steps,
        "step_days": change_type.step_days,
        "rules": change_type.rules,
    }
    for flag in (
        "is_active",
        "moves_org",
        "moves_cohort",
        "has_period",
        "college_may_finish",
        "batch_approvable",
        "notify_departments",
    ):
        if getattr(change_type, flag):
            data[flag] = "on"
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def parameters_form(**overrides):
    data = {
        "max_extra_years": "2",
        "suspension_max_times": "2",
        "suspension_max_months": "12",
        "suspension_total_months": "24",
        "military_keep_years": "2",
        "military_keep_years_2005": "1",
        "recheck_months": "3",
        "major_change_max_times": "1",
        "major_change_min_terms": "1",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_anonymous_visitors_are_sent_to_login(client, cast, catalogue, name, args):
    response = client.get(reverse(name, args=args))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_a_student_is_sent_to_their_own_record(client, cast, catalogue, name, args):
    client.force_login(cast.student_user)

    response = client.get(reverse(name, args=args))

    assert response.status_code == 302
    assert response.url == reverse("my-record")


@pytest.mark.parametrize("persona", ["college_admin", "counsellor", "advisor", "auditor", "parent"])
@pytest.mark.parametrize(("name", "args"), PAGES)
def test_other_roles_are_forbidden(client, cast, catalogue, persona, name, args):
    client.force_login(getattr(cast, persona))

    assert client.get(reverse(name, args=args)).status_code == 403
    assert client.post(reverse(name, args=args), {}).status_code == 403


def test_a_college_admin_cannot_change_a_type_by_posting(client, cast, catalogue):
    client.force_login(cast.college_admin)

    client.post(
        reverse("change-type-edit", args=["suspension"]),
        type_form(catalogue["suspension"], step_days=30),
    )

    assert ChangeType.objects.get(code="suspension").step_days == 5


def test_the_registrar_sees_every_type_with_its_chain_and_rules(client, cast, catalogue):
    ChangeType.objects.filter(code="death").update(is_active=False)
    client.force_login(cast.registrar)

    response = client.get(reverse("change-type-list"))

    assert response.status_code == 200
    page = response.content.decode()
    for change_type in catalogue.values():
        assert change_type.name in page
    assert "校长办公会决定" in page
    assert "最长学习年限" in page
    assert "停用" in page


def test_the_edit_page_shows_the_declarations_of_the_type(client, cast, catalogue):
    client.force_login(cast.registrar)

    response = client.get(reverse("change-type-edit", args=["withdrawal"]))

    assert response.status_code == 200
    page = response.content.decode()
    assert re.search(r'name="steps" value="president_office"[^>]*checked', page)
    assert re.search(r'name="rules" value="transfer_first_term"[^>]*>', page)
    assert not re.search(r'name="rules" value="transfer_first_term"[^>]*checked', page)
    assert "退学" in page


def test_an_unknown_type_is_not_found(client, cast, catalogue):
    client.force_login(cast.registrar)

    assert client.get(reverse("change-type-edit", args=["nothing"])).status_code == 404


def test_the_registrar_edits_a_type_and_it_is_audited(client, cast, catalogue):
    client.force_login(cast.registrar)

    response = client.post(
        reverse("change-type-edit", args=["suspension"]),
        type_form(
            catalogue["suspension"],
            step_days=7,
            required_attachments="休学申请书\n医院诊断证明",
        ),
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    saved = ChangeType.objects.get(code="suspension")
    assert saved.step_days == 7
    assert saved.required_attachments == ["休学申请书", "医院诊断证明"]
    assert saved.code == "suspension"
    assert AuditEvent.objects.filter(action="change_type.save", target_id=str(saved.pk)).exists()


def test_removing_the_president_office_from_withdrawal_is_refused_with_the_article(
    client, cast, catalogue
):
    client.force_login(cast.registrar)

    response = client.post(
        reverse("change-type-edit", args=["withdrawal"]),
        type_form(catalogue["withdrawal"], steps=["counsellor", "college", "registrar"]),
    )

    assert response.status_code == 400
    assert "第三十一条、第五十六条" in response.content.decode()
    assert ChangeType.objects.get(code="withdrawal").steps[-1] == "president_office"


def test_the_registrar_creates_a_new_type(client, cast, catalogue):
    client.force_login(cast.registrar)
    data = type_form(
        catalogue["other_reservation"],
        name="出国（境）交流",
        code="exchange_abroad",
        order=200,
    )

    response = client.post(reverse("change-type-create"), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    created = ChangeType.objects.get(code="exchange_abroad")
    assert not created.is_builtin
    assert created.steps == ["college", "registrar"]


def test_the_create_page_renders_with_defaults(client, cast, catalogue):
    client.force_login(cast.registrar)

    response = client.get(reverse("change-type-create"))

    assert response.status_code == 200
    assert "新建异动类型" in response.content.decode()


def test_the_registrar_changes_the_rule_parameters(client, cast, catalogue):
    client.force_login(cast.registrar)

    page = client.get(reverse("rule-parameters"))
    response = client.post(
        reverse("rule-parameters"), parameters_form(max_extra_years="3", recheck_months="2")
    )

    assert page.status_code == 200
    assert "第二十五条" in page.content.decode()
    assert response.status_code == 302
    params = RuleParameters.objects.get(pk=1)
    assert str(params.max_extra_years) == "3.0"
    assert params.recheck_months == 2


def test_an_inconsistent_parameter_is_shown_next_to_its_field(client, cast, catalogue):
    client.force_login(cast.registrar)

    response = client.post(reverse("rule-parameters"), parameters_form(suspension_total_months="6"))

    assert response.status_code == 400
    assert "累计休学最长月数不能小于每次休学最长月数" in response.content.decode()
    assert RuleParameters.objects.get(pk=1).suspension_total_months == 24
