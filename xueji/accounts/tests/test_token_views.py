"""A user's own API tokens page: the key is shown once, revoked tokens stop working."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from xueji.accounts.models import ApiToken
from xueji.accounts.services import api_token_authenticate, api_token_issue

pytestmark = pytest.mark.django_db


def create_token(client, name="教务系统同步"):
    response = client.post(reverse("api-token-create"), {"name": name})
    match = re.search(r'id="token-key"[^>]*>(xj_[^<]+)<', response.content.decode())
    return response, (match.group(1) if match else "")


@pytest.mark.parametrize(
    ("method", "name", "args"),
    [
        ("get", "api-token-list", []),
        ("post", "api-token-create", []),
        ("post", "api-token-revoke", [1]),
    ],
)
def test_anonymous_visitors_are_sent_to_login(client, db, method, name, args):
    response = getattr(client, method)(reverse(name, args=args))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_creating_a_token_shows_its_key_once_and_stores_only_its_hash(client, cast):
    client.force_login(cast.counsellor)

    response, key = create_token(client)

    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get(user=cast.counsellor)
    assert key.startswith(token.prefix)
    assert token.key_hash != key and key not in token.key_hash
    listing = client.get(reverse("api-token-list")).content.decode()
    assert key not in listing
    assert f"{token.prefix}…" in listing and "教务系统同步" in listing
    assert api_token_authenticate(key) == token


def test_a_token_needs_a_purpose(client, cast):
    client.force_login(cast.counsellor)

    response = client.post(reverse("api-token-create"), {"name": ""})

    assert response.status_code == 400
    assert "该字段是必填项。" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_a_revoked_token_no_longer_authenticates(client, cast):
    client.force_login(cast.student_user)
    _response, key = create_token(client, "我的脚本")
    token = ApiToken.objects.get(user=cast.student_user)

    response = client.post(reverse("api-token-revoke", args=[token.pk]), follow=True)

    assert api_token_authenticate(key) is None
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "已吊销" in response.content.decode()


def test_the_list_shows_only_your_own_tokens(client, cast):
    theirs, _key = api_token_issue(
        actor=cast.actor(cast.registrar), user=cast.registrar, name="registrar-only"
    )
    client.force_login(cast.counsellor)

    listing = client.get(reverse("api-token-list")).content.decode()

    assert "registrar-only" not in listing
    assert theirs.prefix not in listing


def test_someone_elses_token_cannot_be_revoked_and_reads_as_missing(client, cast):
    theirs, key = api_token_issue(actor=cast.actor(cast.registrar), user=cast.registrar)
    client.force_login(cast.counsellor)

    response = client.post(reverse("api-token-revoke", args=[theirs.pk]))

    assert response.status_code == 404
    assert api_token_authenticate(key) is not None
