"""Pages of the student record: home, list and search, detail, edit, consent.

The correction-request pages are in `changes/correction_views.py` (they use the approval
engine, which sits above this app).

Views parse input, check permission with `permissions` predicates, call one selector or service
and render. Scope is the selectors' job: anything outside it is a 404, never a 403.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from xueji.accounts.models import Role
from xueji.core import home
from xueji.core.context import Actor
from xueji.core.exceptions import DomainError, NotFound, PermissionDenied, ValidationFailed
from xueji.students import permissions, selectors, services
from xueji.students.display import record_sections
from xueji.students.forms import StudentEditForm, StudentFilterForm
from xueji.students.models import Student, StudentStatus

PAGE_SIZE = 50
# Statuses that get their own column in the home page's per-college table.
HOME_STATUS_COLUMNS = (StudentStatus.IN_SCHOOL, StudentStatus.SUSPENDED, StudentStatus.RESERVED)


class PageView(LoginRequiredMixin, View):
    """Base for every page here: login required; domain NotFound becomes 404 and domain
    PermissionDenied a 403 page carrying the service's message."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return super().dispatch(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except PermissionDenied as exc:
            raise HttpForbidden(exc.message) from exc


class StaffPageView(PageView):
    """Pages for staff only. A student is sent to `student_redirect`; other roles get 403."""

    student_redirect = "my-record"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if user.is_authenticated and not user.is_staff_member:
            if user.has_role(Role.STUDENT):
                return redirect(self.student_redirect)
            raise HttpForbidden(_("此页面仅限教职工使用。"))
        return super().dispatch(request, *args, **kwargs)


def _int_param(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name, "")
    # ASCII digits only: str.isdigit() also accepts "²" and other digits int() refuses.
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False)) and not request.htmx.boosted


# --- Home ----------------------------------------------------------------------------------


class HomeView(PageView):
    template_name = "students/home.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        context: dict[str, Any] = {"roles": user.roles}
        if user.has_role(Role.REGISTRAR, Role.COLLEGE_ADMIN, Role.AUDITOR):
            by_college = selectors.student_counts_by_college(user)
            for row in by_college:
                statuses = row["statuses"]
                row["main"] = [statuses.get(status, 0) for status in HOME_STATUS_COLUMNS]
                row["other"] = row["total"] - sum(row["main"])
            context["by_college"] = by_college
            context["status_columns"] = [StudentStatus(s).label for s in HOME_STATUS_COLUMNS]
            context["by_status"] = selectors.status_totals(by_college)
            context["total"] = sum(row["total"] for row in by_college)
        if user.has_role(Role.REGISTRAR, Role.COLLEGE_ADMIN, Role.COUNSELLOR):
            context["pending_corrections"] = selectors.correction_pending_count(user)
        if user.has_role(Role.COUNSELLOR):
            context["classes"] = selectors.class_summary_for(user)
        if user.has_role(Role.ADVISOR):
            advisees = selectors.advisees_of(user)
            context["advisees"] = advisees[:50]
            context["advisee_count"] = advisees.count()
        if user.has_role(Role.STUDENT):
            context["me"] = selectors.student_list_visible_to(user).filter(user_id=user.pk).first()
            if context["me"] is not None:
                context["my_pending"] = selectors.correction_list_visible_to(
                    user, status="pending"
                ).count()
                context["my_parents"] = selectors.parent_links_of_student(user)
        if user.has_role(Role.PARENT):
            context["children"] = selectors.children_with_consent(user)
        context["can_view_audit"] = permissions.can_view_audit(user)
        context["panels"] = home.panels_for(user)
        return render(request, self.template_name, context)


# --- Student list, detail, edit ------------------------------------------------------------


class StudentListView(StaffPageView):
    template_name = "students/student_list.html"
    partial_name = "students/_student_table.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        options = selectors.filter_options_for(
            user,
            college=_int_param(request, "college"),
            major=_int_param(request, "major"),
            cohort=_int_param(request, "cohort"),
        )
        form = StudentFilterForm(request.GET, options=options)
        students = selectors.student_search(user=user, **form.search_arguments())
        page = Paginator(selectors.DeferredJoinPages(students), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        htmx = _is_htmx(request)
        context = {
            "form": form,
            "page": page,
            "searching": any(form.search_arguments().values()),
            "oob_filters": htmx,
        }
        template = self.partial_name if htmx else self.template_name
        return render(request, template, context)


def _detail_context(request: HttpRequest, student: Student) -> dict[str, Any]:
    user = request.user
    return {
        "student": student,
        "sections": record_sections(student),
        "states": selectors.student_states_of(student),
        "timeline": selectors.timeline_for(student),
        "can_edit": permissions.can_edit_student(user, student),
        "can_reveal": permissions.can_view_full_id(user),
        "is_self": student.user_id is not None and student.user_id == user.pk,
        "is_staff": user.is_staff_member,
    }


class StudentDetailView(PageView):
    """Any role may open a record its scope reaches (a parent: a consenting child)."""

    template_name = "students/student_detail.html"

    def get(self, request: HttpRequest, student_number: str) -> HttpResponse:
        student = selectors.get_student_for(request.user, student_number)
        return render(request, self.template_name, _detail_context(request, student))


class MyRecordView(PageView):
    template_name = "students/student_detail.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        student = selectors.student_for_user(request.user)
        return render(request, self.template_name, _detail_context(request, student))


class StudentPhotoView(PageView):
    """The record's photo, to whoever may open the record (never a public /media/ URL)."""

    def get(self, request: HttpRequest, student_number: str) -> HttpResponse:
        student = selectors.get_student_for(request.user, student_number)
        if not student.photo:
            raise Http404(_("该学生没有照片。"))
        try:
            handle = student.photo.open("rb")
        except FileNotFoundError:
            raise Http404(_("该学生没有照片。")) from None
        response = FileResponse(handle, content_type=_photo_type(student.photo.name))
        response["Cache-Control"] = "private, max-age=300"
        return response


def _photo_type(name: str) -> str:
    return "image/png" if name.lower().endswith(".png") else "image/jpeg"


class StudentRevealIdView(PageView):
    """POST: show the full 证件号码 to a user granted it; the read is written to the audit chain."""

    def post(self, request: HttpRequest, student_number: str) -> HttpResponse:
        student = selectors.get_student_for(request.user, student_number)
        if not permissions.can_view_full_id(request.user):
            raise HttpForbidden(_("您没有查看完整证件号码的权限。"))
        number = services.student_reveal_id_number(
            actor=Actor.from_request(request),
            student=student,
            purpose=request.POST.get("purpose", "")[:100],
        )
        if _is_htmx(request):
            return render(request, "students/_id_revealed.html", {"id_number": number})
        context = _detail_context(request, student)
        context["revealed_id"] = number
        return render(request, "students/student_detail.html", context)


class StudentEditView(PageView):
    template_name = "students/student_edit.html"

    def _setup(self, request: HttpRequest, student_number: str) -> tuple[Student, frozenset[str]]:
        student = selectors.get_student_for(request.user, student_number)
        editable = permissions.editable_fields(request.user, student)
        if not editable:
            raise HttpForbidden(_("您无权修改该学生档案。"))
        return student, editable

    def get(self, request: HttpRequest, student_number: str) -> HttpResponse:
        student, editable = self._setup(request, student_number)
        form = StudentEditForm(
            student=student, editable=editable, options=selectors.edit_options_for(student)
        )
        return self._render(request, student, form)

    def post(self, request: HttpRequest, student_number: str) -> HttpResponse:
        student, editable = self._setup(request, student_number)
        form = StudentEditForm(
            request.POST,
            student=student,
            editable=editable,
            options=selectors.edit_options_for(student),
        )
        if form.is_valid():
            try:
                updated = services.student_update(
                    actor=Actor.from_request(request),
                    student=student,
                    changes=form.changes(),
                    reason=form.cleaned_data["reason"],
                )
            except ValidationFailed as exc:
                form.add_domain_errors(exc.errors)
            except DomainError as exc:  # PermissionDenied included: the message names fields
                form.add_domain_errors({exc.field or "__all__": [exc.message]})
            else:
                messages.success(request, _("档案已保存。"))
                return redirect("student-detail", student_number=updated.student_number)
        return self._render(request, student, form)

    def _render(
        self, request: HttpRequest, student: Student, form: StudentEditForm
    ) -> HttpResponse:
        context = {"student": student, "form": form, "locked": permissions.LOCKED_FIELDS}
        return render(request, self.template_name, context)


# --- Parent consent ------------------------------------------------------------------------


class MyParentsView(PageView):
    """The student's linked parents, with consent given or withdrawn here."""

    template_name = "students/my_parents.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        student = selectors.student_for_user(request.user)
        links = selectors.parent_links_of_student(request.user)
        return render(request, self.template_name, {"student": student, "links": links})


class MyParentConsentView(PageView):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        link = selectors.get_parent_link_for_student(request.user, pk)
        consent = request.POST.get("consent") == "1"
        services.parent_link_set_consent(
            actor=Actor.from_request(request), link=link, consent=consent
        )
        if consent:
            messages.success(
                request, _("已同意 %(parent)s 查看您的学籍信息。") % {"parent": link.parent}
            )
        else:
            messages.success(request, _("已撤回 %(parent)s 的查看权限。") % {"parent": link.parent})
        return redirect(reverse("my-parents"))
