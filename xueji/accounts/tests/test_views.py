"""Login and logout pages: lockout, redirects, and that logout needs a POST."""

from __future__ import annotations

import pytest
from django.urls import reverse

from xueji.accounts.models import User
from xueji.audit.models import AuditEvent
from xueji.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def post_login(client, username: str, password: str, **extra: str):
    return client.post(reverse("login"), {"username": username, "password": password, **extra})


def test_login_page_renders_in_chinese_for_anonymous_users(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "用户名" in response.text and "密码" in response.text


def test_anonymous_visitor_of_the_home_page_is_sent_to_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_correct_password_logs_in_and_lands_on_home(client, cast):
    response = post_login(client, "counsellor", PASSWORD)
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert client.get(reverse("home")).status_code == 200


def test_login_follows_a_local_next_url(client, cast):
    response = post_login(client, "registrar", PASSWORD, next=reverse("student-list"))
    assert response.url == reverse("student-list")


def test_login_ignores_a_next_url_pointing_to_another_site(client, cast):
    response = post_login(client, "registrar", PASSWORD, next="https://evil.example/")
    assert response.url == reverse("home")


def test_wrong_password_shows_a_message_that_does_not_reveal_the_account(client, cast):
    wrong = post_login(client, "counsellor", "not-the-password")
    unknown = post_login(client, "nobody-here", "not-the-password")
    assert wrong.status_code == 200
    assert "用户名或密码错误" in wrong.text
    assert "用户名或密码错误" in unknown.text
    assert "_auth_user_id" not in client.session


def test_five_failures_lock_the_account_even_against_the_right_password(client, cast):
    for _ in range(5):
        post_login(client, "counsellor", "not-the-password")
    response = post_login(client, "counsellor", PASSWORD)
    assert response.status_code == 200
    assert "账号已锁定" in response.text
    assert "_auth_user_id" not in client.session
    assert User.objects.get(username="counsellor").locked_until is not None
    assert AuditEvent.objects.filter(action="account.locked").exists()


def test_a_successful_login_resets_the_failure_count(client, cast):
    for _ in range(3):
        post_login(client, "counsellor", "not-the-password")
    post_login(client, "counsellor", PASSWORD)
    assert User.objects.get(username="counsellor").failed_logins == 0


def test_logged_in_user_visiting_login_is_sent_home(client, cast):
    client.force_login(cast.registrar)
    response = client.get(reverse("login"))
    assert response.status_code == 302
    assert response.url == reverse("home")


def test_logout_refuses_get(client, cast):
    client.force_login(cast.registrar)
    assert client.get(reverse("logout")).status_code == 405
    assert "_auth_user_id" in client.session


def test_logout_by_post_ends_the_session_and_returns_to_login(client, cast):
    client.force_login(cast.registrar)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response.url == reverse("login")
    assert "_auth_user_id" not in client.session


def test_session_expires_after_the_idle_timeout_setting(client, cast, settings):
    client.force_login(cast.registrar)
    client.get(reverse("home"))
    assert client.session.get_expiry_age() <= settings.SESSION_COOKIE_AGE
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
