"""Term registration over the API: the same selectors, services and scope as the pages.

A registration or student outside the caller's scope reads as 404, like one that does not exist.
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from xueji.core.api import QueryTextField, error_responses
from xueji.core.context import Actor
from xueji.core.exceptions import NotFound, PermissionDenied
from xueji.org.models import Term
from xueji.registration import permissions, selectors, services
from xueji.registration.models import FinanceState, FinanceStatus, RegistrationState
from xueji.students.selectors import get_student_for

TAGS = ["registration"]


# --- serializers -----------------------------------------------------------------------------


@extend_schema_field({"type": "string", "enum": [*FinanceState.values], "nullable": True})
class FinanceStateField(serializers.Field):
    def __init__(self, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def get_attribute(self, instance: Any) -> Any:
        return getattr(instance, "finance_state", None)

    def to_representation(self, value: Any) -> str | None:
        return value


class RegistrationSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    term = serializers.IntegerField(source="term_id", read_only=True, help_text="学期 id")
    student_number = serializers.CharField(
        source="student.student_number", read_only=True, help_text="学号"
    )
    student_name = serializers.CharField(source="student.name", read_only=True, help_text="姓名")
    school_class = serializers.IntegerField(
        source="student.school_class_id", read_only=True, allow_null=True, help_text="班级 id"
    )
    state = serializers.ChoiceField(
        choices=RegistrationState.choices,
        read_only=True,
        help_text="registered 已注册；deferred 暂缓注册；unregistered 未注册",
    )
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    finance_state = FinanceStateField(
        help_text=(
            "学费缴纳状态：paid 已缴清、unpaid 未缴清、aid 已办理缓缴或资助；null 表示财务未报送"
        )
    )
    reason = serializers.CharField(read_only=True)
    defer_until = serializers.DateField(
        read_only=True, allow_null=True, help_text="暂缓注册截止日期"
    )
    via = serializers.CharField(
        read_only=True, help_text="self 本人自助；staff 教职工办理；空为尚未办理"
    )
    decided_at = serializers.DateTimeField(read_only=True, allow_null=True)


class RegistrationFilterSerializer(serializers.Serializer):
    term = serializers.IntegerField(
        required=False, min_value=1, help_text="学期 id；不填为当前学期"
    )
    state = serializers.ChoiceField(
        required=False, allow_blank=True, choices=RegistrationState.choices, help_text="注册状态"
    )
    school_class = serializers.IntegerField(required=False, min_value=1, help_text="班级 id")
    college = serializers.IntegerField(required=False, min_value=1, help_text="学院 id")
    finance = serializers.ChoiceField(
        required=False,
        allow_blank=True,
        choices=[*FinanceState.choices, (selectors.FINANCE_NONE, "财务未报送")],
        help_text="缴费状态；none 表示财务未报送",
    )
    search = QueryTextField(
        required=False, allow_blank=True, max_length=60, help_text="学号（精确）或姓名前缀"
    )


class TermQuerySerializer(serializers.Serializer):
    term = serializers.IntegerField(
        required=False, min_value=1, help_text="学期 id；不填为当前学期"
    )


class SelfRegistrationSerializer(serializers.Serializer):
    term = serializers.IntegerField(
        required=False, min_value=1, help_text="学期 id；不填为当前学期"
    )


class RegistrationSetSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=RegistrationState.choices, help_text="办理为")
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=400,
        default="",
        help_text="暂缓注册、撤销注册，或为学费未缴清的学生办理注册时必填",
    )
    defer_until = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="暂缓注册截止日期（晚于今天）"
    )


class FinanceStatusInputSerializer(serializers.Serializer):
    student_number = serializers.CharField(max_length=15, help_text="学号")
    term = serializers.IntegerField(min_value=1, help_text="学期 id")
    state = serializers.ChoiceField(choices=FinanceState.choices, help_text="缴费状态")
    amount_due = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=0, help_text="欠缴金额（元）；已缴清时为 0"
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class FinanceStatusSerializer(serializers.ModelSerializer):
    student_number = serializers.CharField(source="student.student_number")

    class Meta:
        model = FinanceStatus
        fields = ["student_number", "term", "state", "amount_due", "note", "updated_at"]


class ProgressRowSerializer(serializers.Serializer):
    school_class = serializers.IntegerField(allow_null=True, help_text="班级 id；null 为未分班")
    class_name = serializers.CharField()
    class_code = serializers.CharField()
    college_name = serializers.CharField()
    total = serializers.IntegerField(help_text="应注册人数")
    registered = serializers.IntegerField()
    deferred = serializers.IntegerField()
    unregistered = serializers.IntegerField()
    unpaid = serializers.IntegerField(help_text="学费未缴清人数（不论注册状态）")
    percent = serializers.IntegerField(help_text="已注册百分比")


class ProgressSerializer(serializers.Serializer):
    term = serializers.IntegerField()
    classes = ProgressRowSerializer(many=True)
    total = serializers.IntegerField()
    registered = serializers.IntegerField()
    deferred = serializers.IntegerField()
    unregistered = serializers.IntegerField()
    unpaid = serializers.IntegerField()


# --- views -----------------------------------------------------------------------------------


def _term_or_404(term_id: int | None) -> Term:
    term = selectors.term_for(term_id)
    if term is None:
        raise NotFound("尚未设置学期，请在参数 term 中指定学期。")
    return term


class RegistrationListView(generics.ListAPIView):
    serializer_class = RegistrationSerializer

    @extend_schema(
        summary="学期注册名单",
        description="调用者授权范围内学生的注册记录，含学费缴纳状态。学生只看到本人。",
        parameters=[RegistrationFilterSerializer],
        responses={200: RegistrationSerializer(many=True), **error_responses(400, 401, 404)},
        tags=TAGS,
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> Any:
        form = RegistrationFilterSerializer(data=self.request.query_params.dict())
        form.is_valid(raise_exception=True)
        filters = dict(form.validated_data)
        term = _term_or_404(filters.pop("term", None))
        return selectors.registrations_visible_to(self.request.user, term, filters)


class RegistrationSelfView(APIView):
    @extend_schema(
        summary="本人自助注册",
        description=(
            "学生为本人办理学期注册。学费未缴清、已过注册截止日期（或暂缓期）、"
            "不在校或注册尚未开放时返回 400，error.message 说明原因。"
        ),
        request=SelfRegistrationSerializer,
        responses={200: RegistrationSerializer, **error_responses(400, 401, 404)},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        form = SelfRegistrationSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        term = _term_or_404(form.validated_data.get("term"))
        registration = services.registration_self(
            actor=Actor.from_request(request, via="api"), term=term
        )
        registration.finance_state = selectors.finance_state_of(registration.student, term)  # type: ignore[attr-defined]
        return Response(RegistrationSerializer(registration).data)


class RegistrationSetView(APIView):
    @extend_schema(
        summary="办理注册 / 暂缓注册 / 撤销注册",
        description=(
            "所带班级的辅导员、本学院教务员或校级学籍管理员办理。暂缓注册须填原因和晚于今天的"
            "截止日期；为学费未缴清的学生注册须填原因。范围外的记录返回 404。"
        ),
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        request=RegistrationSetSerializer,
        responses={200: RegistrationSerializer, **error_responses(400, 401, 403, 404)},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        registration = selectors.get_registration_for(request.user, pk)
        form = RegistrationSetSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        updated = services.registration_set(
            actor=Actor.from_request(request, via="api"),
            registration=registration,
            **form.validated_data,
        )
        updated.finance_state = selectors.finance_state_of(updated.student, updated.term)  # type: ignore[attr-defined]
        return Response(RegistrationSerializer(updated).data)


class RegistrationProgressView(APIView):
    @extend_schema(
        summary="注册进度（按班级）",
        description="调用者授权范围内各班级的已注册、暂缓注册、未注册和欠费人数。",
        parameters=[TermQuerySerializer],
        responses={200: ProgressSerializer, **error_responses(400, 401, 403, 404)},
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        if not permissions.can_view_registrations(request.user):
            raise PermissionDenied("注册进度仅限教职工查看。")
        form = TermQuerySerializer(data=request.query_params.dict())
        form.is_valid(raise_exception=True)
        term = _term_or_404(form.validated_data.get("term"))
        rows = selectors.registration_progress(request.user, term)
        totals = selectors.progress_totals(rows)
        body = {"term": term.pk, "classes": rows, **totals}
        return Response(ProgressSerializer(body).data)


class FinanceStatusView(APIView):
    @extend_schema(
        summary="设置学费缴纳状态",
        description="校级学籍管理员按财务处数据设置某学生某学期的缴费状态（存在则更新）。",
        request=FinanceStatusInputSerializer,
        responses={200: FinanceStatusSerializer, **error_responses(400, 401, 403, 404)},
        tags=TAGS,
    )
    def put(self, request: Request) -> Response:
        form = FinanceStatusInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        student = get_student_for(request.user, data["student_number"])
        term = selectors.term_for(data["term"])
        assert term is not None
        status = services.finance_status_set(
            actor=Actor.from_request(request, via="api"),
            student=student,
            term=term,
            state=data["state"],
            amount_due=data["amount_due"],
            note=data["note"],
        )
        return Response(FinanceStatusSerializer(status).data)


urlpatterns = [
    path("registrations/", RegistrationListView.as_view(), name="api-registration-list"),
    path("registrations/self/", RegistrationSelfView.as_view(), name="api-registration-self"),
    path(
        "registrations/progress/",
        RegistrationProgressView.as_view(),
        name="api-registration-progress",
    ),
    path("registrations/<int:pk>/", RegistrationSetView.as_view(), name="api-registration-set"),
    path("finance-status/", FinanceStatusView.as_view(), name="api-finance-status"),
]
