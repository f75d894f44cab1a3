"""Organisation and code tables over the API: read-only reference data for any signed-in user."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from xueji.accounts.models import User
from xueji.accounts.services import api_token_issue
from xueji.conftest import Cast
from xueji.core.context import Actor
from xueji.org.models import CodeItem, CodeTable
from xueji.org.services import academic_year_save

ORG_URLS = [
    "/api/v1/colleges/",
    "/api/v1/majors/",
    "/api/v1/classes/",
    "/api/v1/cohorts/",
    "/api/v1/terms/",
    "/api/v1/code-tables/",
    "/api/v1/code-tables/gender/",
]


def api_as(user: User) -> APIClient:
    _, key = api_token_issue(actor=Actor.system(), user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def results(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


@pytest.mark.parametrize("url", ORG_URLS)
def test_anonymous_caller_gets_a_chinese_401(cast: Cast, url: str) -> None:
    response = APIClient().get(url)

    assert response.status_code == 401
    assert response.json()["error"]["message"] == "未登录或未提供有效的身份凭证。"


@pytest.mark.parametrize("url", ORG_URLS)
@pytest.mark.parametrize("who", ["student_user", "counsellor", "parent", "auditor"])
def test_every_signed_in_role_reads_reference_data(cast: Cast, url: str, who: str) -> None:
    assert api_as(getattr(cast, who)).get(url).status_code == 200


@pytest.mark.parametrize("url", ORG_URLS)
def test_reference_data_cannot_be_written(cast: Cast, url: str) -> None:
    response = api_as(cast.registrar).post(url, {"name": "新学院"}, format="json")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_colleges_are_listed_by_code(cast: Cast) -> None:
    rows = results(api_as(cast.student_user).get("/api/v1/colleges/"))

    assert [(row["code"], row["name"]) for row in rows] == [
        ("05", "外国语学院"),
        ("08", "计算机学院"),
    ]


def test_majors_filter_by_college_and_name_their_level(cast: Cast) -> None:
    rows = results(api_as(cast.counsellor).get("/api/v1/majors/", {"college": cast.cs.pk}))

    assert [row["national_code"] for row in rows] == ["080901"]
    assert rows[0]["college"]["name"] == "计算机学院"
    assert rows[0]["level"]["name"] == "本科"
    assert rows[0]["duration"] == "4.0"


def test_classes_filter_by_major(cast: Cast) -> None:
    rows = results(api_as(cast.counsellor).get("/api/v1/classes/", {"major": cast.fl_major.pk}))

    assert [row["name"] for row in rows] == ["英语2401"]
    assert rows[0]["cohort"] == {"id": cast.cohort.pk, "year": 2024, "name": "2024级"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"college": "计算机"}, "college"),
        ({"major": ""}, "major"),
        ({"page_size": "0"}, "page_size"),
    ],
)
def test_bad_org_filter_is_a_400(cast: Cast, params: dict[str, str], field: str) -> None:
    response = api_as(cast.counsellor).get("/api/v1/classes/", params)

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_cohorts_are_listed(cast: Cast) -> None:
    rows = results(api_as(cast.parent).get("/api/v1/cohorts/"))

    assert rows == [{"id": cast.cohort.pk, "year": 2024, "name": "2024级"}]


def test_terms_are_listed_newest_first_with_their_academic_year(cast: Cast) -> None:
    academic_year_save(actor=cast.actor(cast.registrar), start_year=2024)
    academic_year_save(actor=cast.actor(cast.registrar), start_year=2025)
    client = api_as(cast.student_user)

    rows = results(client.get("/api/v1/terms/"))
    only_2024 = results(client.get("/api/v1/terms/", {"academic_year": 2024}))

    assert [row["academic_year"]["start_year"] for row in rows][:1] == [2025]
    assert rows == sorted(rows, key=lambda row: row["start_date"], reverse=True)
    assert {row["academic_year"]["start_year"] for row in only_2024} == {2024}
    assert len(only_2024) >= 2


def test_code_tables_are_listed_with_their_versions(cast: Cast) -> None:
    rows = results(api_as(cast.student_user).get("/api/v1/code-tables/", {"page_size": 100}))
    by_table = {row["table"]: row for row in rows}

    assert set(by_table) == set(CodeTable.values)
    assert by_table["gender"]["version"]["version"] == "GB/T 2261.1-2003"
    assert by_table["major_catalogue_2024"]["version"]["rows"] == 816


def test_code_table_items_carry_code_name_and_validity(cast: Cast) -> None:
    rows = results(api_as(cast.student_user).get("/api/v1/code-tables/gender/"))

    male = next(row for row in rows if row["code"] == "1")
    assert male["name"] == "男"
    assert male["is_current"] is True
    assert male["valid_to"] is None


def test_code_table_items_can_be_searched_by_name_or_code_prefix(cast: Cast) -> None:
    client = api_as(cast.counsellor)

    by_name = results(client.get("/api/v1/code-tables/ethnicity/", {"search": "蒙古"}))
    by_code = results(client.get("/api/v1/code-tables/major_catalogue_2024/", {"search": "080901"}))

    assert [row["code"] for row in by_name] == ["02"]
    assert [row["name"] for row in by_code] == ["计算机科学与技术"]


def test_current_only_leaves_out_historical_codes(cast: Cast) -> None:
    historical = CodeItem.objects.filter(table=CodeTable.REGION, valid_to__isnull=False).first()
    assert historical is not None, "the region table should carry historical codes"
    client = api_as(cast.counsellor)
    url = "/api/v1/code-tables/region/"

    everything = client.get(url, {"search": historical.code}).json()["results"]
    current = client.get(url, {"search": historical.code, "current": "1"}).json()["results"]

    assert any(row["valid_to"] for row in everything)
    assert all(row["is_current"] for row in current)


def test_unknown_code_table_is_a_chinese_404(cast: Cast) -> None:
    response = api_as(cast.counsellor).get("/api/v1/code-tables/horoscope/")

    assert response.status_code == 404
    assert response.json()["error"]["message"] == "没有名为“horoscope”的代码表。"


def test_code_table_listing_costs_no_query_per_row(
    cast: Cast, django_assert_max_num_queries: Any
) -> None:
    client = api_as(cast.counsellor)
    client.get("/api/v1/majors/")

    with django_assert_max_num_queries(5):
        rows = results(client.get("/api/v1/code-tables/region/", {"page_size": 500}))
    assert len(rows) == 500
