"""Reads for documents: a student's own, staff lists in scope, the public verification view."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from xueji.accounts.models import User
from xueji.certificates import permissions
from xueji.certificates.models import DocumentType, IssuedDocument
from xueji.certificates.rules import Context, RuleFailure, check_eligibility
from xueji.core.exceptions import NotFound
from xueji.org.models import Term
from xueji.org.selectors import term_current
from xueji.students.models import Student
from xueji.students.selectors import scope_filter


def current_term() -> Term | None:
    """The term today falls in (registration state and the free quota count against it)."""
    return term_current()


def documents_of(student: Student) -> QuerySet[IssuedDocument]:
    return IssuedDocument.objects.filter(student=student).select_related("document_type")


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


def issued_this_term(student: Student, document_type: DocumentType, term: Term | None) -> int:
    return IssuedDocument.objects.filter(
        student=student, document_type=document_type, term=term
    ).count()


@dataclass(frozen=True)
class TypeOption:
    """A type as the student's portal offers it: whether it can be requested now, and why not."""

    document_type: DocumentType
    failures: list[RuleFailure]
    used: int

    @property
    def remaining(self) -> int:
        return max(self.document_type.free_per_term - self.used, 0)

    @property
    def reasons(self) -> list[str]:
        messages = [failure.message for failure in self.failures]
        if not self.document_type.auto_issue:
            messages.append("该证明需经人工审核，暂不支持在线自助开具，请联系学籍管理部门。")
        if not self.remaining:
            messages.append(quota_message(self.document_type))
        return messages


def quota_message(document_type: DocumentType) -> str:
    return (
        f"本学期{document_type.name}的免费份数（{document_type.free_per_term} 份）已用完，"
        "不能再开具。如确有需要，请联系学籍管理部门。"
    )


def type_options_for(user: User, student: Student) -> list[TypeOption]:
    term = current_term()
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
                issued_this_term(student, document_type, term),
            )
        )
    return options
