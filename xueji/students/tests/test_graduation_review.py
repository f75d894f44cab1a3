"""Graduation pages given hand-made filter values (found in review): a clear page, never a 500."""

from __future__ import annotations

import pytest
from django.urls import reverse

from xueji.conftest import Cast


@pytest.mark.parametrize("name", ["diploma-list", "degree-list"])
@pytest.mark.parametrize("year", ["10000", "0", "²", "٢٠٢٨"])
def test_a_year_outside_the_rule_or_not_in_ascii_digits_does_not_break_the_list_pages(
    client, cast: Cast, name: str, year: str
):
    client.force_login(cast.registrar)
    response = client.get(reverse(name), {"year": year})
    assert response.status_code == 200


@pytest.mark.parametrize("college", ["²", "99999999999999999999"])
def test_a_college_that_is_no_id_reads_as_an_unknown_college(client, cast: Cast, college: str):
    client.force_login(cast.registrar)
    assert client.get(reverse("diploma-list"), {"college": college}).status_code in (200, 404)


def test_a_student_id_that_is_not_ascii_digits_is_ignored_by_the_conferral(client, cast: Cast):
    client.force_login(cast.registrar)
    response = client.post(
        reverse("degree-confer"),
        {
            "students": ["²"],
            "level": "4",
            "conferral_date": "2028-06-30",
            "decision_number": "示大学位〔2028〕3号",
        },
    )
    assert response.status_code == 200


def test_a_school_code_in_full_width_digits_makes_no_diploma_number():
    from xueji.students.certificate_numbers import CertificateNumberError, diploma_number

    # Typed with a Chinese input method in full-width mode: isdigit() is True for these.
    with pytest.raises(CertificateNumberError, match="5 位数字"):
        diploma_number(school_code="１０９９９", school_type="1", year=2028, level="05", serial=1)


def test_the_school_form_refuses_a_code_in_full_width_digits():
    from xueji.org.forms import SchoolForm

    form = SchoolForm(data={"code": "１０９９９", "name": "示例大学", "school_type": "1"})
    assert not form.is_valid()
    assert "code" in form.errors


def test_numbering_is_blocked_for_a_school_whose_stored_code_is_not_ascii(cast: Cast):
    from xueji.org.models import School
    from xueji.students.diploma_selectors import school_problems

    School.objects.filter(pk=cast.school.pk).update(code="１０９９９", president_name="张校长")
    cast.school.refresh_from_db()
    assert any("5 位数字" in p for p in school_problems(cast.school))
