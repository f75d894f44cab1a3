"""Pages of the graduation records: diploma numbers for a year (preview, then confirm) and their
list; degree conferral for chosen graduates and the list of awards.

The registrar numbers and confers; a college's academic admin reads its own college. Anyone
else gets 403; a college outside the reader's scope is a 404.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xueji.core.context import Actor
from xueji.core.exceptions import DomainError
from xueji.org.selectors import school_current
from xueji.students import diploma_selectors as selectors
from xueji.students import permissions
from xueji.students.certificate_numbers import FIRST_YEAR, LAST_YEAR
from xueji.students.diploma_forms import (
    DegreeConferForm,
    DiplomaAssignForm,
    GraduationFilterForm,
)
from xueji.students.diplomas import degrees_confer, diplomas_assign
from xueji.students.models import DiplomaOutcome
from xueji.students.views import PageView

PAGE_SIZE = 100


class GraduationPageView(PageView):
    """Readers of graduation records only (registrar, college academic admin)."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if user.is_authenticated and not permissions.can_view_graduation(user):
            raise HttpForbidden(_("只有校级学籍管理员和二级学院教务员可以查看毕业证书与学位记录。"))
        return super().dispatch(request, *args, **kwargs)


class RegistrarPageView(PageView):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if user.is_authenticated and not permissions.can_manage_graduation(user):
            raise HttpForbidden(_("只有校级学籍管理员可以编制证书编号和授予学位。"))
        return super().dispatch(request, *args, **kwargs)


def _filters(request: HttpRequest) -> tuple[GraduationFilterForm, int | None, int | None]:
    """The list filters. The college is read from the query itself so that one outside the
    reader's scope reaches the selector, which answers 404 (not an "invalid choice")."""
    form = GraduationFilterForm(
        request.GET or None, colleges=selectors.graduation_colleges_for(request.user)
    )
    year = _number(request.GET.get("year", ""))
    if year is not None and not FIRST_YEAR <= year <= LAST_YEAR:
        year = None  # a hand-made ?year=10000 would reach date(10000, 1, 1)
    return form, year, _number(request.GET.get("college", ""))


def _number(text: str) -> int | None:
    # isdigit() alone lets "²" through, which int() refuses (a 500).
    return int(text) if text.isascii() and text.isdigit() else None


class DiplomaListView(GraduationPageView):
    template_name = "students/graduation/diploma_list.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        form, year, college_id = _filters(request)
        outcome = request.GET.get("outcome", "")
        outcome = outcome if outcome in DiplomaOutcome.values else ""
        diplomas = selectors.diploma_list_visible_to(
            request.user, year=year, college_id=college_id, outcome=outcome
        )
        page = Paginator(diplomas, PAGE_SIZE).get_page(request.GET.get("page"))
        context = {
            "form": form,
            "page": page,
            "outcome": outcome,
            "outcomes": DiplomaOutcome.choices,
            "can_manage": permissions.can_manage_graduation(request.user),
        }
        return render(request, self.template_name, context)


class DiplomaAssignView(RegistrarPageView):
    """GET: the form. POST without `confirm`: the preview (counts, what blocks the run). POST
    with `confirm`: the numbering itself, then back to the list of that year."""

    template_name = "students/graduation/diploma_assign.html"

    def _form(self, request: HttpRequest, data: Any = None) -> DiplomaAssignForm:
        initial = {"year": timezone.localdate().year, "issue_date": timezone.localdate()}
        return DiplomaAssignForm(
            data, initial=initial, colleges=selectors.graduation_colleges_for(request.user)
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, self.template_name, {"form": self._form(request)})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = self._form(request, request.POST)
        context: dict[str, Any] = {"form": form}
        if form.is_valid():
            year: int = form.cleaned_data["year"]
            issue_date: date = form.cleaned_data["issue_date"]
            college = form.cleaned_data["college"]
            college_id = college.pk if college else None
            if "confirm" in request.POST:
                try:
                    result = diplomas_assign(
                        actor=Actor.from_request(request),
                        year=year,
                        issue_date=issue_date,
                        college_id=college_id,
                    )
                except DomainError as exc:
                    form.add_domain_error(exc)
                else:
                    messages.success(
                        request,
                        _(
                            "%(year)s 年：新编证书编号 %(numbered)s 个，"
                            "肄业证书 %(unnumbered)s 份，结业换发毕业证书 %(reissued)s 份。"
                        )
                        % {
                            "year": year,
                            "numbered": result.numbered,
                            "unnumbered": result.unnumbered,
                            "reissued": result.reissued,
                        },
                    )
                    url = reverse("diploma-list") + f"?year={year}"
                    return redirect(f"{url}&college={college_id}" if college_id else url)
            context["plan"] = selectors.diploma_plan(
                year=year,
                college_id=college_id,
                school=school_current(),
                parts=selectors.NumberParts.load(),
            )
        return render(request, self.template_name, context)


class DegreeListView(GraduationPageView):
    template_name = "students/graduation/degree_list.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        form, year, college_id = _filters(request)
        awards = selectors.degree_award_list_visible_to(
            request.user, year=year, college_id=college_id
        ).order_by("certificate_number")
        page = Paginator(awards, PAGE_SIZE).get_page(request.GET.get("page"))
        context = {
            "form": form,
            "page": page,
            "can_manage": permissions.can_manage_graduation(request.user),
        }
        return render(request, self.template_name, context)


class DegreeConferView(RegistrarPageView):
    """GET ?year=: the graduates of that year without a degree, to choose from, and the form.
    POST: confer, then show who received a degree and who was refused and why."""

    template_name = "students/graduation/degree_confer.html"

    def _context(self, request: HttpRequest, year: int, form: DegreeConferForm) -> dict[str, Any]:
        return {
            "form": form,
            "year": year,
            "candidates": selectors.degree_candidates(request.user, year=year),
        }

    @staticmethod
    def _year(request: HttpRequest) -> int:
        year = _number(request.POST.get("year") or request.GET.get("year") or "")
        return year if year is not None else timezone.localdate().year

    def get(self, request: HttpRequest) -> HttpResponse:
        form = DegreeConferForm(initial={"conferral_date": timezone.localdate()})
        return render(
            request, self.template_name, self._context(request, self._year(request), form)
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        year = self._year(request)
        form = DegreeConferForm(request.POST)
        context = self._context(request, year, form)
        if form.is_valid():
            ids = [int(v) for v in request.POST.getlist("students") if v.isascii() and v.isdigit()]
            try:
                result = degrees_confer(
                    actor=Actor.from_request(request),
                    student_ids=ids,
                    conferral_date=form.cleaned_data["conferral_date"],
                    decision_number=form.cleaned_data["decision_number"],
                    level=form.cleaned_data["level"],
                )
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                context["result"] = result
                context["candidates"] = selectors.degree_candidates(request.user, year=year)
        return render(request, self.template_name, context)
