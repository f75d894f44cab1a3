"""Property: for random schools, students and grants, the selector's visible set equals a
plain-Python reference computed from the same data.

Each example builds its own organisation inside a savepoint that is rolled back afterwards, so
examples do not see each other's rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xueji.accounts.models import ROLE_SCOPES, Grant, Scope, User
from xueji.conftest import code_for
from xueji.core.exceptions import NotFound
from xueji.org.models import CodeTable, Cohort, College, Major, SchoolClass
from xueji.students.models import ParentLink, Student
from xueji.students.selectors import get_student_for, student_list_visible_to, student_search

pytestmark = pytest.mark.django_db

# Accounts and grants are mostly active: an inactive one sees nothing, which is checked, but
# a world of mostly inactive users would test little else.
mostly_true = st.sampled_from([True, True, True, False])
ROLES_FOR_SCOPE = {
    scope: [role for role, scopes in ROLE_SCOPES.items() if scope in scopes] for scope in Scope
}


# --- the generated world, as plain data ---------------------------------------------------------


@dataclass
class GrantSpec:
    scope: str
    role: str
    college: int  # index into colleges (used by college scope)
    classes: list[int]  # indexes into the flat class list (used by classes scope)
    active: bool


@dataclass
class UserSpec:
    active: bool
    grants: list[GrantSpec]


@dataclass
class StudentSpec:
    school_class: int | None  # index into classes; None = not placed in a class yet
    major: int  # used when there is no class
    account: int | None  # index into users: this user logs in as the student
    advisor: int | None  # index into users


@dataclass
class LinkSpec:
    parent: int
    student: int
    consent: str  # "none", "given" or "revoked"


@dataclass
class World:
    majors_per_college: list[int]
    classes_per_major: list[int]
    users: list[UserSpec]
    students: list[StudentSpec]
    links: list[LinkSpec] = field(default_factory=list)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    majors_per_college = draw(st.lists(st.integers(1, 2), min_size=1, max_size=3))
    n_majors = sum(majors_per_college)
    classes_per_major = draw(st.lists(st.integers(0, 2), min_size=n_majors, max_size=n_majors))
    n_classes = sum(classes_per_major)
    n_colleges = len(majors_per_college)
    n_users = draw(st.integers(1, 5))

    def grant() -> st.SearchStrategy[GrantSpec]:
        return st.builds(
            GrantSpec,
            scope=st.sampled_from(list(Scope)),
            role=st.just(""),
            college=st.integers(0, n_colleges - 1),
            classes=st.lists(st.integers(0, n_classes - 1), max_size=3, unique=True)
            if n_classes
            else st.just([]),
            active=mostly_true,
        )

    users = draw(
        st.lists(
            st.builds(UserSpec, active=mostly_true, grants=st.lists(grant(), max_size=3)),
            min_size=n_users,
            max_size=n_users,
        )
    )
    for user in users:
        for g in user.grants:
            g.role = draw(st.sampled_from(ROLES_FOR_SCOPE[g.scope]))
    n_students = draw(st.integers(0, 12))
    placement = st.integers(0, n_classes - 1) if n_classes else st.none()
    students = draw(
        st.lists(
            st.builds(
                StudentSpec,
                school_class=st.one_of(st.none(), placement),
                major=st.integers(0, n_majors - 1),
                account=st.one_of(st.none(), st.integers(0, n_users - 1)),
                advisor=st.one_of(st.none(), st.integers(0, n_users - 1)),
            ),
            min_size=n_students,
            max_size=n_students,
        )
    )
    # A login belongs to at most one student record.
    taken: set[int] = set()
    for student in students:
        if student.account in taken:
            student.account = None
        elif student.account is not None:
            taken.add(student.account)
    links: list[LinkSpec] = []
    # Links mostly from users holding a parent grant, so consent is really exercised.
    parents = [
        u for u, user in enumerate(users) if any(g.scope == Scope.CHILD for g in user.grants)
    ]
    parent_choice = st.sampled_from(parents) if parents else st.integers(0, n_users - 1)
    if n_students:
        pairs = draw(
            st.lists(
                st.tuples(
                    st.one_of(parent_choice, st.integers(0, n_users - 1)),
                    st.integers(0, n_students - 1),
                ),
                max_size=8,
                unique=True,
            )
        )
        for parent, student in pairs:
            consent = draw(st.sampled_from(["none", "given", "revoked"]))
            links.append(LinkSpec(parent, student, consent))
    return World(majors_per_college, classes_per_major, users, students, links)


# --- the reference -----------------------------------------------------------------------------


def class_colleges(world: World) -> list[int]:
    """College index of every class, in the flat class order."""
    result: list[int] = []
    major = 0
    for college, count in enumerate(world.majors_per_college):
        for _ in range(count):
            result += [college] * world.classes_per_major[major]
            major += 1
    return result


def major_colleges(world: World) -> list[int]:
    return [c for c, count in enumerate(world.majors_per_college) for _ in range(count)]


def student_college(world: World, student: StudentSpec) -> int:
    if student.school_class is not None:
        return class_colleges(world)[student.school_class]
    return major_colleges(world)[student.major]


def reference_visible(world: World, u: int) -> set[int]:
    """Indexes of the students user `u` may see, straight from the rules in PRODUCT.md."""
    user = world.users[u]
    if not user.active:
        return set()
    seen: set[int] = set()
    for grant in user.grants:
        if not grant.active:
            continue
        for i, student in enumerate(world.students):
            if grant.scope == Scope.SCHOOL:
                hit = True
            elif grant.scope == Scope.COLLEGE:
                hit = student_college(world, student) == grant.college
            elif grant.scope == Scope.CLASSES:
                hit = student.school_class in grant.classes
            elif grant.scope == Scope.ADVISEES:
                hit = student.advisor == u
            elif grant.scope == Scope.SELF:
                hit = student.account == u
            else:  # Scope.CHILD
                hit = any(
                    link.parent == u and link.student == i and link.consent == "given"
                    for link in world.links
                )
            if hit:
                seen.add(i)
    return seen


# --- building it in the database ---------------------------------------------------------------


@dataclass
class Built:
    users: list[User]
    students: list[Student]


def build(world: World, codes: dict[str, str]) -> Built:
    cohort = Cohort.objects.create(year=2024)
    colleges = [
        College.objects.create(code=f"P{c}", name=f"学院{c}")
        for c in range(len(world.majors_per_college))
    ]
    majors = [
        Major.objects.create(
            college=colleges[college],
            national_code="080901",
            code=f"M{m}",
            name=f"专业{m}",
            level=codes["level"],
            duration=Decimal("4"),
        )
        for m, college in enumerate(major_colleges(world))
    ]
    classes: list[SchoolClass] = []
    for m, count in enumerate(world.classes_per_major):
        for _ in range(count):
            n = len(classes)
            classes.append(
                SchoolClass.objects.create(
                    code=f"C{n}",
                    name=f"班{n}",
                    college=majors[m].college,
                    major=majors[m],
                    cohort=cohort,
                )
            )
    users = [
        User.objects.create(username=f"u{i}", password="!", is_active=spec.active)
        for i, spec in enumerate(world.users)
    ]
    for user, spec in zip(users, world.users, strict=True):
        for g in spec.grants:
            grant = Grant.objects.create(
                user=user,
                role=g.role,
                scope=g.scope,
                college=colleges[g.college] if g.scope == Scope.COLLEGE else None,
                is_active=g.active,
            )
            if g.scope == Scope.CLASSES and g.classes:
                grant.classes.set([classes[c] for c in g.classes])
    students = []
    for i, spec in enumerate(world.students):
        klass = classes[spec.school_class] if spec.school_class is not None else None
        major = klass.major if klass else majors[spec.major]
        students.append(
            Student(
                user=users[spec.account] if spec.account is not None else None,
                advisor=users[spec.advisor] if spec.advisor is not None else None,
                candidate_number=f"K{i:05d}",
                student_number=f"S{i:05d}",
                name=f"学生{i}",
                gender="1",
                birth_date=date(2005, 1, 1),
                id_type=codes["id_type"],
                id_number=f"P{i:08d}",
                political_status="13",
                ethnicity="01",
                college=major.college,
                major=major,
                school_class=klass,
                cohort=cohort,
                level=codes["level"],
                study_form=codes["study_form"],
                duration=Decimal("4"),
                enrollment_date=date(2024, 9, 1),
                expected_graduation_date=date(2028, 6, 30),
            )
        )
    Student.objects.bulk_create(students)
    students = list(
        Student.objects.filter(student_number__startswith="S").order_by("student_number")
    )
    now = timezone.now()
    for link in world.links:
        ParentLink.objects.create(
            parent=users[link.parent],
            student=students[link.student],
            consent_given_at=None if link.consent == "none" else now - timedelta(days=1),
            consent_revoked_at=now if link.consent == "revoked" else None,
        )
    return Built(users, students)


@pytest.fixture
def codes(db: None) -> dict[str, str]:
    return {
        "level": code_for(CodeTable.EDUCATION_LEVEL, "本科"),
        "study_form": code_for(CodeTable.STUDY_FORM, "普通全日制"),
        "id_type": code_for(CodeTable.ID_TYPE, "护照"),
    }


class Rollback(Exception):
    """Raised at the end of each example to undo its rows."""


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds())
def test_visible_students_equal_the_reference_for_random_schools_and_grants(
    codes: dict[str, str], world: World
) -> None:
    try:
        with transaction.atomic():
            built = build(world, codes)
            for u, user in enumerate(built.users):
                user = User.objects.get(pk=user.pk)
                expected = {built.students[i].student_number for i in reference_visible(world, u)}
                listed = set(student_list_visible_to(user).values_list("student_number", flat=True))
                assert listed == expected, f"user u{u}"
                searched = set(
                    student_search(user=user, query="").values_list("student_number", flat=True)
                )
                assert searched == expected, f"search by user u{u}"
                for student in built.students:
                    in_scope = student.student_number in expected
                    for query in (student.id_number, student.student_number, student.name):
                        hits = set(student_search(user=user, query=query))
                        assert (student in hits) == in_scope, f"u{u} searching {query}"
                    if student.student_number in expected:
                        assert get_student_for(user, student.student_number) == student
                    else:
                        with pytest.raises(NotFound):
                            get_student_for(user, student.student_number)
            raise Rollback
    except Rollback:
        pass
