"""Reads for documents: a student's own, staff lists in scope, the public verification view."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, QuerySet

from xueji.accounts.models import Role, User
from xueji.certificates import permissions
from xueji.certificates.models import (
    DocumentBatch,
    DocumentRequest,
    DocumentType,
    IssuedDocument,
    RequestStatus,
)
from xueji.certificates.rules import Context, RuleFailure, check_eligibility
from xueji.core.exceptions import NotFound, PermissionDenied
from xueji.org.models import Term
from xueji.org.selectors import term_current
from xueji.students.models import Student
from xueji.students.selectors import scope_filter, student_for_user
from xueji.workflow.models import Flow

# The approval flows of certificate requests (`approvals.FLOW_KIND`; approvals imports this).
FLOW_KIND = "certificate"


def current_term() -> Term | None:
    """The term today falls in (registration state and the free quota count against it)."""
    return term_current()


def documents_of(student: Student) -> QuerySet[IssuedDocument]:
    return IssuedDocument.objects.filter(student=student).select_related("document_type", "student")


def document_list_visible_to(user: User, *, query: str = "") -> QuerySet[IssuedDocument]:
    """Documents of students in the registrar's / college admin's scope, newest first."""
    rows = IssuedDocument.objects.filter(
        student__in=Student.objects.filter(scope_filter(user, permissions.ISSUING_ROLES))
    ).select_related("document_type", "student", "revoked_by")
    if query:
        rows = rows.filter(serial__startswith=query) | rows.filter(student__student_number=query)
    return rows


def get_document_for(user: User, pk: int) -> IssuedDocument:
    """The document if `user` may see it (its student, or issuing staff in scope); else NotFound."""
    document = (
        IssuedDocument.objects.select_related("document_type", "student").filter(pk=pk).first()
    )
    if document is None or not permissions.can_see_document(user, document):
        raise NotFound("未找到该证明，或您无权查看。")
    return document


def document_by_code(code: str) -> IssuedDocument | None:
    if not code or len(code) > 32:
        return None
    return (
        IssuedDocument.objects.select_related("document_type", "student")
        .filter(verification_code=code)
        .first()
    )


def _counted_for_quota(student: Student, term: Term | None) -> QuerySet[IssuedDocument]:
    """The student's documents that count against the term's free quota: not batch copies,
    not re-issues."""
    return IssuedDocument.objects.filter(
        student=student, term=term, batch__isnull=True, supersedes__isnull=True
    )


def issued_this_term(student: Student, document_type: DocumentType, term: Term | None) -> int:
    return _counted_for_quota(student, term).filter(document_type=document_type).count()


@dataclass(frozen=True)
class TypeOption:
    """A type as the student's portal offers it: whether it can be requested now, and why not."""

    document_type: DocumentType
    failures: list[RuleFailure]
    used: int
    pending: bool = False  # an approval type with a request waiting

    @property
    def needs_approval(self) -> bool:
        return not self.document_type.auto_issue

    @property
    def remaining(self) -> int:
        return max(self.document_type.free_per_term - self.used, 0)

    @property
    def reasons(self) -> list[str]:
        messages = [failure.message for failure in self.failures]
        if self.pending:
            messages.append("已有一份申请正在审核中，请等待处理或先撤回。")
        if not self.remaining and not self.needs_approval:
            messages.append(quota_message(self.document_type))
        return messages


def quota_message(document_type: DocumentType) -> str:
    return (
        f"本学期{document_type.name}的免费份数（{document_type.free_per_term} 份）已用完，"
        "不能再开具。如确有需要，请联系学籍管理部门。"
    )


def type_options_for(user: User, student: Student) -> list[TypeOption]:
    """The active types `user` may ask for for `student`, each with its failing rules, the
    documents counted against this term's quota and whether a request waits (read once)."""
    term = current_term()
    used = dict(
        _counted_for_quota(student, term)
        .values("document_type")
        .annotate(n=Count("pk"))
        .values_list("document_type", "n")
    )
    pending = set(
        DocumentRequest.objects.filter(student=student, status=RequestStatus.PENDING).values_list(
            "document_type", flat=True
        )
    )
    options = []
    for document_type in DocumentType.objects.filter(is_active=True):
        if not permissions.can_request(user, student, document_type):
            continue
        ctx = Context(
            student=student,
            document_type=document_type,
            term=term,
            for_self=permissions.is_own_student(user, student),
        )
        options.append(
            TypeOption(
                document_type,
                check_eligibility(ctx),
                used.get(document_type.pk, 0),
                pending=document_type.pk in pending,
            )
        )
    return options


def requests_of(student: Student) -> QuerySet[DocumentRequest]:
    return DocumentRequest.objects.filter(student=student).select_related(
        "document_type", "document"
    )


def get_request_for(user: User, pk: int) -> DocumentRequest:
    """A request its student (or issuing staff in scope) may see; else NotFound."""
    request = (
        DocumentRequest.objects.select_related("document_type", "student").filter(pk=pk).first()
    )
    if request is None or not (
        permissions.is_own_student(user, request.student)
        or permissions.is_issuer_for(user, request.student)
    ):
        raise NotFound("未找到该申请，或您无权查看。")
    return request


def batches_visible_to(user: User) -> QuerySet[DocumentBatch]:
    """Batches the user started; the registrar sees every batch."""
    rows = DocumentBatch.objects.select_related(
        "document_type", "school_class", "cohort", "college", "major", "job", "requested_by"
    )
    if permissions.can_edit_types(user):  # the registrar
        return rows
    return rows.filter(requested_by=user)


def types_visible_to(user: User) -> list[DocumentType]:
    """Active types: all for the registrar; those staff may issue for a college admin; those a
    student may request for themself (a graduate: the types open to graduates). Anyone else:
    PermissionDenied."""
    staff = permissions.is_issuing_staff(user)
    if not (staff or user.has_role(Role.STUDENT)):
        raise PermissionDenied("只有学生、学籍管理部门和学院管理员可以查看证明类型。")
    active = list(DocumentType.objects.filter(is_active=True))
    if user.has_role(Role.REGISTRAR):
        return active
    own = student_for_user(user) if user.has_role(Role.STUDENT) else None
    return [
        document_type
        for document_type in active
        if (staff and document_type.for_staff)
        or (own is not None and permissions.can_request(user, own, document_type))
    ]


def request_list_visible_to(user: User) -> QuerySet[DocumentRequest]:
    """Staff: the requests of students in their issuing scope; a student: their own. Anyone
    else: PermissionDenied. Newest first."""
    if permissions.is_issuing_staff(user):
        students = Student.objects.filter(scope_filter(user, permissions.ISSUING_ROLES))
        return DocumentRequest.objects.filter(student__in=students).select_related(
            "document_type", "student"
        )
    if user.has_role(Role.STUDENT):
        return requests_of(student_for_user(user)).select_related("student")
    raise PermissionDenied("只有学生本人、学籍管理部门和学院管理员可以查看证明申请。")


def request_flow_ids(requests: Iterable[DocumentRequest]) -> dict[int, int]:
    """Request id -> approval flow id, for a page of requests in one query."""
    ids = [request.pk for request in requests]
    rows = Flow.objects.filter(kind=FLOW_KIND, subject_id__in=ids)
    return dict(rows.values_list("subject_id", "pk"))


def get_batch_for(user: User, pk: int) -> DocumentBatch:
    """A batch the user started (the registrar: any batch); else NotFound."""
    batch = batches_visible_to(user).filter(pk=pk).first()
    if batch is None:
        raise NotFound("未找到该批次，或您无权查看。")
    return batch
