"""`manage.py seed_demo`: a realistic demo school, the demo accounts, and idempotence."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from xueji.accounts.models import Role, Scope, User
from xueji.audit.models import AuditEvent, AuditHead
from xueji.audit.selectors import audit_chain_verify
from xueji.org.models import CodeItem, CodeTable, College, Major, SchoolClass
from xueji.students.demo import DEMO_PASSWORD, DEMO_USERNAMES, demo_seed
from xueji.students.identity import check_id_number
from xueji.students.models import (
    ENROLLED_STATUSES,
    LedgerAction,
    ParentLink,
    StatusLedgerEntry,
    Student,
    StudentState,
    registry_for,
)
from xueji.students.pinyin import name_pinyin, search_keys_for
from xueji.students.selectors import student_list_visible_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded() -> str:
    out = StringIO()
    call_command("seed_demo", "--students", "200", "--intake-year", "2025", stdout=out)
    return out.getvalue()


def grant_of(username: str):
    return User.objects.get(username=username).active_grants[0]


def visible(username: str) -> set[int]:
    user = User.objects.get(username=username)
    return set(student_list_visible_to(user).values_list("pk", flat=True))


def test_seeding_prints_the_demo_logins(seeded: str) -> None:
    assert DEMO_PASSWORD in seeded
    for username in DEMO_USERNAMES:
        assert username in seeded


def test_seeding_creates_the_requested_number_of_students_in_a_school_of_real_majors(
    seeded: str,
) -> None:
    assert Student.objects.count() == 200
    assert College.objects.count() >= 5
    catalogue = set(
        CodeItem.objects.filter(table=CodeTable.MAJOR_CATALOGUE).values_list("code", flat=True)
    )
    assert set(Major.objects.values_list("national_code", flat=True)) <= catalogue
    assert Major.objects.get(national_code="100201").duration == 5  # 临床医学


def test_every_demo_account_logs_in_with_the_demo_password(seeded: str) -> None:
    for username in DEMO_USERNAMES:
        assert User.objects.get(username=username).check_password(DEMO_PASSWORD), username


def test_demo_accounts_have_the_roles_and_scopes_of_the_issue(seeded: str) -> None:
    first_college = College.objects.order_by("code").first()
    registrar = grant_of("registrar")
    assert (registrar.role, registrar.scope, registrar.can_view_full_id) == (
        Role.REGISTRAR,
        Scope.SCHOOL,
        True,
    )
    admin = grant_of("college-admin")
    assert (admin.role, admin.scope, admin.college) == (
        Role.COLLEGE_ADMIN,
        Scope.COLLEGE,
        first_college,
    )
    counsellor = grant_of("counsellor")
    classes = list(counsellor.classes.all())
    assert counsellor.role == Role.COUNSELLOR and counsellor.scope == Scope.CLASSES
    assert len(classes) == 1 and classes[0].college == first_college
    assert (grant_of("advisor").role, grant_of("advisor").scope) == (Role.ADVISOR, Scope.ADVISEES)
    assert (grant_of("student").role, grant_of("student").scope) == (Role.STUDENT, Scope.SELF)
    assert (grant_of("parent").role, grant_of("parent").scope) == (Role.PARENT, Scope.CHILD)
    auditor = grant_of("auditor")
    assert (auditor.role, auditor.can_view_full_id) == (Role.AUDITOR, False)


def test_the_demo_student_is_in_the_counsellors_class_and_the_parent_has_consent(
    seeded: str,
) -> None:
    student = Student.objects.get(user__username="student")
    assert student.school_class in grant_of("counsellor").classes.all()
    link = ParentLink.objects.get(parent__username="parent")
    assert link.student == student and link.has_consent


def test_counsellor_sees_exactly_their_class(seeded: str) -> None:
    school_class = grant_of("counsellor").classes.get()
    expected = set(Student.objects.filter(school_class=school_class).values_list("pk", flat=True))
    assert expected and visible("counsellor") == expected
    assert len(expected) < Student.objects.count()


def test_each_demo_account_sees_only_its_scope(seeded: str) -> None:
    first_college = College.objects.order_by("code").first()
    student = Student.objects.get(user__username="student")
    in_college = set(Student.objects.filter(college=first_college).values_list("pk", flat=True))
    advisees = set(Student.objects.filter(advisor__username="advisor").values_list("pk", flat=True))
    assert visible("registrar") == set(Student.objects.values_list("pk", flat=True))
    assert visible("college-admin") == in_college != visible("registrar")
    assert len(advisees) > 1 and visible("advisor") == advisees
    assert visible("student") == {student.pk}
    assert visible("parent") == {student.pk}


def test_every_id_number_is_valid_unique_and_agrees_with_birth_date_and_gender(
    seeded: str,
) -> None:
    rows = list(Student.objects.values_list("id_number", "birth_date", "gender", "id_type"))
    for number, birth, gender, id_type in rows:
        assert id_type == "1"
        assert check_id_number("ric", number, birth_date=birth, gender=gender) == number
    assert len({number for number, *_ in rows}) == len(rows)


def test_birth_dates_fit_the_cohort_and_birthplaces_are_current_counties(seeded: str) -> None:
    current = set(
        CodeItem.objects.filter(table=CodeTable.REGION, valid_to__isnull=True).values_list(
            "code", flat=True
        )
    )
    for student in Student.objects.select_related("cohort"):
        age_at_entry = student.cohort.year - student.birth_date.year
        assert 16 <= age_at_entry <= 20, student
        assert student.native_region in current and not student.native_region.endswith("00")
        assert student.id_number.startswith(student.native_region)


def test_classes_belong_to_the_major_college_and_cohort_of_their_students(seeded: str) -> None:
    for student in Student.objects.select_related("school_class"):
        school_class: SchoolClass = student.school_class
        assert school_class.major_id == student.major_id
        assert school_class.college_id == student.college_id
        assert school_class.cohort_id == student.cohort_id


def test_stored_pinyin_is_what_the_pinyin_module_gives(seeded: str) -> None:
    for name, pinyin, key, initials in Student.objects.values_list(
        "name", "name_pinyin", "pinyin_key", "pinyin_initials"
    ):
        assert pinyin == name_pinyin(name), name
        assert (key, initials) == search_keys_for(name, pinyin), name


def test_status_matches_the_open_state_row_and_the_ledger_starts_with_admission(
    seeded: str,
) -> None:
    for student in Student.objects.prefetch_related("states", "ledger"):
        open_rows = [s for s in student.states.all() if s.valid_to is None]
        assert [s.status for s in open_rows] == [student.status]
        assert student.status in ENROLLED_STATUSES
        assert student.registry_status == registry_for(student.status)
        ledger = list(student.ledger.all())
        assert ledger[0].action == LedgerAction.ADMITTED
        assert len(ledger) == student.states.count()


def test_a_larger_school_has_suspended_and_reserved_students() -> None:
    report = demo_seed(students=1500, intake_year=2025)
    assert report.counts["suspended"] > 0 and report.counts["reserved"] > 0
    assert Student.objects.filter(status="suspended").count() == report.counts["suspended"]
    assert (
        StudentState.objects.filter(status="reserved", valid_to__isnull=True).count()
        == (report.counts["reserved"])
    )


def test_seeding_writes_one_demo_seed_event_and_the_chain_still_verifies(seeded: str) -> None:
    assert AuditEvent.objects.filter(action="demo.seed").count() == 1
    assert audit_chain_verify().ok


def test_a_second_run_changes_nothing() -> None:
    call_command("seed_demo", "--students", "200", stdout=StringIO())
    before = (
        Student.objects.count(),
        User.objects.count(),
        StatusLedgerEntry.objects.count(),
        AuditHead.objects.get().hash,
    )
    out = StringIO()
    call_command("seed_demo", "--students", "500", stdout=out)
    after = (
        Student.objects.count(),
        User.objects.count(),
        StatusLedgerEntry.objects.count(),
        AuditHead.objects.get().hash,
    )
    assert after == before
    assert "already present" in out.getvalue()


def test_a_database_with_its_own_colleges_gets_no_demo_data() -> None:
    College.objects.create(code="99", name="本校学院")
    report = demo_seed(students=200)
    assert not report.created
    assert not Student.objects.exists()
    assert not User.objects.filter(username__in=DEMO_USERNAMES).exists()


def test_a_database_where_a_demo_username_is_taken_gets_no_demo_data() -> None:
    User.objects.create_user(username="registrar", password="our-own-password-1")
    report = demo_seed(students=200)
    assert not report.created and "registrar" in report.message
    assert not Student.objects.exists()
    assert not User.objects.get(username="registrar").check_password(DEMO_PASSWORD)


def test_too_few_students_is_refused_with_a_message() -> None:
    with pytest.raises(CommandError, match="至少"):
        call_command("seed_demo", "--students", "10", stdout=StringIO())
    assert not Student.objects.exists()
