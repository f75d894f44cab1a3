"""Import pages: the start page (template download, upload), and a job page that shows the
dry run's progress, counts and errors, and the 确认导入 button when the file is clean."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xueji.core.context import Actor
from xueji.core.exceptions import DomainError
from xueji.exchange.imports import permissions, runner, services
from xueji.exchange.imports.template import freshman_template
from xueji.jobs import selectors as job_selectors
from xueji.jobs.models import Job
from xueji.students.views import StaffPageView

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class FreshmanUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("新生名单文件"),
        help_text=gettext_lazy("xlsx、xls 或 CSV（UTF-8 或 GBK），按模板的列填写"),
    )


def _require_importer(request: HttpRequest) -> None:
    if not permissions.can_import_freshmen(request.user):  # type: ignore[arg-type]
        raise HttpForbidden(_("只有校级学籍管理员和学院教务员可以导入新生。"))


def _import_job(request: HttpRequest, pk: int) -> Job:
    job = job_selectors.get_job_for(request.user, pk)  # type: ignore[arg-type]
    if job.kind not in runner.KINDS:
        raise Http404(_("未找到该导入任务。"))
    return job


class ImportHomeView(StaffPageView):
    def get(self, request: HttpRequest) -> HttpResponse:
        _require_importer(request)
        return self._render(request, FreshmanUploadForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        _require_importer(request)
        form = FreshmanUploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                job = services.freshman_import_start(
                    actor=Actor.from_request(request), upload=form.cleaned_data["file"]
                )
            except DomainError as exc:
                form.add_error("file", exc.message)
            else:
                return redirect("import-job", pk=job.pk)
        return self._render(request, form, status=400)

    def _render(self, request: HttpRequest, form: forms.Form, status: int = 200) -> HttpResponse:
        jobs = job_selectors.jobs_visible_to(
            request.user
        ).filter(  # type: ignore[arg-type]
            kind__in=runner.KINDS, created_by=request.user
        )[:10]
        return render(
            request, "exchange/import_home.html", {"form": form, "jobs": jobs}, status=status
        )


class ImportTemplateView(StaffPageView):
    def get(self, request: HttpRequest) -> HttpResponse:
        _require_importer(request)
        response = HttpResponse(freshman_template(), content_type=XLSX)
        response["Content-Disposition"] = "attachment; filename*=UTF-8''freshmen-template.xlsx"
        return response


class ImportJobView(StaffPageView):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = _import_job(request, pk)
        context = {"job": job, "is_dry_run": job.kind == runner.DRY_RUN}
        if request.GET.get("partial") == "result":
            return render(request, "exchange/import_result.html", context)
        return render(request, "exchange/import_job.html", context)


class ImportConfirmView(StaffPageView):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = _import_job(request, pk)
        try:
            commit = services.freshman_import_confirm(
                actor=Actor.from_request(request), dry_run=job
            )
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("import-job", pk=pk)
        return redirect("import-job", pk=commit.pk)
