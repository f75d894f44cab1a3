"""The request-size limit answers 413 before Django stores an oversized upload."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from xueji.conftest import Cast


def test_an_upload_over_the_limit_is_refused_with_413_before_the_view(cast: Cast, settings) -> None:
    settings.XUEJI_MAX_REQUEST_BYTES = 1024
    client = Client()
    client.force_login(cast.registrar)
    body = "x" * 4096
    page = client.post(
        reverse("import-kind", args=["freshmen"]),
        {"file": body},
    )
    assert page.status_code == 413
    assert "上传内容超过" in page.content.decode()
    api = client.post("/api/v1/imports/freshmen/", {"file": body})
    assert api.status_code == 413 and api.json()["error"]["code"] == "too_large"


def test_a_request_under_the_limit_reaches_the_view(cast: Cast, settings) -> None:
    settings.XUEJI_MAX_REQUEST_BYTES = 1024 * 1024
    client = Client()
    client.force_login(cast.registrar)
    assert client.get(reverse("import-kind", args=["freshmen"])).status_code == 200
    page = client.post(reverse("import-kind", args=["freshmen"]), {})
    assert page.status_code != 413
