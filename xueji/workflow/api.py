"""The approval engine over the API: my pending steps, a flow, and its actions.

The same selectors and services as the pages: a flow outside the caller's scope is 404; a
refused action is 400 with the service's message; acting without authority is 403.
"""

from __future__ import annotations

from typing import Any

from django.urls import path, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from xueji.core.api import error_responses
from xueji.core.context import Actor
from xueji.workflow import selectors, services
from xueji.workflow.handlers import kind_label
from xueji.workflow.models import Attachment, Flow, FlowAction, FlowStep


class StepSerializer(serializers.ModelSerializer):
    label = serializers.CharField(source="title", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    decided_by = serializers.CharField(source="decided_by.username", default=None)
    on_behalf_of = serializers.CharField(source="on_behalf_of.username", default=None)

    class Meta:
        model = FlowStep
        fields = [
            "id",
            "position",
            "kind",
            "label",
            "state",
            "state_label",
            "activated_at",
            "due_at",
            "decided_by",
            "on_behalf_of",
            "decided_at",
            "comment",
            "minute_number",
            "minute_date",
        ]


class ActionSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None)

    class Meta:
        model = FlowAction
        fields = ["id", "verb", "actor", "comment", "created_at", "step"]


class AttachmentSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.CharField(source="uploaded_by.username")
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id",
            "label",
            "original_name",
            "size",
            "sha256",
            "uploaded_by",
            "uploaded_at",
            "download_url",
        ]

    def get_download_url(self, obj: Attachment) -> str:
        return reverse("attachment-download", args=[obj.pk])


class FlowSerializer(serializers.ModelSerializer):
    kind_label = serializers.SerializerMethodField()
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    student_number = serializers.CharField(source="student.student_number")
    student_name = serializers.CharField(source="student.name")
    applicant = serializers.CharField(source="applicant.username")
    url = serializers.SerializerMethodField(help_text="事项页面")
    steps = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField()
    attachments = serializers.SerializerMethodField()

    class Meta:
        model = Flow
        fields = [
            "id",
            "kind",
            "kind_label",
            "subject_id",
            "subject_type",
            "title",
            "status",
            "status_label",
            "version",
            "student_number",
            "student_name",
            "applicant",
            "batch_approvable",
            "created_at",
            "finished_at",
            "url",
            "steps",
            "actions",
            "attachments",
        ]

    def get_kind_label(self, obj: Flow) -> str:
        return kind_label(obj.kind)

    def get_url(self, obj: Flow) -> str:
        return selectors.flow_url(obj)

    @extend_schema_field(StepSerializer(many=True))
    def get_steps(self, obj: Flow) -> list[dict[str, Any]]:
        return StepSerializer(selectors.flow_steps(obj), many=True).data

    @extend_schema_field(ActionSerializer(many=True))
    def get_actions(self, obj: Flow) -> list[dict[str, Any]]:
        return ActionSerializer(selectors.flow_timeline(obj), many=True).data

    @extend_schema_field(AttachmentSerializer(many=True))
    def get_attachments(self, obj: Flow) -> list[dict[str, Any]]:
        return AttachmentSerializer(selectors.flow_attachments(obj), many=True).data


class PendingStepSerializer(serializers.ModelSerializer):
    flow = serializers.IntegerField(source="flow_id")
    flow_kind = serializers.CharField(source="flow.kind")
    flow_title = serializers.CharField(source="flow.title")
    flow_version = serializers.IntegerField(source="flow.version")
    batch_approvable = serializers.BooleanField(source="flow.batch_approvable")
    student_number = serializers.CharField(source="flow.student.student_number")
    student_name = serializers.CharField(source="flow.student.name")
    college = serializers.CharField(source="flow.student.college.name")
    url = serializers.SerializerMethodField()

    class Meta:
        model = FlowStep
        fields = [
            "id",
            "flow",
            "flow_kind",
            "flow_title",
            "flow_version",
            "batch_approvable",
            "student_number",
            "student_name",
            "college",
            "kind",
            "label",
            "activated_at",
            "due_at",
            "url",
        ]

    def get_url(self, obj: FlowStep) -> str:
        return selectors.flow_url(obj.flow)


class WorkbenchFilterSerializer(serializers.Serializer):
    kind = serializers.CharField(required=False, allow_blank=True, max_length=40)
    college = serializers.IntegerField(required=False, min_value=1, help_text="学院 id")
    overdue = serializers.BooleanField(required=False, default=False, help_text="仅看已超期")


class ApproveInput(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    expected_version = serializers.IntegerField(
        required=False, min_value=0, help_text="调用者看到的版本号；已被他人处理时返回 400"
    )
    minute_number = serializers.CharField(
        required=False, allow_blank=True, max_length=60, help_text="校长办公会纪要编号"
    )
    minute_date = serializers.DateField(required=False, help_text="校长办公会会议日期")


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    expected_version = serializers.IntegerField(required=False, min_value=0)


class CommentInput(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class TextInput(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class AttachmentInput(serializers.Serializer):
    label = serializers.CharField(max_length=100)
    file = serializers.FileField(help_text="PDF、JPG 或 PNG，不超过 10 MB")


_FLOW_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="流程 id")


class WorkbenchView(generics.ListAPIView):
    serializer_class = PendingStepSerializer

    @extend_schema(
        summary="我的待办审批",
        description="调用者（含作为代理人）当前可以审批的环节，最早的在前。",
        parameters=[WorkbenchFilterSerializer],
        responses={200: PendingStepSerializer(many=True), **error_responses(400, 401, 404)},
        tags=["workflow"],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> Any:
        form = WorkbenchFilterSerializer(data=self.request.query_params.dict())
        form.is_valid(raise_exception=True)
        data = form.validated_data
        return selectors.pending_steps_for(
            self.request.user,
            kind=data.get("kind", ""),
            college=data.get("college"),
            overdue=data.get("overdue", False),
        )


class FlowDetailView(APIView):
    @extend_schema(
        summary="审批流程详情",
        parameters=[_FLOW_ID],
        responses={200: FlowSerializer, **error_responses(401, 404)},
        tags=["workflow"],
    )
    def get(self, request: Request, id: int) -> Response:
        flow = selectors.get_flow_for(request.user, id)
        return Response(FlowSerializer(flow).data)


class _FlowAction(APIView):
    input_class: type[serializers.Serializer] = serializers.Serializer

    def perform(self, actor: Actor, flow: Flow, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def post(self, request: Request, id: int) -> Response:
        flow = selectors.get_flow_for(request.user, id)
        form = self.input_class(data=request.data)
        form.is_valid(raise_exception=True)
        self.perform(Actor.from_request(request, via="api"), flow, form.validated_data)
        flow = selectors.get_flow_for(request.user, id)
        return Response(FlowSerializer(flow).data)


def _action_schema(summary: str, body: type[serializers.Serializer], description: str = "") -> Any:
    return extend_schema(
        summary=summary,
        description=description,
        parameters=[_FLOW_ID],
        request=body,
        responses={200: FlowSerializer, **error_responses(400, 401, 403, 404)},
        tags=["workflow"],
    )


class FlowApproveView(_FlowAction):
    input_class = ApproveInput

    @_action_schema(
        "同意当前环节",
        ApproveInput,
        "校长办公会决定环节须填写纪要编号和会议日期；最后一个环节同意后流程办结。",
    )
    def post(self, request: Request, id: int) -> Response:
        return super().post(request, id)

    def perform(self, actor: Actor, flow: Flow, data: dict[str, Any]) -> None:
        services.flow_approve(
            actor=actor,
            flow=flow,
            comment=data.get("comment", ""),
            expected_version=data.get("expected_version"),
            minute_number=data.get("minute_number", ""),
            minute_date=data.get("minute_date"),
        )


class FlowRejectView(_FlowAction):
    input_class = ReasonInput

    @_action_schema("驳回", ReasonInput, "须填写理由；驳回后流程结束，申请人和学生会收到理由。")
    def post(self, request: Request, id: int) -> Response:
        return super().post(request, id)

    def perform(self, actor: Actor, flow: Flow, data: dict[str, Any]) -> None:
        services.flow_reject(
            actor=actor,
            flow=flow,
            reason=data.get("reason", ""),
            expected_version=data.get("expected_version"),
        )


class FlowReturnView(_FlowAction):
    input_class = ReasonInput

    @_action_schema("退回补充", ReasonInput, "退回申请人补充材料；重新提交后回到同一环节。")
    def post(self, request: Request, id: int) -> Response:
        return super().post(request, id)

    def perform(self, actor: Actor, flow: Flow, data: dict[str, Any]) -> None:
        services.flow_return(
            actor=actor,
            flow=flow,
            reason=data.get("reason", ""),
            expected_version=data.get("expected_version"),
        )


class FlowResubmitView(_FlowAction):
    input_class = CommentInput

    @_action_schema("重新提交", CommentInput, "仅申请人或学生本人，仅在退回补充时。")
    def post(self, request: Request, id: int) -> Response:
        return super().post(request, id)

    def perform(self, actor: Actor, flow: Flow, data: dict[str, Any]) -> None:
        services.flow_resubmit(actor=actor, flow=flow, comment=data.get("comment", ""))


class FlowWithdrawView(_FlowAction):
    input_class = ReasonInput

    @_action_schema("撤回申请", ReasonInput, "仅申请人或学生本人，在审批中或退回补充时。")
    def post(self, request: Request, id: int) -> Response:
        return super().post(request, id)

    def perform(self, actor: Actor, flow: Flow, data: dict[str, Any]) -> None:
        services.flow_withdraw(actor=actor, flow=flow, reason=data.get("reason", ""))


class FlowCommentView(_FlowAction):
    input_class = TextInput

    @_action_schema("留言", TextInput)
    def post(self, request: Request, id: int) -> Response:
        return super().post(request, id)

    def perform(self, actor: Actor, flow: Flow, data: dict[str, Any]) -> None:
        services.flow_comment(actor=actor, flow=flow, text=data.get("text", ""))


class FlowAttachmentView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        summary="上传附件",
        description="multipart/form-data；PDF、JPG 或 PNG，不超过 10 MB，保存 SHA-256。",
        parameters=[_FLOW_ID],
        request={"multipart/form-data": AttachmentInput},
        responses={201: AttachmentSerializer, **error_responses(400, 401, 403, 404)},
        tags=["workflow"],
    )
    def post(self, request: Request, id: int) -> Response:
        flow = selectors.get_flow_for(request.user, id)
        form = AttachmentInput(data=request.data)
        form.is_valid(raise_exception=True)
        attachment = services.attachment_add(
            actor=Actor.from_request(request, via="api"),
            flow=flow,
            upload=form.validated_data["file"],
            label=form.validated_data["label"],
        )
        return Response(AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("workbench/", WorkbenchView.as_view(), name="api-workbench"),
    path("flows/<int:id>/", FlowDetailView.as_view(), name="api-flow-detail"),
    path("flows/<int:id>/approve/", FlowApproveView.as_view(), name="api-flow-approve"),
    path("flows/<int:id>/reject/", FlowRejectView.as_view(), name="api-flow-reject"),
    path("flows/<int:id>/return/", FlowReturnView.as_view(), name="api-flow-return"),
    path("flows/<int:id>/resubmit/", FlowResubmitView.as_view(), name="api-flow-resubmit"),
    path("flows/<int:id>/withdraw/", FlowWithdrawView.as_view(), name="api-flow-withdraw"),
    path("flows/<int:id>/comment/", FlowCommentView.as_view(), name="api-flow-comment"),
    path("flows/<int:id>/attachments/", FlowAttachmentView.as_view(), name="api-flow-attach"),
]
