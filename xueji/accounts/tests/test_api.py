"""API tokens: issue with username + password, use as Bearer, revoke, expire, lockout."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from xueji.accounts.models import ApiToken
from xueji.audit.models import AuditEvent
from xueji.conftest import PASSWORD, Cast

TOKEN_URL = "/api/v1/auth/token/"
ME_URL = "/api/v1/students/me/"


def obtain(username: str, password: str = PASSWORD, **kwargs: object) -> object:
    return APIClient().post(TOKEN_URL, {"username": username, "password": password}, **kwargs)


def bearer(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def test_student_obtains_a_token_and_reads_own_record_with_it(cast: Cast) -> None:
    response = obtain("student", format="json")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"token", "expires_at"}
    me = bearer(body["token"]).get(ME_URL)
    assert me.status_code == 200
    assert me.json()["student_number"] == cast.student.student_number


def test_token_can_be_requested_with_a_form_post(cast: Cast) -> None:
    response = obtain("counsellor")

    assert response.status_code == 201
    assert response.json()["token"].startswith("xj_")


def test_token_expires_after_the_configured_days(cast: Cast) -> None:
    with override_settings(API_TOKEN_DAYS=7):
        response = obtain("registrar", format="json")

    token = ApiToken.objects.get(user=cast.registrar)
    assert token.expires_at - timezone.now() > timedelta(days=6, hours=23)
    assert token.expires_at - timezone.now() <= timedelta(days=7)
    assert response.json()["expires_at"]


def test_issuing_a_token_is_audited_and_the_clear_key_is_not_stored(cast: Cast) -> None:
    key = obtain("registrar", format="json").json()["token"]

    event = AuditEvent.objects.get(action="api_token.issue")
    assert event.actor_username == "registrar"
    assert event.via == "api"
    assert not ApiToken.objects.filter(key_hash=key).exists()
    assert key not in event.summary


def test_wrong_password_is_refused_with_a_chinese_401(cast: Cast) -> None:
    response = obtain("student", "not-the-password", format="json")

    assert response.status_code == 401
    error = response.json()["error"]
    assert error["message"] == "用户名或密码错误。"
    assert error["code"] == "login_refused"
    assert response["WWW-Authenticate"] == "Bearer"
    assert not ApiToken.objects.exists()


def test_unknown_user_gets_the_same_message_as_a_wrong_password(cast: Cast) -> None:
    response = obtain("nobody-here", format="json")

    assert response.status_code == 401
    assert response.json()["error"]["message"] == "用户名或密码错误。"


def test_missing_password_is_a_400_naming_the_field(cast: Cast) -> None:
    response = APIClient().post(TOKEN_URL, {"username": "student"}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "password" in error["fields"]


@override_settings(LOGIN_MAX_FAILURES=3)
def test_account_is_locked_after_repeated_failures_even_for_the_right_password(
    cast: Cast,
) -> None:
    for _ in range(3):
        assert obtain("counsellor", "wrong-password", format="json").status_code == 401

    response = obtain("counsellor", format="json")

    assert response.status_code == 401
    assert "锁定" in response.json()["error"]["message"]
    assert not ApiToken.objects.exists()
    assert AuditEvent.objects.filter(action="account.locked").count() == 1


def test_revoking_the_token_used_for_the_call_makes_it_useless(cast: Cast) -> None:
    key = obtain("student", format="json").json()["token"]
    client = bearer(key)

    assert client.delete(TOKEN_URL).status_code == 204

    response = client.get(ME_URL)
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "令牌无效、已过期或已被吊销。"
    assert AuditEvent.objects.filter(action="api_token.revoke").count() == 1


def test_revoking_touches_only_the_token_used(cast: Cast) -> None:
    first = obtain("student", format="json").json()["token"]
    second = obtain("student", format="json").json()["token"]

    bearer(first).delete(TOKEN_URL)

    assert bearer(second).get(ME_URL).status_code == 200


def test_expired_token_is_refused_with_a_chinese_401(cast: Cast) -> None:
    key = obtain("student", format="json").json()["token"]
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = bearer(key).get(ME_URL)

    assert response.status_code == 401
    assert response.json()["error"]["message"] == "令牌无效、已过期或已被吊销。"


def test_made_up_token_is_refused(cast: Cast) -> None:
    response = bearer("xj_made-up").get(ME_URL)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_malformed_authorization_header_is_explained(cast: Cast) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer two parts")

    response = client.get(ME_URL)

    assert response.status_code == 401
    assert "Bearer" in response.json()["error"]["message"]


def test_revoking_without_a_bearer_token_is_a_401(cast: Cast) -> None:
    response = APIClient().delete(TOKEN_URL)

    assert response.status_code == 401
    assert response.json()["error"]["message"] == "未登录或未提供有效的身份凭证。"


def test_revoking_with_a_browser_session_is_refused(cast: Cast) -> None:
    client = APIClient()
    client.force_login(cast.student_user)

    assert client.delete(TOKEN_URL).status_code == 401


def test_token_endpoint_answers_other_methods_with_a_json_405(cast: Cast) -> None:
    key = obtain("student", format="json").json()["token"]

    response = bearer(key).get(TOKEN_URL)

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_deactivated_user_cannot_use_an_existing_token(cast: Cast) -> None:
    key = obtain("student", format="json").json()["token"]
    cast.student_user.is_active = False
    cast.student_user.save()

    assert bearer(key).get(ME_URL).status_code == 401


@pytest.mark.parametrize("content_type", ["json", "multipart"])
def test_inactive_user_cannot_obtain_a_token(cast: Cast, content_type: str) -> None:
    cast.parent.is_active = False
    cast.parent.save()

    response = obtain("parent", format=content_type)

    assert response.status_code == 401
