"""Students over the API: the same selectors, scope and masking as the pages.

Out-of-scope records read as 404, exactly like a 学号 that does not exist.
"""

from __future__ import annotations

import re
from typing import Any

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from xueji.core.api import QueryTextField, error_responses
from xueji.core.context import Actor
from xueji.students import selectors, services
from xueji.students.models import StudentStatus
from xueji.students.serializers import IdNumberSerializer, StudentSerializer

# "...T10:00:00 08:00": the offset's "+" became a space in the query string.
_OFFSET_WITHOUT_PLUS = re.compile(r"(T[\d:.]+) (\d{2}(?::?\d{2})?)$")


class QueryDateTimeField(serializers.DateTimeField):
    """An ISO 8601 datetime from a query string, forgiving an unescaped "+" in the offset.

    In a URL query "+08:00" arrives as " 08:00" unless the client wrote %2B; put it back.
    """

    def to_internal_value(self, value: Any) -> Any:
        if isinstance(value, str):
            value = _OFFSET_WITHOUT_PLUS.sub(r"\1+\2", value.strip())
        return super().to_internal_value(value)


class StudentFilterSerializer(serializers.Serializer):
    """Query parameters of the student list."""

    search = QueryTextField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="姓名、拼音（全拼或首字母）前缀，学号、考生号，或完整身份证号",
    )
    college = serializers.IntegerField(required=False, min_value=1, help_text="学院 id")
    major = serializers.IntegerField(required=False, min_value=1, help_text="专业 id")
    school_class = serializers.IntegerField(required=False, min_value=1, help_text="班级 id")
    cohort = serializers.IntegerField(required=False, min_value=1, help_text="年级 id")
    status = serializers.ChoiceField(
        required=False,
        allow_blank=True,
        choices=StudentStatus.choices,
        help_text="在校状态代码；空值表示不限",
    )
    modified_since = QueryDateTimeField(
        required=False,
        help_text="只返回此时间（ISO 8601，含时区）及之后修改过的学生（>=）；"
        "新的同步程序请用 dateLastModified",
    )
    dateLastModified = QueryDateTimeField(
        required=False,
        help_text="OneRoster 风格增量同步：只返回最后修改时间严格晚于（>）此时间的学生"
        "（ISO 8601，含时区，如 2026-03-01T08:00:00+08:00）。把上次取到的最大 "
        "dateLastModified 原样带回，即不重复也不遗漏。",
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        # The query parameter is "class", which is a Python keyword.
        return {
            ("class" if name == "school_class" else name): field
            for name, field in super().get_fields().items()
        }


_STUDENT_NUMBER = OpenApiParameter(
    "student_number", OpenApiTypes.STR, OpenApiParameter.PATH, description="学号"
)


class StudentListView(generics.ListAPIView):
    serializer_class = StudentSerializer

    @extend_schema(
        summary="学生列表与检索",
        description="只含调用者授权范围内的学生；证件号码、电话、地址均已脱敏。",
        parameters=[StudentFilterSerializer],
        responses={200: StudentSerializer(many=True), **error_responses(400, 401, 404)},
        tags=["students"],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def paginate_queryset(self, queryset: Any) -> Any:
        # Deep pages page by primary key first (see selectors.DeferredJoinPages).
        return super().paginate_queryset(selectors.DeferredJoinPages(queryset))

    def get_queryset(self) -> Any:
        # A plain dict: from a QueryDict DRF would take "?modified_since=" as "not given".
        form = StudentFilterSerializer(data=self.request.query_params.dict())
        form.is_valid(raise_exception=True)
        filters = form.validated_data
        students = selectors.student_search(
            user=self.request.user,
            query=filters.get("search", ""),
            college=filters.get("college"),
            major=filters.get("major"),
            school_class=filters.get("class"),
            cohort=filters.get("cohort"),
            status=filters.get("status", ""),
            modified_since=filters.get("modified_since"),
        )
        if filters.get("dateLastModified") is not None:
            # OneRoster's filter=dateLastModified>'…': strictly after the given time.
            students = students.filter(updated_at__gt=filters["dateLastModified"])
        return students


class StudentMeView(APIView):
    @extend_schema(
        summary="本人学籍档案",
        description="调用者本人的学生档案；账号没有关联学生档案时返回 404。",
        responses={200: StudentSerializer, **error_responses(401, 404)},
        tags=["students"],
    )
    def get(self, request: Request) -> Response:
        student = selectors.student_for_user(request.user)
        return Response(StudentSerializer(student).data)


class StudentDetailView(APIView):
    @extend_schema(
        summary="学生详情",
        parameters=[_STUDENT_NUMBER],
        responses={200: StudentSerializer, **error_responses(401, 404)},
        tags=["students"],
    )
    def get(self, request: Request, student_number: str) -> Response:
        student = selectors.get_student_for(request.user, student_number)
        return Response(StudentSerializer(student).data)


class StudentIdNumberView(APIView):
    @extend_schema(
        summary="查看完整证件号码",
        description="仅授予“可查看完整证件号”的用户可用；每次查看都记入审计链。",
        parameters=[_STUDENT_NUMBER],
        responses={200: IdNumberSerializer, **error_responses(401, 403, 404)},
        tags=["students"],
    )
    def get(self, request: Request, student_number: str) -> Response:
        student = selectors.get_student_for(request.user, student_number)
        id_number = services.student_reveal_id_number(
            actor=Actor.from_request(request, via="api"), student=student, purpose="API"
        )
        return Response(IdNumberSerializer({"id_number": id_number}).data)


urlpatterns = [
    path("students/", StudentListView.as_view(), name="api-student-list"),
    # Before <student_number>/, which would otherwise take "me" for a 学号.
    path("students/me/", StudentMeView.as_view(), name="api-student-me"),
    path("students/<str:student_number>/", StudentDetailView.as_view(), name="api-student-detail"),
    path(
        "students/<str:student_number>/id-number/",
        StudentIdNumberView.as_view(),
        name="api-student-id-number",
    ),
]
