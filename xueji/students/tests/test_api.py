"""Students over the API: scope (out of scope is 404), search, filters, masking, audited reveal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.test import APIClient

from xueji.accounts.models import Grant, User
from xueji.accounts.services import api_token_issue
from xueji.audit.models import AuditEvent
from xueji.conftest import Cast, make_student
from xueji.core.context import Actor
from xueji.core.masking import mask_address, mask_id_number, mask_phone
from xueji.students.models import ParentLink, Student, StudentStatus
from xueji.students.serializers import StudentSerializer

LIST_URL = "/api/v1/students/"
ME_URL = "/api/v1/students/me/"


def detail_url(student: Student) -> str:
    return f"/api/v1/students/{student.student_number}/"


def id_number_url(student: Student) -> str:
    return f"/api/v1/students/{student.student_number}/id-number/"


def api_as(user: User) -> APIClient:
    """A client calling with a real Bearer token, as an integrating system would."""
    _, key = api_token_issue(actor=Actor.system(), user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def numbers(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["student_number"] for row in response.json()["results"]]


# --- anonymous ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        LIST_URL,
        ME_URL,
        "/api/v1/students/2024000001/",
        "/api/v1/students/2024000001/id-number/",
    ],
)
def test_anonymous_caller_gets_a_chinese_401_from_every_student_endpoint(
    cast: Cast, url: str
) -> None:
    response = APIClient().get(url)

    assert response.status_code == 401
    assert response.json()["error"]["message"] == "未登录或未提供有效的身份凭证。"
    assert response["WWW-Authenticate"] == "Bearer"


# --- scope ----------------------------------------------------------------------------------


def test_counsellor_lists_only_students_of_their_class(cast: Cast) -> None:
    assert numbers(api_as(cast.counsellor).get(LIST_URL)) == [cast.student.student_number]


def test_college_admin_lists_the_whole_college_and_nothing_else(cast: Cast) -> None:
    assert numbers(api_as(cast.college_admin).get(LIST_URL)) == [
        cast.student.student_number,
        cast.classmate_b.student_number,
    ]


def test_registrar_lists_every_student(cast: Cast) -> None:
    assert len(numbers(api_as(cast.registrar).get(LIST_URL))) == 3


@pytest.mark.parametrize("url_for", [detail_url, id_number_url])
def test_counsellor_gets_404_for_a_student_of_another_college(cast: Cast, url_for: Any) -> None:
    response = api_as(cast.counsellor).get(url_for(cast.other_student))

    assert response.status_code == 404
    assert response.json()["error"]["message"] == "未找到该学生，或您无权查看。"


def test_counsellor_gets_the_same_404_for_a_student_that_does_not_exist(cast: Cast) -> None:
    out_of_scope = api_as(cast.counsellor).get(detail_url(cast.classmate_b))
    missing = api_as(cast.counsellor).get("/api/v1/students/1999999999/")

    assert out_of_scope.status_code == missing.status_code == 404
    assert out_of_scope.json() == missing.json()


def test_counsellor_cannot_find_an_out_of_scope_student_by_search(cast: Cast) -> None:
    client = api_as(cast.counsellor)

    assert numbers(client.get(LIST_URL, {"search": cast.other_student.name})) == []
    assert numbers(client.get(LIST_URL, {"search": cast.other_student.id_number})) == []


def test_student_sees_only_self_in_the_list(cast: Cast) -> None:
    assert numbers(api_as(cast.student_user).get(LIST_URL)) == [cast.student.student_number]


def test_student_gets_404_for_a_classmate(cast: Cast) -> None:
    response = api_as(cast.student_user).get(detail_url(cast.classmate_b))

    assert response.status_code == 404


def test_student_reads_own_detail(cast: Cast) -> None:
    response = api_as(cast.student_user).get(detail_url(cast.student))

    assert response.status_code == 200
    assert response.json()["name"] == "单小明"


def test_parent_sees_the_consenting_child_only(cast: Cast) -> None:
    client = api_as(cast.parent)

    assert numbers(client.get(LIST_URL)) == [cast.student.student_number]
    assert client.get(detail_url(cast.student)).status_code == 200
    assert client.get(detail_url(cast.classmate_b)).status_code == 404


def test_parent_loses_access_when_the_child_revokes_consent(cast: Cast) -> None:
    ParentLink.objects.update(consent_revoked_at=timezone.now())
    client = api_as(cast.parent)

    assert numbers(client.get(LIST_URL)) == []
    assert client.get(detail_url(cast.student)).status_code == 404


def test_parent_without_consent_sees_nothing(cast: Cast) -> None:
    ParentLink.objects.create(parent=cast.parent, student=cast.classmate_b)

    assert numbers(api_as(cast.parent).get(LIST_URL)) == [cast.student.student_number]


def test_user_without_any_grant_sees_nothing(cast: Cast) -> None:
    nobody = User.objects.create_user(username="nobody", password="unused-password-2026")

    assert numbers(api_as(nobody).get(LIST_URL)) == []


def test_browser_session_works_like_a_token(cast: Cast) -> None:
    client = APIClient()
    client.force_login(cast.counsellor)

    assert numbers(client.get(LIST_URL)) == [cast.student.student_number]


# --- /students/me/ --------------------------------------------------------------------------


def test_me_returns_the_callers_own_record(cast: Cast) -> None:
    response = api_as(cast.other_student_user).get(ME_URL)

    assert response.status_code == 200
    assert response.json()["student_number"] == cast.other_student.student_number


def test_me_is_a_json_404_for_a_caller_without_a_student_record(cast: Cast) -> None:
    response = api_as(cast.counsellor).get(ME_URL)

    assert response.status_code == 404
    assert response.json()["error"]["message"] == "当前账号没有关联的学生档案。"


def test_me_is_a_404_for_a_parent_even_with_a_consenting_child(cast: Cast) -> None:
    assert api_as(cast.parent).get(ME_URL).status_code == 404


def test_me_is_a_404_once_the_students_own_grant_is_withdrawn(cast: Cast) -> None:
    client = api_as(cast.student_user)
    Grant.objects.filter(user=cast.student_user).update(is_active=False)

    assert client.get(ME_URL).status_code == 404


def test_me_finds_the_record_of_staff_who_are_also_enrolled(cast: Cast) -> None:
    Student.objects.filter(pk=cast.classmate_b.pk).update(user=cast.college_admin)

    response = api_as(cast.college_admin).get(ME_URL)

    assert response.status_code == 200
    assert response.json()["student_number"] == cast.classmate_b.student_number


def test_me_costs_a_handful_of_queries(cast: Cast, django_assert_max_num_queries: Any) -> None:
    client = api_as(cast.student_user)
    client.get(ME_URL)  # warms the code-table name caches and the token's last-used stamp

    # token + user; the student with its org relations, its "self" grant checked in the same query
    with django_assert_max_num_queries(2):
        response = client.get(ME_URL)
    assert response.status_code == 200


# --- search and filters ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["单小明", "单", "shanxiaoming", "ShanXiao", "sxm", "2024000001", "24110101000001"],
)
def test_registrar_finds_a_student_by_name_pinyin_initials_student_and_candidate_number(
    cast: Cast, query: str
) -> None:
    assert numbers(api_as(cast.registrar).get(LIST_URL, {"search": query})) == [
        cast.student.student_number
    ]


def test_search_by_id_number_matches_the_exact_number_only(cast: Cast) -> None:
    client = api_as(cast.registrar)
    id_number = cast.student.id_number

    assert numbers(client.get(LIST_URL, {"search": id_number})) == [cast.student.student_number]
    assert numbers(client.get(LIST_URL, {"search": id_number.lower()})) == [
        cast.student.student_number
    ]
    assert numbers(client.get(LIST_URL, {"search": id_number[:10]})) == []


def test_search_ignores_nul_characters_instead_of_failing(cast: Cast) -> None:
    response = api_as(cast.registrar).get(LIST_URL, {"search": "单小\x00明"})

    assert numbers(response) == [cast.student.student_number]


def test_search_with_full_width_digits_finds_the_student(cast: Cast) -> None:
    full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in cast.student.student_number)

    assert numbers(api_as(cast.registrar).get(LIST_URL, {"search": full_width})) == [
        cast.student.student_number
    ]


def test_list_filters_by_college_class_major_cohort_and_status(cast: Cast) -> None:
    client = api_as(cast.registrar)
    Student.objects.filter(pk=cast.classmate_b.pk).update(status=StudentStatus.SUSPENDED)

    assert numbers(client.get(LIST_URL, {"college": cast.fl.pk})) == [
        cast.other_student.student_number
    ]
    assert numbers(client.get(LIST_URL, {"class": cast.class_b.pk})) == [
        cast.classmate_b.student_number
    ]
    assert len(numbers(client.get(LIST_URL, {"major": cast.cs_major.pk}))) == 2
    assert len(numbers(client.get(LIST_URL, {"cohort": cast.cohort.pk}))) == 3
    assert numbers(client.get(LIST_URL, {"status": "suspended"})) == [
        cast.classmate_b.student_number
    ]


def test_filters_never_widen_the_callers_scope(cast: Cast) -> None:
    response = api_as(cast.counsellor).get(LIST_URL, {"college": cast.fl.pk})

    assert numbers(response) == []


def test_modified_since_returns_only_students_changed_after_it(cast: Cast) -> None:
    long_ago = timezone.now() - timedelta(days=30)
    Student.objects.exclude(pk=cast.classmate_b.pk).update(updated_at=long_ago)
    since = (timezone.now() - timedelta(days=1)).isoformat()

    response = api_as(cast.registrar).get(LIST_URL, {"modified_since": since})

    assert numbers(response) == [cast.classmate_b.student_number]


def test_modified_since_forgives_an_unescaped_plus_in_the_offset(cast: Cast) -> None:
    Student.objects.update(updated_at=timezone.now() - timedelta(days=30))
    client = api_as(cast.registrar)

    response = client.get(f"{LIST_URL}?modified_since=2000-01-01T00:00:00+08:00")

    assert len(numbers(response)) == 3
    recent = client.get(f"{LIST_URL}?modified_since={timezone.now().date().isoformat()}")
    assert numbers(recent) == []
    with_space = client.get(LIST_URL, {"modified_since": "2000-01-01 00:00:00"})
    assert len(numbers(with_space)) == 3


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"modified_since": "last tuesday"}, "modified_since"),
        ({"college": "计算机学院"}, "college"),
        ({"status": "on_holiday"}, "status"),
        ({"class": "0"}, "class"),
        ({"modified_since": ""}, "modified_since"),
        ({"page_size": "1000"}, "page_size"),
        ({"page": ""}, "page"),
    ],
)
def test_bad_filter_is_a_400_naming_the_field(
    cast: Cast, params: dict[str, str], field: str
) -> None:
    response = api_as(cast.registrar).get(LIST_URL, params)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"]
    assert not error["message"].isascii()


def test_list_pages_with_page_and_page_size(cast: Cast) -> None:
    client = api_as(cast.registrar)

    first = client.get(LIST_URL, {"page_size": 2}).json()
    second = client.get(LIST_URL, {"page_size": 2, "page": 2}).json()

    assert first["count"] == 3
    assert len(first["results"]) == 2
    assert first["next"]
    assert [row["student_number"] for row in second["results"]] == [
        cast.other_student.student_number
    ]
    missing = client.get(LIST_URL, {"page": 9})
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "页码无效：没有这一页。"


def test_list_costs_the_same_queries_for_many_students_as_for_few(
    cast: Cast, django_assert_max_num_queries: Any
) -> None:
    client = api_as(cast.registrar)
    client.get(LIST_URL)  # warms the code-table name caches
    for serial in range(10, 30):
        make_student(
            college=cast.cs,
            major=cast.cs_major,
            school_class=cast.class_a,
            cohort=cast.cohort,
            serial=serial,
            name="赵六",
        )

    # token + user, grants, granted classes, count, the page's keys, the page with its org
    # relations (deferred join)
    with django_assert_max_num_queries(6):
        response = client.get(LIST_URL)
    assert response.json()["count"] == 23


def test_posting_to_the_read_only_list_is_a_json_405(cast: Cast) -> None:
    response = api_as(cast.registrar).post(LIST_URL, {}, format="json")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


# --- representation and masking -------------------------------------------------------------


@pytest.fixture
def contacts(cast: Cast) -> Student:
    Student.objects.filter(pk=cast.student.pk).update(
        phone="13812345678",
        address="北京市东城区东华门街道某某胡同 12 号",
        emergency_phone="13987654321",
        email="xiaoming@example.edu.cn",
    )
    cast.student.refresh_from_db()
    return cast.student


def test_list_and_detail_never_carry_the_full_id_phone_or_address(
    cast: Cast, contacts: Student
) -> None:
    client = api_as(cast.registrar)  # even a user allowed to see the full ID
    for response in (client.get(LIST_URL), client.get(detail_url(contacts))):
        text = response.content.decode()
        assert contacts.id_number not in text
        assert contacts.phone not in text
        assert contacts.emergency_phone not in text
        assert contacts.address not in text
        assert contacts.id_number[6:14] not in text  # the birth date inside the ID

    row = client.get(detail_url(contacts)).json()
    assert row["id_number"] == mask_id_number(contacts.id_number)
    assert row["phone"] == mask_phone(contacts.phone)
    assert row["emergency_phone"] == mask_phone(contacts.emergency_phone)
    assert row["address"] == mask_address(contacts.address)
    assert row["email"] == "xiaoming@example.edu.cn"


def test_me_is_masked_too(cast: Cast, contacts: Student) -> None:
    text = api_as(cast.student_user).get(ME_URL).content.decode()

    assert contacts.id_number not in text
    assert contacts.phone not in text


def test_coded_fields_carry_code_and_name(cast: Cast) -> None:
    row = api_as(cast.registrar).get(detail_url(cast.classmate_b)).json()

    assert row["gender"] == {"code": "2", "name": "女"}
    assert row["ethnicity"] == {"code": "01", "name": "汉族"}
    assert row["political_status"] == {"code": "03", "name": "共青团员"}
    assert row["id_type"]["name"] == "居民身份证"
    assert row["native_region"]["code"] == "110101"
    assert row["native_region"]["name"]
    assert row["level"]["name"] == "本科"
    assert row["study_form"]["name"] == "普通全日制"
    assert row["duration"]["code"] == "4"
    assert row["status"] == {"code": "in_school", "name": "在校"}
    assert row["registry_status"] == {"code": "enrolled", "name": "在籍"}
    assert row["college"] == {"id": cast.cs.pk, "code": "08", "name": "计算机学院"}
    assert row["class"]["name"] == "计科2402"
    assert row["cohort"]["year"] == 2024
    assert row["dateLastModified"]


# --- the unmasked ID ------------------------------------------------------------------------


def test_registrar_reads_the_full_id_and_the_read_is_audited(cast: Cast) -> None:
    response = api_as(cast.registrar).get(id_number_url(cast.student))

    assert response.status_code == 200
    assert response.json() == {"id_number": cast.student.id_number}
    event = AuditEvent.objects.get(action="student.view_id")
    assert event.actor_username == "registrar"
    assert event.via == "api"
    assert event.target_id == str(cast.student.pk)


@pytest.mark.parametrize("who", ["counsellor", "college_admin", "student_user", "parent"])
def test_users_without_the_full_id_grant_get_a_chinese_403_and_nothing_is_revealed(
    cast: Cast, who: str
) -> None:
    response = api_as(getattr(cast, who)).get(id_number_url(cast.student))

    assert response.status_code == 403
    assert response.json()["error"]["message"] == "您没有查看完整证件号码的权限。"
    assert cast.student.id_number not in response.content.decode()
    assert not AuditEvent.objects.filter(action="student.view_id").exists()


def test_hand_written_representation_says_what_the_declared_fields_say(
    cast: Cast, contacts: Student
) -> None:
    # The schema comes from the declared fields; the response from a faster explicit dict.
    for student in (contacts, cast.other_student):
        serializer = StudentSerializer(student)
        declared = serializers.Serializer.to_representation(serializer, student)

        assert list(serializer.data) == list(declared)
        assert serializer.data == declared
