"""Pages of the student record: who sees what, what they are told, and that refused input
changes nothing. Scope violations are 404s; wrong roles get a 403 page or a redirect."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from xueji.audit.models import AuditEvent
from xueji.conftest import make_student
from xueji.core.masking import mask_id_number
from xueji.students.models import (
    CorrectionRequest,
    ParentLink,
    Student,
)
from xueji.students.tests.factories import fast_password_hashing  # noqa: F401

pytestmark = pytest.mark.django_db


def detail_url(student: Student) -> str:
    return reverse("student-detail", args=[student.student_number])


def edit_url(student: Student) -> str:
    return reverse("student-edit", args=[student.student_number])


def reveal_url(student: Student) -> str:
    return reverse("student-reveal-id", args=[student.student_number])


def listed_numbers(response) -> set[str]:
    """学号 shown in the student table of a list response."""
    return set(re.findall(r'href="/students/(\w+)/"', response.text))


def pending_correction(cast) -> CorrectionRequest:
    """A pending request stored directly (its approval flow is the changes app's business)."""
    return CorrectionRequest.objects.create(
        student=cast.student,
        field="phone",
        requested_value="13800138000",
        reason="换了新号码",
        submitted_by=cast.student_user,
    )


def edit_form_data(student: Student, **changes) -> dict[str, str]:
    """The edit form as a browser would post it, with some fields changed."""
    data = {
        "candidate_number": student.candidate_number,
        "name": student.name,
        "name_pinyin": student.name_pinyin,
        "gender": student.gender,
        "birth_date": student.birth_date.isoformat(),
        "id_type": student.id_type,
        "id_number": "",  # the page never shows it; blank keeps the current number
        "political_status": student.political_status,
        "ethnicity": student.ethnicity,
        "native_region": student.native_region,
        "college": str(student.college_id),
        "department": student.department,
        "major": str(student.major_id),
        "school_class": str(student.school_class_id or ""),
        "cohort": str(student.cohort_id),
        "level": student.level,
        "study_form": student.study_form,
        "duration": format(student.duration.normalize(), "f"),
        "enrollment_date": student.enrollment_date.isoformat(),
        "expected_graduation_date": student.expected_graduation_date.isoformat(),
        "max_study_date": "",
        "phone": student.phone,
        "email": student.email,
        "address": student.address,
        "emergency_contact": student.emergency_contact,
        "emergency_phone": student.emergency_phone,
        "advisor": str(student.advisor_id or ""),
        "reason": "核对原始材料",
    }
    data.update({k: str(v) for k, v in changes.items()})
    return data


# --- Every page asks for a login ------------------------------------------------------------

PAGES = [
    ("home", None),
    ("student-list", None),
    ("student-detail", "student"),
    ("student-edit", "student"),
    ("my-record", None),
    ("my-parents", None),
]


@pytest.mark.parametrize(("name", "arg"), PAGES)
def test_anonymous_visitors_of_every_page_are_sent_to_login(client, cast, name, arg):
    url = reverse(name, args=[cast.student.student_number] if arg else [])
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login") + "?next=")


def test_anonymous_posts_are_sent_to_login_too(client, cast):
    response = client.post(reveal_url(cast.student))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


# --- Home ------------------------------------------------------------------------------------


def test_registrar_home_counts_students_by_college(client, cast):
    client.force_login(cast.registrar)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert response.context["total"] == 3
    counts = {row["college"].name: row["total"] for row in response.context["by_college"]}
    assert counts == {"计算机学院": 2, "外国语学院": 1}
    assert "全校学籍概况" in response.text


def test_college_admin_home_counts_only_their_college(client, cast):
    client.force_login(cast.college_admin)
    response = client.get(reverse("home"))
    counts = {row["college"].name: row["total"] for row in response.context["by_college"]}
    assert counts == {"计算机学院": 2}
    assert "外国语学院" not in response.text


def test_counsellor_home_lists_own_classes_with_counts_and_pending_corrections(client, cast):
    pending_correction(cast)
    client.force_login(cast.counsellor)
    response = client.get(reverse("home"))
    classes = {item["school_class"].name: item["count"] for item in response.context["classes"]}
    assert classes == {"计科2401": 1}
    assert response.context["pending_corrections"] == 1
    assert "计科2402" not in response.text


def test_advisor_home_lists_advisees(client, cast):
    client.force_login(cast.advisor)
    response = client.get(reverse("home"))
    assert [s.name for s in response.context["advisees"]] == ["单小明"]


def test_student_home_shows_own_summary_with_status_and_links(client, cast):
    client.force_login(cast.student_user)
    response = client.get(reverse("home"))
    assert response.context["me"] == cast.student
    assert "在校" in response.text and "计算机科学与技术" in response.text
    for name in ("my-record", "my-corrections", "my-parents"):
        assert reverse(name) in response.text
    assert "李四" not in response.text


def test_parent_home_lists_only_children_with_consent(client, cast):
    client.force_login(cast.parent)
    assert "单小明" in client.get(reverse("home")).text
    ParentLink.objects.update(consent_revoked_at=timezone.now())
    response = client.get(reverse("home"))
    assert "单小明" not in response.text
    assert "学生本人在系统中同意后" in response.text


def test_auditor_home_links_to_the_audit_pages(client, cast):
    client.force_login(cast.auditor)
    response = client.get(reverse("home"))
    assert 'href="/audit/"' in response.text


def test_navigation_shows_menu_items_by_role(client, cast):
    client.force_login(cast.counsellor)
    staff_nav = client.get(reverse("home")).text
    assert reverse("student-list") in staff_nav and reverse("correction-list") in staff_nav
    assert 'href="/audit/"' not in staff_nav
    client.force_login(cast.student_user)
    student_nav = client.get(reverse("home")).text
    assert reverse("student-list") not in student_nav
    assert reverse("my-corrections") in student_nav


# --- Student list and search -----------------------------------------------------------------


def test_registrar_list_shows_every_student(client, cast):
    client.force_login(cast.registrar)
    response = client.get(reverse("student-list"))
    assert listed_numbers(response) == {
        cast.student.student_number,
        cast.classmate_b.student_number,
        cast.other_student.student_number,
    }


def test_counsellor_list_shows_only_their_own_class(client, cast):
    client.force_login(cast.counsellor)
    response = client.get(reverse("student-list"))
    assert listed_numbers(response) == {cast.student.student_number}


def test_counsellor_search_for_a_student_of_another_class_by_number_finds_nothing(client, cast):
    client.force_login(cast.counsellor)
    for student in (cast.classmate_b, cast.other_student):
        response = client.get(reverse("student-list"), {"q": student.student_number})
        assert listed_numbers(response) == set()
        assert student.name not in response.text


def test_college_admin_list_excludes_other_colleges(client, cast):
    client.force_login(cast.college_admin)
    response = client.get(reverse("student-list"))
    assert cast.other_student.student_number not in listed_numbers(response)
    assert len(listed_numbers(response)) == 2


@pytest.mark.parametrize("query", ["单小明", "shanxiaoming", "sxm", "2024000001", "24110101000001"])
def test_search_finds_by_name_pinyin_number_and_candidate_number(client, cast, query):
    client.force_login(cast.registrar)
    response = client.get(reverse("student-list"), {"q": query})
    assert listed_numbers(response) == {cast.student.student_number}


def test_search_by_full_id_number_is_exact(client, cast):
    client.force_login(cast.registrar)
    full = client.get(reverse("student-list"), {"q": cast.student.id_number})
    partial = client.get(reverse("student-list"), {"q": cast.student.id_number[:10]})
    assert listed_numbers(full) == {cast.student.student_number}
    assert listed_numbers(partial) == set()


def test_list_filters_by_college_class_and_status(client, cast):
    client.force_login(cast.registrar)
    by_college = client.get(reverse("student-list"), {"college": cast.fl.pk})
    by_class = client.get(reverse("student-list"), {"school_class": cast.class_b.pk})
    by_status = client.get(reverse("student-list"), {"status": "suspended"})
    assert listed_numbers(by_college) == {cast.other_student.student_number}
    assert listed_numbers(by_class) == {cast.classmate_b.student_number}
    assert listed_numbers(by_status) == set()


def test_a_filter_value_that_is_not_plain_digits_is_ignored_instead_of_breaking_the_list(
    client, cast
):
    client.force_login(cast.registrar)
    for value in ("²", "１", "99999999999999999999"):
        assert client.get(reverse("student-list"), {"college": value}).status_code == 200


def test_counsellor_filter_options_offer_only_what_they_can_see(client, cast):
    client.force_login(cast.counsellor)
    form = client.get(reverse("student-list")).context["form"]
    assert list(form.fields["school_class"].queryset) == [cast.class_a]
    assert list(form.fields["college"].queryset) == [cast.cs]


def test_college_admin_filter_options_are_their_college(client, cast):
    client.force_login(cast.college_admin)
    form = client.get(reverse("student-list")).context["form"]
    assert list(form.fields["college"].queryset) == [cast.cs]
    assert list(form.fields["major"].queryset) == [cast.cs_major]
    assert set(form.fields["school_class"].queryset) == {cast.class_a, cast.class_b}


def test_advisor_filter_options_come_from_their_advisees(client, cast):
    client.force_login(cast.advisor)
    response = client.get(reverse("student-list"))
    assert listed_numbers(response) == {cast.student.student_number}
    assert list(response.context["form"].fields["school_class"].queryset) == [cast.class_a]


def test_choosing_a_college_narrows_the_major_and_class_menus(client, cast):
    client.force_login(cast.registrar)
    form = client.get(reverse("student-list"), {"college": cast.fl.pk}).context["form"]
    assert list(form.fields["major"].queryset) == [cast.fl_major]
    assert list(form.fields["school_class"].queryset) == [cast.class_fl]


def test_a_school_with_hundreds_of_classes_asks_to_narrow_before_listing_them(client, cast):
    from xueji.org.models import SchoolClass
    from xueji.students.forms import CLASS_OPTION_LIMIT

    SchoolClass.objects.bulk_create(
        SchoolClass(
            code=f"X{n:04d}",
            name=f"班{n}",
            college=cast.cs,
            major=cast.cs_major,
            cohort=cast.cohort,
        )
        for n in range(CLASS_OPTION_LIMIT)
    )
    client.force_login(cast.registrar)
    wide = client.get(reverse("student-list"))
    assert list(wide.context["form"].fields["school_class"].queryset) == []
    assert "请先选择学院、专业或年级" in wide.text
    linked = client.get(reverse("student-list"), {"school_class": cast.class_b.pk})
    assert list(linked.context["form"].fields["school_class"].queryset) == [cast.class_b]
    assert listed_numbers(linked) == {cast.classmate_b.student_number}
    narrowed = client.get(reverse("student-list"), {"college": cast.fl.pk})
    assert list(narrowed.context["form"].fields["school_class"].queryset) == [cast.class_fl]


def test_counsellor_filtering_by_another_class_does_not_reveal_it(client, cast):
    client.force_login(cast.counsellor)
    response = client.get(reverse("student-list"), {"school_class": cast.class_b.pk})
    assert cast.classmate_b.student_number not in listed_numbers(response)


def test_list_masks_id_numbers_and_phones(client, cast):
    Student.objects.filter(pk=cast.student.pk).update(phone="13912345678")
    client.force_login(cast.registrar)
    response = client.get(reverse("student-list"))
    assert cast.student.id_number not in response.text
    assert mask_id_number(cast.student.id_number) in response.text
    assert "13912345678" not in response.text
    assert "139****5678" in response.text


def test_list_paginates_fifty_a_page_with_a_constant_number_of_queries(
    client, cast, django_assert_max_num_queries
):
    common = {"college": cast.cs, "major": cast.cs_major, "cohort": cast.cohort}
    for serial in range(100, 160):
        make_student(school_class=cast.class_a, serial=serial, name="赵六", **common)
    client.force_login(cast.registrar)
    with django_assert_max_num_queries(20):
        first = client.get(reverse("student-list"))
    second = client.get(reverse("student-list"), {"page": 2})
    assert len(listed_numbers(first)) == 50
    assert len(listed_numbers(second)) == 13
    assert "共 63 名学生" in first.text


def test_htmx_search_returns_only_the_results_table_and_fresh_menus(client, cast):
    client.force_login(cast.registrar)
    response = client.get(reverse("student-list"), {"q": "李四"}, headers={"HX-Request": "true"})
    assert "<html" not in response.text
    assert listed_numbers(response) == {cast.classmate_b.student_number}
    assert 'id="filter-fields" hx-swap-oob="true"' in response.text


def test_student_visiting_the_list_is_sent_to_their_own_record(client, cast):
    client.force_login(cast.student_user)
    response = client.get(reverse("student-list"))
    assert response.status_code == 302
    assert response.url == reverse("my-record")


def test_parent_visiting_the_list_is_refused(client, cast):
    client.force_login(cast.parent)
    response = client.get(reverse("student-list"))
    assert response.status_code == 403
    assert "仅限教职工" in response.text


# --- Student detail and reveal ---------------------------------------------------------------


def test_detail_shows_grouped_fields_with_code_names_and_masked_values(client, cast):
    Student.objects.filter(pk=cast.student.pk).update(
        phone="13912345678", address="北京市东城区某某街道1号"
    )
    client.force_login(cast.registrar)
    response = client.get(detail_url(cast.student))
    text = response.text
    assert response.status_code == 200
    for heading in ("基本信息", "学籍信息", "联系方式", "学籍状态记录", "档案时间线"):
        assert heading in text
    assert "男（1）" in text and "汉族（01）" in text and "居民身份证" in text
    assert mask_id_number(cast.student.id_number) in text
    assert cast.student.id_number not in text
    assert "13912345678" not in text and "北京市东城区某某" not in text
    assert "新生建档" in text


def test_counsellor_gets_404_for_students_outside_their_class(client, cast):
    client.force_login(cast.counsellor)
    assert client.get(detail_url(cast.student)).status_code == 200
    assert client.get(detail_url(cast.classmate_b)).status_code == 404
    assert client.get(detail_url(cast.other_student)).status_code == 404


def test_college_admin_gets_404_for_another_college(client, cast):
    client.force_login(cast.college_admin)
    assert client.get(detail_url(cast.classmate_b)).status_code == 200
    assert client.get(detail_url(cast.other_student)).status_code == 404


def test_unknown_student_number_is_404(client, cast):
    client.force_login(cast.registrar)
    assert client.get(reverse("student-detail", args=["9999999999"])).status_code == 404


def test_student_sees_only_their_own_record(client, cast):
    client.force_login(cast.student_user)
    me = client.get(reverse("my-record"))
    assert me.status_code == 200 and me.context["student"] == cast.student
    assert client.get(detail_url(cast.student)).status_code == 200
    assert client.get(detail_url(cast.classmate_b)).status_code == 404
    assert client.get(detail_url(cast.other_student)).status_code == 404


def test_student_record_page_has_no_edit_or_reveal_buttons(client, cast):
    client.force_login(cast.student_user)
    text = client.get(reverse("my-record")).text
    assert 'id="edit-student"' not in text and 'id="reveal-id"' not in text
    assert "申请更正" in text


def test_staff_without_a_student_record_get_404_on_my_record(client, cast):
    client.force_login(cast.registrar)
    assert client.get(reverse("my-record")).status_code == 404


def test_parent_sees_a_consenting_child_read_only_and_masked(client, cast):
    client.force_login(cast.parent)
    response = client.get(detail_url(cast.student))
    assert response.status_code == 200
    assert cast.student.id_number not in response.text
    assert 'id="edit-student"' not in response.text
    assert client.get(detail_url(cast.classmate_b)).status_code == 404
    assert client.get(edit_url(cast.student)).status_code == 403


def test_parent_gets_404_once_the_student_withdraws_consent(client, cast):
    client.force_login(cast.student_user)
    link = ParentLink.objects.get(parent=cast.parent)
    client.post(reverse("my-parent-consent", args=[link.pk]), {"consent": "0"})
    client.force_login(cast.parent)
    assert client.get(detail_url(cast.student)).status_code == 404


def test_registrar_reveals_the_full_id_number_and_the_read_is_audited(client, cast):
    client.force_login(cast.registrar)
    before = AuditEvent.objects.filter(action="student.view_id").count()
    response = client.post(reveal_url(cast.student))
    assert response.status_code == 200
    assert cast.student.id_number in response.text
    events = AuditEvent.objects.filter(action="student.view_id")
    assert events.count() == before + 1
    assert events.first().target_id == str(cast.student.pk)
    assert events.first().actor_id == cast.registrar.pk


def test_reveal_over_htmx_returns_just_the_number(client, cast):
    client.force_login(cast.registrar)
    response = client.post(reveal_url(cast.student), headers={"HX-Request": "true"})
    assert "<html" not in response.text
    assert cast.student.id_number in response.text


def test_detail_page_offers_the_reveal_button_only_with_the_grant(client, cast):
    client.force_login(cast.registrar)
    assert 'id="reveal-id"' in client.get(detail_url(cast.student)).text
    client.force_login(cast.counsellor)
    assert 'id="reveal-id"' not in client.get(detail_url(cast.student)).text


def test_counsellor_without_the_grant_is_refused_the_full_id_and_nothing_is_audited(client, cast):
    client.force_login(cast.counsellor)
    response = client.post(reveal_url(cast.student))
    assert response.status_code == 403
    assert cast.student.id_number not in response.text
    assert not AuditEvent.objects.filter(action="student.view_id").exists()


def test_reveal_outside_scope_is_404_even_with_the_grant(client, cast):
    from xueji.accounts.models import Grant

    Grant.objects.filter(user=cast.college_admin).update(can_view_full_id=True)
    client.force_login(cast.college_admin)
    assert client.post(reveal_url(cast.other_student)).status_code == 404
    assert not AuditEvent.objects.filter(action="student.view_id").exists()


def test_reveal_refuses_get(client, cast):
    client.force_login(cast.registrar)
    assert client.get(reveal_url(cast.student)).status_code == 405


# --- Edit ------------------------------------------------------------------------------------


def test_counsellor_edit_form_allows_only_contact_fields(client, cast):
    client.force_login(cast.counsellor)
    form = client.get(edit_url(cast.student)).context["form"]
    enabled = {name for name, field in form.fields.items() if not field.disabled}
    assert enabled == {
        "phone",
        "email",
        "address",
        "emergency_contact",
        "emergency_phone",
        "reason",
    }


def test_edit_page_never_contains_the_full_id_number(client, cast):
    for user in (cast.registrar, cast.college_admin, cast.counsellor):
        client.force_login(user)
        response = client.get(edit_url(cast.student))
        assert response.status_code == 200
        assert cast.student.id_number not in response.text
        assert mask_id_number(cast.student.id_number) in response.text


def test_registrar_saving_without_touching_the_id_number_keeps_it(client, cast):
    client.force_login(cast.registrar)
    response = client.post(edit_url(cast.student), edit_form_data(cast.student, name="单晓明"))
    assert response.status_code == 302
    fresh = Student.objects.get(pk=cast.student.pk)
    assert fresh.id_number == cast.student.id_number and fresh.name == "单晓明"


def test_counsellor_updates_a_phone_number_and_the_change_is_audited(client, cast):
    client.force_login(cast.counsellor)
    response = client.post(
        edit_url(cast.student), edit_form_data(cast.student, phone="13700001111")
    )
    assert response.status_code == 302
    assert response.url == detail_url(cast.student)
    cast.student.refresh_from_db()
    assert cast.student.phone == "13700001111"
    event = AuditEvent.objects.filter(action="student.update").first()
    assert event is not None and event.actor_id == cast.counsellor.pk


def test_fields_a_counsellor_may_not_edit_are_ignored_when_posted(client, cast):
    client.force_login(cast.counsellor)
    client.post(
        edit_url(cast.student), edit_form_data(cast.student, name="篡改", phone="13700001111")
    )
    cast.student.refresh_from_db()
    assert cast.student.name == "单小明"


def test_edit_requires_a_reason(client, cast):
    client.force_login(cast.counsellor)
    response = client.post(
        edit_url(cast.student), edit_form_data(cast.student, phone="13700001111", reason="")
    )
    assert response.status_code == 200
    cast.student.refresh_from_db()
    assert cast.student.phone == ""


def _assert_unchanged(student: Student) -> None:
    fresh = Student.objects.get(pk=student.pk)
    assert (fresh.id_number, fresh.birth_date, fresh.candidate_number) == (
        student.id_number,
        student.birth_date,
        student.candidate_number,
    )


def test_bad_id_checksum_shows_a_chinese_message_and_changes_nothing(client, cast):
    bad = cast.student.id_number[:-1] + ("0" if cast.student.id_number[-1] != "0" else "1")
    client.force_login(cast.registrar)
    audit_before = AuditEvent.objects.count()
    response = client.post(edit_url(cast.student), edit_form_data(cast.student, id_number=bad))
    assert response.status_code == 200
    assert "身份证号校验位错误" in response.text
    assert response.context["form"].errors["id_number"]
    _assert_unchanged(cast.student)
    assert AuditEvent.objects.count() == audit_before


def test_birth_date_that_contradicts_the_id_number_is_refused(client, cast):
    client.force_login(cast.registrar)
    response = client.post(
        edit_url(cast.student), edit_form_data(cast.student, birth_date="2004-01-01")
    )
    assert "与填写的出生日期" in response.text
    _assert_unchanged(cast.student)


def test_duplicate_candidate_number_is_refused(client, cast):
    client.force_login(cast.registrar)
    response = client.post(
        edit_url(cast.student),
        edit_form_data(cast.student, candidate_number=cast.classmate_b.candidate_number),
    )
    assert f"考生号“{cast.classmate_b.candidate_number}”已被其他学生使用" in response.text
    _assert_unchanged(cast.student)


def test_id_number_of_another_student_is_refused(client, cast):
    other = cast.classmate_b
    client.force_login(cast.registrar)
    response = client.post(
        edit_url(cast.student),
        edit_form_data(
            cast.student,
            id_number=other.id_number,
            birth_date=other.birth_date.isoformat(),
            gender=other.gender,
        ),
    )
    assert "该证件号码已属于另一名学生" in response.text
    _assert_unchanged(cast.student)


def test_edit_page_for_a_student_outside_scope_is_404(client, cast):
    client.force_login(cast.counsellor)
    assert client.get(edit_url(cast.classmate_b)).status_code == 404
    assert client.post(edit_url(cast.other_student), {}).status_code == 404


def test_roles_without_edit_rights_are_refused_the_edit_page(client, cast):
    for user in (cast.auditor, cast.advisor, cast.student_user):
        client.force_login(user)
        assert client.get(edit_url(cast.student)).status_code == 403
    client.force_login(cast.student_user)
    assert client.get(edit_url(cast.classmate_b)).status_code == 404


def test_registrar_corrects_a_locked_field_and_the_version_history_shows_it(client, cast):
    client.force_login(cast.registrar)
    response = client.post(edit_url(cast.student), edit_form_data(cast.student, name="单晓明"))
    assert response.status_code == 302
    detail = client.get(detail_url(cast.student)).text
    assert "单晓明" in detail and "档案修改" in detail and "核对原始材料" in detail


# --- Parent consent --------------------------------------------------------------------------


def test_student_sees_linked_parents_and_can_withdraw_and_give_consent(client, cast):
    link = ParentLink.objects.get(parent=cast.parent)
    client.force_login(cast.student_user)
    assert "已同意查看" in client.get(reverse("my-parents")).text
    client.post(reverse("my-parent-consent", args=[link.pk]), {"consent": "0"})
    link.refresh_from_db()
    assert not link.has_consent
    client.post(reverse("my-parent-consent", args=[link.pk]), {"consent": "1"})
    link.refresh_from_db()
    assert link.has_consent
    assert AuditEvent.objects.filter(action="parent_link.consent").count() == 2


def test_another_student_cannot_touch_a_parent_link(client, cast):
    link = ParentLink.objects.get(parent=cast.parent)
    client.force_login(cast.other_student_user)
    response = client.post(reverse("my-parent-consent", args=[link.pk]), {"consent": "0"})
    assert response.status_code == 404
    link.refresh_from_db()
    assert link.has_consent


def test_staff_have_no_consent_page(client, cast):
    client.force_login(cast.counsellor)
    assert client.get(reverse("my-parents")).status_code == 404


def test_a_photo_is_served_only_to_those_who_may_open_the_record(client, cast, settings):
    import io

    from django.core.files.base import ContentFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (30, 40), "white").save(buffer, "JPEG")
    cast.student.photo.save("p.jpg", ContentFile(buffer.getvalue()), save=True)
    url = reverse("student-photo", args=[cast.student.student_number])
    client.force_login(cast.counsellor)
    shown = client.get(url)
    assert shown.status_code == 200 and shown["Content-Type"] == "image/jpeg"
    assert b"".join(shown.streaming_content) == buffer.getvalue()
    detail = client.get(reverse("student-detail", args=[cast.student.student_number]))
    assert url in detail.content.decode() and "/media/" not in detail.content.decode()
    client.force_login(cast.other_student_user)
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302
    # Nothing under /media/ is served, even with DEBUG on (make run).
    settings.DEBUG = True
    assert client.get(f"/media/{cast.student.photo.name}").status_code == 404
