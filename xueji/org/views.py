"""Pages of the organisation (school, colleges, majors, classes, terms) and the code tables.

Staff read; only the registrar edits, always through `xueji.org.services`.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, TemplateView

from xueji.core import exceptions
from xueji.core.context import Actor
from xueji.org import selectors, services
from xueji.org.forms import (
    AcademicYearForm,
    BootstrapForm,
    ClassForm,
    CohortForm,
    CollegeForm,
    MajorForm,
    SchoolForm,
)
from xueji.org.models import CodeTable, College, Major, SchoolClass
from xueji.org.permissions import can_browse_codes, can_manage_org, can_view_org

if TYPE_CHECKING:
    from xueji.accounts.models import User

CODE_PAGE_SIZE = 50
CLASS_PAGE_SIZE = 100

REGION_LEVELS = {
    "province": gettext_lazy("省级"),
    "prefecture": gettext_lazy("地级"),
    "county": gettext_lazy("县级"),
}


def _querystring_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


class PredicateRequiredMixin(LoginRequiredMixin):
    """Anonymous users go to the login page; logged-in users failing `predicate` get 403."""

    predicate: Callable[[User], bool] = staticmethod(can_view_org)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated and not self.predicate(request.user):  # type: ignore[arg-type]
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class OrgContextMixin:
    request: HttpRequest

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)  # type: ignore[misc]
        context["can_manage"] = can_manage_org(self.request.user)  # type: ignore[arg-type]
        return context


def _major_rows(majors: Any) -> list[dict[str, Any]]:
    """Majors with the catalogue name of their national code and the name of their level."""
    catalogue = selectors.code_names(CodeTable.MAJOR_CATALOGUE)
    levels = selectors.code_names(CodeTable.EDUCATION_LEVEL)
    return [
        {
            "major": major,
            "catalogue_name": catalogue.get(major.national_code, ""),
            "level_name": levels.get(major.level, major.level),
        }
        for major in majors
    ]


class OrgHomeView(PredicateRequiredMixin, OrgContextMixin, TemplateView):
    template_name = "org/home.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            school=selectors.school_current(),
            colleges=selectors.college_list_with_counts(),
            cohorts=selectors.cohort_list(),
            academic_years=selectors.academic_year_list(),
            current_term=selectors.term_current(),
        )
        return context


class CollegeDetailView(PredicateRequiredMixin, OrgContextMixin, TemplateView):
    template_name = "org/college_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        college = get_object_or_404(College, pk=kwargs["pk"])
        context.update(
            college=college,
            majors=_major_rows(selectors.major_list(college=college.pk)),
            classes=selectors.class_list(college=college.pk),
        )
        return context


class MajorListView(PredicateRequiredMixin, OrgContextMixin, TemplateView):
    template_name = "org/major_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["majors"] = _major_rows(selectors.major_list())
        return context


class ClassListView(PredicateRequiredMixin, OrgContextMixin, TemplateView):
    template_name = "org/class_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        page = Paginator(selectors.class_list(), CLASS_PAGE_SIZE).get_page(
            self.request.GET.get("page")
        )
        context.update(page=page, classes=page.object_list, querystring="")
        return context


class MajorCatalogueLookupView(PredicateRequiredMixin, TemplateView):
    """htmx fragment: the catalogue name for the national code being typed."""

    template_name = "org/includes/catalogue_name.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        code = self.request.GET.get("national_code", "").strip().upper().rstrip("TK")
        context["national_code"] = code
        context["catalogue_name"] = selectors.code_name(CodeTable.MAJOR_CATALOGUE, code)
        return context


class ServiceFormView(PredicateRequiredMixin, FormView):
    """A registrar's edit screen: the form parses, one service saves and audits, errors show
    next to their field."""

    predicate = staticmethod(can_manage_org)
    template_name = "org/form.html"
    form_class: type[BootstrapForm]
    heading: Any = ""
    cancel_url_name = "org-home"

    @cached_property
    def object(self) -> Model | None:
        return None

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        if self.object is not None:
            kwargs["initial"] = self.initial_from(self.object)
        return kwargs

    def initial_from(self, instance: Model) -> dict[str, Any]:
        form_class = self.get_form_class()
        return {name: getattr(instance, name) for name in form_class.base_fields}

    def save(self, actor: Actor, data: dict[str, Any]) -> Model:
        raise NotImplementedError

    def success_url_for(self, saved: Model) -> str:
        return reverse("org-home")

    def form_valid(self, form: BootstrapForm) -> HttpResponse:  # type: ignore[override]
        try:
            saved = self.save(Actor.from_request(self.request), dict(form.cleaned_data))
        except exceptions.PermissionDenied as exc:
            raise PermissionDenied(exc.message) from exc
        except exceptions.NotFound as exc:
            raise Http404(exc.message) from exc
        except exceptions.DomainError as exc:
            form.add_domain_error(exc)
            return self.form_invalid(form)
        messages.success(self.request, _("已保存：%(name)s") % {"name": saved})
        return redirect(self.success_url_for(saved))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["heading"] = self.heading
        context["object"] = self.object
        context["cancel_url"] = reverse(self.cancel_url_name)
        return context


class SchoolEditView(ServiceFormView):
    form_class = SchoolForm
    heading = gettext_lazy("编辑学校信息")

    @cached_property
    def object(self) -> Model | None:
        return selectors.school_current()

    def save(self, actor: Actor, data: dict[str, Any]) -> Model:
        return services.school_save(actor=actor, values=data)


class CollegeCreateView(ServiceFormView):
    form_class = CollegeForm
    heading = gettext_lazy("新建学院")

    def save(self, actor: Actor, data: dict[str, Any]) -> Model:
        return services.college_save(actor=actor, values=data)

    def success_url_for(self, saved: Model) -> str:
        return reverse("org-college-detail", args=[saved.pk])


class CollegeEditView(CollegeCreateView):
    heading = gettext_lazy("编辑学院")

    @cached_property
    def object(self) -> College:
        return get_object_or_404(College, pk=self.kwargs["pk"])

    def save(self, actor: Actor, data: dict[str, Any]) -> Model:
        return services.college_save(actor=actor, values=data, college=self.object)


class MajorCreateView(ServiceFormView):
    form_class = MajorForm
    heading = gettext_lazy("新建专业")
    cancel_url_name = "org-major-list"

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["major"] = self.object
        if self.object is None and "college" in self.request.GET:
            kwargs.setdefault("initial", {})["college"] = self.request.GET["college"]
        return kwargs

    def get_form(self, form_class: Any = None) -> BootstrapForm:
        form = super().get_form(form_class)
        form.fields["national_code"].widget.attrs.update(
            {
                "hx-get": reverse("org-major-catalogue-lookup"),
                "hx-trigger": "input changed delay:300ms, change",
                "hx-target": "#catalogue-name",
                "hx-swap": "outerHTML",
            }
        )
        return form

    def initial_from(self, instance: Model) -> dict[str, Any]:
        initial = super().initial_from(instance)
        # Choices are the CHSI texts ("4", "4.5"); the model holds Decimal("4.0").
        initial["duration"] = format(Decimal(initial["duration"]).normalize(), "f")
        return initial

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = context["form"]
        code = (form["national_code"].value() or "").strip().upper().rstrip("TK")
        context["national_code"] = code
        context["catalogue_name"] = selectors.code_name(CodeTable.MAJOR_CATALOGUE, code)
        return context

    def save(self, actor: Actor, data: dict[str, Any]) -> Model:
        return services.major_save(actor=actor, values=data)

    def success_url_for(self, saved: Model) -> str:
        return reverse("org-major-list")


class MajorEditView(MajorCreateView):
    heading = gettext_lazy("编辑专业")

    @cached_property
    def object(self) -> Major:
        return get_object_or_404(Major, pk=self.kwargs["pk"])

    def save(self, actor: Actor, data: dict[str, Any]) -> Model:
        return services.major_save(actor=actor, values=data, major=self.object)


class ClassCreateView(ServiceFormView):
    form_class = ClassForm
    heading = gettext_lazy("新建班级")
    cancel_url_name = "org-class-list"

    def save(self, actor: Actor, data: dict[str, Any]) -> Model:
        return services.class_save(actor=actor, values=data)

    def success_url_for(self, saved: Model) -> str:
        return reverse("org-class-list")


class ClassEditView(ClassCreateView):
    heading = gettext_lazy("编辑班级")

    @cached_property
    def object(self) -> SchoolClass:
        return get_object_or_404(SchoolClass, pk=self.kwargs["pk"])

    def save(self, actor: Actor, data: dict[str, Any]) -> Model:
        return services.class_save(actor=actor, values=data, school_class=self.object)


class CohortCreateView(ServiceFormView):
    form_class = CohortForm
    heading = gettext_lazy("新建年级")

    def save(self, actor: Actor, data: dict[str, Any]) -> Model:
        return services.cohort_ensure(actor=actor, year=data["year"])


class AcademicYearCreateView(ServiceFormView):
    form_class = AcademicYearForm
    heading = gettext_lazy("新建学年")

    def save(self, actor: Actor, data: dict[str, Any]) -> Model:
        return services.academic_year_save(actor=actor, start_year=data["start_year"])


class CodeTableListView(PredicateRequiredMixin, TemplateView):
    predicate = staticmethod(can_browse_codes)
    template_name = "org/code_table_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["tables"] = selectors.code_table_list()
        context["can_manage_mappings"] = can_manage_org(self.request.user)  # type: ignore[arg-type]
        return context


class CodeMappingListView(PredicateRequiredMixin, TemplateView):
    """Code mappings from other systems, per source system (registrar only: they decide how
    imported codes are read)."""

    predicate = staticmethod(can_manage_org)
    template_name = "org/code_mapping_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        systems = selectors.code_mapping_systems()
        system = self.request.GET.get("system", "")
        if not system and systems:
            system = str(systems[0]["system"])
        table = self.request.GET.get("table", "")
        if table not in CodeTable.values:
            table = ""
        page = None
        if system:
            mappings = selectors.code_mapping_list(system=system, table=table)
            page = Paginator(mappings, CODE_PAGE_SIZE).get_page(self.request.GET.get("page"))
        context.update(
            systems=systems,
            system=system,
            table=table,
            tables=CodeTable.choices,
            page=page,
            querystring=_querystring_without_page(self.request),
        )
        return context


# Columns shown beyond code and name, read from CodeItem.extra: (label, key).
EXTRA_COLUMNS: dict[str, list[tuple[Any, str]]] = {
    CodeTable.MAJOR_CATALOGUE: [
        (gettext_lazy("专业类"), "category"),
        (gettext_lazy("学位授予门类"), "degree"),
        (gettext_lazy("修业年限"), "years"),
    ],
    CodeTable.REGION: [(gettext_lazy("级别"), "level")],
}


class CodeTableDetailView(PredicateRequiredMixin, TemplateView):
    predicate = staticmethod(can_browse_codes)
    template_name = "org/code_table_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        table = kwargs["table"]
        if table not in CodeTable.values:
            raise Http404(_("没有这个代码表"))
        query = self.request.GET.get("q", "").strip()[:50]
        current_only = self.request.GET.get("current") == "1"
        items = selectors.code_item_list(
            table=table, query=query, include_historical=not current_only
        )
        page = Paginator(items, CODE_PAGE_SIZE).get_page(self.request.GET.get("page"))
        columns = EXTRA_COLUMNS.get(table, [])
        rows = []
        for item in page.object_list:
            values = [item.extra.get(key, "") for _label, key in columns]
            if table == CodeTable.REGION:
                values = [REGION_LEVELS.get(str(v), v) for v in values]
            rows.append({"item": item, "extra": values})
        version = next(
            (t["version"] for t in selectors.code_table_list() if t["table"] == table), None
        )
        context.update(
            querystring=_querystring_without_page(self.request),
            table=table,
            label=CodeTable(table).label,
            version=version,
            query=query,
            current_only=current_only,
            page=page,
            rows=rows,
            columns=[label for label, _key in columns],
            show_parent=table not in (CodeTable.MAJOR_CATALOGUE,),
        )
        return context
