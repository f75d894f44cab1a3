"""Pages of term registration: the student's own page, progress per class, the list with
per-row actions, 退学 candidates, opening a term, and finance status.

Scope is the selectors' job: a registration or student outside it is a 404, never a 403.
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
from django.utils.translation import gettext as _

from xueji.accounts.models import Role
from xueji.core.context import Actor
from xueji.core.exceptions import DomainError, NotFound, ValidationFailed
from xueji.org.models import Term
from xueji.registration import permissions, selectors, services
from xueji.registration.forms import (
    FinanceStatusForm,
    RegistrationFilterForm,
    RegistrationOpenForm,
    RegistrationSetForm,
)
from xueji.registration.models import FinanceState, RegistrationState
from xueji.students.selectors import get_student_for, student_for_user
from xueji.students.views import PageView, StaffPageView

PAGE_SIZE = 50


def _term(request: HttpRequest) -> Term | None:
    raw = request.GET.get("term", "")
    return selectors.term_for(int(raw) if raw.isdigit() else None)


def _term_context(term: Term | None) -> dict[str, Any]:
    return {"term": term, "terms": selectors.term_list_for_registration()[:12]}


def _with_term(url_name: str, term: Term, **kwargs: Any) -> str:
    return f"{reverse(url_name, kwargs=kwargs or None)}?term={term.pk}"


class RegistrationHomeView(PageView):
    """A student's own registration; staff go on to the progress page."""

    template_name = "registration/home.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_staff_member:
            return redirect("registration-progress")
        if not user.has_role(Role.STUDENT):
            raise HttpForbidden(_("学期注册页面仅限学生和教职工使用。"))
        student = student_for_user(user)
        term = _term(request)
        mine = selectors.my_registration(student, term) if term else None
        context = {**_term_context(term), "student": student, "mine": mine}
        return render(request, self.template_name, context)


class RegistrationSelfView(PageView):
    """POST: the student registers themselves for the term."""

    def post(self, request: HttpRequest) -> HttpResponse:
        raw = request.POST.get("term", "")
        term = selectors.term_for(int(raw) if raw.isdigit() else None)
        if term is None:
            raise NotFound(_("尚未设置学期。"))
        try:
            services.registration_self(actor=Actor.from_request(request), term=term)
        except DomainError as exc:
            if isinstance(exc, NotFound):
                raise
            messages.error(request, exc.message)
        else:
            messages.success(request, _("注册成功！祝您新学期学习顺利。"))
        return redirect(_with_term("registration-home", term))


class RegistrationProgressView(StaffPageView):
    template_name = "registration/progress.html"
    student_redirect = "registration-home"

    def get(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        term = _term(request)
        rows = selectors.registration_progress(user, term) if term else []
        context = {
            **_term_context(term),
            "rows": rows,
            "totals": selectors.progress_totals(rows),
            "can_open": permissions.can_open_registration(user),
            "can_view_candidates": permissions.can_view_candidates(user),
        }
        return render(request, self.template_name, context)


class RegistrationListView(StaffPageView):
    template_name = "registration/list.html"
    student_redirect = "registration-home"

    def get(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        term = _term(request)
        form = RegistrationFilterForm(request.GET, classes=selectors.class_choices_for(user))
        page = None
        if term is not None:
            rows = selectors.registrations_visible_to(user, term, form.filters())
            page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
        context = {
            **_term_context(term),
            "form": form,
            "page": page,
            "today": timezone.localdate(),
            "is_registrar": permissions.is_registrar(user),
            "can_act": user.has_role(*permissions.DECIDING_ROLES),
        }
        return render(request, self.template_name, context)


class RegistrationSetView(StaffPageView):
    """Register, defer or un-register one student (GET: the form; POST: the action)."""

    template_name = "registration/set.html"
    student_redirect = "registration-home"

    def _setup(self, request: HttpRequest, pk: int) -> Any:
        registration = selectors.get_registration_for(request.user, pk)
        if not permissions.can_set_registration(request.user, registration.student):
            raise HttpForbidden(_("您无权办理该学生的注册。"))
        return registration

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        registration = self._setup(request, pk)
        initial = {"state": request.GET.get("state") or RegistrationState.REGISTERED}
        return self._render(request, registration, RegistrationSetForm(initial=initial))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        registration = self._setup(request, pk)
        form = RegistrationSetForm(request.POST)
        if form.is_valid():
            try:
                services.registration_set(
                    actor=Actor.from_request(request),
                    registration=registration,
                    state=form.cleaned_data["state"],
                    reason=form.cleaned_data["reason"],
                    defer_until=form.cleaned_data["defer_until"],
                )
            except ValidationFailed as exc:
                form.add_domain_errors(exc.errors)
            except DomainError as exc:
                form.add_domain_errors({exc.field or "__all__": [exc.message]})
            else:
                messages.success(
                    request,
                    _("已将 %(name)s 办理为“%(state)s”。")
                    % {
                        "name": registration.student.name,
                        "state": RegistrationState(form.cleaned_data["state"]).label,
                    },
                )
                target = request.POST.get("next", "")
                if not target.startswith("/registration/"):
                    target = _with_term("registration-list", registration.term)
                return redirect(target)
        return self._render(request, registration, form)

    def _render(self, request: HttpRequest, registration: Any, form: Any) -> HttpResponse:
        context = {
            "registration": registration,
            "form": form,
            "unpaid": registration.finance_state == FinanceState.UNPAID,
            "next": request.GET.get("next") or request.POST.get("next", ""),
        }
        return render(request, self.template_name, context)


class RegistrationCandidatesView(StaffPageView):
    """Students past the deadline with no registration or lapsed deferral: for reference in
    the 退学 procedure (第三十条). The system never withdraws anyone on its own."""

    template_name = "registration/candidates.html"
    student_redirect = "registration-home"

    def get(self, request: HttpRequest) -> HttpResponse:
        if not permissions.can_view_candidates(request.user):
            raise HttpForbidden(_("退学候选名单仅限校级学籍管理员和学院教务员查看。"))
        term = _term(request)
        today = timezone.localdate()
        rows = selectors.withdrawal_candidates(request.user, term, today) if term else None
        page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")) if rows else None
        context = {**_term_context(term), "page": page, "today": today}
        return render(request, self.template_name, context)


class RegistrationOpenView(StaffPageView):
    """The registrar opens registration for a term (idempotent)."""

    template_name = "registration/open.html"
    student_redirect = "registration-home"

    def _check(self, request: HttpRequest) -> None:
        if not permissions.can_open_registration(request.user):
            raise HttpForbidden(_("只有校级学籍管理员可以开放学期注册。"))

    def get(self, request: HttpRequest) -> HttpResponse:
        self._check(request)
        terms = selectors.term_list_for_registration()[:12]
        counts = selectors.term_registration_counts(terms)
        rows = [{"term": term, "count": counts.get(term.pk, 0)} for term in terms]
        return render(request, self.template_name, {"rows": rows, "today": timezone.localdate()})

    def post(self, request: HttpRequest) -> HttpResponse:
        self._check(request)
        form = RegistrationOpenForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("请选择学期。"))
            return redirect("registration-open")
        term = selectors.term_for(form.cleaned_data["term"])
        assert term is not None
        try:
            created = services.registration_open(actor=Actor.from_request(request), term=term)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("registration-open")
        messages.success(
            request,
            _("已开放 %(term)s 注册：新增 %(n)s 名在校学生的注册记录。")
            % {"term": term, "n": created},
        )
        return redirect(_with_term("registration-progress", term))


class FinanceStatusEditView(StaffPageView):
    """The registrar records a student's tuition status for a term."""

    template_name = "registration/finance_edit.html"
    student_redirect = "registration-home"

    def _setup(self, request: HttpRequest, student_number: str) -> tuple[Any, Term]:
        student = get_student_for(request.user, student_number)
        if not permissions.can_set_finance_status(request.user):
            raise HttpForbidden(_("只有校级学籍管理员可以修改学费缴纳状态。"))
        term = _term(request)
        if term is None:
            raise NotFound(_("尚未设置学期。"))
        return student, term

    def get(self, request: HttpRequest, student_number: str) -> HttpResponse:
        student, term = self._setup(request, student_number)
        current = selectors.finance_status_for(student, term)
        initial = (
            {"state": current.state, "amount_due": current.amount_due, "note": current.note}
            if current
            else {"state": FinanceState.PAID, "amount_due": 0}
        )
        return self._render(request, student, term, current, FinanceStatusForm(initial=initial))

    def post(self, request: HttpRequest, student_number: str) -> HttpResponse:
        student, term = self._setup(request, student_number)
        form = FinanceStatusForm(request.POST)
        if form.is_valid():
            try:
                services.finance_status_set(
                    actor=Actor.from_request(request),
                    student=student,
                    term=term,
                    state=form.cleaned_data["state"],
                    amount_due=form.cleaned_data["amount_due"],
                    note=form.cleaned_data["note"],
                )
            except ValidationFailed as exc:
                form.add_domain_errors(exc.errors)
            else:
                messages.success(
                    request, _("已更新 %(name)s 的缴费状态。") % {"name": student.name}
                )
                return redirect(_with_term("registration-list", term))
        current = selectors.finance_status_for(student, term)
        return self._render(request, student, term, current, form)

    def _render(
        self, request: HttpRequest, student: Any, term: Term, current: Any, form: Any
    ) -> HttpResponse:
        context = {"student": student, "term": term, "current": current, "form": form}
        return render(request, self.template_name, context)
