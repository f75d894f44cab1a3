"""Pages: the student's 我的证明, the staff list with revocation, and the public verification
page `/verify/<code>/` (no login, rate-limited per IP)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from xueji.accounts.models import Role
from xueji.certificates import approvals, batches, permissions, selectors, services
from xueji.certificates.builtin import TEMPLATE_VARIABLES
from xueji.certificates.models import DocumentStatus, DocumentType
from xueji.certificates.ratelimit import MAX_UPLOAD, VERIFY_WINDOW, verify_over_limit
from xueji.certificates.rules import RULES
from xueji.core.context import Actor, client_ip
from xueji.core.exceptions import DomainError, ValidationFailed
from xueji.students import selectors as student_selectors
from xueji.students.views import PageView

PAGE_SIZE = 30


class MyDocumentsView(PageView):
    """我的证明: the student's documents, and the types they may request (or why not)."""

    template_name = "certificates/my_documents.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        student = student_selectors.student_for_user(request.user)  # type: ignore[arg-type]
        return self._render(request, student)

    def post(self, request: HttpRequest) -> HttpResponse:
        student = student_selectors.student_for_user(request.user)  # type: ignore[arg-type]
        if "purpose" in request.POST:  # a type that needs approval: a request, not a document
            return self._submit(request, student)
        try:
            document = services.document_request(
                Actor.from_request(request),
                student,
                request.POST.get("type", "")[:20],
                request.POST.get("language", "zh")[:10],
            )
        except DomainError as exc:
            messages.error(request, exc.message)
            return self._render(request, student, status=400)
        messages.success(
            request,
            _("已开具%(name)s，编号 %(serial)s。")
            % {"name": document.document_type.display_name, "serial": document.serial},
        )
        return redirect("my-documents")

    def _submit(self, request: HttpRequest, student) -> HttpResponse:
        try:
            submitted = approvals.document_request_submit(
                Actor.from_request(request),
                student,
                request.POST.get("type", "")[:20],
                request.POST.get("language", "zh")[:10],
                request.POST.get("purpose", ""),
            )
        except ValidationFailed as exc:
            for problems in exc.errors.values():
                for problem in problems:
                    messages.error(request, problem)
            return self._render(request, student, status=400)
        except DomainError as exc:
            messages.error(request, exc.message)
            return self._render(request, student, status=400)
        messages.success(
            request,
            _("已提交%(name)s申请，学籍管理部门审核通过后即可下载。")
            % {"name": submitted.document_type.display_name},
        )
        return redirect("my-documents")

    def _render(self, request: HttpRequest, student, status: int = 200) -> HttpResponse:
        context = {
            "student": student,
            "documents": selectors.documents_of(student),
            "requests": selectors.requests_of(student),
            "options": selectors.type_options_for(request.user, student),  # type: ignore[arg-type]
        }
        return render(request, self.template_name, context, status=status)


class RequestWithdrawView(PageView):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        document_request = selectors.get_request_for(request.user, pk)  # type: ignore[arg-type]
        try:
            approvals.document_request_withdraw(
                Actor.from_request(request), document_request, request.POST.get("reason", "")
            )
        except DomainError as exc:
            if exc.code == "permission_denied":
                raise
            messages.error(request, exc.message)
        else:
            messages.success(request, _("申请已撤回。"))
        return redirect("my-documents")


class DocumentDownloadView(PageView):
    def get(self, request: HttpRequest, pk: int) -> HttpResponseBase:
        document = selectors.get_document_for(request.user, pk)  # type: ignore[arg-type]
        return services.document_open(actor=Actor.from_request(request), document=document)


class DocumentListView(PageView):
    """Issued documents in the registrar's / college admin's scope."""

    template_name = "certificates/document_list.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        if not permissions.is_issuing_staff(request.user):  # type: ignore[arg-type]
            raise HttpForbidden(_("只有学籍管理部门和学院管理员可以查看已开具的证明。"))
        query = request.GET.get("q", "").strip()[:40]
        rows = selectors.document_list_visible_to(request.user, query=query)  # type: ignore[arg-type]
        page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
        context = {
            "page": page,
            "query": query,
            "can_revoke": request.user.has_role(Role.REGISTRAR),  # type: ignore[union-attr]
        }
        return render(request, self.template_name, context)


class DocumentRevokeView(PageView):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not request.user.has_role(Role.REGISTRAR):  # type: ignore[union-attr]
            raise HttpForbidden(_("只有学籍管理部门可以撤销证明。"))
        document = selectors.get_document_for(request.user, pk)  # type: ignore[arg-type]
        try:
            services.document_revoke(
                Actor.from_request(request), document, request.POST.get("reason", "")
            )
        except DomainError as exc:
            if exc.code == "permission_denied":
                raise
            messages.error(request, exc.message)
        else:
            messages.success(request, _("证明 %(serial)s 已撤销。") % {"serial": document.serial})
        return redirect("document-list")


class DocumentReissueView(PageView):
    """The registrar issues a fresh copy; the old document becomes superseded."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not request.user.has_role(Role.REGISTRAR):  # type: ignore[union-attr]
            raise HttpForbidden(_("只有学籍管理部门可以重新开具证明。"))
        document = selectors.get_document_for(request.user, pk)  # type: ignore[arg-type]
        try:
            new = services.document_reissue(
                Actor.from_request(request), document, request.POST.get("reason", "")
            )
        except ValidationFailed as exc:
            messages.error(request, next(iter(exc.errors.values()))[0])
        except DomainError as exc:
            if exc.code == "permission_denied":
                raise
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("已重新开具，新编号 %(new)s；原证明 %(old)s 已标记为被取代。")
                % {"new": new.serial, "old": document.serial},
            )
        return redirect("document-list")


class BatchView(PageView):
    """批量开具: one type for a class or a cohort, as a background job; the batches so far."""

    template_name = "certificates/batch.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        self._require(request)
        return self._render(request, {}, {})

    def post(self, request: HttpRequest) -> HttpResponse:
        self._require(request)
        values = {
            key: request.POST.get(key, "")[:40]
            for key in ("type", "language", "output", "school_class", "cohort", "college", "major")
        }
        try:
            batch = batches.document_batch_start(
                Actor.from_request(request),
                type_code=values["type"],
                language=values["language"] or "zh",
                output=values["output"],
                **batches.batch_scope_from_ids(
                    school_class=values["school_class"],
                    cohort=values["cohort"],
                    college=values["college"],
                    major=values["major"],
                ),
            )
        except ValidationFailed as exc:
            return self._render(request, values, exc.errors, status=400)
        except DomainError as exc:
            if exc.code == "permission_denied":
                raise
            return self._render(request, values, {"": [exc.message]}, status=400)
        messages.success(request, _("已开始批量开具，完成后可在此下载结果文件。"))
        return redirect("job-detail", pk=batch.job_id)

    @staticmethod
    def _require(request: HttpRequest) -> None:
        if not permissions.can_issue_batch(request.user):  # type: ignore[arg-type]
            raise HttpForbidden(_("只有学籍管理部门和学院管理员可以批量开具证明。"))

    def _render(self, request, values, errors, status: int = 200) -> HttpResponse:
        context = {
            "values": values,
            "errors": errors,
            "form_errors": errors.get("", []),
            "choices": batches.batch_choices(request.user),
            "batches": selectors.batches_visible_to(request.user)[:20],  # type: ignore[arg-type]
        }
        return render(request, self.template_name, context, status=status)


class VerifyView(View):
    """Public: what the QR code on a document points at. Masked data only."""

    template_name = "certificates/verify.html"

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
        if verify_over_limit(client_ip(request)):
            response = render(
                request,
                "certificates/verify_limited.html",
                {"minutes": VERIFY_WINDOW // 60},
                status=429,
            )
            response["Retry-After"] = str(VERIFY_WINDOW)
            return response
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest, code: str) -> HttpResponse:
        document, _matches = services.document_verify(ip=client_ip(request), code=code)
        return self._render(request, code, document, None, "")

    def post(self, request: HttpRequest, code: str) -> HttpResponse:
        # Anonymous: refuse an oversized body before Django reads and stores it.
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if not declared.isdigit() or int(declared) > MAX_UPLOAD + 64 * 1024:
            document, _matches = services.document_verify(ip=client_ip(request), code=code)
            return self._render(
                request, code, document, None, _("文件过大（超过 20 MB），不是本系统开具的证明。")
            )
        upload = request.FILES.get("pdf")
        error = ""
        content = None
        if upload is None:
            error = _("请选择要核对的 PDF 文件。")
        elif upload.size > MAX_UPLOAD:
            error = _("文件过大（超过 20 MB），不是本系统开具的证明。")
        else:
            content = upload.read()
        document, matches = services.document_verify(
            ip=client_ip(request), code=code, upload=content
        )
        return self._render(request, code, document, matches, error)

    def _render(self, request, code, document, matches, error) -> HttpResponse:
        if document is None:
            return render(request, "certificates/verify_not_found.html", {"code": code}, status=404)
        context = {
            "document": document,
            "masked_name": services.mask_name(document.student.name),
            "masked_number": services.mask_number(document.student.student_number),
            "matches": matches,
            "error": error,
            "statuses": DocumentStatus,
        }
        return render(request, self.template_name, context)


class DocumentTypeListView(PageView):
    """证明类型与模板: the registrar's list of document types."""

    template_name = "certificates/type_list.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        _require_type_editor(request)
        context = {"types": DocumentType.objects.all(), "rules": RULES}
        return render(request, self.template_name, context)


def _require_type_editor(request: HttpRequest) -> None:
    if not permissions.can_edit_types(request.user):  # type: ignore[arg-type]
        raise HttpForbidden(_("只有学籍管理部门可以修改证明类型和模板。"))


_TYPE_TEXT_FIELDS = ("name", "name_en", "free_per_term", "template_html", "template_html_en")
_TYPE_FLAGS = ("for_students", "for_graduates", "for_staff", "auto_issue", "is_active")


class DocumentTypeEditView(PageView):
    """Edit a type and its templates; 预览 renders the unsaved template with a sample student
    to a PDF shown inline (nothing stored, nothing issued)."""

    template_name = "certificates/type_edit.html"

    def get(self, request: HttpRequest, code: str) -> HttpResponse:
        _require_type_editor(request)
        document_type = self._type(code)
        values = {field: getattr(document_type, field) for field in services.EDITABLE_FIELDS}
        return self._render(request, document_type, values, {})

    def post(self, request: HttpRequest, code: str) -> HttpResponseBase:
        _require_type_editor(request)
        document_type = self._type(code)
        values: dict[str, object] = {f: request.POST.get(f, "") for f in _TYPE_TEXT_FIELDS}
        values.update({f: request.POST.get(f) == "on" for f in _TYPE_FLAGS})
        values["rules"] = request.POST.getlist("rules")
        action = request.POST.get("action", "save")
        actor = Actor.from_request(request)
        try:
            if action in ("preview", "preview_en"):
                language = "en" if action == "preview_en" else "zh"
                source = values["template_html_en" if language == "en" else "template_html"]
                content = services.document_type_preview(actor, str(source), language)
                response = HttpResponse(content, content_type="application/pdf")
                response["Content-Disposition"] = f'inline; filename="preview-{code}.pdf"'
                response["Cache-Control"] = "no-store"
                return response
            services.document_type_save(actor, document_type, values)
        except ValidationFailed as exc:
            return self._render(request, document_type, values, exc.errors, status=400)
        except DomainError as exc:
            if exc.code == "permission_denied":
                raise
            return self._render(
                request, document_type, values, {exc.field or "": [exc.message]}, status=400
            )
        messages.success(request, _("已保存“%(name)s”。") % {"name": document_type.name})
        return redirect("document-type-edit", code=document_type.code)

    @staticmethod
    def _type(code: str) -> DocumentType:
        document_type = DocumentType.objects.filter(code=code[:20]).first()
        if document_type is None:
            raise Http404(_("没有这种证明类型。"))
        return document_type

    def _render(self, request, document_type, values, errors, status: int = 200) -> HttpResponse:
        fields = services.EDITABLE_FIELDS
        field_errors = {k: v for k, v in errors.items() if k in fields}
        other_errors = [m for k, v in errors.items() if k not in fields for m in v]
        context = {
            "document_type": document_type,
            "values": values,
            "errors": field_errors,
            "other_errors": other_errors,
            "rules": RULES.values(),
            "variables": TEMPLATE_VARIABLES,
        }
        return render(request, self.template_name, context, status=status)
