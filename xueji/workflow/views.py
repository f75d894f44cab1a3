"""Pages of the approval engine: the workbench (to-do list, history, batch approval), the
delegation page, a generic flow page, and the POST actions of the flow panel.

Action views fetch the flow through `get_flow_for` (out of scope = 404), call one service and
redirect to the subject's page with a message; a refused action changes nothing and says why.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xueji.accounts.models import User
from xueji.core.context import Actor
from xueji.core.exceptions import DomainError, PermissionDenied
from xueji.students.selectors import filter_options_for
from xueji.students.views import PageView, StaffPageView
from xueji.workflow import permissions, selectors, services
from xueji.workflow.forms import (
    ApproveForm,
    AttachmentForm,
    CommentForm,
    DelegationForm,
    ReasonForm,
    ResubmitForm,
    WithdrawForm,
    WorkbenchFilterForm,
)
from xueji.workflow.handlers import kind_label
from xueji.workflow.models import Flow

PAGE_SIZE = 50


class WorkbenchView(StaffPageView):
    """My to-do list: steps waiting for me (or for those I deputise for), with filters."""

    template_name = "workflow/workbench.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        colleges = filter_options_for(user)["colleges"]
        form = WorkbenchFilterForm(request.GET or None, colleges=colleges)
        now = timezone.now()
        steps = selectors.pending_steps_for(user, now=now, **form.values())
        page = Paginator(steps, PAGE_SIZE).get_page(request.GET.get("page"))
        summary = selectors.pending_summary(user, now)
        rows = [
            {
                "step": step,
                "flow": step.flow,
                "url": selectors.flow_url(step.flow),
                "kind": kind_label(step.flow.kind),
                "overdue": step.due_at is not None and step.due_at < now,
            }
            for step in page.object_list
        ]
        context = {
            "form": form,
            "page": page,
            "rows": rows,
            "summary": summary,
            "by_kind": [(kind_label(k), n) for k, n in sorted(summary["by_kind"].items())],
            "any_batch": any(row["flow"].batch_approvable for row in rows),
            "delegations": permissions.active_delegations_to(user),
        }
        return render(request, self.template_name, context)


class WorkbenchHistoryView(StaffPageView):
    template_name = "workflow/history.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        steps = selectors.decided_by(request.user)
        page = Paginator(steps, PAGE_SIZE).get_page(request.GET.get("page"))
        rows = [
            {"step": s, "url": selectors.flow_url(s.flow), "kind": kind_label(s.flow.kind)}
            for s in page.object_list
        ]
        return render(request, self.template_name, {"page": page, "rows": rows})


class WorkbenchBatchApproveView(StaffPageView):
    def post(self, request: HttpRequest) -> HttpResponse:
        ids = [int(v) for v in request.POST.getlist("flows") if v.isdigit()]
        if not ids:
            messages.error(request, _("请先勾选要批量同意的申请。"))
            return redirect("workbench")
        flows = list(selectors.flows_visible_to(request.user).filter(pk__in=ids).order_by("pk"))
        result = services.flow_batch_approve(
            actor=Actor.from_request(request),
            flows=flows,
            comment=request.POST.get("comment", "")[:2000],
        )
        if result["approved"]:
            messages.success(
                request, _("已批量同意 %(n)d 件申请。") % {"n": len(result["approved"])}
            )
        titles = {flow.pk: flow.title for flow in flows}
        for pk, message in result["refused"].items():
            messages.error(request, f"{titles.get(pk, pk)}：{message}")
        return redirect("workbench")


class FlowDetailView(PageView):
    """A flow on its own page (subjects usually show the panel on their own page instead)."""

    template_name = "workflow/flow_detail.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        flow = selectors.get_flow_for(request.user, pk)
        context = selectors.flow_panel_context(request.user, flow)
        context["kind_label"] = kind_label(flow.kind)
        return render(request, self.template_name, context)


class FlowActionView(PageView):
    """POST-only base: parse `form_class`, call `perform`, redirect to the subject's page."""

    form_class: type[forms.Form] = forms.Form
    success_message: Any = ""

    def perform(self, request: HttpRequest, flow: Flow, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        flow = selectors.get_flow_for(request.user, pk)
        form = self.form_class(request.POST, request.FILES)
        if not form.is_valid():
            errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
            messages.error(request, "；".join(errors))
            return redirect(selectors.flow_url(flow))
        try:
            self.perform(request, flow, form.cleaned_data)
        except PermissionDenied:
            raise
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, self.success_message)
        flow.refresh_from_db()
        return redirect(selectors.flow_url(flow))


class FlowApproveView(FlowActionView):
    form_class = ApproveForm
    success_message = gettext_lazy("已同意。")

    def perform(self, request: HttpRequest, flow: Flow, data: dict[str, Any]) -> None:
        services.flow_approve(
            actor=Actor.from_request(request),
            flow=flow,
            comment=data["comment"],
            expected_version=data["expected_version"],
            minute_number=data["minute_number"],
            minute_date=data["minute_date"],
        )


class FlowRejectView(FlowActionView):
    form_class = ReasonForm
    success_message = gettext_lazy("已驳回，申请人会收到驳回理由。")

    def perform(self, request: HttpRequest, flow: Flow, data: dict[str, Any]) -> None:
        services.flow_reject(
            actor=Actor.from_request(request),
            flow=flow,
            reason=data["reason"],
            expected_version=data["expected_version"],
        )


class FlowReturnView(FlowActionView):
    form_class = ReasonForm
    success_message = gettext_lazy("已退回申请人补充材料。")

    def perform(self, request: HttpRequest, flow: Flow, data: dict[str, Any]) -> None:
        services.flow_return(
            actor=Actor.from_request(request),
            flow=flow,
            reason=data["reason"],
            expected_version=data["expected_version"],
        )


class FlowResubmitView(FlowActionView):
    form_class = ResubmitForm
    success_message = gettext_lazy("已重新提交。")

    def perform(self, request: HttpRequest, flow: Flow, data: dict[str, Any]) -> None:
        services.flow_resubmit(
            actor=Actor.from_request(request), flow=flow, comment=data["comment"]
        )


class FlowWithdrawView(FlowActionView):
    form_class = WithdrawForm
    success_message = gettext_lazy("申请已撤回。")

    def perform(self, request: HttpRequest, flow: Flow, data: dict[str, Any]) -> None:
        services.flow_withdraw(actor=Actor.from_request(request), flow=flow, reason=data["reason"])


class FlowCommentView(FlowActionView):
    form_class = CommentForm
    success_message = gettext_lazy("留言已发布。")

    def perform(self, request: HttpRequest, flow: Flow, data: dict[str, Any]) -> None:
        services.flow_comment(actor=Actor.from_request(request), flow=flow, text=data["text"])


class FlowAttachView(FlowActionView):
    form_class = AttachmentForm
    success_message = gettext_lazy("附件已上传。")

    def perform(self, request: HttpRequest, flow: Flow, data: dict[str, Any]) -> None:
        services.attachment_add(
            actor=Actor.from_request(request), flow=flow, upload=data["file"], label=data["label"]
        )


class AttachmentDownloadView(PageView):
    def get(self, request: HttpRequest, pk: int) -> FileResponse:
        attachment = selectors.get_attachment_for(request.user, pk)
        return FileResponse(
            attachment.file.open("rb"), as_attachment=True, filename=attachment.original_name
        )


class DelegationListView(StaffPageView):
    """My deputies (create, revoke) and the delegations I hold."""

    template_name = "workflow/delegations.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, DelegationForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        if not permissions.can_delegate(request.user):
            raise PermissionDenied(_("只有审批人员可以设置审批代理。"))
        form = DelegationForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            deputy = User.objects.filter(username=data["deputy"].strip()).first()
            if deputy is None:
                form.add_error("deputy", _("没有这个用户名。"))
            else:
                try:
                    services.delegation_create(
                        actor=Actor.from_request(request),
                        deputy=deputy,
                        starts_on=data["starts_on"],
                        ends_on=data["ends_on"],
                        note=data["note"],
                    )
                except DomainError as exc:
                    form.add_error(exc.field if exc.field in form.fields else None, exc.message)
                else:
                    messages.success(request, _("审批代理已设置。"))
                    return redirect("delegation-list")
        return self._render(request, form)

    def _render(self, request: HttpRequest, form: DelegationForm) -> HttpResponse:
        user = request.user
        context = {
            "form": form,
            "can_delegate": permissions.can_delegate(user),
            "given": selectors.delegations_given(user),
            "received": selectors.delegations_received(user),
            "today": timezone.localdate(),
        }
        return render(request, self.template_name, context)


class DelegationRevokeView(StaffPageView):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        delegation = selectors.get_delegation_for(request.user, pk)
        try:
            services.delegation_revoke(actor=Actor.from_request(request), delegation=delegation)
        except PermissionDenied:
            raise
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("审批代理已撤销。"))
        return redirect("delegation-list")
