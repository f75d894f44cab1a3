"""CHSI export pages: the kinds the user may export; per kind, its filters, format and purpose,
the pre-export check listing every problem per student, starting the export as a job, following
it on the job page and downloading the file."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from xueji.core.context import Actor
from xueji.core.exceptions import NotFound, PermissionDenied, ValidationFailed
from xueji.exchange.chsi import permissions, selectors, services
from xueji.exchange.chsi.forms import ChsiExportForm
from xueji.exchange.chsi.kinds import ExportKind
from xueji.jobs.selectors import get_job_for
from xueji.students.views import StaffPageView

CHECK_SHOWN = 300  # rows with problems listed on the page; the count is always complete


def _require_exporter(request: HttpRequest) -> None:
    if not permissions.can_export_chsi(request.user):  # type: ignore[arg-type]
        raise PermissionDenied(services.NO_RIGHT)


class ChsiKindsView(StaffPageView):
    """The export kinds the user may export, each with its columns and filters."""

    def get(self, request: HttpRequest) -> HttpResponse:
        _require_exporter(request)
        kinds = selectors.chsi_kinds_for(request.user)  # type: ignore[arg-type]
        return render(request, "exchange/chsi_kinds.html", {"kinds": kinds})


class ChsiExportView(StaffPageView):
    """One kind's form: the pre-export check (GET with ?check=1) and starting the export."""

    def get(self, request: HttpRequest, kind: str) -> HttpResponse:
        _require_exporter(request)
        user = request.user
        export_kind = selectors.chsi_kind_for(user, kind)  # type: ignore[arg-type]
        bound = "check" in request.GET
        form = ChsiExportForm(
            request.GET if bound else None,
            kind=export_kind,
            user=user,  # type: ignore[arg-type]
        )
        check = None
        if bound and form.is_valid():
            filters = form.filters()
            errors = selectors.filter_errors(export_kind, filters)
            if errors:
                _add_errors(form, errors)
            else:
                result = selectors.chsi_export_check(
                    user,  # type: ignore[arg-type]
                    export_kind,
                    filters,
                    fmt=form.cleaned_data["format"],
                )
                check = {
                    "total": result.total,
                    "found": result.found[:CHECK_SHOWN],
                    "count": len(result.found),
                    "notices": result.notices[:CHECK_SHOWN],
                    "notice_count": len(result.notices),
                }
        return self._render(request, export_kind, form, check)

    def post(self, request: HttpRequest, kind: str) -> HttpResponse:
        _require_exporter(request)
        export_kind = selectors.chsi_kind_for(request.user, kind)  # type: ignore[arg-type]
        form = ChsiExportForm(request.POST, kind=export_kind, user=request.user)  # type: ignore[arg-type]
        if form.is_valid():
            data = form.cleaned_data
            try:
                job = services.chsi_export_start(
                    actor=Actor.from_request(request),
                    kind=export_kind.key,
                    filters=form.filters(),
                    fmt=data["format"],
                    purpose=data["purpose"],
                    full_id=data.get("full_id", False),
                    valid_only=data["valid_only"],
                )
            except ValidationFailed as exc:
                _add_errors(form, exc.errors)
            else:
                return redirect("chsi-job", pk=job.pk)
        return self._render(request, export_kind, form, None, status=400)

    def _render(
        self,
        request: HttpRequest,
        kind: ExportKind,
        form: ChsiExportForm,
        check: dict | None,
        status: int = 200,
    ) -> HttpResponse:
        context = {
            "kind": kind,
            "form": form,
            "check": check,
            "columns": kind.columns,
            "purposes": kind.purposes,
        }
        return render(request, "exchange/chsi_export.html", context, status=status)


def _add_errors(form: ChsiExportForm, errors: dict[str, list[str]]) -> None:
    for field, messages in errors.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)


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
