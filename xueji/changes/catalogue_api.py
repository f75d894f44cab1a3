"""The change-type catalogue and the rule parameters over the API.

Any logged-in caller reads the active types (what an applicant fills, which attachments, who
may start, the approval chain); only the registrar changes a type or the parameters. An inactive
type reads as 404 to everyone but the registrar.
"""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, URLResolver, path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from xueji.changes import catalogue
from xueji.changes.fields import APPLICANT_FIELDS
from xueji.changes.models import ChangeType, DateEffect, Initiator, RuleParameters
from xueji.changes.rules import RULES, rule_codes_for
from xueji.core.api import error_responses
from xueji.core.context import Actor
from xueji.core.exceptions import NotFound, PermissionDenied
from xueji.students.models import StudentStatus
from xueji.workflow.models import StepKind


class ApplicantFieldSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.ChoiceField(choices=["date", "decimal", "text", "bool", "choice", "fk"])
    help_text = serializers.CharField()
    filled_by = serializers.ChoiceField(
        choices=["applicant", "approver"],
        help_text="申请人填写，或由审批人（如学院记录复查结果）填写",
    )
    choices = serializers.ListField(
        child=serializers.DictField(), help_text="可选值（value, label）"
    )
    min_value = serializers.CharField(allow_null=True)
    max_value = serializers.CharField(allow_null=True)


class RuleSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    article = serializers.CharField(help_text="依据的条款")
    overridable = serializers.BooleanField(help_text="学籍管理员可否记录理由后豁免")


class ChangeTypeSerializer(serializers.ModelSerializer):
    """A type as the applicant and integrating systems see it (reads only)."""

    fields_to_fill = serializers.SerializerMethodField(help_text="申请人需填写的其他项")
    rule_details = serializers.SerializerMethodField(help_text="该类型校验的规则")

    class Meta:
        model = ChangeType
        fields = [
            "code",
            "name",
            "name_en",
            "description",
            "is_builtin",
            "is_active",
            "order",
            "target_status",
            "from_statuses",
            "moves_org",
            "moves_cohort",
            "graduation_effect",
            "max_study_effect",
            "has_period",
            "applicant_fields",
            "fields_to_fill",
            "required_attachments",
            "initiators",
            "steps",
            "college_may_finish",
            "batch_approvable",
            "step_days",
            "rules",
            "rule_details",
            "notify_departments",
        ]
        read_only_fields = fields

    @extend_schema_field(ApplicantFieldSerializer(many=True))  # type: ignore[misc]
    def get_fields_to_fill(self, obj: ChangeType) -> list[dict[str, Any]]:
        return [
            APPLICANT_FIELDS[c].describe() for c in obj.applicant_fields if c in APPLICANT_FIELDS
        ]

    @extend_schema_field(RuleSerializer(many=True))  # type: ignore[misc]
    def get_rule_details(self, obj: ChangeType) -> list[dict[str, Any]]:
        return [
            {
                "code": code,
                "title": RULES[code].title,
                "article": RULES[code].article,
                "overridable": RULES[code].overridable,
            }
            for code in rule_codes_for(obj)
            if code in RULES
        ]


def _list(choices: Any, help_text: str) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.ChoiceField(choices=choices), required=False, help_text=help_text
    )


class ChangeTypePatchSerializer(serializers.Serializer):
    """The declarations a registrar may change; omitted ones keep their values. The regulation
    checks (e.g. 退学 must end with the 校长办公会) are the service's and answer 400."""

    name = serializers.CharField(required=False, max_length=40)
    name_en = serializers.CharField(required=False, allow_blank=True, max_length=80)
    description = serializers.CharField(required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)
    order = serializers.IntegerField(required=False, min_value=0, max_value=32767)
    target_status = serializers.ChoiceField(
        required=False, allow_blank=True, choices=StudentStatus.choices
    )
    from_statuses = _list(StudentStatus.choices, "适用的当前状态")
    moves_org = serializers.BooleanField(required=False)
    moves_cohort = serializers.BooleanField(required=False)
    graduation_effect = serializers.ChoiceField(required=False, choices=DateEffect.choices)
    max_study_effect = serializers.ChoiceField(required=False, choices=DateEffect.choices)
    has_period = serializers.BooleanField(required=False)
    applicant_fields = _list(list(APPLICANT_FIELDS), "申请填写项代码")
    required_attachments = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, help_text="必交材料名称"
    )
    initiators = _list(Initiator.choices, "可发起人")
    steps = _list(StepKind.choices, "审批环节，按顺序")
    college_may_finish = serializers.BooleanField(required=False)
    batch_approvable = serializers.BooleanField(required=False)
    step_days = serializers.IntegerField(required=False, min_value=1, max_value=60)
    rules = _list(list(RULES), "校验规则代码")
    notify_departments = serializers.BooleanField(required=False)


class RuleParametersSerializer(serializers.ModelSerializer):
    class Meta:
        model = RuleParameters
        fields = [*catalogue.PARAMETER_FIELDS, "updated_at"]
        read_only_fields = ["updated_at"]
        # PUT replaces the whole set: every parameter must be given.
        extra_kwargs = {name: {"required": True} for name in catalogue.PARAMETER_FIELDS}


_CODE = OpenApiParameter(
    "code", OpenApiTypes.STR, OpenApiParameter.PATH, description="异动类型代码"
)
_INCLUDE_INACTIVE = OpenApiParameter(
    "include_inactive",
    OpenApiTypes.BOOL,
    OpenApiParameter.QUERY,
    description="包括停用的类型（仅校级学籍管理员）",
)


class ChangeTypeListView(APIView):
    @extend_schema(
        summary="异动类型目录",
        description="启用的异动类型及申请人需填写的内容、必交材料、可发起人和审批环节。",
        parameters=[_INCLUDE_INACTIVE],
        responses={200: ChangeTypeSerializer(many=True), **error_responses(401)},
        tags=["changes"],
    )
    def get(self, request: Request) -> Response:
        include_inactive = request.query_params.get("include_inactive", "") in ("1", "true")
        include_inactive = include_inactive and catalogue.can_manage_change_types(request.user)
        types = catalogue.change_type_list(include_inactive=include_inactive)
        return Response(ChangeTypeSerializer(types, many=True).data)


class ChangeTypeDetailView(APIView):
    def _get(self, request: Request, code: str) -> ChangeType:
        manager = catalogue.can_manage_change_types(request.user)
        change_type = catalogue.change_type_list(include_inactive=manager).filter(code=code).first()
        if change_type is None:
            raise NotFound("没有这个异动类型。")
        return change_type

    @extend_schema(
        summary="异动类型详情",
        parameters=[_CODE],
        responses={200: ChangeTypeSerializer, **error_responses(401, 404)},
        tags=["changes"],
    )
    def get(self, request: Request, code: str) -> Response:
        return Response(ChangeTypeSerializer(self._get(request, code)).data)

    @extend_schema(
        summary="修改异动类型",
        description="仅校级学籍管理员。只改所给的项；违反规定的声明（如退学不以校长办公会"
        "结尾）返回 400 并说明依据的条款。写入审计链。",
        parameters=[_CODE],
        request=ChangeTypePatchSerializer,
        responses={200: ChangeTypeSerializer, **error_responses(400, 401, 403, 404)},
        tags=["changes"],
    )
    def patch(self, request: Request, code: str) -> Response:
        if not catalogue.can_manage_change_types(request.user):
            raise PermissionDenied("只有校级学籍管理员可以修改异动类型。")
        change_type = self._get(request, code)
        form = ChangeTypePatchSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        saved = catalogue.change_type_save(
            actor=Actor.from_request(request, via="api"),
            instance=change_type,
            data=dict(form.validated_data),
        )
        return Response(ChangeTypeSerializer(saved).data)


class RuleParametersView(APIView):
    @extend_schema(
        summary="学籍规则参数",
        responses={200: RuleParametersSerializer, **error_responses(401)},
        tags=["changes"],
    )
    def get(self, request: Request) -> Response:
        return Response(RuleParametersSerializer(catalogue.rule_parameters_get()).data)

    @extend_schema(
        summary="修改学籍规则参数",
        description="仅校级学籍管理员。须给出全部参数。写入审计链。",
        request=RuleParametersSerializer,
        responses={200: RuleParametersSerializer, **error_responses(400, 401, 403)},
        tags=["changes"],
    )
    def put(self, request: Request) -> Response:
        if not catalogue.can_manage_change_types(request.user):
            raise PermissionDenied("只有校级学籍管理员可以修改学籍规则参数。")
        form = RuleParametersSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        params = catalogue.rule_parameters_save(
            actor=Actor.from_request(request, via="api"), data=dict(form.validated_data)
        )
        return Response(RuleParametersSerializer(params).data)


urlpatterns: list[URLPattern | URLResolver] = [
    path("change-types/", ChangeTypeListView.as_view(), name="api-change-type-list"),
    path(
        "change-types/<slug:code>/", ChangeTypeDetailView.as_view(), name="api-change-type-detail"
    ),
    path("rule-parameters/", RuleParametersView.as_view(), name="api-rule-parameters"),
]
