"""Who may request, see, download and revoke documents."""

from __future__ import annotations

from xueji.accounts.models import Role, User
from xueji.certificates.models import DocumentType, IssuedDocument
from xueji.certificates.rules import is_graduate
from xueji.students.models import Student
from xueji.students.permissions import grant_covers

# Staff who issue documents on a student's behalf and see the issued list (in their scope).
ISSUING_ROLES = (Role.REGISTRAR, Role.COLLEGE_ADMIN)


def is_own_student(user: User, student: Student) -> bool:
    return (
        user.is_authenticated
        and student.user_id is not None
        and student.user_id == user.pk
        and user.has_role(Role.STUDENT)
    )


def is_issuer_for(user: User, student: Student) -> bool:
    return user.is_authenticated and any(grant_covers(user, student, r) for r in ISSUING_ROLES)


def can_request(user: User, student: Student, document_type: DocumentType) -> bool:
    if not document_type.is_active:
        return False
    if is_own_student(user, student):
        # A graduate (往届) asks for the types open to graduates; everyone else for the
        # types open to students.
        return document_type.for_graduates if is_graduate(student) else document_type.for_students
    return document_type.for_staff and is_issuer_for(user, student)


def can_see_document(user: User, document: IssuedDocument) -> bool:
    return is_own_student(user, document.student) or is_issuer_for(user, document.student)


def can_revoke(user: User, document: IssuedDocument) -> bool:
    return user.is_authenticated and grant_covers(user, document.student, Role.REGISTRAR)


def is_issuing_staff(user: User) -> bool:
    return user.is_authenticated and any(user.has_role(r) for r in ISSUING_ROLES)


def can_issue_batch(user: User) -> bool:
    """Batches for a class or cohort: the registrar, or a college admin for their college."""
    return is_issuing_staff(user)


def can_reissue(user: User, document: IssuedDocument) -> bool:
    """Re-issue (a fresh copy with today's data, the old one superseded): the registrar."""
    return can_revoke(user, document)


def can_edit_types(user: User) -> bool:
    """Document types and their templates: the registrar only."""
    return user.is_authenticated and user.has_role(Role.REGISTRAR)
