"""Status-change requests over the API: the same services, scope and messages as the pages.

Approving, rejecting and attachments go through the approval engine's endpoints
(`/api/v1/flows/{id}/…`); a request's `flow` field names its flow.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.urls import include, path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from xueji.changes import effects, permissions, selectors, services
from xueji.changes.models import ChangeRequest, ChangeStatus, ChangeType
from xueji.core.api import error_responses
from xueji.core.context import Actor
from xueji.core.exceptions import NotFound, PermissionDenied
from xueji.students import selectors as student_selectors
from xueji.students.api import QueryDateTimeField


class ChangeRequestSerializer(serializers.ModelSerializer):
    student_number = serializers.CharField(source="student.student_number")
    student_name = serializers.CharField(source="student.name")
    type = serializers.CharField(source="change_type.code")
    type_name = serializers.CharField(source="change_type.name")
    applicant = serializers.CharField(source="applicant.username")
    flow = serializers.IntegerField(source="flow_id", allow_null=True)

    class Meta:
        model = ChangeRequest
        fields = [
            "number",
            "student_number",
            "student_name",
            "type",
            "type_name",
            "status",
            "initiator",
            "applicant",
            "reason",
            "effective_date",
            "end_date",
            "years",
            "target_college",
            "target_major",
            "target_class",
            "target_cohort",
            "details",
            "overrides",
            "flow",
            "before",
            "after",
            "submitted_at",
            "approved_at",
            "applied_at",
        ]


class ChangeCreateSerializer(serializers.Serializer):
    student_number = serializers.CharField(max_length=15)
    type = serializers.SlugField(max_length=40, help_text="异动类型代码，见 /api/v1/change-types/")
    effective_date = serializers.CharField(help_text="生效日期 YYYY-MM-DD")
    reason = serializers.CharField(max_length=2000)
    end_date = serializers.CharField(required=False, allow_blank=True)
    years = serializers.CharField(required=False, allow_blank=True)
    target_college = serializers.IntegerField(required=False, allow_null=True)
    target_major = serializers.IntegerField(required=False, allow_null=True)
    target_class = serializers.IntegerField(required=False, allow_null=True)
    target_cohort = serializers.IntegerField(required=False, allow_null=True)
    details = serializers.DictField(
        required=False, help_text="类型要求的其他填写项，如 discharge_date、ground"
    )
    overrides = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text="规则代码 → 豁免理由（仅校级学籍管理员）",
    )


class _LastModifiedField(QueryDateTimeField):
    default_error_messages = {
        "invalid": "dateLastModified 应为 ISO 8601 时间，如 2026-03-01T08:00:00+08:00。",
        "required": "dateLastModified 不能为空。",
        "null": "dateLastModified 不能为空。",
    }


_LAST_MODIFIED = _LastModifiedField()


class ChangeListApi(generics.ListAPIView):
    """Requests in the caller's scope (a student: their own), newest first."""

    serializer_class = ChangeRequestSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=ChangeStatus.values),
            OpenApiParameter("type", str),
            OpenApiParameter("college", int),
            OpenApiParameter(
                "dateLastModified",
                OpenApiTypes.DATETIME,
                description="OneRoster 风格增量同步：只返回提交、批准或生效处理时间严格晚于"
                "（>）此时间的申请（ISO 8601，含时区）。",
            ),
        ],
        responses={200: ChangeRequestSerializer(many=True), **error_responses(400, 401)},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> Any:
        params = self.request.query_params
        status_value = params.get("status", "")
        college = params.get("college", "")
        rows = selectors.change_request_list(
            self.request.user,  # type: ignore[arg-type]
            status=status_value if status_value in ChangeStatus.values else "",
            change_type=params.get("type", "")[:40],
            college=int(college) if college.isdigit() else None,
        )
        if "dateLastModified" in params:
            try:
                since = _LAST_MODIFIED.run_validation(params["dateLastModified"])
            except serializers.ValidationError as exc:
                raise serializers.ValidationError({"dateLastModified": exc.detail}) from None
            # Submitted, approved or applied after the time: what changed in the request.
            rows = rows.filter(
                Q(submitted_at__gt=since) | Q(approved_at__gt=since) | Q(applied_at__gt=since)
            )
        return rows

    @extend_schema(
        request=ChangeCreateSerializer,
        responses={201: ChangeRequestSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request) -> Response:
        body = ChangeCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        student = student_selectors.get_student_for(request.user, data.pop("student_number"))  # type: ignore[arg-type]
        change_type = ChangeType.objects.filter(code=data.pop("type"), is_active=True).first()
        if change_type is None:
            raise NotFound("没有这种异动类型。")
        values = {**data.pop("details", {}), **data}
        overrides = data.pop("overrides", {})
        values.pop("overrides", None)
        change = services.change_request_submit(
            actor=Actor.from_request(request, via="api"),
            student=student,
            change_type=change_type,
            data=values,
            overrides=overrides,
        )
        return Response(ChangeRequestSerializer(change).data, status=status.HTTP_201_CREATED)


class ChangeDetailApi(APIView):
    @extend_schema(responses={200: ChangeRequestSerializer, **error_responses(401, 404)})
    def get(self, request: Request, number: str) -> Response:
        change = selectors.get_change_for(request.user, number)  # type: ignore[arg-type]
        data = ChangeRequestSerializer(change).data
        if change.status not in (ChangeStatus.APPLIED, ChangeStatus.REVOKED):
            after = effects.compute_after(change.student, change, services.rule_parameters())
            data["after"] = effects.as_plain(after)
            data["before"] = effects.snapshot(change.student)
        return Response(data)


class ChangeApplyApi(APIView):
    """Apply an approved change whose effective date has come (registrar; normally automatic)."""

    @extend_schema(
        request=None,
        responses={200: ChangeRequestSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request, number: str) -> Response:
        change = selectors.get_change_for(request.user, number)  # type: ignore[arg-type]
        if not permissions.can_apply_now(request.user, change):  # type: ignore[arg-type]
            raise PermissionDenied("只有校级学籍管理员可以手动执行生效。")
        change = services.change_apply(actor=Actor.from_request(request, via="api"), request=change)
        return Response(ChangeRequestSerializer(change).data)


urlpatterns = [
    path("", include("xueji.changes.catalogue_api")),
    path("changes/", ChangeListApi.as_view(), name="api-change-list"),
    path("changes/<str:number>/", ChangeDetailApi.as_view(), name="api-change-detail"),
    path("changes/<str:number>/apply/", ChangeApplyApi.as_view(), name="api-change-apply"),
]
