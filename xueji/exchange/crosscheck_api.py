"""The admission cross-check over the API: load an admission batch (multipart), list batches,
start a comparison (a job: progress at /api/v1/jobs/{id}/), read the discrepancy queue with
filters and settle a difference.

Scope exactly as on the pages: the registrar, college admins and school auditors may use it
(anyone else: 403); a college admin sees and settles only their college's differences, and
a batch or difference outside what one may see is a 404. Loading and comparing are the
registrar's. ID numbers in the queue are masked, as in every API response.
"""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, URLResolver, path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from xueji.core.api import ErrorDetailSerializer, error_body, error_responses
from xueji.core.context import Actor
from xueji.core.exceptions import PermissionDenied
from xueji.core.masking import mask_id_number
from xueji.exchange.crosscheck import loader, permissions, selectors, services
from xueji.exchange.crosscheck.forms import ResolveForm
from xueji.exchange.models import (
    AdmissionBatch,
    Discrepancy,
    DiscrepancyKind,
    DiscrepancyStatus,
)

# At most this many bad cells are listed in one refusal (a wholly wrong file would be huge).
MAX_PROBLEMS = 1000

TAGS = ["exchange"]


def _require_viewer(request: Request) -> None:
    if not permissions.can_view_queue(request.user):  # type: ignore[arg-type]
        raise PermissionDenied("只有校级学籍管理员、学院教务员和审计员可以查看录取比对。")


def _require_loader(request: Request) -> None:
    _require_viewer(request)
    if not permissions.can_load(request.user):  # type: ignore[arg-type]
        raise PermissionDenied("只有校级学籍管理员可以导入录取数据和运行比对。")


# --- serializers ----------------------------------------------------------------------------


class BatchSerializer(serializers.ModelSerializer):
    loaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    open_count = serializers.IntegerField(
        read_only=True, help_text="调用者可见的待处理差异数（学院教务员只计本学院）"
    )

    class Meta:
        model = AdmissionBatch
        fields = ["id", "name", "year", "source_name", "record_count", "loaded_by", "loaded_at",
                  "checked_at", "open_count"]  # fmt: skip


class StatusCountsSerializer(serializers.Serializer):
    open = serializers.IntegerField(help_text="待处理")
    resolved = serializers.IntegerField(help_text="已更正")
    accepted = serializers.IntegerField(help_text="确认无误")


class BatchDetailSerializer(BatchSerializer):
    counts = StatusCountsSerializer(read_only=True, help_text="调用者可见的差异数，按处理状态")

    class Meta(BatchSerializer.Meta):
        fields = [*BatchSerializer.Meta.fields, "counts"]


class BatchUploadSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, help_text="批次名称，如“2024 级录取库”")
    year = serializers.IntegerField(
        min_value=2000, max_value=2100, help_text="录取年份：与该年级的在籍学生比对"
    )
    file = serializers.FileField(
        help_text="xlsx、xls、ods 或 CSV（UTF-8 或 GBK）。第一行为列名：考生号、姓名、证件号码、"
        "性别、出生日期、专业代码、专业名称、层次、学制、照片（是/否）"
    )
    compare = serializers.BooleanField(
        default=True, help_text="导入后立即开始比对（后台任务）；false 只导入"
    )


class BatchUploadedSerializer(serializers.Serializer):
    batch = BatchSerializer()
    job = serializers.IntegerField(
        allow_null=True, help_text="比对任务 id（compare=false 时为 null）"
    )
    status_url = serializers.CharField(allow_null=True, help_text="任务进度：/api/v1/jobs/{id}/")


class JobStartedSerializer(serializers.Serializer):
    job = serializers.IntegerField(help_text="比对任务 id；进度与结果见 /api/v1/jobs/{id}/")
    status_url = serializers.CharField()


class RowProblemSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="文件中的行号（第一行为列名）")
    column = serializers.CharField(help_text="列名，如 出生日期")
    value = serializers.CharField(help_text="文件中的原值", allow_blank=True)
    reason = serializers.CharField(help_text="不能导入的原因")


class RowErrorDetailSerializer(ErrorDetailSerializer):
    rows = RowProblemSerializer(
        many=True, required=False, help_text=f"逐格列出的问题（最多 {MAX_PROBLEMS} 条）"
    )
    problem_count = serializers.IntegerField(required=False, help_text="问题总数")


class RowErrorSerializer(serializers.Serializer):
    error = RowErrorDetailSerializer()


class DiscrepancySerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    field_label = serializers.SerializerMethodField(help_text="字段名，如 出生日期；非字段差异为空")
    student = serializers.SerializerMethodField(help_text="学籍中对应学生的学号（无则为 null）")
    college_name = serializers.SerializerMethodField()
    admission_value = serializers.SerializerMethodField(
        help_text="录取数据中的值（证件号码已脱敏）"
    )
    record_value = serializers.SerializerMethodField(help_text="学籍中的值（证件号码已脱敏）")
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    resolved_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    can_resolve = serializers.SerializerMethodField(help_text="调用者能否处理此差异")

    class Meta:
        model = Discrepancy
        fields = ["id", "batch", "kind", "kind_label", "field", "field_label",
                  "candidate_number", "name", "student", "college", "college_name",
                  "admission_value", "record_value", "status", "status_label", "found_at",
                  "last_seen_at", "resolved_by", "resolved_at", "resolution_note",
                  "can_resolve"]  # fmt: skip

    def get_field_label(self, row: Discrepancy) -> str:
        return services.FIELD_LABELS.get(row.field, "")

    def get_student(self, row: Discrepancy) -> str | None:
        return row.student.student_number if row.student_id else None

    def get_college_name(self, row: Discrepancy) -> str:
        return row.college.name if row.college_id else ""

    def _shown(self, row: Discrepancy, value: str) -> str:
        return mask_id_number(value) if row.field == "id_number" else value

    def get_admission_value(self, row: Discrepancy) -> str:
        return self._shown(row, row.admission_value)

    def get_record_value(self, row: Discrepancy) -> str:
        return self._shown(row, row.record_value)

    def get_can_resolve(self, row: Discrepancy) -> bool:
        return permissions.can_resolve(self.context["request"].user, row)


class DiscrepancyFilterSerializer(serializers.Serializer):
    batch = serializers.IntegerField(required=False, min_value=1, help_text="批次 id")
    status = serializers.ChoiceField(
        choices=DiscrepancyStatus.choices, required=False, allow_blank=True, help_text="处理状态"
    )
    kind = serializers.ChoiceField(
        choices=DiscrepancyKind.choices, required=False, allow_blank=True, help_text="差异类别"
    )
    field = serializers.ChoiceField(
        choices=list(services.FIELD_LABELS.items()),
        required=False,
        allow_blank=True,
        help_text="不一致的字段（仅类别 field）",
    )
    college = serializers.IntegerField(
        required=False, min_value=1, help_text="学院 id（只在调用者可见的范围内筛选）"
    )


class ResolveSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=ResolveForm.base_fields["status"].choices,  # type: ignore[attr-defined]
        help_text="resolved：已更正（学籍或录取数据已改正）；accepted：确认无误（差异合理，"
        "如录取后转专业）",
    )
    note = serializers.CharField(
        max_length=400, allow_blank=True, help_text="处理说明：更正了什么，或为何确认无误（必填）"
    )


# --- views ----------------------------------------------------------------------------------

_BATCH_ID = OpenApiParameter(
    "batch_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="批次 id"
)
_DISCREPANCY_ID = OpenApiParameter(
    "discrepancy_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="差异 id"
)


class BatchListApi(generics.ListAPIView):
    serializer_class = BatchSerializer
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="crosscheck_batches_list",
        summary="录取数据批次列表",
        description="校级学籍管理员、学院教务员与全校审计员可查看；待处理差异数按调用者范围计算。",
        responses={200: BatchSerializer(many=True), **error_responses(400, 401, 403, 404)},
        tags=TAGS,
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        _require_viewer(request)
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> Any:
        return selectors.batch_list_visible_to(self.request.user)  # type: ignore[arg-type]

    @extend_schema(
        operation_id="crosscheck_batches_create",
        summary="上传录取数据（录取库）",
        description="上传一个录取数据文件作为新批次，默认随即开始比对（后台任务）。"
        "文件中任何一格有误则整批不导入，逐格返回 行号、列、原值、原因。仅校级学籍管理员。",
        request={"multipart/form-data": BatchUploadSerializer},
        responses={
            201: BatchUploadedSerializer,
            400: OpenApiResponse(
                RowErrorSerializer, description="输入有误；文件内容有误时 error.rows 逐格列出"
            ),
            **error_responses(401, 403),
        },
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        _require_loader(request)
        form = BatchUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        upload = data["file"]
        actor = Actor.from_request(request, via="api")
        try:
            batch = services.admission_batch_load(
                actor=actor,
                name=data["name"],
                year=data["year"],
                rows=loader.read_rows(upload.read(), upload.name),
                source_name=upload.name,
            )
        except services.AdmissionRowsInvalid as exc:
            body = error_body(
                "invalid_rows",
                f"录取数据中有 {len(exc.problems)} 处错误，未导入任何数据。",
                exc.errors,
            )
            body["error"]["rows"] = [
                {"row": p.row, "column": p.column, "value": p.value, "reason": p.reason}
                for p in exc.problems[:MAX_PROBLEMS]
            ]
            body["error"]["problem_count"] = len(exc.problems)
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        job = services.crosscheck_start(actor=actor, batch=batch) if data["compare"] else None
        batch = selectors.get_batch_for(request.user, batch.pk)  # type: ignore[arg-type]
        body = {
            "batch": BatchSerializer(batch).data,
            "job": job.pk if job else None,
            "status_url": f"/api/v1/jobs/{job.pk}/" if job else None,
        }
        return Response(body, status=status.HTTP_201_CREATED)


class BatchDetailApi(APIView):
    @extend_schema(
        operation_id="crosscheck_batches_retrieve",
        summary="录取数据批次详情",
        description="含调用者可见的差异数（按处理状态）。",
        parameters=[_BATCH_ID],
        responses={200: BatchDetailSerializer, **error_responses(401, 403, 404)},
        tags=TAGS,
    )
    def get(self, request: Request, batch_id: int) -> Response:
        _require_viewer(request)
        user = request.user
        batch = selectors.get_batch_for(user, batch_id)  # type: ignore[arg-type]
        batch.counts = selectors.discrepancy_counts(user, batch)  # type: ignore[arg-type,attr-defined]
        return Response(BatchDetailSerializer(batch).data)


class BatchCompareApi(APIView):
    @extend_schema(
        operation_id="crosscheck_batches_compare",
        summary="开始（重新）比对",
        description="以后台任务把该批次与在籍学生逐字段比对。返回任务 id，进度见 "
        "/api/v1/jobs/{id}/。重新比对只更新差异清单：仍存在的差异保留处理状态，已一致的自动关闭。"
        "仅校级学籍管理员。",
        parameters=[_BATCH_ID],
        request=None,
        responses={202: JobStartedSerializer, **error_responses(401, 403, 404)},
        tags=TAGS,
    )
    def post(self, request: Request, batch_id: int) -> Response:
        _require_viewer(request)
        batch = selectors.get_batch_for(request.user, batch_id)  # type: ignore[arg-type]
        job = services.crosscheck_start(actor=Actor.from_request(request, via="api"), batch=batch)
        body = {"job": job.pk, "status_url": f"/api/v1/jobs/{job.pk}/"}
        return Response(body, status=status.HTTP_202_ACCEPTED)


class DiscrepancyListApi(generics.ListAPIView):
    serializer_class = DiscrepancySerializer

    @extend_schema(
        operation_id="crosscheck_discrepancies_list",
        summary="比对差异清单",
        description="按批次、状态、类别、字段、学院筛选，分页。学院教务员只看到本学院的差异"
        "（学生所在学院，或未报到考生的录取专业所属学院）。",
        parameters=[DiscrepancyFilterSerializer],
        responses={200: DiscrepancySerializer(many=True), **error_responses(400, 401, 403, 404)},
        tags=TAGS,
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        _require_viewer(request)
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> Any:
        user = self.request.user
        form = DiscrepancyFilterSerializer(data=self.request.query_params.dict())
        form.is_valid(raise_exception=True)
        data = form.validated_data
        batch = selectors.get_batch_for(user, data["batch"]) if data.get("batch") else None  # type: ignore[arg-type]
        return selectors.discrepancy_list(
            user,  # type: ignore[arg-type]
            batch=batch,
            status=data.get("status", ""),
            kind=data.get("kind", ""),
            field=data.get("field", ""),
            college=data.get("college"),
        )


class DiscrepancyDetailApi(APIView):
    @extend_schema(
        operation_id="crosscheck_discrepancies_retrieve",
        summary="比对差异详情",
        parameters=[_DISCREPANCY_ID],
        responses={200: DiscrepancySerializer, **error_responses(401, 403, 404)},
        tags=TAGS,
    )
    def get(self, request: Request, discrepancy_id: int) -> Response:
        _require_viewer(request)
        row = selectors.get_discrepancy_for(request.user, discrepancy_id)  # type: ignore[arg-type]
        return Response(DiscrepancySerializer(row, context={"request": request}).data)


class DiscrepancyResolveApi(APIView):
    @extend_schema(
        operation_id="crosscheck_discrepancies_resolve",
        summary="处理比对差异",
        description="校级学籍管理员，或差异所属学院的教务员处理：resolved（已更正）或 accepted"
        "（确认无误），并写明处理说明。记入审计（处理前后）。已处理的差异可以再次处理（改正"
        "处理结果或说明）；重新比对时仍不一致的“已更正”差异会被重新打开。",
        parameters=[_DISCREPANCY_ID],
        request=ResolveSerializer,
        responses={200: DiscrepancySerializer, **error_responses(400, 401, 403, 404)},
        tags=TAGS,
    )
    def post(self, request: Request, discrepancy_id: int) -> Response:
        _require_viewer(request)
        row = selectors.get_discrepancy_for(request.user, discrepancy_id)  # type: ignore[arg-type]
        form = ResolveSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        row = services.discrepancy_resolve(
            actor=Actor.from_request(request, via="api"),
            discrepancy=row,
            status=form.validated_data["status"],
            note=form.validated_data["note"],
        )
        row = selectors.get_discrepancy_for(request.user, row.pk)  # type: ignore[arg-type]
        return Response(DiscrepancySerializer(row, context={"request": request}).data)


urlpatterns: list[URLPattern | URLResolver] = [
    path("crosscheck/batches/", BatchListApi.as_view(), name="api-crosscheck-batch-list"),
    path(
        "crosscheck/batches/<int:batch_id>/",
        BatchDetailApi.as_view(),
        name="api-crosscheck-batch-detail",
    ),
    path(
        "crosscheck/batches/<int:batch_id>/compare/",
        BatchCompareApi.as_view(),
        name="api-crosscheck-batch-compare",
    ),
    path(
        "crosscheck/discrepancies/",
        DiscrepancyListApi.as_view(),
        name="api-crosscheck-discrepancy-list",
    ),
    path(
        "crosscheck/discrepancies/<int:discrepancy_id>/",
        DiscrepancyDetailApi.as_view(),
        name="api-crosscheck-discrepancy-detail",
    ),
    path(
        "crosscheck/discrepancies/<int:discrepancy_id>/resolve/",
        DiscrepancyResolveApi.as_view(),
        name="api-crosscheck-discrepancy-resolve",
    ),
]
