"""CHSI exports over the API: the export kinds, the pre-export check of a kind, and starting an
export (a job whose progress and file are under /api/v1/jobs/<id>/). Same scope rules as the
page."""

from __future__ import annotations

from typing import Any

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
from xueji.exchange.chsi.kinds import ExportKind, Filters

FORMATS = [ExportFormat.XLSX, ExportFormat.DBF]


class FilterFieldsSerializer(serializers.Serializer):
    kind = serializers.CharField(
        default="new_students",
        help_text="导出类型的 key（见 /api/v1/chsi/kinds/），如 new_students、yearly_registration、"
        "status_changes；也接受任务类型写法 chsi.new_students",
    )
    cohort = serializers.IntegerField(required=False, allow_null=True, help_text="年级，如 2024")
    college = serializers.IntegerField(required=False, allow_null=True, help_text="学院 id")
    term = serializers.IntegerField(
        required=False, allow_null=True, help_text="学期 id（学年注册）"
    )
    date_from = serializers.DateField(
        required=False, allow_null=True, help_text="起始日期（学籍异动：生效日期不早于此日）"
    )
    date_to = serializers.DateField(
        required=False, allow_null=True, help_text="截止日期（学籍异动：生效日期不晚于此日）"
    )
    # The bounds of the page's form; a year outside them would reach date(year, 1, 1) (500).
    year = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1990,
        max_value=2100,
        help_text="年份（毕业、学位）",
    )
    format = serializers.ChoiceField(choices=FORMATS, default=ExportFormat.XLSX)

    def filters(self) -> Filters:
        data = self.validated_data
        return Filters(
            cohort_year=data.get("cohort"),
            college_id=data.get("college"),
            term_id=data.get("term"),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            year=data.get("year"),
        )


class ExportRequestSerializer(FilterFieldsSerializer):
    purpose = serializers.CharField(
        max_length=200, help_text="导出用途，记入审计，如“学信网新生注册上报”"
    )
    full_id = serializers.BooleanField(
        default=False, help_text="包含完整证件号码（需“可查看完整证件号”授权）"
    )
    valid_only = serializers.BooleanField(
        default=False, help_text="有问题的记录不导出（结果中列出），否则有问题时任务失败"
    )


class ExportStartedSerializer(serializers.Serializer):
    job = serializers.IntegerField(help_text="任务 id；进度与结果文件见 /api/v1/jobs/{id}/")
    status_url = serializers.CharField()


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


class NoticeSerializer(StudentCheckSerializer):
    notice = serializers.CharField(help_text="提示（该记录仍会导出），如“未注册”")


class CheckResultSerializer(serializers.Serializer):
    kind = serializers.CharField()
    total = serializers.IntegerField(help_text="覆盖的记录数（学生或异动）")
    with_problems = serializers.IntegerField()
    students = StudentCheckSerializer(many=True, help_text="有问题、不能导出的记录")
    notices = NoticeSerializer(many=True, help_text="需要留意但仍会导出的记录")


class ChsiColumnSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="列代码（xlsx 首行、DBF 字段名）")
    label = serializers.CharField(help_text="列名")
    width = serializers.IntegerField(help_text="DBF 字段宽度（字节，GBK 汉字占 2 字节）")


class ChsiKindSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="导出类型；任务类型为 chsi.{key}")
    title = serializers.CharField()
    description = serializers.CharField()
    columns = ChsiColumnSerializer(many=True, help_text="按文件中的顺序")
    filters = serializers.ListField(
        child=serializers.CharField(), help_text="可用的筛选参数（cohort、college、term …）"
    )
    required_filters = serializers.ListField(child=serializers.CharField())
    require_all = serializers.BooleanField(
        help_text="true：required_filters 都要给出；false：至少给出一个"
    )
    masked_columns = serializers.ListField(
        child=serializers.CharField(), help_text="无完整证件号授权时脱敏的列"
    )
    formats = serializers.ListField(
        child=serializers.CharField(), help_text="可选的文件格式：xlsx，以及（平台用 DBF 时）dbf"
    )
    purposes = serializers.ListField(child=serializers.CharField(), help_text="建议的导出用途")


def _require_exporter(request: Request) -> None:
    if not permissions.can_export_chsi(request.user):  # type: ignore[arg-type]
        raise PermissionDenied(services.NO_RIGHT)


def _kind_body(kind: ExportKind) -> dict[str, Any]:
    params = selectors.FORM_FIELDS
    return {
        "key": kind.key,
        "title": kind.title,
        "description": kind.description,
        "columns": [{"code": c.code, "label": c.label, "width": c.width} for c in kind.columns],
        "filters": [params[name] for name in kind.filters],
        "required_filters": [params[name] for name in kind.required_filters],
        "require_all": kind.require_all,
        "masked_columns": list(kind.masked_columns),
        "formats": FORMATS if kind.dbf else [ExportFormat.XLSX],
        "purposes": list(kind.purposes),
    }


class ChsiKindsApi(APIView):
    @extend_schema(
        operation_id="chsi_kinds_list",
        summary="学信网导出类型",
        description="当前用户可导出的学信网数据类型：列（按文件顺序）、筛选参数、可选格式。",
        responses={200: ChsiKindSerializer(many=True), **error_responses(401, 403)},
        tags=["exchange"],
    )
    def get(self, request: Request) -> Response:
        _require_exporter(request)
        kinds = selectors.chsi_kinds_for(request.user)  # type: ignore[arg-type]
        return Response([_kind_body(k) for k in kinds])


class ChsiExportApi(APIView):
    @extend_schema(
        operation_id="chsi_exports_create",
        summary="开始学信网数据导出",
        description="以后台任务导出一种学信网数据（新生注册、学年注册、学籍异动 …；xlsx 或 DBF）。"
        "返回任务 id，进度与结果文件见 /api/v1/jobs/{id}/。每次导出都记入审计（用途、筛选条件、"
        "记录数、文件 SHA-256）。二级学院教务员只能导出本学院。",
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
            kind=data["kind"],
            filters=form.filters(),
            fmt=data["format"],
            purpose=data["purpose"],
            full_id=data["full_id"],
            valid_only=data["valid_only"],
        )
        body = {"job": job.pk, "status_url": f"/api/v1/jobs/{job.pk}/"}
        return Response(body, status=status.HTTP_202_ACCEPTED)


class ChsiCheckApi(APIView):
    @extend_schema(
        operation_id="chsi_check_retrieve",
        summary="学信网导出前检查",
        description="按导出类型和筛选条件，列出每条记录缺少或不符合学信网要求的字段"
        "（列代码、列名、原因）。",
        parameters=[FilterFieldsSerializer],
        responses={200: CheckResultSerializer, **error_responses(400, 401, 403, 404)},
        tags=["exchange"],
    )
    def get(self, request: Request) -> Response:
        _require_exporter(request)
        form = FilterFieldsSerializer(data=request.query_params.dict())
        form.is_valid(raise_exception=True)
        data = form.validated_data
        user = request.user
        kind = selectors.chsi_kind_for(user, data["kind"])  # type: ignore[arg-type]
        filters = selectors.kind_filters(kind, form.filters())
        errors = selectors.filter_errors(kind, filters)
        if errors:
            raise ValidationFailed(errors)
        result = selectors.chsi_export_check(
            user,  # type: ignore[arg-type]
            kind,
            filters,
            fmt=data["format"],
        )
        body = {
            "kind": kind.key,
            "total": result.total,
            "with_problems": len(result.found),
            "students": [s.as_dict() for s in result.found],
            "notices": [{**s.as_dict(), "notice": note} for s, note in result.notices],
        }
        return Response(body)


urlpatterns: list[URLPattern | URLResolver] = [
    path("chsi/kinds/", ChsiKindsApi.as_view(), name="api-chsi-kinds"),
    path("chsi/exports/", ChsiExportApi.as_view(), name="api-chsi-export"),
    path("chsi/check/", ChsiCheckApi.as_view(), name="api-chsi-check"),
]
