"""Login and logout pages. Lockout and its message come from `services.login_check`."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.views import LogoutView as DjangoLogoutView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from xueji.accounts.forms import LoginForm
from xueji.accounts.services import LoginRefused, login_check
from xueji.core.context import Actor


@method_decorator([sensitive_post_parameters("password"), csrf_protect, never_cache], "dispatch")
class LoginView(View):
    template_name = "accounts/login.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            return redirect(self._next_url(request))
        return self._render(request, LoginForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = LoginForm(request.POST)
        if form.is_valid():
            try:
                user = login_check(
                    actor=Actor.from_request(request),
                    request=request,
                    username=form.cleaned_data["username"],
                    password=form.cleaned_data["password"],
                )
            except LoginRefused as exc:
                form.add_error(None, exc.message)
            else:
                login(request, user)
                return redirect(self._next_url(request))
        return self._render(request, form)

    def _render(self, request: HttpRequest, form: LoginForm) -> HttpResponse:
        context = {"form": form, "next": request.POST.get("next") or request.GET.get("next", "")}
        return render(request, self.template_name, context)

    @staticmethod
    def _next_url(request: HttpRequest) -> str:
        candidate = request.POST.get("next") or request.GET.get("next") or ""
        if candidate and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return candidate
        return settings.LOGIN_REDIRECT_URL


class LogoutView(DjangoLogoutView):
    """POST only (Django refuses GET), then back to the login page."""

    http_method_names = ["post", "options"]
