"""Scope: who sees which students, by list, by search and by direct fetch.

Out-of-scope records are simply absent (NotFound), so their existence never leaks.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from xueji.accounts.models import Grant, Role, Scope, User
from xueji.conftest import Cast, make_user
from xueji.core.exceptions import NotFound
from xueji.students.models import CorrectionRequest, ParentLink, Student, StudentStatus
from xueji.students.selectors import (
    correction_list_visible_to,
    get_correction_for,
    get_student_for,
    student_for_user,
    student_list_visible_to,
    student_search,
)

pytestmark = pytest.mark.django_db


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def visible(user: User | AnonymousUser) -> set[str]:
    return set(student_list_visible_to(user).values_list("student_number", flat=True))  # type: ignore[arg-type]


def found(user: User, query: str, **filters: object) -> set[str]:
    return set(
        student_search(user=user, query=query, **filters).values_list(  # type: ignore[arg-type]
            "student_number", flat=True
        )
    )


def numbers(*students: Student) -> set[str]:
    return {s.student_number for s in students}


# --- lists -------------------------------------------------------------------------------------


def test_registrar_sees_every_student(cast: Cast) -> None:
    assert visible(cast.registrar) == numbers(cast.student, cast.classmate_b, cast.other_student)


def test_auditor_with_school_scope_sees_every_student(cast: Cast) -> None:
    assert visible(cast.auditor) == numbers(cast.student, cast.classmate_b, cast.other_student)


def test_college_admin_sees_only_their_own_college(cast: Cast) -> None:
    assert visible(cast.college_admin) == numbers(cast.student, cast.classmate_b)


def test_counsellor_sees_only_the_students_of_their_classes(cast: Cast) -> None:
    assert visible(cast.counsellor) == numbers(cast.student)


def test_counsellor_with_classes_in_two_colleges_sees_both(cast: Cast) -> None:
    grant = Grant.objects.get(user=cast.counsellor)
    grant.classes.add(cast.class_fl)
    assert visible(fresh(cast.counsellor)) == numbers(cast.student, cast.other_student)


def test_counsellor_grant_without_classes_sees_nothing(cast: Cast) -> None:
    Grant.objects.get(user=cast.counsellor).classes.clear()
    assert visible(fresh(cast.counsellor)) == set()


def test_advisor_sees_only_advisees(cast: Cast) -> None:
    assert visible(cast.advisor) == numbers(cast.student)


def test_student_sees_only_themself(cast: Cast) -> None:
    assert visible(cast.student_user) == numbers(cast.student)
    assert visible(cast.other_student_user) == numbers(cast.other_student)


def test_parent_sees_only_the_consenting_child(cast: Cast) -> None:
    ParentLink.objects.create(parent=cast.parent, student=cast.classmate_b)  # no consent
    assert visible(fresh(cast.parent)) == numbers(cast.student)


def test_parent_sees_nothing_after_consent_is_withdrawn(cast: Cast) -> None:
    ParentLink.objects.filter(parent=cast.parent).update(consent_revoked_at=timezone.now())
    parent = fresh(cast.parent)
    assert visible(parent) == set()
    assert found(parent, cast.student.student_number) == set()
    with pytest.raises(NotFound):
        get_student_for(parent, cast.student.student_number)


def test_parent_link_without_a_parent_grant_shows_nothing(cast: Cast) -> None:
    stranger = make_user("stranger")
    ParentLink.objects.create(
        parent=stranger, student=cast.student, consent_given_at=timezone.now()
    )
    assert visible(stranger) == set()


def test_an_inactive_grant_shows_nothing(cast: Cast) -> None:
    Grant.objects.filter(user=cast.registrar).update(is_active=False)
    assert visible(fresh(cast.registrar)) == set()


def test_a_deactivated_account_sees_nothing(cast: Cast) -> None:
    User.objects.filter(pk=cast.registrar.pk).update(is_active=False)
    assert visible(fresh(cast.registrar)) == set()


def test_an_anonymous_visitor_sees_nothing(cast: Cast) -> None:
    assert visible(AnonymousUser()) == set()
    assert set(student_search(user=AnonymousUser(), query="2024")) == set()  # type: ignore[arg-type]


def test_a_user_without_grants_sees_nothing(cast: Cast) -> None:
    assert visible(make_user("nobody")) == set()


def test_grants_add_up(cast: Cast) -> None:
    Grant.objects.create(user=cast.advisor, role=Role.COUNSELLOR, scope=Scope.CLASSES).classes.set(
        [cast.class_fl]
    )
    assert visible(fresh(cast.advisor)) == numbers(cast.student, cast.other_student)


# --- search ------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["student_number", "candidate_number", "id_number"])
def test_counsellor_finds_nothing_by_exact_number_of_a_student_outside_their_classes(
    cast: Cast, field: str
) -> None:
    for outsider in (cast.classmate_b, cast.other_student):
        assert found(cast.counsellor, getattr(outsider, field)) == set()


@pytest.mark.parametrize("field", ["student_number", "candidate_number", "id_number"])
def test_counsellor_finds_their_own_student_by_exact_number(cast: Cast, field: str) -> None:
    assert found(cast.counsellor, getattr(cast.student, field)) == numbers(cast.student)


def test_counsellor_finds_nothing_by_name_or_pinyin_of_a_student_outside_their_classes(
    cast: Cast,
) -> None:
    assert found(cast.counsellor, "李四") == set()
    assert found(cast.counsellor, "lisi") == set()
    assert found(cast.counsellor, "ww") == set()
    assert found(cast.registrar, "李四") == numbers(cast.classmate_b)


def test_counsellor_filtering_by_another_college_gets_nothing(cast: Cast) -> None:
    assert found(cast.counsellor, "", college=cast.fl.pk) == set()
    assert found(cast.counsellor, "", school_class=cast.class_b.pk) == set()


def test_student_cannot_find_a_classmate(cast: Cast) -> None:
    assert found(cast.student_user, cast.classmate_b.student_number) == set()
    assert found(cast.student_user, "李") == set()
    assert found(cast.student_user, "") == numbers(cast.student)


def test_college_admin_cannot_find_a_student_of_another_college_by_id_number(cast: Cast) -> None:
    assert found(cast.college_admin, cast.other_student.id_number) == set()


@pytest.mark.parametrize(
    "query",
    ["单小明", "单小", "shanxiaoming", "ShanXiao", "shan xiao", "sxm", "SXM", "ｓｘｍ"],
)
def test_search_by_name_pinyin_or_initials_finds_the_student(cast: Cast, query: str) -> None:
    assert found(cast.registrar, query) == numbers(cast.student)


def test_search_uses_the_surname_reading_not_the_common_one(cast: Cast) -> None:
    assert found(cast.registrar, "danxiaoming") == set()


def test_search_by_id_number_ignores_the_case_of_x(cast: Cast) -> None:
    Student.objects.filter(pk=cast.student.pk).update(id_number="11010120050302007X")
    assert found(cast.registrar, "11010120050302007x") == numbers(cast.student)


def test_search_by_full_width_student_number_finds_the_student(cast: Cast) -> None:
    typed = "".join(chr(ord(ch) + 0xFEE0) for ch in cast.student.student_number)
    assert found(cast.registrar, typed) == numbers(cast.student)


def test_search_by_a_student_number_prefix_finds_the_cohort(cast: Cast) -> None:
    assert found(cast.college_admin, "2024") == numbers(cast.student, cast.classmate_b)


def test_an_id_number_prefix_finds_nothing(cast: Cast) -> None:
    # Only the exact 证件号码 matches: a prefix would let anyone enumerate birth dates.
    assert found(cast.registrar, cast.student.id_number[:10]) == set()


def test_search_filters_by_status(cast: Cast) -> None:
    Student.objects.filter(pk=cast.classmate_b.pk).update(status=StudentStatus.SUSPENDED)
    assert found(cast.registrar, "", status=StudentStatus.SUSPENDED) == numbers(cast.classmate_b)


# --- direct fetches ----------------------------------------------------------------------------


def test_get_student_for_returns_a_student_in_scope(cast: Cast) -> None:
    assert get_student_for(cast.counsellor, cast.student.student_number) == cast.student


@pytest.mark.parametrize("who", ["counsellor", "student_user", "parent", "advisor"])
def test_get_student_for_a_student_out_of_scope_is_not_found(cast: Cast, who: str) -> None:
    with pytest.raises(NotFound) as caught:
        get_student_for(getattr(cast, who), cast.other_student.student_number)
    assert caught.value.message == "未找到该学生，或您无权查看。"


def test_an_unknown_student_number_reads_the_same_as_an_out_of_scope_one(cast: Cast) -> None:
    with pytest.raises(NotFound) as unknown:
        get_student_for(cast.counsellor, "2099999999")
    with pytest.raises(NotFound) as hidden:
        get_student_for(cast.counsellor, cast.other_student.student_number)
    assert unknown.value.message == hidden.value.message


def test_student_for_user_is_the_logged_in_students_own_record(cast: Cast) -> None:
    assert student_for_user(cast.student_user) == cast.student


def test_a_student_account_without_a_record_gets_a_clear_message(cast: Cast) -> None:
    lonely = make_user("lonely", Role.STUDENT, Scope.SELF)
    with pytest.raises(NotFound, match="当前账号没有关联的学生档案"):
        student_for_user(lonely)


# --- corrections -------------------------------------------------------------------------------


def _correction(student: Student, user: User) -> CorrectionRequest:
    return CorrectionRequest.objects.create(
        student=student,
        field="phone",
        requested_value="13900000000",
        reason="换号",
        submitted_by=user,
    )


def test_corrections_are_visible_only_within_scope(cast: Cast) -> None:
    mine = _correction(cast.student, cast.student_user)
    theirs = _correction(cast.other_student, cast.other_student_user)
    assert list(correction_list_visible_to(cast.counsellor)) == [mine]
    assert list(correction_list_visible_to(cast.other_student_user)) == [theirs]
    assert set(correction_list_visible_to(cast.registrar)) == {mine, theirs}
    with pytest.raises(NotFound, match="未找到该更正申请"):
        get_correction_for(cast.counsellor, theirs.pk)
    assert get_correction_for(cast.counsellor, mine.pk) == mine
