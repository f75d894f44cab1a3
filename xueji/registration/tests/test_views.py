"""Registration pages: what each role sees, the actions they may take, and the negatives
(anonymous → login, wrong role → 403 or redirect, out of scope → 404)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from xueji.conftest import Cast
from xueji.org.models import Term
from xueji.registration.models import FinanceState, FinanceStatus, RegistrationState
from xueji.registration.services import finance_status_set
from xueji.registration.tests.conftest import move_deadline, row

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def with_term(name: str, term: Term, *args) -> str:
    return f"{reverse(name, args=args)}?term={term.pk}"


def owe(cast: Cast, student, term: Term) -> None:
    finance_status_set(
        actor=cast.actor(cast.registrar),
        student=student,
        term=term,
        state=FinanceState.UNPAID,
        amount_due=Decimal("5200"),
    )


def listed(response) -> set[str]:
    return set(re.findall(r'data-student="(\w+)"', response.text))


@pytest.mark.parametrize(
    "name",
    [
        "registration-home",
        "registration-progress",
        "registration-list",
        "registration-candidates",
        "registration-open",
    ],
)
def test_anonymous_visitors_are_sent_to_login(cast: Cast, opened: Term, name: str) -> None:
    response = Client().get(reverse(name))

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_anonymous_post_to_the_actions_changes_nothing(cast: Cast, opened: Term) -> None:
    registration = row(cast.student, opened)
    Client().post(reverse("registration-self"), {"term": opened.pk})
    Client().post(reverse("registration-set", args=[registration.pk]), {"state": "registered"})

    assert row(cast.student, opened).state == RegistrationState.UNREGISTERED


# --- the student ----------------------------------------------------------------------------


def test_a_student_sees_their_state_and_a_register_button_and_registers(
    cast: Cast, opened: Term
) -> None:
    client = client_for(cast.student_user)
    page = client.get(reverse("registration-home"))
    assert page.status_code == 200
    assert "未注册" in page.text
    assert 'id="register-button"' in page.text

    response = client.post(reverse("registration-self"), {"term": opened.pk}, follow=True)

    assert "注册成功" in response.text
    assert row(cast.student, opened).state == RegistrationState.REGISTERED


def test_an_unpaid_student_sees_why_they_cannot_register_and_no_button(
    cast: Cast, opened: Term
) -> None:
    owe(cast, cast.student, opened)
    client = client_for(cast.student_user)

    page = client.get(reverse("registration-home"))
    assert "本学期学费未缴清，不能自助注册" in page.text
    assert 'id="register-button"' not in page.text
    assert "欠缴 5200.00 元" in page.text

    response = client.post(reverse("registration-self"), {"term": opened.pk}, follow=True)
    assert "本学期学费未缴清" in response.text
    assert row(cast.student, opened).state == RegistrationState.UNREGISTERED


def test_a_student_is_sent_from_staff_pages_to_their_own_registration(
    cast: Cast, opened: Term
) -> None:
    client = client_for(cast.student_user)
    for name in ("registration-progress", "registration-list", "registration-candidates"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"] == reverse("registration-home")


def test_a_student_cannot_set_their_own_registration_through_the_staff_action(
    cast: Cast, opened: Term
) -> None:
    registration = row(cast.student, opened)
    client_for(cast.student_user).post(
        reverse("registration-set", args=[registration.pk]), {"state": "registered"}
    )
    assert row(cast.student, opened).state == RegistrationState.UNREGISTERED


def test_a_parent_is_refused_the_registration_pages(cast: Cast, opened: Term) -> None:
    client = client_for(cast.parent)
    assert client.get(reverse("registration-home")).status_code == 403
    assert client.get(reverse("registration-progress")).status_code == 403


# --- progress and list ----------------------------------------------------------------------


def test_counsellor_sees_progress_for_their_class_only(cast: Cast, opened: Term) -> None:
    client = client_for(cast.counsellor)
    client_for(cast.student_user).post(reverse("registration-self"), {"term": opened.pk})

    page = client.get(with_term("registration-progress", opened))

    assert page.status_code == 200
    rows = re.findall(r'data-class="(\w+)"', page.text)
    assert rows == ["JK2401"]
    assert re.search(r'data-col="registered">1<', page.text)
    assert "100%" in page.text
    assert "计科2402" not in page.text


def test_registrar_sees_progress_of_every_class(cast: Cast, opened: Term) -> None:
    page = client_for(cast.registrar).get(with_term("registration-progress", opened))

    assert re.findall(r'data-class="(\w+)"', page.text) == [
        "YY2401",
        "JK2401",
        "JK2402",
    ]  # by college code


def test_staff_home_goes_to_progress(cast: Cast, opened: Term) -> None:
    response = client_for(cast.counsellor).get(reverse("registration-home"))
    assert response["Location"] == reverse("registration-progress")


def test_counsellor_lists_only_students_of_their_class(cast: Cast, opened: Term) -> None:
    page = client_for(cast.counsellor).get(with_term("registration-list", opened))

    assert listed(page) == {cast.student.student_number}


def test_college_admin_filters_the_list_by_finance(cast: Cast, opened: Term) -> None:
    owe(cast, cast.classmate_b, opened)
    page = client_for(cast.college_admin).get(
        with_term("registration-list", opened) + "&finance=unpaid"
    )

    assert listed(page) == {cast.classmate_b.student_number}


# --- per-row actions --------------------------------------------------------------------------


def test_counsellor_registers_a_student_from_the_list(cast: Cast, opened: Term) -> None:
    registration = row(cast.student, opened)
    back = with_term("registration-list", opened)

    response = client_for(cast.counsellor).post(
        reverse("registration-set", args=[registration.pk]),
        {"state": "registered", "next": back},
    )

    assert response.status_code == 302 and response["Location"] == back
    assert row(cast.student, opened).state == RegistrationState.REGISTERED


def test_registering_an_unpaid_student_without_reason_shows_the_form_with_the_rule(
    cast: Cast, opened: Term
) -> None:
    owe(cast, cast.student, opened)
    registration = row(cast.student, opened)

    response = client_for(cast.counsellor).post(
        reverse("registration-set", args=[registration.pk]), {"state": "registered"}
    )

    assert response.status_code == 200
    assert "为其办理注册须填写原因" in response.text
    assert row(cast.student, opened).state == RegistrationState.UNREGISTERED


def test_deferral_without_reason_or_date_is_refused_on_the_form(cast: Cast, opened: Term) -> None:
    registration = row(cast.student, opened)
    client = client_for(cast.counsellor)
    url = reverse("registration-set", args=[registration.pk])

    response = client.post(url, {"state": "deferred"})
    assert "暂缓注册须填写原因" in response.text
    assert "暂缓注册须填写截止日期" in response.text

    until = timezone.localdate() + timedelta(days=7)
    client.post(url, {"state": "deferred", "reason": "家中有事", "defer_until": until})
    saved = row(cast.student, opened)
    assert (saved.state, saved.defer_until) == (RegistrationState.DEFERRED, until)


def test_counsellor_gets_404_for_a_registration_of_another_class(cast: Cast, opened: Term) -> None:
    registration = row(cast.classmate_b, opened)
    client = client_for(cast.counsellor)
    url = reverse("registration-set", args=[registration.pk])

    assert client.get(url).status_code == 404
    assert client.post(url, {"state": "registered"}).status_code == 404
    assert row(cast.classmate_b, opened).state == RegistrationState.UNREGISTERED


def test_college_admin_gets_404_for_a_registration_of_another_college(
    cast: Cast, opened: Term
) -> None:
    registration = row(cast.other_student, opened)
    url = reverse("registration-set", args=[registration.pk])

    assert client_for(cast.college_admin).post(url, {"state": "registered"}).status_code == 404


def test_auditor_sees_the_list_but_cannot_act(cast: Cast, opened: Term) -> None:
    client = client_for(cast.auditor)
    page = client.get(with_term("registration-list", opened))
    assert page.status_code == 200
    assert "btn btn-sm btn-success" not in page.text

    registration = row(cast.student, opened)
    response = client.post(
        reverse("registration-set", args=[registration.pk]), {"state": "registered"}
    )
    assert response.status_code == 403


# --- candidates -------------------------------------------------------------------------------


def test_registrar_sees_candidates_labelled_as_reference_only(cast: Cast, opened: Term) -> None:
    move_deadline(opened, -1)
    row_b = row(cast.classmate_b, opened)
    client_for(cast.registrar).post(
        reverse("registration-set", args=[row_b.pk]), {"state": "registered"}
    )

    page = client_for(cast.registrar).get(with_term("registration-candidates", opened))

    assert page.status_code == 200
    assert "仅供退学程序参考，系统不会自动退学" in page.text
    assert listed(page) == {cast.student.student_number, cast.other_student.student_number}


def test_college_admin_sees_only_candidates_of_their_college(cast: Cast, opened: Term) -> None:
    move_deadline(opened, -1)
    page = client_for(cast.college_admin).get(with_term("registration-candidates", opened))

    assert listed(page) == {cast.student.student_number, cast.classmate_b.student_number}


def test_counsellor_is_refused_the_candidates_page(cast: Cast, opened: Term) -> None:
    move_deadline(opened, -1)
    assert client_for(cast.counsellor).get(reverse("registration-candidates")).status_code == 403


# --- opening and finance ----------------------------------------------------------------------


def test_registrar_opens_registration_from_the_page(cast: Cast, term: Term) -> None:
    client = client_for(cast.registrar)
    assert str(term) in client.get(reverse("registration-open")).text

    response = client.post(reverse("registration-open"), {"term": term.pk}, follow=True)

    assert "新增 3 名在校学生" in response.text
    assert term.registrations.count() == 3


@pytest.mark.parametrize("who", ["college_admin", "counsellor"])
def test_only_the_registrar_may_open_registration_on_the_page(
    cast: Cast, term: Term, who: str
) -> None:
    client = client_for(getattr(cast, who))
    assert client.get(reverse("registration-open")).status_code == 403
    assert client.post(reverse("registration-open"), {"term": term.pk}).status_code == 403
    assert term.registrations.count() == 0


def test_registrar_edits_a_finance_status(cast: Cast, opened: Term) -> None:
    url = with_term("finance-status-edit", opened, cast.student.student_number)
    client = client_for(cast.registrar)
    assert client.get(url).status_code == 200

    response = client.post(url, {"state": "unpaid", "amount_due": "0", "note": ""})
    assert "未缴清时请填写欠缴金额" in response.text
    client.post(url, {"state": "unpaid", "amount_due": "4800", "note": "财务处 9 月名单"})

    status = FinanceStatus.objects.get(student=cast.student, term=opened)
    assert (status.state, status.amount_due) == (FinanceState.UNPAID, Decimal("4800.00"))


def test_college_admin_may_not_edit_finance_status(cast: Cast, opened: Term) -> None:
    client = client_for(cast.college_admin)
    url = with_term("finance-status-edit", opened, cast.student.student_number)
    assert client.get(url).status_code == 403
    assert client.post(url, {"state": "paid", "amount_due": "0"}).status_code == 403
    other = with_term("finance-status-edit", opened, cast.other_student.student_number)
    assert client.get(other).status_code == 404
    assert not FinanceStatus.objects.exists()
