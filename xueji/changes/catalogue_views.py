"""The registrar's pages for the change-type catalogue and the school's rule parameters.

Students are sent to their own record and other staff get 403 (the StaffPageView rule); staff
who are not the registrar get 403 here. Saving goes through `xueji.changes.catalogue`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from xueji.changes import catalogue
from xueji.changes.catalogue_forms import ChangeTypeForm, RuleParametersForm
from xueji.changes.fields import APPLICANT_FIELDS
from xueji.changes.models import ChangeType
from xueji.changes.rules import RULES, rule_codes_for
from xueji.core.context import Actor
from xueji.core.exceptions import DomainError
from xueji.students.models import StudentStatus
from xueji.students.views import StaffPageView
from xueji.workflow.models import StepKind


class RegistrarPageView(StaffPageView):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if (
            user.is_authenticated
            and user.is_staff_member  # type: ignore[union-attr]
            and not catalogue.can_manage_change_types(user)  # type: ignore[arg-type]
        ):
            raise HttpForbidden(_("只有校级学籍管理员可以维护异动类型和学籍规则参数。"))
        return super().dispatch(request, *args, **kwargs)


def _type_rows(types: Any) -> list[dict[str, Any]]:
    return [
        {
            "type": change_type,
            "target": StudentStatus(change_type.target_status).label
            if change_type.target_status
            else "",
            "steps": [StepKind(kind).label for kind in change_type.steps if kind in StepKind],
            "rules": [RULES[code] for code in rule_codes_for(change_type) if code in RULES],
        }
        for change_type in types
    ]


class ChangeTypeListView(RegistrarPageView):
    template_name = "changes/type_list.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        types = catalogue.change_type_list(include_inactive=True)
        return render(request, self.template_name, {"rows": _type_rows(types)})


class ChangeTypeEditView(RegistrarPageView):
    template_name = "changes/type_form.html"

    def _instance(self, code: str | None) -> ChangeType | None:
        if code is None:
            return None
        instance = catalogue.change_type_list(include_inactive=True).filter(code=code).first()
        if instance is None:
            raise Http404(_("没有这个异动类型。"))
        return instance

    def _render(
        self, request: HttpRequest, form: ChangeTypeForm, instance: ChangeType | None
    ) -> HttpResponse:
        context = {
            "form": form,
            "instance": instance,
            "heading": _("编辑异动类型：%(name)s") % {"name": instance.name}
            if instance
            else _("新建异动类型"),
            "field_specs": APPLICANT_FIELDS.values(),
            "rules": RULES.values(),
        }
        return render(request, self.template_name, context, status=400 if form.errors else 200)

    def get(self, request: HttpRequest, code: str | None = None) -> HttpResponse:
        instance = self._instance(code)
        if instance is None:
            form = ChangeTypeForm(initial=dict(catalogue.DECLARATION_DEFAULTS))
        else:
            form = ChangeTypeForm(instance=instance)
        return self._render(request, form, instance)

    def post(self, request: HttpRequest, code: str | None = None) -> HttpResponse:
        instance = self._instance(code)
        form = ChangeTypeForm(request.POST, instance=instance)
        if form.is_valid():
            try:
                saved = catalogue.change_type_save(
                    actor=Actor.from_request(request), instance=instance, data=form.declarations()
                )
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                messages.success(request, _("已保存异动类型：%(name)s") % {"name": saved.name})
                return redirect("change-type-list")
        return self._render(request, form, instance)


class RuleParametersView(RegistrarPageView):
    template_name = "changes/rule_parameters.html"

    def _render(self, request: HttpRequest, form: RuleParametersForm) -> HttpResponse:
        context = {"form": form, "params": catalogue.rule_parameters_get()}
        return render(request, self.template_name, context, status=400 if form.errors else 200)

    def get(self, request: HttpRequest) -> HttpResponse:
        params = catalogue.rule_parameters_get()
        return self._render(
            request, RuleParametersForm(initial=RuleParametersForm.initial_from(params))
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        form = RuleParametersForm(request.POST)
        if form.is_valid():
            try:
                catalogue.rule_parameters_save(
                    actor=Actor.from_request(request), data=dict(form.cleaned_data)
                )
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                messages.success(request, _("学籍规则参数已保存。"))
                return redirect("rule-parameters")
        return self._render(request, form)
