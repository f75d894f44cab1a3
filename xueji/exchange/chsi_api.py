"""CHSI exports over the API: the pre-export check, and starting an export (a job whose progress
and file are under /api/v1/jobs/<id>/). Same scope rules as the page."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from xueji.core.api import error_responses
from xueji.core.context import Actor
from xueji.core.exceptions import PermissionDenied, ValidationFailed
from xueji.exchange.chsi import permissions, selectors, services
from xueji.exchange.chsi.files import ExportFormat
from xueji.exchange.chsi.services import KIND_NEW_STUDENTS

FORMATS = [ExportFormat.XLSX, ExportFormat.DBF]


class ExportRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=[KIND_NEW_STUDENTS], default=KIND_NEW_STUDENTS, help_text="导出类型：新生注册"
    )
    cohort = serializers.IntegerField(required=False, allow_null=True, help_text="年级，如 2024")
    college = serializers.IntegerField(required=False, allow_null=True, help_text="学院 id")
    format = serializers.ChoiceField(choices=FORMATS, default=ExportFormat.XLSX)
    purpose = serializers.CharField(
        max_length=200, help_text="导出用途，记入审计，如“学信网新生注册上报”"
    )
    full_id = serializers.BooleanField(
        default=False, help_text="包含完整证件号码（需“可查看完整证件号”授权）"
    )
    valid_only = serializers.BooleanField(
        default=False, help_text="有问题的学生不导出（结果中列出），否则有问题时任务失败"
    )


class ExportStartedSerializer(serializers.Serializer):
    job = serializers.IntegerField(help_text="任务 id；进度与结果文件见 /api/v1/jobs/{id}/")
    status_url = serializers.CharField()


class CheckQuerySerializer(serializers.Serializer):
    cohort = serializers.IntegerField(required=False, allow_null=True)
    college = serializers.IntegerField(required=False, allow_null=True)
    format = serializers.ChoiceField(choices=FORMATS, default=ExportFormat.XLSX)


class ProblemSerializer(serializers.Serializer):
    column = serializers.CharField(help_text="学信网列代码，如 ZJHM")
    label = serializers.CharField(help_text="列名，如 证件号码")
    message = serializers.CharField(help_text="问题说明")


class StudentCheckSerializer(serializers.Serializer):
    student_number = serializers.CharField()
    name = serializers.CharField()
    college = serializers.CharField()
    school_class = serializers.CharField()
    problems = ProblemSerializer(many=True)


class CheckResultSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="覆盖的在籍学生数")
    with_problems = serializers.IntegerField()
    students = StudentCheckSerializer(many=True)


def _require_exporter(request: Request) -> None:
    if not permissions.can_export_chsi(request.user):  # type: ignore[arg-type]
        raise PermissionDenied("只有校级学籍管理员和二级学院教务员可以导出学信网数据。")


class ChsiExportApi(APIView):
    @extend_schema(
        summary="开始学信网数据导出",
        description="以后台任务导出学信网新生注册数据（19 列，xlsx 或 DBF）。返回任务 id，"
        "进度与结果文件见 /api/v1/jobs/{id}/。每次导出都记入审计（用途、筛选条件、人数、"
        "文件 SHA-256）。二级学院教务员只能导出本学院。",
        request=ExportRequestSerializer,
        responses={202: ExportStartedSerializer, **error_responses(400, 401, 403, 404)},
        tags=["exchange"],
    )
    def post(self, request: Request) -> Response:
        _require_exporter(request)
        form = ExportRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        job = services.chsi_export_start(
            actor=Actor.from_request(request, via="api"),
            cohort_year=data.get("cohort"),
            college_id=data.get("college"),
            fmt=data["format"],
            purpose=data["purpose"],
            full_id=data["full_id"],
            valid_only=data["valid_only"],
        )
        body = {"job": job.pk, "status_url": f"/api/v1/jobs/{job.pk}/"}
        return Response(body, status=status.HTTP_202_ACCEPTED)


class ChsiCheckApi(APIView):
    @extend_schema(
        summary="学信网导出前检查",
        description="列出所选年级和（或）学院中，每名学生缺少或不符合学信网要求的字段。",
        parameters=[CheckQuerySerializer],
        responses={200: CheckResultSerializer, **error_responses(400, 401, 403, 404)},
        tags=["exchange"],
    )
    def get(self, request: Request) -> Response:
        _require_exporter(request)
        form = CheckQuerySerializer(data=request.query_params.dict())
        form.is_valid(raise_exception=True)
        data = form.validated_data
        if data.get("cohort") is None and data.get("college") is None:
            raise ValidationFailed({"cohort": ["请至少选择年级或学院。"]})
        total, found = selectors.chsi_new_students_check(
            request.user,  # type: ignore[arg-type]
            cohort_year=data.get("cohort"),
            college_id=data.get("college"),
            fmt=data["format"],
        )
        body = {
            "total": total,
            "with_problems": len(found),
            "students": [s.as_dict() for s in found],
        }
        return Response(body)


urlpatterns: list[URLPattern | URLResolver] = [
    path("chsi/exports/", ChsiExportApi.as_view(), name="api-chsi-export"),
    path("chsi/check/", ChsiCheckApi.as_view(), name="api-chsi-check"),
]
