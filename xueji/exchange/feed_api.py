"""The change feed for integrators: GET /api/v1/events/?cursor=…&limit=…

Other campus systems sync incrementally by reading every event after their cursor, in the order
the events were written (by id), and storing the `next_cursor` they get back. The cursor is
opaque (signed, so a client cannot forge a position and a typo is a clear 400).

Gaps: an event id is taken when the row is inserted, but it becomes visible only when its
transaction commits. A short transaction holding id 9 could commit just after a reader saw 10
and moved past 9. So the feed withholds events younger than EXCHANGE_FEED_SETTLE_SECONDS
(default 5 s, far longer than any service transaction that writes events); a reader then never
skips over an event that was still being committed. Sync delay is that many seconds.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db.models import QuerySet
from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from xueji.accounts.models import User
from xueji.core.api import error_responses
from xueji.core.exceptions import ValidationFailed
from xueji.exchange import permissions
from xueji.exchange.models import Delivery, OutboxEvent
from xueji.exchange.selectors import departments_of

_SALT = "xueji.exchange.feed"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def cursor_encode(last_id: int) -> str:
    return signing.dumps(last_id, salt=_SALT, compress=False)


def cursor_decode(cursor: str) -> int:
    """The last id a cursor stands for; ValidationFailed (400) when it is not ours."""
    if not cursor:
        return 0
    try:
        value = signing.loads(cursor, salt=_SALT)
    except signing.BadSignature:
        raise ValidationFailed({"cursor": ["游标无效：请使用上一页返回的 next_cursor。"]}) from None
    if not isinstance(value, int) or value < 0:
        raise ValidationFailed({"cursor": ["游标无效：请使用上一页返回的 next_cursor。"]})
    return value


def feed_visible_to(user: User) -> QuerySet[OutboxEvent]:
    """Events `user` may read in the feed: all for the registrar and school-wide auditors, the
    events delivered to their departments for department members, none for anyone else."""
    if permissions.can_view_all_events(user):
        return OutboxEvent.objects.all()
    departments = departments_of(user)
    return OutboxEvent.objects.filter(
        pk__in=Delivery.objects.filter(department__in=departments).values("event_id")
    )


def feed_page(user: User, *, after: int, limit: int) -> tuple[list[OutboxEvent], int, bool]:
    """Up to `limit` visible, settled events with id > `after`, oldest first; also the id the
    next page starts after and whether more settled events are waiting."""
    settle = getattr(settings, "EXCHANGE_FEED_SETTLE_SECONDS", 5)
    rows = feed_visible_to(user).filter(pk__gt=after)
    if settle:
        rows = rows.filter(occurred_at__lte=timezone.now() - timedelta(seconds=settle))
    events = list(rows.order_by("pk")[: limit + 1])
    has_more = len(events) > limit
    events = events[:limit]
    return events, (events[-1].pk if events else after), has_more


class FeedEventSerializer(serializers.ModelSerializer):
    student = serializers.JSONField(
        source="student_data", help_text="学号、姓名、学院、专业、班级、年级与状态（不含证件号）"
    )
    payload = serializers.JSONField(help_text="事件内容，如异动编号、类型、变更前后的值")

    class Meta:
        model = OutboxEvent
        fields = ["event_id", "kind", "occurred_at", "effective_date", "change_type", "student",
                  "payload"]  # fmt: skip


class FeedPageSerializer(serializers.Serializer):
    events = FeedEventSerializer(many=True, help_text="按写入顺序（从旧到新）")
    next_cursor = serializers.CharField(
        help_text="下次请求带上的 cursor；没有新事件时与本次相同，稍后再用它轮询即可"
    )
    has_more = serializers.BooleanField(help_text="为 true 时应立即用 next_cursor 取下一页")


class FeedQuerySerializer(serializers.Serializer):
    cursor = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="上一页返回的 next_cursor（不透明字符串）；不带则从最早的事件开始",
    )
    limit = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_LIMIT,
        help_text=f"每页事件数，1–{MAX_LIMIT}，默认 {DEFAULT_LIMIT}",
    )


class EventFeedView(APIView):
    @extend_schema(
        operation_id="events_feed",
        summary="事件流（增量同步）",
        description=(
            "按写入顺序返回调用者可见的事件：校级学籍管理员与全校审计员可见全部，部门经办人"
            "可见发给本部门的事件。首次不带 cursor 从头读取；每页返回 next_cursor，保存后"
            "下次带上即可只取新事件，不重不漏。has_more 为 true 时立即取下一页，否则稍后轮询。"
            "刚写入的事件在数秒（EXCHANGE_FEED_SETTLE_SECONDS）后才出现在事件流中，"
            "以保证并发写入时不会被跳过。"
        ),
        parameters=[FeedQuerySerializer],
        responses={200: FeedPageSerializer, **error_responses(400, 401)},
        tags=["exchange"],
    )
    def get(self, request: Request) -> Response:
        query = FeedQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        after = cursor_decode(query.validated_data.get("cursor", ""))
        limit = query.validated_data.get("limit") or DEFAULT_LIMIT
        events, last, has_more = feed_page(request.user, after=after, limit=limit)  # type: ignore[arg-type]
        body: dict[str, Any] = {
            "events": events,
            "next_cursor": cursor_encode(last),
            "has_more": has_more,
        }
        return Response(FeedPageSerializer(body).data)


urlpatterns = [path("events/", EventFeedView.as_view(), name="api-event-feed")]
