"""Graduation records: the number rules, diploma numbering for a year and degree conferral."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection, connections
from django.urls import reverse

from xueji.audit.models import AuditEvent
from xueji.conftest import Cast, build_cast
from xueji.core.context import Actor
from xueji.core.exceptions import NotFound, PermissionDenied, ValidationFailed
from xueji.students.certificate_numbers import (
    CertificateNumberError,
    degree_category_code,
    degree_certificate_number,
    degree_number_problems,
    diploma_number,
    diploma_number_parse,
    diploma_number_problems,
    discipline_of,
)
from xueji.students.diploma_selectors import NumberParts, diploma_plan
from xueji.students.diplomas import degrees_confer, diplomas_assign
from xueji.students.models import DegreeAward, Diploma, DiplomaOutcome, Student, StudentStatus
from xueji.students.services import student_status_set

YEAR = 2028
OUT = date(YEAR, 6, 30)
ISSUE = date(YEAR, 6, 30)


def leave(cast: Cast, student: Student, status: str, when: date = OUT) -> Student:
    return student_status_set(
        actor=cast.actor(cast.registrar),
        student=student,
        status=status,
        effective_date=when,
        reason="毕业审核",
    )


@pytest.fixture
def school(cast: Cast) -> Cast:
    cast.school.president_name = "张校长"
    cast.school.degree_chair_name = "李主席"
    cast.school.save()
    return cast


# --- The number rules ----------------------------------------------------------------------


def test_a_diploma_number_is_school_type_year_level_and_a_six_digit_serial():
    number = diploma_number(school_code="10999", school_type="1", year=2028, level="05", serial=7)
    assert number == "109991202805000007"
    assert len(number) == 18
    parts = diploma_number_parse(number)
    assert (parts.school_code, parts.school_type, parts.year, parts.level, parts.serial) == (
        "10999",
        "1",
        2028,
        "05",
        7,
    )
    assert str(parts) == number


def test_the_serial_past_999999_is_refused_with_a_clear_message():
    assert diploma_number(
        school_code="10999", school_type="1", year=2028, level="05", serial=999_999
    ).endswith("999999")
    with pytest.raises(CertificateNumberError, match="超过 6 位上限 999999"):
        diploma_number(
            school_code="10999", school_type="1", year=2028, level="05", serial=1_000_000
        )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"school_code": "1099"}, "学校代码"),
        ({"school_type": "3"}, "办学类型码"),
        ({"year": 1999}, "年份 1999"),
        ({"level": "03"}, "培养层次码"),
        ({"serial": 0}, "从 1 开始"),
    ],
)
def test_each_bad_part_of_a_diploma_number_is_named(kwargs, message):
    values = {"school_code": "10999", "school_type": "1", "year": 2028, "level": "05", "serial": 1}
    values.update(kwargs)
    with pytest.raises(CertificateNumberError, match=message):
        diploma_number(**values)


def test_parsing_refuses_a_number_of_the_wrong_length_or_with_letters():
    with pytest.raises(CertificateNumberError, match="18 位数字"):
        diploma_number_parse("10999120280500001")
    with pytest.raises(CertificateNumberError, match="18 位数字"):
        diploma_number_parse("10999120280500000A")


def test_number_problems_name_the_part_that_does_not_match_the_student():
    number = "109991202805000001"
    fits = {"school_code": "10999", "school_type": "1", "level": "05", "year": 2028}
    assert diploma_number_problems(number, **fits) == []
    problems = diploma_number_problems(number, **{**fits, "level": "06", "year": 2029})
    assert any("培养层次码“06”" in p for p in problems)
    assert any("毕（结）业年份“2029”" in p for p in problems)
    assert diploma_number_problems(number, **{**fits, "year": None, "level": "05"}) == []


def test_a_degree_number_is_unit_level_year_and_serial_in_16_digits():
    number = degree_certificate_number(unit_code="10999", level="4", year=2028, serial=12)
    assert number == "1099942028000012"
    assert degree_number_problems(number, unit_code="10999", level="4", year=2028) == []
    assert degree_number_problems(number, unit_code="10999", level="3", year=2028)
    with pytest.raises(CertificateNumberError, match="超过 6 位上限"):
        degree_certificate_number(unit_code="10999", level="4", year=2028, serial=1_000_000)
    with pytest.raises(CertificateNumberError, match="学位级别码"):
        degree_certificate_number(unit_code="10999", level="5", year=2028, serial=1)


def test_the_discipline_is_the_first_two_digits_of_the_major_code():
    assert discipline_of("080901") == "08"
    assert discipline_of("0502100") == "05"
    assert degree_category_code("4", "08") == "408"
    with pytest.raises(CertificateNumberError, match="学科门类"):
        discipline_of("990101")


# --- Numbering a year ----------------------------------------------------------------------


def test_graduates_and_completers_are_numbered_in_college_major_and_student_number_order(school):
    cast = school
    leave(cast, cast.classmate_b, StudentStatus.GRADUATED)
    leave(cast, cast.student, StudentStatus.COMPLETED)
    leave(cast, cast.other_student, StudentStatus.GRADUATED)
    audit_before = AuditEvent.objects.count()

    result = diplomas_assign(actor=cast.actor(cast.registrar), year=YEAR, issue_date=ISSUE)

    assert (result.numbered, result.unnumbered, result.reissued) == (3, 0, 0)
    numbers = {
        d.student.student_number: d.number for d in Diploma.objects.select_related("student")
    }
    # 外国语学院 (code 05) comes before 计算机学院 (08); within a major, by 学号.
    assert numbers == {
        cast.other_student.student_number: "109991202805000001",
        cast.student.student_number: "109991202805000002",
        cast.classmate_b.student_number: "109991202805000003",
    }
    diploma = Diploma.objects.get(student=cast.student)
    assert diploma.outcome == DiplomaOutcome.COMPLETED
    assert (diploma.outcome_date, diploma.issue_date, diploma.year) == (OUT, ISSUE, YEAR)
    assert diploma.president_name == "张校长"
    assert diploma.created_by == cast.registrar
    assert diploma.history.count() == 1
    assert AuditEvent.objects.count() == audit_before + 1
    event = AuditEvent.objects.order_by("-seq").first()
    assert event.action == "students.diploma.assign"
    assert "新编号 3 个" in event.summary


def test_a_second_run_numbers_nobody_and_keeps_the_numbers(school):
    cast = school
    leave(cast, cast.student, StudentStatus.GRADUATED)
    diplomas_assign(actor=cast.actor(cast.registrar), year=YEAR, issue_date=ISSUE)
    before = list(Diploma.objects.values_list("student_id", "number"))
    audit_before = AuditEvent.objects.count()

    again = diplomas_assign(
        actor=cast.actor(cast.registrar), year=YEAR, issue_date=date(2028, 7, 1)
    )

    assert again.total == 0
    assert list(Diploma.objects.values_list("student_id", "number")) == before
    assert Diploma.objects.get(student=cast.student).issue_date == ISSUE
    assert AuditEvent.objects.count() == audit_before


def test_a_later_run_continues_after_the_highest_serial_already_used(school):
    cast = school
    leave(cast, cast.student, StudentStatus.GRADUATED)
    diplomas_assign(actor=cast.actor(cast.registrar), year=YEAR, issue_date=ISSUE)
    # Numbers given outside Xueji (or by hand) count too.
    Diploma.objects.filter(student=cast.student).update(number="109991202805000041")
    leave(cast, cast.classmate_b, StudentStatus.GRADUATED, date(YEAR, 12, 20))

    result = diplomas_assign(
        actor=cast.actor(cast.registrar), year=YEAR, issue_date=date(YEAR, 12, 20)
    )

    assert result.numbered == 1
    assert Diploma.objects.get(student=cast.classmate_b).number == "109991202805000042"


def test_a_run_that_would_pass_serial_999999_writes_nothing(school):
    cast = school
    leave(cast, cast.student, StudentStatus.GRADUATED)
    diplomas_assign(actor=cast.actor(cast.registrar), year=YEAR, issue_date=ISSUE)
    Diploma.objects.filter(student=cast.student).update(number="109991202805999999")
    leave(cast, cast.classmate_b, StudentStatus.GRADUATED)

    with pytest.raises(CertificateNumberError, match="999999"):
        diplomas_assign(actor=cast.actor(cast.registrar), year=YEAR, issue_date=ISSUE)

    assert not Diploma.objects.filter(student=cast.classmate_b).exists()


def test_non_completion_gets_a_certificate_record_without_a_number(school):
    cast = school
    leave(cast, cast.other_student, StudentStatus.NON_COMPLETION)
    result = diplomas_assign(actor=cast.actor(cast.registrar), year=YEAR, issue_date=ISSUE)
    assert (result.numbered, result.unnumbered) == (0, 1)
    diploma = Diploma.objects.get(student=cast.other_student)
    assert diploma.outcome == DiplomaOutcome.NON_COMPLETION
    assert diploma.number is None


def test_a_completer_who_graduates_later_keeps_the_number(school):
    cast = school
    leave(cast, cast.student, StudentStatus.COMPLETED)
    diplomas_assign(actor=cast.actor(cast.registrar), year=YEAR, issue_date=ISSUE)
    number = Diploma.objects.get(student=cast.student).number
    later = date(YEAR + 1, 6, 30)
    leave(cast, Student.objects.get(pk=cast.student.pk), StudentStatus.GRADUATED, later)

    result = diplomas_assign(actor=cast.actor(cast.registrar), year=YEAR + 1, issue_date=later)

    assert (result.numbered, result.reissued) == (0, 1)
    diploma = Diploma.objects.get(student=cast.student)
    assert diploma.number == number
    assert diploma.outcome == DiplomaOutcome.GRADUATED
    assert (diploma.year, diploma.reissued_on) == (YEAR + 1, later)
    assert diploma.history.count() == 2
    assert diploma.history.earliest().outcome == DiplomaOutcome.COMPLETED


def test_students_of_another_year_or_college_are_left_alone(school):
    cast = school
    leave(cast, cast.student, StudentStatus.GRADUATED)
    leave(cast, cast.other_student, StudentStatus.GRADUATED, date(YEAR + 1, 1, 10))
    result = diplomas_assign(
        actor=cast.actor(cast.registrar), year=YEAR, issue_date=ISSUE, college_id=cast.fl.pk
    )
    assert result.total == 0
    result = diplomas_assign(
        actor=cast.actor(cast.registrar), year=YEAR, issue_date=ISSUE, college_id=cast.cs.pk
    )
    assert result.numbered == 1
    assert not Diploma.objects.filter(student=cast.other_student).exists()


def test_numbering_is_refused_without_the_presidents_name(cast):
    leave(cast, cast.student, StudentStatus.GRADUATED)
    with pytest.raises(ValidationFailed, match="校（院）长姓名"):
        diplomas_assign(actor=cast.actor(cast.registrar), year=YEAR, issue_date=ISSUE)
    assert not Diploma.objects.exists()


def test_an_issue_date_before_graduation_is_refused(school):
    cast = school
    leave(cast, cast.student, StudentStatus.GRADUATED)
    with pytest.raises(ValidationFailed) as exc:
        diplomas_assign(actor=cast.actor(cast.registrar), year=YEAR, issue_date=date(YEAR, 6, 1))
    assert cast.student.student_number in exc.value.errors["issue_date"][0]
    assert not Diploma.objects.exists()


def test_only_the_registrar_may_number_diplomas(school):
    cast = school
    leave(cast, cast.student, StudentStatus.GRADUATED)
    for user in (cast.college_admin, cast.counsellor, cast.auditor):
        with pytest.raises(PermissionDenied):
            diplomas_assign(actor=cast.actor(user), year=YEAR, issue_date=ISSUE)
    with pytest.raises(PermissionDenied):
        diplomas_assign(actor=Actor(user=None), year=YEAR, issue_date=ISSUE)
    with pytest.raises(NotFound):
        diplomas_assign(
            actor=cast.actor(cast.registrar), year=YEAR, issue_date=ISSUE, college_id=999
        )
    assert not Diploma.objects.exists()


def test_the_plan_counts_what_a_run_would_do(school):
    cast = school
    leave(cast, cast.student, StudentStatus.GRADUATED)
    leave(cast, cast.other_student, StudentStatus.NON_COMPLETION)
    plan = diploma_plan(year=YEAR, college_id=None, school=cast.school, parts=NumberParts.load())
    assert plan.problems == []
    assert plan.counts[StudentStatus.GRADUATED] == 1
    assert plan.counts[StudentStatus.NON_COMPLETION] == 1
    assert plan.numbered == 1


# --- Degrees -------------------------------------------------------------------------------


def _graduate_and_number(cast: Cast) -> None:
    leave(cast, cast.student, StudentStatus.GRADUATED)
    leave(cast, cast.classmate_b, StudentStatus.COMPLETED)
    leave(cast, cast.other_student, StudentStatus.GRADUATED)
    diplomas_assign(actor=cast.actor(cast.registrar), year=YEAR, issue_date=ISSUE)


def test_graduates_with_a_diploma_get_a_numbered_bachelors_degree(school):
    cast = school
    _graduate_and_number(cast)
    result = degrees_confer(
        actor=cast.actor(cast.registrar),
        student_ids=[cast.student.pk, cast.other_student.pk],
        conferral_date=date(YEAR, 6, 30),
        decision_number="示大学位〔2028〕3号",
        level="4",
    )
    assert result.refused == []
    awards = {a.student_id: a for a in DegreeAward.objects.all()}
    # 外国语学院 first (college code order), then 计算机学院.
    assert awards[cast.other_student.pk].certificate_number == "1099942028000001"
    assert awards[cast.other_student.pk].discipline == "05"
    assert awards[cast.student.pk].certificate_number == "1099942028000002"
    assert awards[cast.student.pk].discipline == "08"
    assert awards[cast.student.pk].history.count() == 1
    assert AuditEvent.objects.order_by("-seq").first().action == "students.degree.confer"


def test_conferral_refuses_each_ineligible_student_with_a_reason(school):
    cast = school
    _graduate_and_number(cast)
    degrees_confer(
        actor=cast.actor(cast.registrar),
        student_ids=[cast.other_student.pk],
        conferral_date=date(YEAR, 6, 30),
        decision_number="示大学位〔2028〕3号",
        level="4",
    )
    result = degrees_confer(
        actor=cast.actor(cast.registrar),
        student_ids=[cast.classmate_b.pk, cast.other_student.pk, cast.student.pk, 99999],
        conferral_date=date(YEAR, 6, 30),
        decision_number="示大学位〔2028〕4号",
        level="3",
    )
    reasons = {r.student_number: r.reason for r in result.refused}
    assert "只有毕业生可以授予学位" in reasons[cast.classmate_b.student_number]
    assert "应授予学士学位" in reasons[cast.student.student_number]
    assert "应授予学士学位" in reasons[cast.other_student.student_number]
    assert "未找到" in reasons["99999"]
    assert result.awards == []
    again = degrees_confer(
        actor=cast.actor(cast.registrar),
        student_ids=[cast.other_student.pk],
        conferral_date=date(YEAR, 6, 30),
        decision_number="示大学位〔2028〕5号",
        level="4",
    )
    assert "已授予学士学位" in again.refused[0].reason
    assert DegreeAward.objects.count() == 1


def test_a_graduate_without_a_diploma_number_gets_no_degree(school):
    cast = school
    leave(cast, cast.student, StudentStatus.GRADUATED)
    result = degrees_confer(
        actor=cast.actor(cast.registrar),
        student_ids=[cast.student.pk],
        conferral_date=date(YEAR, 6, 30),
        decision_number="示大学位〔2028〕3号",
        level="4",
    )
    assert "尚未编制毕业证书编号" in result.refused[0].reason
    assert not DegreeAward.objects.exists()


def test_conferral_needs_the_registrar_a_decision_number_and_a_student(school):
    cast = school
    _graduate_and_number(cast)
    kwargs = {
        "student_ids": [cast.student.pk],
        "conferral_date": date(YEAR, 6, 30),
        "decision_number": "示大学位〔2028〕3号",
        "level": "4",
    }
    with pytest.raises(PermissionDenied):
        degrees_confer(actor=cast.actor(cast.college_admin), **kwargs)
    with pytest.raises(ValidationFailed) as exc:
        degrees_confer(
            actor=cast.actor(cast.registrar),
            **{**kwargs, "decision_number": " ", "student_ids": []},
        )
    assert set(exc.value.errors) == {"decision_number", "students"}
    assert not DegreeAward.objects.exists()


# --- Two runs at once (PostgreSQL: the school row lock makes the second wait) ---------------


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_never_hand_out_the_same_serial():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers itself; the row lock matters on PostgreSQL")
    from xueji.org.services import code_tables_load

    # A transactional test empties the tables when it ends, code tables included: load them.
    code_tables_load(actor=Actor.system())
    cast = build_cast()
    cast.school.president_name = "张校长"
    cast.school.save()
    for student in (cast.student, cast.classmate_b, cast.other_student):
        leave(cast, student, StudentStatus.GRADUATED)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(college_id: int) -> None:
        try:
            barrier.wait()
            diplomas_assign(
                actor=cast.actor(cast.registrar), year=YEAR, issue_date=ISSUE, college_id=college_id
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(c.pk,)) for c in (cast.cs, cast.fl)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    numbers = sorted(Diploma.objects.values_list("number", flat=True))
    assert numbers == [f"10999120280500000{i}" for i in (1, 2, 3)]


# --- Pages ---------------------------------------------------------------------------------

PAGES = ("diploma-list", "diploma-assign", "degree-list", "degree-confer")


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_is_sent_to_login(client, cast, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert "/login" in response["Location"]


@pytest.mark.parametrize("name", PAGES)
def test_a_counsellor_gets_403_on_every_graduation_page(client, cast, name):
    client.force_login(cast.counsellor)
    assert client.get(reverse(name)).status_code == 403


@pytest.mark.parametrize("name", ("diploma-assign", "degree-confer"))
def test_a_college_admin_may_read_but_not_number_or_confer(client, school, name):
    cast = school
    leave(cast, cast.student, StudentStatus.GRADUATED)
    client.force_login(cast.college_admin)
    assert client.get(reverse(name)).status_code == 403
    response = client.post(
        reverse("diploma-assign"), {"year": YEAR, "issue_date": "2028-06-30", "confirm": "1"}
    )
    assert response.status_code == 403
    assert not Diploma.objects.exists()


def test_a_college_admin_lists_only_their_college_and_gets_404_for_another(client, school):
    cast = school
    leave(cast, cast.student, StudentStatus.GRADUATED)
    leave(cast, cast.other_student, StudentStatus.GRADUATED)
    diplomas_assign(actor=cast.actor(cast.registrar), year=YEAR, issue_date=ISSUE)
    client.force_login(cast.college_admin)
    response = client.get(reverse("diploma-list"), {"year": YEAR})
    assert response.status_code == 200
    assert cast.student.student_number in response.text
    assert cast.other_student.student_number not in response.text
    assert "编制证书编号" not in response.text
    other = client.get(reverse("diploma-list"), {"year": YEAR, "college": cast.fl.pk})
    assert other.status_code == 404
    assert client.get(reverse("degree-list"), {"college": cast.fl.pk}).status_code == 404


def test_the_registrar_previews_then_confirms_the_numbering(client, school):
    cast = school
    leave(cast, cast.student, StudentStatus.GRADUATED)
    leave(cast, cast.other_student, StudentStatus.NON_COMPLETION)
    client.force_login(cast.registrar)
    form = {"year": YEAR, "issue_date": "2028-06-30"}
    preview = client.post(reverse("diploma-assign"), {**form, "preview": "1"})
    assert preview.status_code == 200
    assert 'data-testid="numbered">1<' in preview.text
    assert 'data-testid="confirm"' in preview.text
    assert not Diploma.objects.exists()

    done = client.post(reverse("diploma-assign"), {**form, "confirm": "1"}, follow=True)

    assert done.redirect_chain[-1][0] == reverse("diploma-list") + f"?year={YEAR}"
    assert "109991202805000001" in done.text
    assert Diploma.objects.count() == 2


def test_the_assign_page_shows_what_blocks_the_run_and_writes_nothing(client, cast):
    leave(cast, cast.student, StudentStatus.GRADUATED)
    client.force_login(cast.registrar)
    form = {"year": YEAR, "issue_date": "2028-06-30"}
    preview = client.post(reverse("diploma-assign"), {**form, "preview": "1"})
    assert "尚未填写校（院）长姓名" in preview.text
    assert 'data-testid="confirm"' not in preview.text
    refused = client.post(reverse("diploma-assign"), {**form, "confirm": "1"})
    assert refused.status_code == 200
    assert "尚未填写校（院）长姓名" in refused.text
    assert not Diploma.objects.exists()


def test_the_registrar_confers_degrees_on_chosen_graduates_and_sees_refusals(client, school):
    cast = school
    _graduate_and_number(cast)
    client.force_login(cast.registrar)
    page = client.get(reverse("degree-confer"), {"year": YEAR})
    assert cast.student.student_number in page.text
    assert cast.classmate_b.student_number not in page.text  # 结业: not a candidate

    response = client.post(
        reverse("degree-confer"),
        {
            "year": YEAR,
            "level": "4",
            "conferral_date": "2028-06-30",
            "decision_number": "示大学位〔2028〕3号",
            "students": [cast.student.pk, cast.classmate_b.pk],
        },
    )

    assert response.status_code == 200
    assert "1099942028000001" in response.text
    assert "只有毕业生可以授予学位" in response.text
    assert DegreeAward.objects.get().student_id == cast.student.pk
    listing = client.get(reverse("degree-list"), {"year": YEAR})
    assert "1099942028000001" in listing.text
