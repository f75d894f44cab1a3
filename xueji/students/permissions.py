"""Permission predicates for the student record. Visibility itself is the selector's job."""

from __future__ import annotations

from xueji.accounts.models import Role, Scope, User
from xueji.audit.permissions import can_view_audit  # noqa: F401 (re-exported for views)
from xueji.students.models import CorrectionRequest, Student

# Fields CHSI locks once registered: changing them needs the registrar (the stricter path).
LOCKED_FIELDS = frozenset(
    {
        "name",
        "gender",
        "birth_date",
        "id_type",
        "id_number",
        "major",
        "level",
        "study_form",
        "duration",
    }
)
CONTACT_FIELDS = frozenset({"phone", "email", "address", "emergency_contact", "emergency_phone"})
# Fields a student may ask to correct through a correction request.
CORRECTABLE_FIELDS = (
    "name",
    "name_pinyin",
    "gender",
    "birth_date",
    "id_number",
    "political_status",
    "ethnicity",
    "native_region",
    "phone",
    "email",
    "address",
    "emergency_contact",
    "emergency_phone",
)


def grant_covers(user: User, student: Student, role: str) -> bool:
    for grant in user.active_grants:
        if grant.role != role:
            continue
        if grant.scope == Scope.SCHOOL:
            return True
        if grant.scope == Scope.COLLEGE and grant.college_id == student.college_id:
            return True
        if grant.scope == Scope.CLASSES and student.school_class_id in {
            c.pk for c in grant.classes.all()
        }:
            return True
    return False


def editable_fields(user: User, student: Student) -> frozenset[str]:
    """Which fields of `student` the user may edit directly."""
    if grant_covers(user, student, Role.REGISTRAR):
        return frozenset(EDITABLE_FIELDS)
    if grant_covers(user, student, Role.COLLEGE_ADMIN):
        return frozenset(EDITABLE_FIELDS) - LOCKED_FIELDS
    if grant_covers(user, student, Role.COUNSELLOR):
        return CONTACT_FIELDS
    return frozenset()


def can_edit_student(user: User, student: Student) -> bool:
    return bool(editable_fields(user, student))


def can_create_student(user: User, college_id: int) -> bool:
    for grant in user.active_grants:
        if grant.role == Role.REGISTRAR:
            return True
        if grant.role == Role.COLLEGE_ADMIN and grant.college_id == college_id:
            return True
    return False


def can_set_status(user: User, student: Student) -> bool:
    return grant_covers(user, student, Role.REGISTRAR)


def can_decide_correction(user: User, correction: CorrectionRequest) -> bool:
    """Locked CHSI fields go to the registrar; others to the counsellor or college in scope."""
    student = correction.student
    if correction.field in LOCKED_FIELDS:
        return grant_covers(user, student, Role.REGISTRAR)
    return any(
        grant_covers(user, student, role)
        for role in (Role.REGISTRAR, Role.COLLEGE_ADMIN, Role.COUNSELLOR)
    )


def can_request_correction(user: User, student: Student) -> bool:
    return student.user_id is not None and student.user_id == user.pk


def can_view_full_id(user: User) -> bool:
    return user.is_authenticated and user.can_view_full_id


EDITABLE_FIELDS = (
    "candidate_number",
    "name",
    "name_pinyin",
    "gender",
    "birth_date",
    "id_type",
    "id_number",
    "political_status",
    "ethnicity",
    "native_region",
    "college",
    "department",
    "major",
    "school_class",
    "cohort",
    "level",
    "study_form",
    "duration",
    "enrollment_date",
    "expected_graduation_date",
    "max_study_date",
    "phone",
    "email",
    "address",
    "emergency_contact",
    "emergency_phone",
    "advisor",
)


# Graduation records (diploma numbers, degree awards): the registrar writes; a college's
# academic admin reads its own college (scope is the selectors' job).
GRADUATION_READ_ROLES = frozenset({Role.REGISTRAR, Role.COLLEGE_ADMIN})


def can_manage_graduation(user: User) -> bool:
    """Assigning diploma numbers and conferring degrees: the school's registrar only."""
    return user.is_authenticated and user.has_role(Role.REGISTRAR)


def can_view_graduation(user: User) -> bool:
    return user.is_authenticated and user.has_role(*GRADUATION_READ_ROLES)
