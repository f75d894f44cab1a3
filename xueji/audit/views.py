"""The auditor's pages: the event list, one event, and verification of the hash chain."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views import View
from django.views.generic import TemplateView

from xueji.audit.models import AuditEvent
from xueji.audit.permissions import can_view_audit
from xueji.audit.selectors import audit_chain_verify, audit_event_get, audit_event_list
from xueji.core.masking import mask_address, mask_id_number, mask_phone

EVENT_PAGE_SIZE = 50

# Before/after values carry the record as it was; the audit page still obeys the one masking
# rule (the full number is for holders of "view full ID", through the audited reveal).
SENSITIVE_KEYS: dict[str, Callable[[str | None], str]] = {
    "id_number": mask_id_number,
    "phone": mask_phone,
    "emergency_phone": mask_phone,
    "address": mask_address,
}
# Correction requests record {"field": ..., "from": ..., "to": ...}.
CORRECTION_VALUE_KEYS = ("from", "to", "value", "requested_value", "current_value")


def masked(value: Any) -> Any:
    """`value` with every sensitive field masked, at any depth."""
    if isinstance(value, list):
        return [masked(item) for item in value]
    if not isinstance(value, dict):
        return value
    result = {}
    field_mask = SENSITIVE_KEYS.get(str(value.get("field", "")))
    for key, item in value.items():
        if key in SENSITIVE_KEYS and isinstance(item, str):
            result[key] = SENSITIVE_KEYS[key](item)
        elif field_mask is not None and key in CORRECTION_VALUE_KEYS and isinstance(item, str):
            result[key] = field_mask(item)
        else:
            result[key] = masked(item)
    return result


def pretty_json(text: str) -> str:
    """Indented, masked JSON for display; text that is not JSON is shown as stored."""
    if not text:
        return ""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return json.dumps(masked(value), ensure_ascii=False, indent=2, sort_keys=True)


class AuditAccessMixin(LoginRequiredMixin):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated and not can_view_audit(request.user):  # type: ignore[arg-type]
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class AuditEventListView(AuditAccessMixin, TemplateView):
    template_name = "audit/event_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        filters = {
            key: self.request.GET.get(key, "").strip()[:80] for key in ("action", "target", "actor")
        }
        events = audit_event_list(
            action=filters["action"], mentions=filters["target"], actor=filters["actor"]
        )
        page = Paginator(events, EVENT_PAGE_SIZE).get_page(self.request.GET.get("page"))
        params = self.request.GET.copy()
        params.pop("page", None)
        context.update(
            filters=filters, page=page, events=page.object_list, querystring=params.urlencode()
        )
        return context


class AuditEventDetailView(AuditAccessMixin, TemplateView):
    template_name = "audit/event_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        event = get_object_or_404(AuditEvent, seq=kwargs["seq"])
        context.update(
            event=event, before=pretty_json(event.before), after=pretty_json(event.after)
        )
        return context


class AuditVerifyView(AuditAccessMixin, View):
    """Recompute every hash; show the chain head to keep outside the database, or the first
    bad event."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        report = audit_chain_verify()
        bad_event = None
        if not report.ok and report.first_bad_id is not None:
            bad_event = audit_event_get(report.first_bad_id)
        return render(request, "audit/verify.html", {"report": report, "bad_event": bad_event})
