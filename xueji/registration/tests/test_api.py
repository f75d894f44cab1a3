"""Registration over the API: scope (out of scope is 404), the same rules as the pages, JSON
errors in Chinese, and the endpoints in the OpenAPI schema."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from xueji.accounts.services import api_token_issue
from xueji.conftest import Cast
from xueji.core.context import Actor
from xueji.org.models import Term
from xueji.registration.models import FinanceState, FinanceStatus, RegistrationState
from xueji.registration.rules import UNPAID_MESSAGE
from xueji.registration.services import finance_status_set
from xueji.registration.tests.conftest import row

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/registrations/"
SELF_URL = "/api/v1/registrations/self/"
PROGRESS_URL = "/api/v1/registrations/progress/"
FINANCE_URL = "/api/v1/finance-status/"


def api_as(user) -> APIClient:
    _, key = api_token_issue(actor=Actor.system(), user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def set_url(registration) -> str:
    return f"/api/v1/registrations/{registration.pk}/"


def numbers(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {r["student_number"] for r in response.json()["results"]}


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", LIST_URL),
        ("post", SELF_URL),
        ("get", PROGRESS_URL),
        ("post", "/api/v1/registrations/1/"),
        ("put", FINANCE_URL),
    ],
)
def test_anonymous_callers_get_401_from_every_registration_endpoint(
    cast: Cast, opened: Term, method: str, url: str
) -> None:
    response = getattr(APIClient(), method)(url, {}, format="json")

    assert response.status_code == 401
    assert response.json()["error"]["message"] == "未登录或未提供有效的身份凭证。"


def test_counsellor_lists_only_their_class_with_filters(cast: Cast, opened: Term) -> None:
    client = api_as(cast.counsellor)
    assert numbers(client.get(LIST_URL, {"term": opened.pk})) == {cast.student.student_number}
    assert numbers(client.get(LIST_URL, {"term": opened.pk, "state": "registered"})) == set()
    other_class = client.get(LIST_URL, {"term": opened.pk, "school_class": cast.class_b.pk})
    assert numbers(other_class) == set()


def test_the_list_carries_the_finance_state(cast: Cast, opened: Term) -> None:
    finance_status_set(
        actor=cast.actor(cast.registrar),
        student=cast.student,
        term=opened,
        state=FinanceState.UNPAID,
        amount_due=Decimal("100"),
    )
    rows = api_as(cast.registrar).get(LIST_URL, {"term": opened.pk}).json()["results"]

    assert {r["student_number"]: r["finance_state"] for r in rows} == {
        cast.student.student_number: "unpaid",
        cast.classmate_b.student_number: None,
        cast.other_student.student_number: None,
    }


def test_a_bad_filter_is_a_400_naming_the_field(cast: Cast, opened: Term) -> None:
    response = api_as(cast.registrar).get(LIST_URL, {"state": "enrolled"})

    assert response.status_code == 400
    assert "state" in response.json()["error"]["fields"]


def test_an_unknown_term_is_404(cast: Cast, opened: Term) -> None:
    assert api_as(cast.registrar).get(LIST_URL, {"term": 9999}).status_code == 404


def test_a_student_registers_through_the_api(cast: Cast, opened: Term) -> None:
    response = api_as(cast.student_user).post(SELF_URL, {"term": opened.pk}, format="json")

    assert response.status_code == 200
    assert response.json()["state"] == "registered"
    assert response.json()["via"] == "self"


def test_an_unpaid_student_is_refused_self_registration_with_the_reason(
    cast: Cast, opened: Term
) -> None:
    finance_status_set(
        actor=cast.actor(cast.registrar),
        student=cast.student,
        term=opened,
        state=FinanceState.UNPAID,
        amount_due=Decimal("5200"),
    )

    response = api_as(cast.student_user).post(SELF_URL, {"term": opened.pk}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["message"] == UNPAID_MESSAGE
    assert row(cast.student, opened).state == RegistrationState.UNREGISTERED


def test_staff_without_a_student_record_get_404_from_self_registration(
    cast: Cast, opened: Term
) -> None:
    response = api_as(cast.registrar).post(SELF_URL, {"term": opened.pk}, format="json")
    assert response.status_code == 404


def test_counsellor_defers_a_student_of_their_class(cast: Cast, opened: Term) -> None:
    from datetime import timedelta

    from django.utils import timezone

    until = (timezone.localdate() + timedelta(days=9)).isoformat()
    response = api_as(cast.counsellor).post(
        set_url(row(cast.student, opened)),
        {"state": "deferred", "reason": "因病住院", "defer_until": until},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert (response.json()["state"], response.json()["defer_until"]) == ("deferred", until)


def test_a_deferral_without_reason_is_a_400_naming_the_fields(cast: Cast, opened: Term) -> None:
    response = api_as(cast.counsellor).post(
        set_url(row(cast.student, opened)), {"state": "deferred"}, format="json"
    )

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"reason", "defer_until"}


def test_counsellor_gets_404_for_a_registration_outside_their_classes(
    cast: Cast, opened: Term
) -> None:
    for student in (cast.classmate_b, cast.other_student):
        response = api_as(cast.counsellor).post(
            set_url(row(student, opened)), {"state": "registered"}, format="json"
        )
        assert response.status_code == 404
        assert row(student, opened).state == RegistrationState.UNREGISTERED


def test_auditor_in_scope_gets_403_when_setting_a_registration(cast: Cast, opened: Term) -> None:
    response = api_as(cast.auditor).post(
        set_url(row(cast.student, opened)), {"state": "registered"}, format="json"
    )
    assert response.status_code == 403


def test_counsellor_progress_has_their_class_and_its_numbers(cast: Cast, opened: Term) -> None:
    api_as(cast.student_user).post(SELF_URL, {"term": opened.pk}, format="json")

    body = api_as(cast.counsellor).get(PROGRESS_URL, {"term": opened.pk}).json()

    assert [(c["class_code"], c["total"], c["registered"]) for c in body["classes"]] == [
        ("JK2401", 1, 1)
    ]
    assert (body["total"], body["registered"], body["unregistered"]) == (1, 1, 0)


def test_a_student_is_refused_the_progress_endpoint(cast: Cast, opened: Term) -> None:
    assert api_as(cast.student_user).get(PROGRESS_URL).status_code == 403


def test_registrar_puts_a_finance_status(cast: Cast, opened: Term) -> None:
    body = {
        "student_number": cast.student.student_number,
        "term": opened.pk,
        "state": "unpaid",
        "amount_due": "5200.00",
    }
    response = api_as(cast.registrar).put(FINANCE_URL, body, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["amount_due"] == "5200.00"
    assert FinanceStatus.objects.get(student=cast.student).state == FinanceState.UNPAID


def test_finance_status_inconsistent_amount_is_a_400(cast: Cast, opened: Term) -> None:
    body = {
        "student_number": cast.student.student_number,
        "term": opened.pk,
        "state": "paid",
        "amount_due": "10",
    }
    response = api_as(cast.registrar).put(FINANCE_URL, body, format="json")

    assert response.status_code == 400
    assert "amount_due" in response.json()["error"]["fields"]


def test_finance_status_by_a_college_admin_is_403_in_scope_and_404_outside(
    cast: Cast, opened: Term
) -> None:
    client = api_as(cast.college_admin)
    body = {"term": opened.pk, "state": "paid", "amount_due": "0"}

    inside = client.put(
        FINANCE_URL, {**body, "student_number": cast.student.student_number}, format="json"
    )
    outside = client.put(
        FINANCE_URL, {**body, "student_number": cast.other_student.student_number}, format="json"
    )

    assert (inside.status_code, outside.status_code) == (403, 404)
    assert not FinanceStatus.objects.exists()


def test_the_registration_endpoints_are_in_the_schema(cast: Cast) -> None:
    response = api_as(cast.registrar).get("/api/v1/schema/", {"format": "json"})

    paths = response.json()["paths"]
    for path in (
        "/api/v1/registrations/",
        "/api/v1/registrations/self/",
        "/api/v1/registrations/progress/",
        "/api/v1/registrations/{id}/",
        "/api/v1/finance-status/",
    ):
        assert path in paths
