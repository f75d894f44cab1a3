"""A job's page: a live progress bar (htmx polls the partial while the job runs), cancel,
re-run, and the result file."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from xueji.core.context import Actor
from xueji.core.exceptions import DomainError
from xueji.jobs import selectors, services
from xueji.students.views import PageView


class JobListView(PageView):
    def get(self, request: HttpRequest) -> HttpResponse:
        rows = selectors.jobs_visible_to(request.user)  # type: ignore[arg-type]
        page = Paginator(rows, 30).get_page(request.GET.get("page"))
        return render(request, "jobs/job_list.html", {"page": page})


class JobDetailView(PageView):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = selectors.get_job_for(request.user, pk)  # type: ignore[arg-type]
        template = "jobs/_progress.html" if request.GET.get("partial") else "jobs/job_detail.html"
        return render(request, template, {"job": job})


class JobCancelView(PageView):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = selectors.get_job_for(request.user, pk)  # type: ignore[arg-type]
        try:
            services.job_cancel(actor=Actor.from_request(request), job=job)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.info(request, _("已请求取消；任务会在下一个检查点停止，不写入任何数据。"))
        return redirect("job-detail", pk=pk)


class JobRerunView(PageView):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = selectors.get_job_for(request.user, pk)  # type: ignore[arg-type]
        try:
            again = services.job_rerun(actor=Actor.from_request(request), job=job)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("job-detail", pk=pk)
        return redirect("job-detail", pk=again.pk)


class JobOutputView(PageView):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = selectors.get_job_for(request.user, pk)  # type: ignore[arg-type]
        return services.job_output_open(actor=Actor.from_request(request), job=job)
