"""Shared API pieces: paging and structured JSON errors with Chinese messages."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from xueji.core.exceptions import DomainError, NotFound, PermissionDenied, ValidationFailed


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    invalid_page_message = "页码无效：没有这一页。"


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="机器可读的错误代码，如 not_found、invalid")
    message = serializers.CharField(help_text="给人看的中文说明")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="逐字段的错误（仅输入校验错误）",
    )


class ErrorSerializer(serializers.Serializer):
    """The body of every API error (documents the schema; errors are built by the handler)."""

    error = ErrorDetailSerializer()


_DRF_MESSAGES = {
    exceptions.NotAuthenticated: "未登录或未提供有效的身份凭证。",
    exceptions.AuthenticationFailed: "身份认证失败。",
    exceptions.PermissionDenied: "您无权执行此操作。",
    exceptions.NotFound: "未找到，或您无权查看。",
    exceptions.MethodNotAllowed: "不支持该请求方法。",
    exceptions.Throttled: "请求过于频繁，请稍后再试。",
    exceptions.ParseError: "请求内容无法解析。",
    exceptions.UnsupportedMediaType: "不支持的请求内容类型。",
    exceptions.NotAcceptable: "无法提供所请求的响应格式。",
}


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if fields:
        body["error"]["fields"] = fields
    return body


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every API error becomes {"error": {"code", "message", "fields"?}}."""
    if isinstance(exc, ValidationFailed):
        return Response(
            error_body("invalid", exc.message, exc.errors), status=status.HTTP_400_BAD_REQUEST
        )
    if isinstance(exc, NotFound):
        return Response(error_body("not_found", exc.message), status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, PermissionDenied):
        return Response(
            error_body("permission_denied", exc.message), status=status.HTTP_403_FORBIDDEN
        )
    if isinstance(exc, DomainError):
        fields = {exc.field: [exc.message]} if exc.field else None
        return Response(
            error_body(exc.code, exc.message, fields), status=status.HTTP_400_BAD_REQUEST
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        first = _first_message(detail) or "输入有误。"
        response.data = error_body("invalid", first, detail)
        return response
    detail = getattr(exc, "detail", None)
    message = next(
        (text for kind, text in _DRF_MESSAGES.items() if isinstance(exc, kind)), None
    ) or str(detail or exc)
    # A view that raised with its own Chinese message keeps it; DRF's stock messages do not.
    default = str(getattr(exc, "default_detail", ""))
    if isinstance(detail, str) and not detail.isascii() and str(detail) != default:
        message = str(detail)
    code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
    response.data = error_body(code, message)
    return response


def _first_message(detail: Any) -> str:
    if isinstance(detail, dict):
        for value in detail.values():
            found = _first_message(value)
            if found:
                return found
    elif isinstance(detail, list):
        for value in detail:
            found = _first_message(value)
            if found:
                return found
    elif detail:
        return str(detail)
    return ""
