"""Reads of accounts data."""

from __future__ import annotations

from django.db.models import QuerySet

from xueji.accounts.models import ApiToken, User


def api_token_list_for(user: User) -> QuerySet[ApiToken]:
    """The user's own API tokens, newest first (revoked and expired ones included)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at")
