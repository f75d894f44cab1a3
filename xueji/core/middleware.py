"""Refuse a request body over the configured size before anything reads it.

Django stores an uploaded file in full (memory or a temporary file) as soon as something reads
`request.POST` or `request.FILES` — the CSRF check does, before any view. A view's own size
check therefore comes too late to protect the disk; this middleware, placed before the CSRF
middleware, answers 413 on the declared Content-Length alone.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


class RequestSizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.XUEJI_MAX_REQUEST_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit and length > limit:
            message = (
                f"上传内容超过 {limit // (1024 * 1024)} MB 的上限，未被接收；请拆分文件后分批上传。"
            )
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"error": {"code": "too_large", "message": message}}, status=413
                )
            return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
