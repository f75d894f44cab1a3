"""`Authorization: Bearer <token>` for systems calling the API."""

from __future__ import annotations

from rest_framework import authentication, exceptions
from rest_framework.request import Request

from xueji.accounts.models import User
from xueji.accounts.services import api_token_authenticate


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[User, object] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        parts = header.split()
        if parts[0] != self.keyword:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Authorization 头格式应为：Bearer <令牌>")
        token = api_token_authenticate(parts[1])
        if token is None:
            raise exceptions.AuthenticationFailed("令牌无效、已过期或已被吊销。")
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
