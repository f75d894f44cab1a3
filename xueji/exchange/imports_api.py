"""Freshman imports over the API: upload a file (multipart) to start a dry run or a commit;
follow the job at /api/v1/jobs/{id}/ (progress, counts, error report URL)."""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import URLPattern, URLResolver, path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from xueji.core.api import error_responses
from xueji.core.context import Actor
from xueji.core.exceptions import PermissionDenied
from xueji.exchange.imports import permissions, services
from xueji.exchange.imports.template import freshman_template
from xueji.jobs.api import JobSerializer

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class FreshmanImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="xlsx、xls 或 CSV（UTF-8/GBK），列同下载模板")
    dry_run = serializers.BooleanField(
        default=True, help_text="true 只预检不写入；false 校验无误后一次性全部导入，有错则不导入"
    )


class FreshmanImportApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": FreshmanImportSerializer},
        responses={202: JobSerializer, **error_responses(400, 401, 403)},
        summary="上传新生名单（录取库），以后台任务预检或导入",
    )
    def post(self, request: Request) -> Response:
        serializer = FreshmanImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        job = services.freshman_import_start(
            actor=Actor.from_request(request, via="api"),
            upload=serializer.validated_data["file"],
            dry_run=serializer.validated_data["dry_run"],
        )
        return Response(JobSerializer(job).data, status=202)


class FreshmanTemplateApi(APIView):
    @extend_schema(
        responses={(200, XLSX): OpenApiTypes.BINARY, **error_responses(401, 403)},
        summary="下载新生导入模板（xlsx）",
    )
    def get(self, request: Request) -> HttpResponse:
        if not permissions.can_import_freshmen(request.user):  # type: ignore[arg-type]
            raise PermissionDenied("只有校级学籍管理员和学院教务员可以导入新生。")
        response = HttpResponse(freshman_template(), content_type=XLSX)
        response["Content-Disposition"] = "attachment; filename=freshmen-template.xlsx"
        return response


urlpatterns: list[URLPattern | URLResolver] = [
    path("imports/freshmen/", FreshmanImportApi.as_view(), name="api-import-freshmen"),
    path(
        "imports/freshmen/template/",
        FreshmanTemplateApi.as_view(),
        name="api-import-freshmen-template",
    ),
]
