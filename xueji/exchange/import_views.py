"""Import pages, generic over the import kinds (`imports.kinds`): the home page lists the kinds
the user may run; each kind has a page with its template download and upload form (which
starts a dry run); a job page shows the dry run's progress, counts and errors, and the 确认导入
button when the file is clean."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xueji.core.context import Actor
from xueji.core.exceptions import DomainError, NotFound
from xueji.exchange.imports import services
from xueji.exchange.imports.kinds import ImportKind, get_kind, kind_of_job, kinds_for
from xueji.jobs import selectors as job_selectors
from xueji.jobs.models import Job
from xueji.students.views import StaffPageView

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportUploadForm(forms.Form):
    file = forms.FileField()
    system = forms.CharField(
        label=gettext_lazy("来源系统"),
        required=False,
        max_length=services.MAX_SYSTEM,
        help_text=gettext_lazy("可不填；填写后先按该系统的代码映射把代码列转换为本系统代码"),
    )

    def __init__(self, *args: object, kind: ImportKind, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["file"].label = _(kind.file_label)
        self.fields["file"].help_text = _(kind.file_help)
        if not kind.accepts_system:
            del self.fields["system"]


def _kind_for(request: HttpRequest, key: str) -> ImportKind:
    try:
        kind = get_kind(key)
    except NotFound:
        raise Http404(_("没有这种导入。")) from None
    if not kind.may_run(request.user):  # type: ignore[arg-type]
        raise HttpForbidden(_(kind.refusal))
    return kind


def _import_job(request: HttpRequest, pk: int) -> tuple[Job, ImportKind]:
    job = job_selectors.get_job_for(request.user, pk)  # type: ignore[arg-type]
    kind = kind_of_job(job.kind)
    if kind is None:
        raise Http404(_("未找到该导入任务。"))
    return job, kind


def _recent_jobs(request: HttpRequest, kinds: list[ImportKind]) -> object:
    job_kinds = {job_kind for kind in kinds for job_kind in kind.job_kinds}
    return job_selectors.jobs_visible_to(
        request.user
    ).filter(  # type: ignore[arg-type]
        kind__in=job_kinds, created_by=request.user
    )[:10]


class ImportHomeView(StaffPageView):
    def get(self, request: HttpRequest) -> HttpResponse:
        kinds = kinds_for(request.user)  # type: ignore[arg-type]
        if not kinds:
            raise HttpForbidden(_("只有校级学籍管理员和学院教务员可以导入数据。"))
        return render(
            request,
            "exchange/import_home.html",
            {"kinds": kinds, "jobs": _recent_jobs(request, kinds)},
        )


class ImportKindView(StaffPageView):
    def get(self, request: HttpRequest, kind: str) -> HttpResponse:
        found = _kind_for(request, kind)
        return self._render(request, found, ImportUploadForm(kind=found))

    def post(self, request: HttpRequest, kind: str) -> HttpResponse:
        found = _kind_for(request, kind)
        form = ImportUploadForm(request.POST, request.FILES, kind=found)
        if form.is_valid():
            try:
                job = services.import_start(
                    actor=Actor.from_request(request),
                    kind=found.key,
                    upload=form.cleaned_data["file"],
                    system=form.cleaned_data.get("system") or "",
                )
            except DomainError as exc:
                form.add_error("system" if exc.field == "system" else "file", exc.message)
            else:
                return redirect("import-job", pk=job.pk)
        return self._render(request, found, form, status=400)

    def _render(
        self, request: HttpRequest, kind: ImportKind, form: forms.Form, status: int = 200
    ) -> HttpResponse:
        return render(
            request,
            "exchange/import_kind.html",
            {
                "kind": kind,
                "form": form,
                "accept": ",".join(kind.suffixes),
                "jobs": _recent_jobs(request, [kind]),
            },
            status=status,
        )


class ImportTemplateView(StaffPageView):
    def get(self, request: HttpRequest, kind: str) -> HttpResponse:
        found = _kind_for(request, kind)
        if found.template is None:
            raise Http404(_("这种导入没有模板。"))
        response = HttpResponse(found.template(), content_type=XLSX)
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{found.template_name}"
        return response


class ImportJobView(StaffPageView):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        job, kind = _import_job(request, pk)
        context = {"job": job, "kind": kind, "is_dry_run": job.kind == kind.dry_run_kind}
        if request.GET.get("partial") == "result":
            return render(request, "exchange/import_result.html", context)
        return render(request, "exchange/import_job.html", context)


class ImportConfirmView(StaffPageView):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        job, _kind = _import_job(request, pk)
        try:
            commit = services.import_confirm(actor=Actor.from_request(request), dry_run=job)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("import-job", pk=pk)
        return redirect("import-job", pk=commit.pk)
