"""Pages of the admission cross-check: batches (load a file, run the comparison) and the
discrepancy queue where the registrar and college admins settle each difference.

The pages are for the registrar, college admins and school auditors (others: 403); a batch
or difference outside what one may see is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from xueji.core.context import Actor
from xueji.core.exceptions import DomainError, ValidationFailed
from xueji.core.masking import mask_id_number
from xueji.exchange.crosscheck import loader, permissions, selectors, services
from xueji.exchange.crosscheck.forms import (
    AdmissionUploadForm,
    DiscrepancyFilterForm,
    ResolveForm,
)
from xueji.students.views import StaffPageView

PAGE_SIZE = 50


def _require_viewer(request: HttpRequest) -> None:
    if not permissions.can_view_queue(request.user):  # type: ignore[arg-type]
        raise HttpForbidden(_("只有校级学籍管理员、学院教务员和审计员可以查看录取比对。"))


class CrossCheckListView(StaffPageView):
    template_name = "exchange/crosscheck_list.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        _require_viewer(request)
        return self._render(request, AdmissionUploadForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        _require_viewer(request)
        if not permissions.can_load(request.user):  # type: ignore[arg-type]
            raise HttpForbidden(_("只有校级学籍管理员可以导入录取数据。"))
        form = AdmissionUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._render(request, form, status=400)
        upload = form.cleaned_data["file"]
        actor = Actor.from_request(request)
        try:
            rows = loader.read_rows(upload.read(), upload.name)
            batch = services.admission_batch_load(
                actor=actor,
                name=form.cleaned_data["name"],
                year=form.cleaned_data["year"],
                rows=rows,
                source_name=upload.name,
            )
        except ValidationFailed as exc:
            for column, problems in exc.errors.items():
                for problem in problems[:20]:
                    form.add_error(None, f"{column}：{problem}")
            return self._render(request, form, status=400)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            return self._render(request, form, status=400)
        job = services.crosscheck_start(actor=actor, batch=batch)
        messages.success(
            request,
            _("已导入 %(n)d 条录取记录，比对已开始。") % {"n": batch.record_count},
        )
        return redirect("job-detail", pk=job.pk)

    def _render(
        self, request: HttpRequest, form: AdmissionUploadForm, status: int = 200
    ) -> HttpResponse:
        user = request.user
        context = {
            "batches": selectors.batch_list_visible_to(user),  # type: ignore[arg-type]
            "form": form,
            "can_load": permissions.can_load(user),  # type: ignore[arg-type]
        }
        return render(request, self.template_name, context, status=status)


class CrossCheckBatchView(StaffPageView):
    template_name = "exchange/crosscheck_batch.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        _require_viewer(request)
        user = request.user
        batch = selectors.get_batch_for(user, pk)  # type: ignore[arg-type]
        form = DiscrepancyFilterForm(request.GET or {"status": "open"})
        rows = selectors.discrepancy_list(user, batch=batch, **form.filters())  # type: ignore[arg-type]
        page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
        for d in page.object_list:
            # ID numbers are masked here as in the API and in lists; the student's page reveals
            # the full number (audited) when the resolver needs it.
            masked = d.field == "id_number"
            d.admission_shown = mask_id_number(d.admission_value) if masked else d.admission_value
            d.record_shown = mask_id_number(d.record_value) if masked else d.record_value
        context = {
            "batch": batch,
            "form": form,
            "page": page,
            "counts": selectors.discrepancy_counts(user, batch),  # type: ignore[arg-type]
            "can_load": permissions.can_load(user),  # type: ignore[arg-type]
            "resolvable": {
                d.pk
                for d in page.object_list
                if permissions.can_resolve(user, d)  # type: ignore[arg-type]
            },
            "field_labels": services.FIELD_LABELS,
        }
        return render(request, self.template_name, context)


class CrossCheckRunView(StaffPageView):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        _require_viewer(request)
        batch = selectors.get_batch_for(request.user, pk)  # type: ignore[arg-type]
        job = services.crosscheck_start(actor=Actor.from_request(request), batch=batch)
        return redirect("job-detail", pk=job.pk)


class DiscrepancyResolveView(StaffPageView):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        _require_viewer(request)
        discrepancy = selectors.get_discrepancy_for(request.user, pk)  # type: ignore[arg-type]
        form = ResolveForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("请选择处理结果并写明处理说明。"))
        else:
            try:
                services.discrepancy_resolve(
                    actor=Actor.from_request(request),
                    discrepancy=discrepancy,
                    status=form.cleaned_data["status"],
                    note=form.cleaned_data["note"],
                )
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("已处理：%(c)s") % {"c": discrepancy.candidate_number})
        return redirect("crosscheck-batch", pk=discrepancy.batch_id)
