"""Pages of data-correction requests (信息更正): a student's own requests and the staff review.

The request and its scoped reads belong to `students`; the decision goes through the approval
engine (`xueji.changes.corrections`), which is why the pages live above `workflow`, here.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from xueji.changes import corrections
from xueji.core.context import Actor
from xueji.core.exceptions import DomainError, PermissionDenied
from xueji.students import permissions
from xueji.students import selectors as student_selectors
from xueji.students.forms import (
    CorrectionDecisionForm,
    CorrectionFilterForm,
    CorrectionForm,
    field_label,
)
from xueji.students.models import CorrectionRequest, Student
from xueji.students.views import PageView, StaffPageView
from xueji.workflow.selectors import flow_panel_context

CORRECTION_PAGE_SIZE = 30


class MyCorrectionsView(PageView):
    """A student's own correction requests, and the form to submit one."""

    template_name = "changes/my_corrections.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        student = student_selectors.student_for_user(request.user)
        return self._render(request, student, CorrectionForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        student = student_selectors.student_for_user(request.user)
        form = CorrectionForm(request.POST)
        if form.is_valid():
            try:
                corrections.correction_submit(
                    actor=Actor.from_request(request),
                    student=student,
                    field=form.cleaned_data["field"],
                    requested_value=form.cleaned_data["requested_value"],
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as exc:
                form.add_domain_error(exc.field, exc.message)
            else:
                messages.success(request, _("更正申请已提交，请等待审核。"))
                return redirect("my-corrections")
        return self._render(request, student, form)

    def _render(self, request: HttpRequest, student: Student, form: CorrectionForm) -> HttpResponse:
        rows = student_selectors.correction_list_visible_to(request.user).filter(student=student)
        context = {"student": student, "form": form, "corrections": rows}
        return render(request, self.template_name, context)


class MyCorrectionWithdrawView(PageView):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        correction = student_selectors.get_correction_for(request.user, pk)
        try:
            corrections.correction_withdraw(
                actor=Actor.from_request(request), correction=correction
            )
        except PermissionDenied:
            raise
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("申请已撤回。"))
        return redirect("my-corrections")


class CorrectionListView(StaffPageView):
    template_name = "changes/correction_list.html"
    student_redirect = "my-corrections"

    def get(self, request: HttpRequest) -> HttpResponse:
        form = CorrectionFilterForm(request.GET)
        rows = student_selectors.corrections_ordered(request.user, status=form.status_value())
        page = Paginator(rows, CORRECTION_PAGE_SIZE).get_page(request.GET.get("page"))
        return render(request, self.template_name, {"form": form, "page": page})


class CorrectionDetailView(StaffPageView):
    template_name = "changes/correction_detail.html"
    student_redirect = "my-corrections"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        correction = student_selectors.get_correction_for(request.user, pk)
        return self._render(request, correction, CorrectionDecisionForm())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        correction = student_selectors.get_correction_for(request.user, pk)
        if not corrections.correction_can_decide(request.user, correction):
            raise HttpForbidden(
                _("您无权审核该更正申请（涉及学信网锁定字段的须由校级学籍管理员审核）。")
            )
        form = CorrectionDecisionForm(request.POST)
        if form.is_valid():
            approve = form.cleaned_data["decision"] == "approve"
            try:
                corrections.correction_decide(
                    actor=Actor.from_request(request),
                    correction=correction,
                    approve=approve,
                    note=form.cleaned_data["note"],
                )
            except DomainError as exc:
                form.add_error("note" if exc.field == "note" else None, exc.message)
            else:
                messages.success(request, _("已通过该申请。") if approve else _("已驳回该申请。"))
                return redirect("correction-detail", pk=correction.pk)
        return self._render(request, correction, form)

    def _render(
        self, request: HttpRequest, correction: CorrectionRequest, form: CorrectionDecisionForm
    ) -> HttpResponse:
        context: dict[str, Any] = {
            "correction": correction,
            "field_label": field_label(correction.field),
            "form": form,
            "can_decide": correction.status == "pending"
            and corrections.correction_can_decide(request.user, correction),
            "locked": correction.field in permissions.LOCKED_FIELDS,
            # A requested 证件号码 stays masked here too; the service checked it on submission.
            "sensitive": correction.field == "id_number",
        }
        flow = corrections.correction_flow(correction)
        if flow is not None:
            # The approval record (steps, comments, attachments) from the engine; the
            # decision itself stays in this page's form, which applies the value.
            panel = flow_panel_context(request.user, flow)
            panel["can_act"] = panel["needs_minute"] = False
            context.update(panel)
        return render(request, self.template_name, context)
