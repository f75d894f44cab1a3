"""The user's notification list; reading marks them read."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views import View

from xueji.notifications import selectors, services


class NotificationListView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        unread_only = request.GET.get("unread") == "1"
        rows = selectors.notifications_for(request.user, unread_only=unread_only)  # type: ignore[arg-type]
        page = Paginator(rows, 30).get_page(request.GET.get("page"))
        return render(
            request,
            "notifications/notification_list.html",
            {"page": page, "unread_only": unread_only},
        )


class NotificationReadView(LoginRequiredMixin, View):
    def post(self, request: HttpRequest) -> HttpResponse:
        ids = [int(i) for i in request.POST.getlist("id") if i.isdigit()] or None
        services.notification_mark_read(user=request.user, ids=ids)  # type: ignore[arg-type]
        return redirect("notification-list")
