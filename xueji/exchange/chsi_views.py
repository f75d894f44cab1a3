"""CHSI export pages: choose cohort/college, format and purpose, see the pre-export check, start
the export as a job, follow it on the job page and download the file."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from xueji.core.context import Actor
from xueji.core.exceptions import NotFound, PermissionDenied, ValidationFailed
from xueji.exchange.chsi import permissions, selectors, services
from xueji.exchange.chsi.forms import ChsiExportForm
from xueji.exchange.chsi.new_students import COLUMNS
from xueji.jobs.selectors import get_job_for
from xueji.students.views import StaffPageView

CHECK_SHOWN = 300  # students with problems listed on the page; the count is always complete


def _require_exporter(request: HttpRequest) -> None:
    if not permissions.can_export_chsi(request.user):  # type: ignore[arg-type]
        raise PermissionDenied("只有校级学籍管理员和二级学院教务员可以导出学信网数据。")


class ChsiExportView(StaffPageView):
    def get(self, request: HttpRequest) -> HttpResponse:
        _require_exporter(request)
        user = request.user
        bound = "check" in request.GET
        form = ChsiExportForm(request.GET if bound else None, user=user)  # type: ignore[arg-type]
        check = None
        if bound and form.is_valid():
            data = form.cleaned_data
            total, found = selectors.chsi_new_students_check(
                user,  # type: ignore[arg-type]
                cohort_year=data["cohort"],
                college_id=data["college"],
                fmt=data["format"],
            )
            check = {"total": total, "found": found[:CHECK_SHOWN], "count": len(found)}
        return self._render(request, form, check)

    def post(self, request: HttpRequest) -> HttpResponse:
        _require_exporter(request)
        form = ChsiExportForm(request.POST, user=request.user)  # type: ignore[arg-type]
        if form.is_valid():
            data = form.cleaned_data
            try:
                job = services.chsi_export_start(
                    actor=Actor.from_request(request),
                    cohort_year=data["cohort"],
                    college_id=data["college"],
                    fmt=data["format"],
                    purpose=data["purpose"],
                    full_id=data.get("full_id", False),
                    valid_only=data["valid_only"],
                )
            except ValidationFailed as exc:
                for field, messages in exc.errors.items():
                    for message in messages:
                        form.add_error(field if field in form.fields else None, message)
            else:
                return redirect("chsi-job", pk=job.pk)
        return self._render(request, form, None, status=400)

    def _render(
        self, request: HttpRequest, form: ChsiExportForm, check: dict | None, status: int = 200
    ) -> HttpResponse:
        context = {
            "form": form,
            "check": check,
            "columns": COLUMNS,
            "purposes": services.SUGGESTED_PURPOSES,
        }
        return render(request, "exchange/chsi_export.html", context, status=status)


class ChsiJobView(StaffPageView):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = get_job_for(request.user, pk)  # type: ignore[arg-type]
        if not job.kind.startswith("chsi."):
            raise NotFound("未找到该导出任务。")
        if request.GET.get("result"):
            template = "exchange/chsi_job_result.html"
        elif request.GET.get("partial"):
            template = "jobs/_progress.html"
        else:
            template = "exchange/chsi_job.html"
        return render(request, template, {"job": job})
