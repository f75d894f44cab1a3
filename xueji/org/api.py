"""Read-only API for the organisation (colleges, majors, classes, cohorts, terms) and code tables.

Reference data, open to every signed-in user (staff, students, parents): it names the codes the
student endpoints return, and holds nothing about any person.
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, serializers

from xueji.core.api import QueryTextField, error_responses
from xueji.core.exceptions import NotFound
from xueji.org import selectors
from xueji.org.models import CodeTable
from xueji.org.serializers import (
    CodeItemSerializer,
    CodeTableSerializer,
    CohortSerializer,
    CollegeSerializer,
    MajorSerializer,
    SchoolClassSerializer,
    TermSerializer,
)


class MajorFilterSerializer(serializers.Serializer):
    """Query parameters of the major list (ids as returned by these endpoints)."""

    college = serializers.IntegerField(required=False, min_value=1, help_text="学院 id")


class ClassFilterSerializer(MajorFilterSerializer):
    major = serializers.IntegerField(required=False, min_value=1, help_text="专业 id")


class TermFilterSerializer(serializers.Serializer):
    academic_year = serializers.IntegerField(
        required=False, min_value=1900, max_value=2999, help_text="学年起始年份，如 2024"
    )


class CodeItemFilterSerializer(serializers.Serializer):
    search = QueryTextField(
        required=False, allow_blank=True, max_length=50, help_text="代码前缀或名称包含"
    )
    current = serializers.BooleanField(
        required=False, default=False, help_text="为 1 时只返回现行代码（不含已停用的历史代码）"
    )


def _filters(serializer_class: type[serializers.Serializer], params: Any) -> dict[str, Any]:
    # A plain dict: from a QueryDict DRF would take "?college=" as "not given".
    form = serializer_class(data=params.dict())
    form.is_valid(raise_exception=True)
    return dict(form.validated_data)


@extend_schema_view(
    get=extend_schema(
        summary="学院列表",
        responses={200: CollegeSerializer(many=True), **error_responses(400, 401, 404)},
        tags=["org"],
    )
)
class CollegeListView(generics.ListAPIView):
    serializer_class = CollegeSerializer

    def get_queryset(self) -> Any:
        return selectors.college_list()


@extend_schema_view(
    get=extend_schema(
        summary="专业列表",
        parameters=[MajorFilterSerializer],
        responses={200: MajorSerializer(many=True), **error_responses(400, 401, 404)},
        tags=["org"],
    )
)
class MajorListView(generics.ListAPIView):
    serializer_class = MajorSerializer

    def get_queryset(self) -> Any:
        filters = _filters(MajorFilterSerializer, self.request.query_params)
        return selectors.major_list(college=filters.get("college"))


@extend_schema_view(
    get=extend_schema(
        summary="班级列表",
        parameters=[ClassFilterSerializer],
        responses={200: SchoolClassSerializer(many=True), **error_responses(400, 401, 404)},
        tags=["org"],
    )
)
class ClassListView(generics.ListAPIView):
    serializer_class = SchoolClassSerializer

    def get_queryset(self) -> Any:
        filters = _filters(ClassFilterSerializer, self.request.query_params)
        return selectors.class_list(college=filters.get("college"), major=filters.get("major"))


@extend_schema_view(
    get=extend_schema(
        summary="年级列表",
        responses={200: CohortSerializer(many=True), **error_responses(400, 401, 404)},
        tags=["org"],
    )
)
class CohortListView(generics.ListAPIView):
    serializer_class = CohortSerializer

    def get_queryset(self) -> Any:
        return selectors.cohort_list()


@extend_schema_view(
    get=extend_schema(
        summary="学期列表",
        parameters=[TermFilterSerializer],
        responses={200: TermSerializer(many=True), **error_responses(400, 401, 404)},
        tags=["org"],
    )
)
class TermListView(generics.ListAPIView):
    serializer_class = TermSerializer

    def get_queryset(self) -> Any:
        filters = _filters(TermFilterSerializer, self.request.query_params)
        return selectors.term_list(academic_year=filters.get("academic_year"))


@extend_schema_view(
    get=extend_schema(
        summary="代码表及其版本",
        responses={200: CodeTableSerializer(many=True), **error_responses(400, 401, 404)},
        tags=["code-tables"],
    )
)
class CodeTableListView(generics.ListAPIView):
    serializer_class = CodeTableSerializer

    def get_queryset(self) -> Any:
        return selectors.code_table_list()


@extend_schema_view(
    get=extend_schema(
        operation_id="code_tables_items_list",
        summary="代码表条目",
        parameters=[
            OpenApiParameter(
                "table",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                enum=CodeTable.values,
                description="代码表标识",
            ),
            CodeItemFilterSerializer,
        ],
        responses={200: CodeItemSerializer(many=True), **error_responses(400, 401, 404)},
        tags=["code-tables"],
    )
)
class CodeItemListView(generics.ListAPIView):
    serializer_class = CodeItemSerializer

    def get_queryset(self) -> Any:
        table = self.kwargs["table"]
        if table not in CodeTable.values:
            raise NotFound(f"没有名为“{table}”的代码表。")
        filters = _filters(CodeItemFilterSerializer, self.request.query_params)
        return selectors.code_item_list(
            table=table,
            query=filters.get("search", "").strip(),
            include_historical=not filters["current"],
        )


urlpatterns = [
    path("colleges/", CollegeListView.as_view(), name="api-college-list"),
    path("majors/", MajorListView.as_view(), name="api-major-list"),
    path("classes/", ClassListView.as_view(), name="api-class-list"),
    path("cohorts/", CohortListView.as_view(), name="api-cohort-list"),
    path("terms/", TermListView.as_view(), name="api-term-list"),
    path("code-tables/", CodeTableListView.as_view(), name="api-code-table-list"),
    path("code-tables/<str:table>/", CodeItemListView.as_view(), name="api-code-item-list"),
]
