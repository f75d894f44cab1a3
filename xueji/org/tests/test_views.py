"""Organisation and code-table pages: who sees them, who edits, and what a registrar is told."""

from __future__ import annotations

import pytest
from django.urls import reverse

from xueji.audit.models import AuditEvent
from xueji.org.models import AcademicYear, Cohort, College, Major, SchoolClass

pytestmark = pytest.mark.django_db

READ_PAGES = [
    ("org-home", []),
    ("org-major-list", []),
    ("org-class-list", []),
    ("code-table-list", []),
    ("code-table-detail", ["region"]),
]
EDIT_PAGES = [
    "org-school-edit",
    "org-college-create",
    "org-major-create",
    "org-class-create",
    "org-cohort-create",
    "org-academic-year-create",
]


def major_form(cast, **overrides):
    data = {
        "college": cast.cs.pk,
        "national_code": "080902",
        "code": "SE01",
        "name": "软件工程",
        "name_en": "Software Engineering",
        "level": cast.cs_major.level,
        "duration": "4",
        "catalogue_year": "2024",
        "valid_from": "2024-09-01",
        "valid_to": "",
        "replaced_by": "",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(("name", "args"), READ_PAGES + [(name, []) for name in EDIT_PAGES])
def test_anonymous_visitors_are_sent_to_login(client, cast, name, args):
    url = reverse(name, args=args)

    response = client.get(url)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("persona", ["student_user", "parent"])
@pytest.mark.parametrize(("name", "args"), READ_PAGES + [(name, []) for name in EDIT_PAGES])
def test_students_and_parents_are_forbidden(client, cast, persona, name, args):
    client.force_login(getattr(cast, persona))

    assert client.get(reverse(name, args=args)).status_code == 403


@pytest.mark.parametrize("name", EDIT_PAGES)
def test_college_admin_cannot_open_the_edit_screens(client, cast, name):
    client.force_login(cast.college_admin)

    assert client.get(reverse(name)).status_code == 403


def test_college_admin_cannot_post_an_edit_to_the_organisation(client, cast):
    client.force_login(cast.college_admin)

    response = client.post(
        reverse("org-college-edit", args=[cast.cs.pk]),
        {"code": "08", "name": "被改名的学院", "is_active": "on"},
    )

    assert response.status_code == 403
    cast.cs.refresh_from_db()
    assert cast.cs.name == "计算机学院"


@pytest.mark.parametrize("persona", ["college_admin", "counsellor", "advisor", "auditor"])
def test_other_staff_read_the_organisation_without_edit_buttons(client, cast, persona):
    client.force_login(getattr(cast, persona))

    response = client.get(reverse("org-home"))

    assert response.status_code == 200
    content = response.content.decode()
    assert "计算机学院" in content and "外国语学院" in content
    assert reverse("org-college-create") not in content
    assert reverse("org-college-edit", args=[cast.cs.pk]) not in content


def test_the_overview_counts_majors_and_classes_per_college(client, cast):
    client.force_login(cast.registrar)

    response = client.get(reverse("org-home"))

    colleges = {college.name: college for college in response.context["colleges"]}
    assert (colleges["计算机学院"].major_count, colleges["计算机学院"].class_count) == (1, 2)
    assert (colleges["外国语学院"].major_count, colleges["外国语学院"].class_count) == (1, 1)
    assert reverse("org-college-create") in response.content.decode()


def test_college_page_lists_its_majors_with_their_catalogue_name_and_its_classes(client, cast):
    client.force_login(cast.counsellor)

    response = client.get(reverse("org-college-detail", args=[cast.cs.pk]))

    content = response.content.decode()
    assert "080901" in content and "计算机科学与技术" in content
    assert "计科2401" in content and "计科2402" in content
    assert "英语2401" not in content


def test_registrar_creates_a_major_through_the_form(client, cast):
    client.force_login(cast.registrar)

    response = client.post(reverse("org-major-create"), major_form(cast))

    assert response.status_code == 302
    major = Major.objects.get(code="SE01")
    assert (major.college, major.national_code, major.duration) == (cast.cs, "080902", 4)
    assert AuditEvent.objects.filter(action="org.major.save", target_id=str(major.pk)).exists()


def test_registrar_gets_the_chinese_message_for_an_unknown_national_code_and_nothing_is_saved(
    client, cast
):
    client.force_login(cast.registrar)
    events_before = AuditEvent.objects.count()

    response = client.post(reverse("org-major-create"), major_form(cast, national_code="089999"))

    assert response.status_code == 200
    assert response.context["form"].errors["national_code"] == [
        "国家专业代码“089999”不在 2024 年本科专业目录中"
    ]
    assert "国家专业代码“089999”不在 2024 年本科专业目录中" in response.content.decode()
    assert not Major.objects.filter(code="SE01").exists()
    assert AuditEvent.objects.count() == events_before


def test_the_major_form_shows_the_catalogue_name_of_the_code_typed(client, cast):
    client.force_login(cast.registrar)
    url = reverse("org-major-catalogue-lookup")

    found = client.get(url, {"national_code": "080902"}).content.decode()
    missing = client.get(url, {"national_code": "089999"}).content.decode()

    assert "软件工程" in found
    assert "不在 2024 年本科专业目录中" in missing


def test_registrar_maps_an_old_major_to_its_replacement(client, cast):
    client.force_login(cast.registrar)
    client.post(reverse("org-major-create"), major_form(cast))
    new = Major.objects.get(code="SE01")
    edit = reverse("org-major-edit", args=[cast.cs_major.pk])
    initial = client.get(edit).context["form"].initial

    response = client.post(
        edit,
        major_form(
            cast,
            code="CS01",
            name="计算机科学与技术",
            national_code="080901",
            valid_from="",
            valid_to="2025-08-31",
            replaced_by=new.pk,
            duration=initial["duration"],
        ),
    )

    assert response.status_code == 302
    cast.cs_major.refresh_from_db()
    assert cast.cs_major.replaced_by == new
    listing = client.get(reverse("org-major-list")).content.decode()
    assert "已停用" in listing


def test_creating_a_class_whose_major_is_in_another_college_is_refused(client, cast):
    client.force_login(cast.registrar)

    response = client.post(
        reverse("org-class-create"),
        {
            "code": "JK2403",
            "name": "计科2403",
            "college": cast.cs.pk,
            "major": cast.fl_major.pk,
            "cohort": cast.cohort.pk,
            "is_active": "on",
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors["major"] == ["专业“英语”不属于计算机学院"]
    assert not SchoolClass.objects.filter(code="JK2403").exists()


def test_registrar_creates_a_college_a_cohort_and_an_academic_year(client, cast):
    client.force_login(cast.registrar)

    client.post(
        reverse("org-college-create"), {"code": "09", "name": "数学学院", "is_active": "on"}
    )
    client.post(reverse("org-cohort-create"), {"year": "2025"})
    client.post(reverse("org-academic-year-create"), {"start_year": "2025"})

    assert College.objects.filter(code="09", name="数学学院").exists()
    assert Cohort.objects.filter(year=2025).exists()
    assert AcademicYear.objects.get(start_year=2025).terms.count() == 2
    home = client.get(reverse("org-home")).content.decode()
    assert "数学学院" in home and "2025-2026学年" in home


def test_a_second_academic_year_for_the_same_start_is_refused_with_a_message(client, cast):
    client.force_login(cast.registrar)
    url = reverse("org-academic-year-create")
    client.post(url, {"start_year": "2025"})

    response = client.post(url, {"start_year": "2025"})

    assert response.status_code == 200
    assert "2025-2026学年已存在。" in response.content.decode()


def test_a_missing_required_field_is_reported_in_chinese(client, cast):
    client.force_login(cast.registrar)

    response = client.post(reverse("org-college-create"), {"code": "09", "name": ""})

    assert response.status_code == 200
    assert response.context["form"].errors["name"] == ["该字段是必填项。"]


def test_school_information_is_edited_by_the_registrar(client, cast):
    client.force_login(cast.registrar)

    response = client.post(
        reverse("org-school-edit"),
        {"code": "10999", "name": "示例大学", "name_en": "Sample University", "school_type": "1"},
    )

    assert response.status_code == 302
    cast.school.refresh_from_db()
    assert cast.school.name_en == "Sample University"


def test_code_table_list_shows_each_table_with_version_and_816_majors(client, cast):
    client.force_login(cast.counsellor)

    response = client.get(reverse("code-table-list"))

    tables = {entry["table"]: entry for entry in response.context["tables"]}
    assert tables["major_catalogue_2024"]["version"].rows == 816
    content = response.content.decode()
    assert "本科专业目录（2024）" in content and ">816<" in content
    assert "GB 3304-1991" in content


def test_major_catalogue_shows_the_category_and_is_paginated(client, cast):
    client.force_login(cast.advisor)

    response = client.get(reverse("code-table-detail", args=["major_catalogue_2024"]))

    assert response.context["page"].paginator.count == 816
    assert len(response.context["rows"]) == 50
    assert "哲学类" in response.content.decode()


def test_region_search_finds_dongcheng_and_marks_chongwen_as_historical(client, cast):
    client.force_login(cast.auditor)
    url = reverse("code-table-detail", args=["region"])

    dongcheng = client.get(url, {"q": "东城区"})
    chongwen = client.get(url, {"q": "崇文区"})
    by_prefix = client.get(url, {"q": "1101"})

    assert "110101" in dongcheng.content.decode()
    rows = [row["item"] for row in chongwen.context["rows"]]
    assert [(item.code, item.valid_to) for item in rows] == [("110103", 2010)]
    assert "历史" in chongwen.content.decode()
    assert all(row["item"].code.startswith("1101") for row in by_prefix.context["rows"])


def test_current_only_hides_historical_codes(client, cast):
    client.force_login(cast.registrar)

    response = client.get(
        reverse("code-table-detail", args=["region"]), {"q": "崇文区", "current": "1"}
    )

    assert response.context["page"].paginator.count == 0


def test_an_unknown_code_table_is_not_found(client, cast):
    client.force_login(cast.registrar)

    assert client.get(reverse("code-table-detail", args=["nope"])).status_code == 404
