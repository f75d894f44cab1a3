"""The API as a whole: OpenAPI schema, offline docs, JSON errors for unknown paths."""

from __future__ import annotations

import re
from io import StringIO

from django.core.management import call_command
from rest_framework.test import APIClient

from xueji.conftest import Cast


def loads_anything_from_elsewhere(page: str) -> bool:
    """Scripts, styles, icons or images from another host (a plain link to a site is fine)."""
    remote = r"""["']?(https?:)?//"""
    return bool(
        re.search(r"\bsrc=" + remote, page) or re.search(r"<link\b[^>]*\bhref=" + remote, page)
    )


def test_schema_is_openapi_3_and_lists_every_endpoint(db: None) -> None:
    response = APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3")
    assert {
        "/api/v1/auth/token/",
        "/api/v1/students/",
        "/api/v1/students/me/",
        "/api/v1/students/{student_number}/",
        "/api/v1/students/{student_number}/id-number/",
        "/api/v1/colleges/",
        "/api/v1/majors/",
        "/api/v1/classes/",
        "/api/v1/cohorts/",
        "/api/v1/terms/",
        "/api/v1/code-tables/",
        "/api/v1/code-tables/{table}/",
    } <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_schema_generates_without_warnings_and_validates() -> None:
    out = StringIO()

    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)

    assert out.getvalue().startswith("openapi: 3")


def test_docs_page_loads_swagger_ui_from_our_own_static_files(db: None) -> None:
    response = APIClient().get("/api/v1/docs/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert not loads_anything_from_elsewhere(page)
    # No CDN host anywhere (a bare "cdn" could occur inside the page's random CSRF token).
    assert not re.search(r"cdn[\w-]*\.|//[^\"' ]*cdn", page, re.IGNORECASE)


def test_unknown_api_path_is_a_json_404(cast: Cast) -> None:
    response = APIClient().get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "没有这个接口。"}}


def test_api_path_without_trailing_slash_redirects_keeping_the_method(cast: Cast) -> None:
    response = APIClient().post("/api/v1/auth/token?x=1", {"username": "student"})

    assert response.status_code == 308
    assert response["Location"] == "/api/v1/auth/token/?x=1"


def test_browsable_api_renders_for_a_signed_in_browser_without_a_cdn(cast: Cast) -> None:
    client = APIClient()
    client.force_login(cast.counsellor)

    response = client.get("/api/v1/students/", HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    page = response.content.decode()
    assert cast.student.student_number in page
    assert cast.student.id_number not in page
    assert not loads_anything_from_elsewhere(page)
