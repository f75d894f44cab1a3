"""The shared cast of test personas, and code tables loaded once per test session.

Cast (the same in every test): a school with 计算机学院 (two classes) and 外国语学院 (one class);
`registrar`, `college_admin` (计算机学院), `counsellor` (班级 计科2401), `advisor`, `auditor`,
`student` (计科2401, with a parent who has consent), `classmate_b` (计科2402, same college),
`other_student` (外国语学院), `parent`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from xueji.accounts.models import Grant, Role, Scope, User
from xueji.core.context import Actor
from xueji.org.models import CodeItem, CodeTable, Cohort, College, Major, School, SchoolClass
from xueji.students.idcards import make_resident_id
from xueji.students.models import (
    LedgerAction,
    ParentLink,
    StatusLedgerEntry,
    Student,
    StudentState,
)
from xueji.students.pinyin import name_pinyin, search_keys_for

PASSWORD = "test-password-2026"  # noqa: S105 (test fixture)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from xueji.changes.catalogue import change_types_install_defaults
    from xueji.exchange.services import departments_seed
    from xueji.org.services import code_tables_load

    with django_db_blocker.unblock():
        code_tables_load(actor=Actor.system())
        change_types_install_defaults(actor=Actor.system())
        departments_seed(actor=Actor.system())


@pytest.fixture(autouse=True)
def plain_static_storage(settings):
    """Pages render `{% static %}`; tests run without `collectstatic`, so there is no manifest
    for the production storage: use the plain storage (the live server serves the finders)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """argon2 is deliberately slow; the cast hashes eight passwords per test. Production keeps
    argon2 (checked by test_production_hashes_passwords_with_argon2)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def code_for(table: str, name: str) -> str:
    item = CodeItem.objects.filter(table=table, name=name, valid_to__isnull=True).first()
    assert item is not None, f"code table {table} has no {name}"
    return item.code


def base_student_values(
    *,
    college: College,
    major: Major,
    school_class: SchoolClass | None,
    cohort: Cohort,
    serial: int,
    name: str = "张三",
    gender: str = "1",
) -> dict[str, Any]:
    """A complete, valid set of values for `student_create`."""
    birth = date(2005, 3, 1 + serial % 28)
    return {
        "candidate_number": f"24110101{serial:06d}",
        "student_number": f"2024{serial:06d}",
        "name": name,
        "gender": gender,
        "birth_date": birth,
        "id_type": code_for(CodeTable.ID_TYPE, "居民身份证"),
        "id_number": make_resident_id("110101", birth, gender, serial),
        "political_status": "03",
        "ethnicity": "01",
        "native_region": "110101",
        "college": college,
        "major": major,
        "school_class": school_class,
        "cohort": cohort,
        "level": major.level,
        "study_form": code_for(CodeTable.STUDY_FORM, "普通全日制"),
        "duration": Decimal("4"),
        "enrollment_date": date(cohort.year, 9, 1),
        "expected_graduation_date": date(cohort.year + 4, 6, 30),
    }


def make_student(user: User | None = None, **kwargs: Any) -> Student:
    """Insert a student directly (fixtures only; application code uses `student_create`)."""
    values = base_student_values(**kwargs)
    student = Student(user=user, name_pinyin=name_pinyin(values["name"]), **values)
    student.pinyin_key, student.pinyin_initials = search_keys_for(student.name, student.name_pinyin)
    student.save()
    StudentState.objects.create(
        student=student,
        registry_status=student.registry_status,
        status=student.status,
        valid_from=student.enrollment_date,
    )
    StatusLedgerEntry.objects.create(
        student=student,
        action=LedgerAction.ADMITTED,
        to_status=student.status,
        effective_date=student.enrollment_date,
    )
    return student


def make_user(
    username: str, role: str | None = None, scope: str | None = None, **grant: Any
) -> User:
    classes = grant.pop("classes", None)
    user = User.objects.create_user(username=username, password=PASSWORD, display_name=username)
    if role:
        made = Grant.objects.create(user=user, role=role, scope=scope, **grant)
        if classes:
            made.classes.set(classes)
    return user


@dataclass
class Cast:
    school: School
    cs: College
    fl: College
    cs_major: Major
    fl_major: Major
    cohort: Cohort
    class_a: SchoolClass
    class_b: SchoolClass
    class_fl: SchoolClass
    registrar: User
    college_admin: User
    counsellor: User
    advisor: User
    auditor: User
    student_user: User
    parent: User
    student: Student
    classmate_b: Student
    other_student: Student
    other_student_user: User

    def actor(self, user: User | None) -> Actor:
        return Actor(user=user, ip="127.0.0.1", user_agent="pytest")


@pytest.fixture
def cast(db) -> Cast:
    return build_cast()


def build_cast() -> Cast:
    """Create the cast in the current database (also used by transactional browser tests)."""
    level = code_for(CodeTable.EDUCATION_LEVEL, "本科")
    school = School.objects.create(code="10999", name="示例大学", name_en="Example University")
    cs = College.objects.create(code="08", name="计算机学院", name_en="School of Computing")
    fl = College.objects.create(code="05", name="外国语学院", name_en="School of Languages")
    cs_major = Major.objects.create(
        college=cs,
        national_code="080901",
        code="CS01",
        name="计算机科学与技术",
        level=level,
        duration=Decimal("4"),
    )
    fl_major = Major.objects.create(
        college=fl,
        national_code="050201",
        code="FL01",
        name="英语",
        level=level,
        duration=Decimal("4"),
    )
    cohort = Cohort.objects.create(year=2024)
    class_a = SchoolClass.objects.create(
        code="JK2401", name="计科2401", college=cs, major=cs_major, cohort=cohort
    )
    class_b = SchoolClass.objects.create(
        code="JK2402", name="计科2402", college=cs, major=cs_major, cohort=cohort
    )
    class_fl = SchoolClass.objects.create(
        code="YY2401", name="英语2401", college=fl, major=fl_major, cohort=cohort
    )
    registrar = make_user("registrar", Role.REGISTRAR, Scope.SCHOOL, can_view_full_id=True)
    college_admin = make_user("college-admin", Role.COLLEGE_ADMIN, Scope.COLLEGE, college=cs)
    counsellor = make_user("counsellor", Role.COUNSELLOR, Scope.CLASSES, classes=[class_a])
    advisor = make_user("advisor", Role.ADVISOR, Scope.ADVISEES)
    auditor = make_user("auditor", Role.AUDITOR, Scope.SCHOOL)
    student_user = make_user("student", Role.STUDENT, Scope.SELF)
    other_student_user = make_user("other-student", Role.STUDENT, Scope.SELF)
    parent = make_user("parent", Role.PARENT, Scope.CHILD)
    common = {"college": cs, "major": cs_major, "cohort": cohort}
    student = make_student(student_user, school_class=class_a, serial=1, name="单小明", **common)
    student.advisor = advisor
    student.save()
    classmate_b = make_student(school_class=class_b, serial=2, name="李四", gender="2", **common)
    other_student = make_student(
        other_student_user,
        college=fl,
        major=fl_major,
        school_class=class_fl,
        cohort=cohort,
        serial=3,
        name="王五",
    )
    from django.utils import timezone

    ParentLink.objects.create(parent=parent, student=student, consent_given_at=timezone.now())
    return Cast(
        school=school,
        cs=cs,
        fl=fl,
        cs_major=cs_major,
        fl_major=fl_major,
        cohort=cohort,
        class_a=class_a,
        class_b=class_b,
        class_fl=class_fl,
        registrar=registrar,
        college_admin=college_admin,
        counsellor=counsellor,
        advisor=advisor,
        auditor=auditor,
        student_user=student_user,
        parent=parent,
        student=student,
        classmate_b=classmate_b,
        other_student=other_student,
        other_student_user=other_student_user,
    )
