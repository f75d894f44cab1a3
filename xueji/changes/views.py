"""Pages of 学籍异动: list, application form, request page (with the approval panel)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from xueji.changes import effects, permissions, rules, selectors, services
from xueji.changes.forms import applicant_field_specs, display_details, display_effects
from xueji.changes.models import ChangeStatus, ChangeType
from xueji.core.context import Actor
from xueji.core.exceptions import DomainError, NotFound, ValidationFailed
from xueji.students import selectors as student_selectors
from xueji.students.models import Student
from xueji.students.views import PageView
from xueji.workflow.selectors import flow_panel_context

PAGE_SIZE = 30


def _int(value: str) -> int | None:
    return int(value) if value.isdigit() else None


class ChangeListView(PageView):
    """Staff see requests in scope; a student sees their own."""

    template_name = "changes/change_list.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        params = request.GET
        status = params.get("status", "")
        rows = selectors.change_request_list(
            request.user,  # type: ignore[arg-type]
            status=status if status in ChangeStatus.values else "",
            change_type=params.get("type", "")[:40],
            college=_int(params.get("college", "")),
            query=params.get("q", "").strip()[:40],
        )
        page = Paginator(rows, PAGE_SIZE).get_page(params.get("page"))
        context = {
            "page": page,
            "statuses": ChangeStatus.choices,
            "types": ChangeType.objects.filter(is_active=True).order_by("order"),
            "filters": params,
            "is_staff": request.user.is_staff_member,  # type: ignore[union-attr]
        }
        return render(request, self.template_name, context)


class ChangeCreateView(PageView):
    """Apply for a change: a student for themself, staff for a student in scope (?student=学号)."""

    template_name = "changes/change_form.html"

    def _student(self, request: HttpRequest) -> Student:
        number = (request.POST.get("student") or request.GET.get("student") or "").strip()
        if number:
            return student_selectors.get_student_for(request.user, number)  # type: ignore[arg-type]
        return student_selectors.student_for_user(request.user)  # type: ignore[arg-type]

    def get(self, request: HttpRequest) -> HttpResponse:
        try:
            student = self._student(request)
        except NotFound:
            if request.GET.get("student"):
                raise
            return render(request, "changes/change_pick_student.html", {})
        return self._render(request, student, request.GET.get("type", ""), {}, {})

    def post(self, request: HttpRequest) -> HttpResponse:
        student = self._student(request)
        types = selectors.change_types_for_applicant(request.user, student)  # type: ignore[arg-type]
        change_type = types.filter(code=request.POST.get("type", "")).first()
        if change_type is None:
            raise HttpForbidden(_("您不能为该学生发起这种异动。"))
        attachments = [
            (label, request.FILES[f"attachment_{index}"])
            for index, label in enumerate(change_type.required_attachments)
            if f"attachment_{index}" in request.FILES
        ]
        attachments += [
            (_("其他材料"), upload) for upload in request.FILES.getlist("attachment_extra")
        ]
        overrides = {
            code: request.POST.get(f"override_{code}", "")
            for code in change_type.rules
            if request.POST.get(f"override_{code}", "").strip()
        }
        try:
            change = services.change_request_submit(
                actor=Actor.from_request(request),
                student=student,
                change_type=change_type,
                data=request.POST.dict(),
                attachments=attachments,
                overrides=overrides,
            )
        except ValidationFailed as exc:
            return self._render(request, student, change_type.code, request.POST, exc.errors)
        except DomainError as exc:
            return self._render(
                request,
                student,
                change_type.code,
                request.POST,
                {exc.field or "__all__": [exc.message]},
            )
        messages.success(request, _("申请已提交，编号 %(number)s。") % {"number": change.number})
        return redirect("change-detail", number=change.number)

    def _render(
        self,
        request: HttpRequest,
        student: Student,
        type_code: str,
        values: Any,
        errors: dict[str, list[str]],
    ) -> HttpResponse:
        user = request.user
        types = selectors.change_types_for_applicant(user, student)  # type: ignore[arg-type]
        if not types.exists():
            raise HttpForbidden(_("您不能为该学生发起学籍异动。"))
        change_type = types.filter(code=type_code).first()
        context: dict[str, Any] = {
            "student": student,
            "types": types,
            "change_type": change_type,
            "values": values,
            "errors": errors,
            "general_errors": errors.get("__all__", []) + errors.get("rules", []),
            "for_self": student.user_id == user.pk,
        }
        if change_type is not None:
            context["fields"] = applicant_field_specs(change_type, student, values, errors)
            context["can_override"] = permissions.is_registrar_for(user, student)  # type: ignore[arg-type]
            context["overridable_rules"] = [
                rules.RULES[code]
                for code in change_type.rules
                if code in rules.RULES and rules.RULES[code].overridable
            ]
        return render(request, self.template_name, context)


class ChangeDetailView(PageView):
    template_name = "changes/change_detail.html"

    def get(self, request: HttpRequest, number: str) -> HttpResponse:
        user = request.user
        change = selectors.get_change_for(user, number)  # type: ignore[arg-type]
        staff = permissions.is_staff_in_scope(user, change.student)  # type: ignore[arg-type]
        context: dict[str, Any] = {
            "change": change,
            "staff": staff,
            "details": display_details(change.details),
        }
        if change.status in (ChangeStatus.APPLIED, ChangeStatus.REVOKED):
            context["effects"] = display_effects(change.before, change.after)
        else:
            after = effects.compute_after(change.student, change, services.rule_parameters())
            context["effects"] = display_effects(
                effects.snapshot(change.student), effects.as_plain(after)
            )
        if staff and change.status in (ChangeStatus.IN_REVIEW, ChangeStatus.RETURNED):
            context["failures"] = rules.check_request(change, stage="approve")
            context["can_override"] = permissions.can_override_rules(user, change)  # type: ignore[arg-type]
        context["can_apply_now"] = (
            change.status == ChangeStatus.APPROVED and permissions.can_apply_now(user, change)  # type: ignore[arg-type]
        )
        if change.flow_id:
            context.update(flow_panel_context(user, change.flow))  # type: ignore[arg-type]
        return render(request, self.template_name, context)


class ChangeOverrideView(PageView):
    """POST: the registrar sets an overridable rule aside for this request, with a reason."""

    def post(self, request: HttpRequest, number: str) -> HttpResponse:
        change = selectors.get_change_for(request.user, number)  # type: ignore[arg-type]
        try:
            services.change_rules_override(
                actor=Actor.from_request(request),
                request=change,
                rule=request.POST.get("rule", ""),
                reason=request.POST.get("reason", ""),
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已记录规则豁免。"))
        return redirect("change-detail", number=number)


class ChangeApplyNowView(PageView):
    """POST: the registrar applies an approved change whose date has come (normally automatic)."""

    def post(self, request: HttpRequest, number: str) -> HttpResponse:
        change = selectors.get_change_for(request.user, number)  # type: ignore[arg-type]
        if not permissions.can_apply_now(request.user, change):  # type: ignore[arg-type]
            raise HttpForbidden(_("只有校级学籍管理员可以手动执行生效。"))
        try:
            services.change_apply(actor=Actor.from_request(request), request=change)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("异动已生效。"))
        return redirect("change-detail", number=number)
