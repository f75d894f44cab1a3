"""Deliveries and events over the API, for departments' systems (with their members' tokens)
and the registrar. The same selectors as the pages: what one may not see is a 404."""

from __future__ import annotations

from typing import Any

from django.urls import include, path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from xueji.core.api import error_responses
from xueji.core.context import Actor
from xueji.exchange import selectors, services
from xueji.exchange.models import Delivery, DeliveryState, OutboxEvent


class EventSerializer(serializers.ModelSerializer):
    student = serializers.JSONField(
        source="student_data", help_text="学号、姓名、学院、专业、班级、年级与状态（不含证件号）"
    )
    payload = serializers.JSONField(help_text="事件内容，如异动编号、类型、变更前后的值")

    class Meta:
        model = OutboxEvent
        fields = ["event_id", "kind", "occurred_at", "effective_date", "change_type", "student",
                  "payload"]  # fmt: skip


class DeliverySerializer(serializers.ModelSerializer):
    event = EventSerializer(read_only=True)
    department = serializers.SlugRelatedField(slug_field="code", read_only=True)
    acknowledged_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    overdue = serializers.SerializerMethodField(help_text="已超过确认时限仍未确认")

    class Meta:
        model = Delivery
        fields = ["id", "department", "state", "attempts", "last_status_code", "delivered_at",
                  "ack_due_at", "overdue", "acknowledged_at", "acknowledged_by", "ack_note",
                  "event"]  # fmt: skip

    def get_overdue(self, delivery: Delivery) -> bool:
        return delivery.is_overdue()


class EventDeliverySerializer(DeliverySerializer):
    class Meta(DeliverySerializer.Meta):
        fields = [f for f in DeliverySerializer.Meta.fields if f != "event"]


class EventDetailSerializer(EventSerializer):
    deliveries = EventDeliverySerializer(
        many=True, source="visible_deliveries", help_text="调用者可见的各部门投递状态"
    )

    class Meta(EventSerializer.Meta):
        fields = [*EventSerializer.Meta.fields, "deliveries"]


class DeliveryFilterSerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=DeliveryState.choices, required=False, allow_blank=True, help_text="投递状态"
    )


class AckSerializer(serializers.Serializer):
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=400, help_text="确认备注（可选）"
    )


class DeliveryListView(generics.ListAPIView):
    serializer_class = DeliverySerializer

    @extend_schema(
        summary="事件投递列表",
        description="部门经办人看到本部门收到的事件；校级学籍管理员与全校审计员看到全部。"
        "可按状态筛选，如 ?state=delivered 取待确认的事件。",
        parameters=[DeliveryFilterSerializer],
        responses={200: DeliverySerializer(many=True), **error_responses(400, 401, 404)},
        tags=["exchange"],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> Any:
        form = DeliveryFilterSerializer(data=self.request.query_params.dict())
        form.is_valid(raise_exception=True)
        return selectors.delivery_list_visible_to(
            self.request.user, state=form.validated_data.get("state", "")
        )


_DELIVERY_ID = OpenApiParameter("delivery_id", OpenApiTypes.INT, OpenApiParameter.PATH)


class DeliveryAckView(APIView):
    @extend_schema(
        summary="确认收到事件",
        description="部门经办人（或代为确认的校级学籍管理员）确认收到。重复确认无副作用，"
        "保留第一次确认的时间与人员。",
        parameters=[_DELIVERY_ID],
        request=AckSerializer,
        responses={200: DeliverySerializer, **error_responses(400, 401, 403, 404)},
        tags=["exchange"],
    )
    def post(self, request: Request, delivery_id: int) -> Response:
        form = AckSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        delivery = selectors.get_delivery_for(request.user, delivery_id)
        delivery = services.delivery_acknowledge(
            actor=Actor.from_request(request, via="api"),
            delivery=delivery,
            note=form.validated_data.get("note", ""),
        )
        return Response(DeliverySerializer(delivery).data)


class EventDetailView(APIView):
    @extend_schema(
        summary="事件详情",
        description="校级学籍管理员、全校审计员，或收到该事件的部门的经办人可查看。",
        parameters=[OpenApiParameter("event_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        responses={200: EventDetailSerializer, **error_responses(401, 404)},
        tags=["exchange"],
    )
    def get(self, request: Request, event_id: str) -> Response:
        event = selectors.get_event_for(request.user, event_id)
        return Response(EventDetailSerializer(event).data)


urlpatterns = [
    path("deliveries/", DeliveryListView.as_view(), name="api-delivery-list"),
    path("deliveries/<int:delivery_id>/ack/", DeliveryAckView.as_view(), name="api-delivery-ack"),
    path("events/<str:event_id>/", EventDetailView.as_view(), name="api-event-detail"),
    path("", include("xueji.exchange.feed_api")),
    path("", include("xueji.exchange.imports_api")),
    path("", include("xueji.exchange.chsi_api")),
    path("", include("xueji.exchange.crosscheck_api")),
]
