"""Jobs over the API: progress, cancel. Starting a job is the owning feature's endpoint."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from xueji.core.api import error_responses
from xueji.core.context import Actor
from xueji.jobs import selectors, services
from xueji.jobs.models import Job


class JobSerializer(serializers.ModelSerializer):
    percent = serializers.IntegerField(read_only=True)
    output_url = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "title",
            "status",
            "phase",
            "done",
            "total",
            "percent",
            "cancel_requested",
            "created_at",
            "started_at",
            "finished_at",
            "result",
            "error",
            "output_url",
        ]

    def get_output_url(self, job: Job) -> str | None:
        return f"/api/v1/jobs/{job.pk}/output/" if job.output_file else None


class JobListApi(generics.ListAPIView):
    """The caller's jobs (the registrar: everyone's), newest first."""

    serializer_class = JobSerializer

    def get_queryset(self) -> Any:
        return selectors.jobs_visible_to(self.request.user)  # type: ignore[arg-type]


class JobDetailApi(APIView):
    @extend_schema(responses={200: JobSerializer, **error_responses(401, 404)})
    def get(self, request: Request, pk: int) -> Response:
        job = selectors.get_job_for(request.user, pk)  # type: ignore[arg-type]
        return Response(JobSerializer(job).data)


class JobCancelApi(APIView):
    @extend_schema(request=None, responses={200: JobSerializer, **error_responses(400, 401, 404)})
    def post(self, request: Request, pk: int) -> Response:
        job = selectors.get_job_for(request.user, pk)  # type: ignore[arg-type]
        job = services.job_cancel(actor=Actor.from_request(request, via="api"), job=job)
        return Response(JobSerializer(job).data)


class JobOutputApi(APIView):
    """The job's result file (an export, an error report) for a Bearer-token client."""

    @extend_schema(
        operation_id="jobs_output_retrieve",
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            **error_responses(401, 404),
        },
    )
    def get(self, request: Request, pk: int) -> FileResponse:
        job = selectors.get_job_for(request.user, pk)  # type: ignore[arg-type]
        return services.job_output_open(actor=Actor.from_request(request, via="api"), job=job)


urlpatterns = [
    path("jobs/", JobListApi.as_view(), name="api-job-list"),
    path("jobs/<int:pk>/", JobDetailApi.as_view(), name="api-job-detail"),
    path("jobs/<int:pk>/output/", JobOutputApi.as_view(), name="api-job-output"),
    path("jobs/<int:pk>/cancel/", JobCancelApi.as_view(), name="api-job-cancel"),
]
