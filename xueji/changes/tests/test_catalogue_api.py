"""The catalogue over the API: anyone logged in reads active types; only the registrar writes."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from xueji.accounts.models import User
from xueji.accounts.services import api_token_issue
from xueji.audit.models import AuditEvent
from xueji.changes.models import ChangeType, RuleParameters
from xueji.core.context import Actor

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/change-types/"
PARAMS_URL = "/api/v1/rule-parameters/"


def detail_url(code: str) -> str:
    return f"/api/v1/change-types/{code}/"


def api_as(user: User) -> APIClient:
    _, key = api_token_issue(actor=Actor.system(), user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


PARAMS = {
    "max_extra_years": "2.0",
    "suspension_max_times": 2,
    "suspension_max_months": 12,
    "suspension_total_months": 24,
    "military_keep_years": 2,
    "military_keep_years_2005": 1,
    "recheck_months": 3,
    "major_change_max_times": 1,
    "major_change_min_terms": 1,
}


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", LIST_URL),
        ("get", detail_url("suspension")),
        ("patch", detail_url("suspension")),
        ("get", PARAMS_URL),
        ("put", PARAMS_URL),
    ],
)
def test_anonymous_callers_are_refused(cast, catalogue, method, url):
    response = getattr(APIClient(), method)(url, {}, format="json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_student_reads_the_active_types_with_what_to_fill(cast, catalogue):
    ChangeType.objects.filter(code="death").update(is_active=False)

    response = api_as(cast.student_user).get(LIST_URL)

    assert response.status_code == 200
    rows = {row["code"]: row for row in response.json()}
    assert "death" not in rows
    transfer = rows["transfer_out"]
    fields = {field["code"]: field for field in transfer["fields_to_fill"]}
    assert fields["gaokao_score"]["kind"] == "decimal"
    assert fields["directed"]["kind"] == "bool"
    assert any(choice["value"] == "05" for choice in fields["target_level"]["choices"])
    assert transfer["required_attachments"] == ["转学申请书", "拟转入学校同意接收的证明"]
    rules = {rule["code"]: rule for rule in transfer["rule_details"]}
    assert rules["transfer_first_term"]["article"] == "教育部令第41号 第二十二条第（一）项"
    assert rows["withdrawal"]["steps"][-1] == "president_office"


def test_an_inactive_type_is_not_found_except_for_the_registrar(cast, catalogue):
    ChangeType.objects.filter(code="death").update(is_active=False)

    assert api_as(cast.counsellor).get(detail_url("death")).status_code == 404
    assert api_as(cast.registrar).get(detail_url("death")).status_code == 200
    everything = api_as(cast.registrar).get(LIST_URL, {"include_inactive": "true"}).json()
    assert "death" in {row["code"] for row in everything}
    student_view = api_as(cast.student_user).get(LIST_URL, {"include_inactive": "true"}).json()
    assert "death" not in {row["code"] for row in student_view}


def test_an_unknown_type_is_not_found(cast, catalogue):
    response = api_as(cast.registrar).get(detail_url("nothing"))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("persona", ["college_admin", "counsellor", "auditor", "student_user"])
def test_only_the_registrar_may_patch_a_type(cast, catalogue, persona):
    response = api_as(getattr(cast, persona)).patch(
        detail_url("suspension"), {"step_days": 9}, format="json"
    )

    assert response.status_code == 403
    assert ChangeType.objects.get(code="suspension").step_days == 5


def test_the_registrar_patches_a_type_and_it_is_audited(cast, catalogue):
    response = api_as(cast.registrar).patch(
        detail_url("suspension"),
        {"step_days": 9, "college_may_finish": False},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["step_days"] == 9
    saved = ChangeType.objects.get(code="suspension")
    assert saved.step_days == 9 and not saved.college_may_finish
    event = AuditEvent.objects.filter(action="change_type.save").latest("seq")
    assert event.via == "api"


def test_patching_withdrawal_without_the_president_office_is_refused_with_the_article(
    cast, catalogue
):
    response = api_as(cast.registrar).patch(
        detail_url("withdrawal"), {"steps": ["counsellor", "college", "registrar"]}, format="json"
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert "第三十一条、第五十六条" in error["fields"]["steps"][0]
    assert ChangeType.objects.get(code="withdrawal").steps[-1] == "president_office"


def test_an_unknown_rule_code_is_refused_by_the_api(cast, catalogue):
    response = api_as(cast.registrar).patch(
        detail_url("suspension"), {"rules": ["no_such_rule"]}, format="json"
    )

    assert response.status_code == 400
    assert "rules" in response.json()["error"]["fields"]


def test_any_logged_in_user_reads_the_rule_parameters(cast, catalogue):
    response = api_as(cast.student_user).get(PARAMS_URL)

    assert response.status_code == 200
    assert response.json()["suspension_max_months"] == 12


@pytest.mark.parametrize("persona", ["college_admin", "counsellor", "student_user"])
def test_only_the_registrar_may_put_the_rule_parameters(cast, catalogue, persona):
    response = api_as(getattr(cast, persona)).put(
        PARAMS_URL, {**PARAMS, "recheck_months": 6}, format="json"
    )

    assert response.status_code == 403
    assert RuleParameters.objects.get(pk=1).recheck_months == 3


def test_the_registrar_puts_the_rule_parameters(cast, catalogue):
    response = api_as(cast.registrar).put(
        PARAMS_URL, {**PARAMS, "max_extra_years": "1.5", "recheck_months": 6}, format="json"
    )

    assert response.status_code == 200, response.json()
    params = RuleParameters.objects.get(pk=1)
    assert str(params.max_extra_years) == "1.5"
    assert params.recheck_months == 6


def test_an_incomplete_or_inconsistent_put_is_refused(cast, catalogue):
    client = api_as(cast.registrar)

    missing = client.put(PARAMS_URL, {"recheck_months": 6}, format="json")
    inconsistent = client.put(PARAMS_URL, {**PARAMS, "suspension_total_months": 6}, format="json")

    assert missing.status_code == 400
    assert "max_extra_years" in missing.json()["error"]["fields"]
    assert inconsistent.status_code == 400
    assert "suspension_total_months" in inconsistent.json()["error"]["fields"]
    assert RuleParameters.objects.get(pk=1).recheck_months == 3


def test_the_schema_documents_the_catalogue_endpoints(cast, catalogue):
    response = api_as(cast.registrar).get("/api/v1/schema/", {"format": "json"})

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/change-types/{code}/" in paths
    assert "patch" in paths["/api/v1/change-types/{code}/"]
    assert "put" in paths["/api/v1/rule-parameters/"]
