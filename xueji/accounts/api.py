"""API tokens: `POST /api/v1/auth/token/` issues one, `DELETE` revokes the one used for the call."""

from __future__ import annotations

import dataclasses
from typing import Any

from django.urls import path
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from xueji.accounts.api_auth import BearerTokenAuthentication
from xueji.accounts.models import ApiToken
from xueji.accounts.services import LoginRefused, api_token_issue, api_token_revoke, login_check
from xueji.core.api import ErrorSerializer
from xueji.core.context import Actor, client_ip


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Tells drf-spectacular how `BearerTokenAuthentication` appears in the OpenAPI schema."""

    target_class = "xueji.accounts.api_auth.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return build_bearer_security_scheme_object(
            header_name="Authorization",
            token_prefix="Bearer",  # noqa: S106 - the scheme's name, not a secret
        )


class TokenRequestSerializer(serializers.Serializer):
    # Not trimmed: a username is matched exactly, and the schema promises any non-empty string.
    username = serializers.CharField(
        label="用户名", min_length=1, max_length=150, trim_whitespace=False
    )
    password = serializers.CharField(
        label="密码",
        min_length=1,
        max_length=128,
        trim_whitespace=False,
        style={"input_type": "password"},
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(
        read_only=True, help_text="在请求头中使用：Authorization: Bearer <token>。只返回这一次。"
    )
    expires_at = serializers.DateTimeField(read_only=True, help_text="过期时间")


class TokenView(APIView):
    """Issue (anonymous, username + password) or revoke (Bearer) an API token."""

    def get_authenticators(self) -> list[BaseAuthentication]:
        # Issuing is a login: no credentials yet, and no session so no CSRF to check.
        # Revoking acts on the token sent with the call, so only Bearer counts.
        if getattr(self.request, "method", "") == "POST":
            return []
        return [BearerTokenAuthentication()]

    def get_permissions(self) -> list[BasePermission]:
        if getattr(self.request, "method", "") == "POST":
            return [AllowAny()]
        return [IsAuthenticated()]

    def get_authenticate_header(self, request: Request) -> str:
        # A refused login is a 401 with a Bearer challenge, not DRF's fallback 403.
        return BearerTokenAuthentication.keyword

    @extend_schema(
        operation_id="auth_token_create",
        summary="获取 API 令牌",
        description="用用户名和密码换取令牌（与网页登录相同的锁定规则）。令牌明文只返回一次。",
        request=TokenRequestSerializer,
        responses={
            201: TokenSerializer,
            400: OpenApiResponse(ErrorSerializer, description="缺少用户名或密码"),
            401: OpenApiResponse(ErrorSerializer, description="用户名或密码错误，或账号已锁定"),
        },
        auth=[],
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        form = TokenRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        anonymous = Actor(
            user=None,
            ip=client_ip(request._request),
            user_agent=request.headers.get("User-Agent", "")[:400],
            via="api",
        )
        try:
            user = login_check(
                actor=anonymous,
                request=request._request,
                username=form.validated_data["username"],
                password=form.validated_data["password"],
            )
        except LoginRefused as refused:
            raise exceptions.AuthenticationFailed(refused.message, code=refused.code) from None
        token, key = api_token_issue(
            actor=dataclasses.replace(anonymous, user=user), user=user, name="api"
        )
        body = TokenSerializer({"token": key, "expires_at": token.expires_at}).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="auth_token_destroy",
        summary="吊销当前令牌",
        description="吊销本次请求所用的 Bearer 令牌；之后用它的请求返回 401。",
        request=None,
        responses={
            204: OpenApiResponse(description="已吊销"),
            401: OpenApiResponse(ErrorSerializer, description="令牌无效、已过期或已被吊销"),
        },
        tags=["auth"],
    )
    def delete(self, request: Request) -> Response:
        token = request.auth
        assert isinstance(token, ApiToken)  # BearerTokenAuthentication is the only authenticator
        api_token_revoke(actor=Actor.from_request(request, via="api"), token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
]
