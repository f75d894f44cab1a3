"""Shared API pieces: paging and structured JSON errors with Chinese messages."""

from __future__ import annotations

from typing import Any

from django.core.validators import ProhibitNullCharactersValidator
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from xueji.core.exceptions import DomainError, NotFound, PermissionDenied, ValidationFailed


class Pagination(PageNumberPagination):
    """?page=N&page_size=M. A page past the end is 404; a page that is not a positive whole
    number, or a page size out of 1–500, is 400 (DRF would quietly use another, which hides a
    client's mistake)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    invalid_page_message = "页码无效：没有这一页。"

    def get_page_number(self, request: Any, paginator: Any) -> int:
        raw = request.query_params.get(self.page_query_param)
        if raw is None:
            return 1
        if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
            raise exceptions.ValidationError({"page": ["页码应为正整数。"]})
        return int(raw)

    def get_page_size(self, request: Any) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= self.max_page_size:
            message = f"每页条数应为 1–{self.max_page_size} 的整数。"
            raise exceptions.ValidationError({"page_size": [message]})
        return int(raw)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["maximum"] = self.max_page_size
        return parameters


class QueryTextField(serializers.CharField):
    """Free text from a query string. NUL characters are dropped rather than refused: no stored
    text contains one (PostgreSQL cannot store them), so they can only be noise."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators = [
            v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)
        ]

    def to_internal_value(self, data: Any) -> str:
        return super().to_internal_value(data).replace("\x00", "")


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


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """OpenAPI entries for the error statuses an endpoint can answer with."""
    return {
        code: OpenApiResponse(ErrorSerializer, description=_ERROR_TEXT[code]) for code in statuses
    }


_ERROR_TEXT = {
    400: "输入有误（逐字段说明见 error.fields）",
    401: "未登录，或令牌无效、已过期、已被吊销",
    403: "无权执行此操作",
    404: "不存在，或不在您的授权范围内",
}


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
