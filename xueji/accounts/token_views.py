"""A user's own API tokens: list, create (the clear key is shown once) and revoke."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.cache import never_cache

from xueji.accounts.models import ApiToken
from xueji.accounts.selectors import api_token_list_for
from xueji.accounts.services import api_token_issue, api_token_revoke
from xueji.core import exceptions
from xueji.core.context import Actor


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("用途"),
        max_length=100,
        help_text=gettext_lazy("写明哪个系统使用该令牌，例如“教务系统同步”"),
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )


def _render_list(request: HttpRequest, form: ApiTokenForm, status: int = 200) -> HttpResponse:
    tokens = api_token_list_for(request.user)  # type: ignore[arg-type]
    return render(
        request,
        "accounts/tokens.html",
        {"form": form, "tokens": tokens, "now": timezone.now()},
        status=status,
    )


class ApiTokenListView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return _render_list(request, ApiTokenForm())


@method_decorator(never_cache, "dispatch")
class ApiTokenCreateView(LoginRequiredMixin, View):
    """Issue a token and show its key in this response only: it is never stored in clear,
    never put in the session, and the page is not cached."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ApiTokenForm(request.POST)
        if not form.is_valid():
            form.fields["name"].widget.attrs["class"] += " is-invalid"
            return _render_list(request, form, status=400)
        token, key = api_token_issue(
            actor=Actor.from_request(request), user=request.user, name=form.cleaned_data["name"]
        )
        return render(request, "accounts/tokens_created.html", {"token": token, "key": key})


class ApiTokenRevokeView(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        # Another user's token reads as missing, not forbidden.
        token = get_object_or_404(ApiToken, pk=pk, user=request.user)
        try:
            api_token_revoke(actor=Actor.from_request(request), token=token)
        except exceptions.PermissionDenied as exc:
            raise PermissionDenied(exc.message) from exc
        except exceptions.DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("令牌 %(prefix)s… 已吊销，不能再用于访问 API。") % {"prefix": token.prefix},
            )
        return redirect("api-token-list")
