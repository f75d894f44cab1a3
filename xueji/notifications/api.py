"""The caller's own notifications over the API."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from xueji.core.api import error_responses
from xueji.notifications import selectors, services
from xueji.notifications.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "title", "body", "url", "created_at", "read_at"]


class NotificationListApi(generics.ListAPIView):
    """The caller's notifications, newest first; `?unread=1` for unread only."""

    serializer_class = NotificationSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        unread = self.request.query_params.get("unread") == "1"
        return selectors.notifications_for(self.request.user, unread_only=unread)  # type: ignore[arg-type]


class MarkReadSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        help_text="要标为已读的通知 id；省略则全部标为已读",
    )


class MarkReadResultSerializer(serializers.Serializer):
    marked = serializers.IntegerField()


class NotificationReadApi(APIView):
    @extend_schema(
        request=MarkReadSerializer,
        responses={200: MarkReadResultSerializer, **error_responses(400, 401)},
    )
    def post(self, request: Request) -> Response:
        data = MarkReadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ids = data.validated_data.get("ids")
        marked = services.notification_mark_read(user=request.user, ids=ids)  # type: ignore[arg-type]
        return Response({"marked": marked})


urlpatterns = [
    path("notifications/", NotificationListApi.as_view(), name="api-notification-list"),
    path("notifications/read/", NotificationReadApi.as_view(), name="api-notification-read"),
]
