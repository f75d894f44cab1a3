"""Pages of the exchange app: the registrar's event list and department settings, and each
department's inbox where its members confirm receipt.

Role-gated pages (event list, settings) answer 403 to other roles; a single event or delivery
the user may not see is a 404, like one that does not exist.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from xueji.core.context import Actor
from xueji.core.exceptions import DomainError, ValidationFailed
from xueji.exchange import permissions, selectors, services
from xueji.exchange.forms import AckForm, DepartmentForm, EventFilterForm
from xueji.exchange.models import Department
from xueji.students.views import PageView

PAGE_SIZE = 30


def _back(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


class EventListView(PageView):
    template_name = "exchange/event_list.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        if not permissions.can_view_all_events(request.user):
            raise HttpForbidden(_("只有校级学籍管理员和审计员可以查看全部事件。"))
        form = EventFilterForm(request.GET)
        now = timezone.now()
        events = selectors.event_list_visible_to(request.user, now=now, **form.filters())
        page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
        context = {
            "form": form,
            "page": page,
            "now": now,
            "overdue_total": selectors.overdue_count(request.user, now),
            "can_manage": permissions.can_manage_departments(request.user),
        }
        return render(request, self.template_name, context)


class EventDetailView(PageView):
    template_name = "exchange/event_detail.html"

    def get(self, request: HttpRequest, event_id: str) -> HttpResponse:
        event = selectors.get_event_for(request.user, event_id)
        user = request.user
        rows = [
            {
                "delivery": d,
                "can_ack": d.state != "acknowledged" and permissions.can_acknowledge(user, d),
                "can_retry": d.state == "failed" and permissions.can_retry(user),
            }
            for d in event.visible_deliveries  # type: ignore[attr-defined]
        ]
        return render(
            request,
            self.template_name,
            {
                "event": event,
                "rows": rows,
                "all_events": permissions.can_view_all_events(user),
                "now": timezone.now(),
            },
        )


class DepartmentInboxView(PageView):
    template_name = "exchange/inbox.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        departments = list(selectors.departments_of(user))
        if not departments:
            if permissions.can_view_all_events(user):
                return redirect("event-list")
            raise HttpForbidden(_("您不是任何协同部门的经办人。"))
        show_all = request.GET.get("all") == "1"
        rows = selectors.department_inbox(user, show_all=show_all)
        page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
        context = {
            "departments": departments,
            "page": page,
            "show_all": show_all,
            "now": timezone.now(),
            "pending": selectors.inbox_count(user),
        }
        return render(request, self.template_name, context)


class DeliveryAckView(PageView):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        delivery = selectors.get_delivery_for(request.user, pk)
        form = AckForm(request.POST)
        note = form.cleaned_data["note"] if form.is_valid() else ""
        services.delivery_acknowledge(
            actor=Actor.from_request(request), delivery=delivery, note=note
        )
        messages.success(
            request,
            _("已确认收到：%(student)s 的事件") % {"student": _student_label(delivery)},
        )
        return redirect(_back(request, reverse("department-inbox")))


class DeliveryRetryView(PageView):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        delivery = selectors.get_delivery_for(request.user, pk)
        target = reverse("event-detail", args=[delivery.event.event_id])
        try:
            services.delivery_retry(actor=Actor.from_request(request), delivery=delivery)
        except DomainError as exc:
            if exc.code == "permission_denied":
                raise
            messages.error(request, exc.message)
        else:
            messages.success(
                request, _("已重新排队推送至%(dept)s。") % {"dept": delivery.department.name}
            )
        return redirect(_back(request, target))


def _student_label(delivery: Any) -> str:
    data = delivery.event.student_data or {}
    return f"{data.get('name', '')}（{data.get('student_number', '')}）" if data else "—"


class _RegistrarPage(PageView):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if request.user.is_authenticated and not permissions.can_manage_departments(request.user):
            raise HttpForbidden(_("只有校级学籍管理员可以设置协同部门。"))
        return super().dispatch(request, *args, **kwargs)


class DepartmentListView(_RegistrarPage):
    template_name = "exchange/department_list.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        departments = selectors.department_list(request.user)
        return render(request, self.template_name, {"departments": departments})


class DepartmentEditView(_RegistrarPage):
    """Create (no pk) or edit a department; a new one shows its secret once."""

    template_name = "exchange/department_edit.html"

    def get(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        department = selectors.get_department_for(request.user, pk) if pk else None
        if department is None:
            form = DepartmentForm(initial={"is_active": True, "ack_hours": 72})
        else:
            form = DepartmentForm(department=department)
        return self._render(request, form, department)

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        department = selectors.get_department_for(request.user, pk) if pk else None
        form = DepartmentForm(request.POST, department=department)
        if form.is_valid():
            try:
                saved = services.department_save(
                    actor=Actor.from_request(request), department=department, data=form.cleaned_data
                )
            except ValidationFailed as exc:
                for field, errors in exc.errors.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                if department is None:
                    return _secret_page(request, saved, created=True)
                messages.success(request, _("已保存%(name)s的设置。") % {"name": saved.name})
                return redirect("department-list")
        return self._render(request, form, department)

    def _render(
        self, request: HttpRequest, form: DepartmentForm, department: Department | None
    ) -> HttpResponse:
        return render(request, self.template_name, {"form": form, "department": department})


class DepartmentSecretRotateView(_RegistrarPage):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        department = selectors.get_department_for(request.user, pk)
        rotated = services.department_secret_rotate(
            actor=Actor.from_request(request), department=department
        )
        return _secret_page(request, rotated, created=False)


def _secret_page(request: HttpRequest, department: Department, *, created: bool) -> HttpResponse:
    """The only place the secret is ever shown: right after it was generated."""
    response = render(
        request,
        "exchange/department_secret.html",
        {"department": department, "created": created},
    )
    response["Cache-Control"] = "no-store"
    return response
