"""Imports over the API: list the import kinds the caller may run, download a kind's template,
upload a file (multipart) to start a dry run or a commit; follow the job at /api/v1/jobs/{id}/
(progress, counts, error report URL). The freshman endpoints keep their own paths."""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import URLPattern, URLResolver, path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from xueji.core.api import error_responses
from xueji.core.context import Actor
from xueji.core.exceptions import NotFound, PermissionDenied
from xueji.exchange.imports import services
from xueji.exchange.imports.kinds import ImportKind, get_kind, kinds_for
from xueji.jobs.api import JobSerializer

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_KIND = OpenApiParameter(
    "kind",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="导入种类：freshmen、students_update、photos、finance、code_mappings",
)


class FreshmanImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="xlsx、xls 或 CSV（UTF-8/GBK），列同下载模板")
    dry_run = serializers.BooleanField(
        default=True, help_text="true 只预检不写入；false 校验无误后一次性全部导入，有错则不导入"
    )


class ImportSerializer(FreshmanImportSerializer):
    file = serializers.FileField(
        help_text="xlsx、xls 或 CSV（UTF-8/GBK），列同该种类的模板；照片导入为 zip"
    )
    system = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=services.MAX_SYSTEM,
        help_text="来源系统（仅学生信息更新）：先按该系统的代码映射转换代码列",
    )


class ColumnSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="列代码（表头可写列名或列代码）")
    label = serializers.CharField(help_text="列名")
    required = serializers.BooleanField()
    rule = serializers.CharField(help_text="规则")


class ImportKindSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="种类，用于 /api/v1/imports/{kind}/")
    title = serializers.CharField()
    summary = serializers.CharField()
    suffixes = serializers.ListField(child=serializers.CharField(), help_text="接受的文件后缀")
    has_template = serializers.BooleanField(help_text="有无 xlsx 模板")
    accepts_system = serializers.BooleanField(help_text="是否接受来源系统（代码映射）")
    columns = ColumnSerializer(many=True)

    def to_representation(self, instance: ImportKind) -> dict[str, object]:
        return {
            "key": instance.key,
            "title": instance.title,
            "summary": instance.summary,
            "suffixes": list(instance.suffixes),
            "has_template": instance.template is not None,
            "accepts_system": instance.accepts_system,
            "columns": [
                {"key": c.key, "label": c.label, "required": c.required, "rule": c.rule}
                for c in instance.columns
            ],
        }


def _runnable(request: Request, key: str) -> ImportKind:
    kind = get_kind(key)
    if not kind.may_run(request.user):  # type: ignore[arg-type]
        raise PermissionDenied(kind.refusal)
    return kind


def _template_response(kind: ImportKind) -> HttpResponse:
    if kind.template is None:
        raise NotFound("这种导入没有模板。")
    response = HttpResponse(kind.template(), content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename={kind.template_name}"
    return response


class ImportKindListApi(APIView):
    @extend_schema(
        operation_id="imports_kinds_list",
        responses={200: ImportKindSerializer(many=True), **error_responses(401, 403)},
        summary="调用者可以运行的导入种类（列与规则）",
    )
    def get(self, request: Request) -> Response:
        kinds = kinds_for(request.user)  # type: ignore[arg-type]
        if not kinds:
            raise PermissionDenied("只有校级学籍管理员和学院教务员可以导入数据。")
        return Response(ImportKindSerializer(kinds, many=True).data)


class ImportApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="imports_start",
        parameters=[_KIND],
        request={"multipart/form-data": ImportSerializer},
        responses={202: JobSerializer, **error_responses(400, 401, 403, 404)},
        summary="上传文件，以后台任务预检或导入（任一导入种类）",
    )
    def post(self, request: Request, kind: str) -> Response:
        serializer = ImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        job = services.import_start(
            actor=Actor.from_request(request, via="api"),
            kind=kind,
            upload=serializer.validated_data["file"],
            dry_run=serializer.validated_data["dry_run"],
            system=serializer.validated_data.get("system", ""),
        )
        return Response(JobSerializer(job).data, status=202)


class ImportTemplateApi(APIView):
    @extend_schema(
        operation_id="imports_template",
        parameters=[_KIND],
        responses={(200, XLSX): OpenApiTypes.BINARY, **error_responses(401, 403, 404)},
        summary="下载某一导入种类的模板（xlsx）",
    )
    def get(self, request: Request, kind: str) -> HttpResponse:
        return _template_response(_runnable(request, kind))


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
        return _template_response(_runnable(request, "freshmen"))


urlpatterns: list[URLPattern | URLResolver] = [
    path("imports/", ImportKindListApi.as_view(), name="api-import-kinds"),
    path("imports/freshmen/", FreshmanImportApi.as_view(), name="api-import-freshmen"),
    path(
        "imports/freshmen/template/",
        FreshmanTemplateApi.as_view(),
        name="api-import-freshmen-template",
    ),
    path("imports/<slug:kind>/", ImportApi.as_view(), name="api-import"),
    path("imports/<slug:kind>/template/", ImportTemplateApi.as_view(), name="api-import-template"),
]
