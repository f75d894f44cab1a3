"""The regulation as checks: each rule passes and fails, and a failure names its article."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from xueji.changes.rules import RULES, check_request
from xueji.changes.tests.conftest import applied_request, build_request
from xueji.conftest import make_student
from xueji.org.models import AcademicYear, Term
from xueji.students.models import StudentStatus
from xueji.workflow.models import Flow, FlowStep, StepKind, StepState

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 1)


def codes(failures):
    return [f.code for f in failures]


def failure(failures, code):
    found = [f for f in failures if f.code == code]
    assert found, f"expected {code} to fail, got {codes(failures)}"
    return found[0]


def suspended(student):
    student.status = StudentStatus.SUSPENDED
    student.save()
    return student


def first_term(year=2024):
    academic_year = AcademicYear.objects.create(
        start_year=year, start_date=date(year, 9, 1), end_date=date(year + 1, 8, 31)
    )
    Term.objects.create(
        academic_year=academic_year,
        number=1,
        start_date=date(year, 9, 1),
        end_date=date(year + 1, 1, 15),
    )
    return Term.objects.create(
        academic_year=academic_year,
        number=2,
        start_date=date(year + 1, 2, 20),
        end_date=date(year + 1, 7, 10),
    )


def transfer_details(**overrides):
    details = {
        "destination_school": "示例理工大学",
        "gaokao_score": "600",
        "receiving_line": "580",
        "target_level": "05",
        "directed": False,
    }
    details.update(overrides)
    return details


# --- from_status ----------------------------------------------------------------------------


def test_resumption_is_refused_for_a_student_who_is_in_school(cast, catalogue):
    request = build_request(cast.student, catalogue["resumption"], effective_date=TODAY)

    result = failure(check_request(request, today=TODAY), "from_status")

    assert "在校" in result.message
    assert not result.overridable


def test_from_status_cannot_be_set_aside_by_an_override(cast, catalogue):
    request = build_request(
        cast.student,
        catalogue["resumption"],
        effective_date=TODAY,
        overrides=[{"rule": "from_status", "reason": "特批"}],
    )

    assert "from_status" in codes(check_request(request, today=TODAY))


# --- max_study_period (第二十五条) -----------------------------------------------------------


def test_resumption_after_the_maximum_study_period_is_refused_citing_article_25(cast, catalogue):
    student = suspended(cast.student)
    student.max_study_date = date(2030, 6, 30)
    student.save()
    request = build_request(
        student,
        catalogue["resumption"],
        effective_date=date(2031, 7, 1),
        details={"check_passed": True},
    )

    result = failure(check_request(request, today=TODAY), "max_study_period")

    assert "复学日期 2031-07-01 已超过最长学习年限截止日期 2030-06-30" in result.message
    assert "第二十五条" in result.article
    assert not result.overridable


def test_resumption_within_the_maximum_study_period_passes(cast, catalogue):
    student = suspended(cast.student)
    student.max_study_date = date(2030, 6, 30)
    student.save()
    request = build_request(
        student,
        catalogue["resumption"],
        effective_date=date(2026, 9, 1),
        details={"check_passed": True},
    )

    assert check_request(request, today=TODAY, stage="approve") == []


def test_max_study_period_cannot_be_overridden_for_a_resumption(cast, catalogue):
    student = suspended(cast.student)
    student.max_study_date = date(2030, 6, 30)
    student.save()
    request = build_request(
        student,
        catalogue["resumption"],
        effective_date=date(2031, 7, 1),
        overrides=[{"rule": "max_study_period", "reason": "特殊情况"}],
    )

    assert "max_study_period" in codes(check_request(request, today=TODAY))


def test_extension_beyond_the_default_maximum_is_refused(cast, catalogue, params):
    # Enrolled 2024-09-01, 学制 4 + 2 extra years → 2030-09-01; expected graduation 2028-06-30.
    request = build_request(
        cast.student, catalogue["extension"], effective_date=TODAY, years=Decimal("3")
    )

    result = failure(check_request(request, today=TODAY), "max_study_period")

    assert "2031-06-30" in result.message
    assert "2030-09-01" in result.message


def test_extension_that_ends_within_the_maximum_passes(cast, catalogue, params):
    request = build_request(
        cast.student, catalogue["extension"], effective_date=TODAY, years=Decimal("2")
    )

    assert check_request(request, today=TODAY) == []


def test_a_school_with_fewer_extra_years_refuses_the_same_extension(cast, catalogue, params):
    params.max_extra_years = Decimal("1")
    params.save()
    request = build_request(
        cast.student, catalogue["extension"], effective_date=TODAY, years=Decimal("2")
    )

    assert "max_study_period" in codes(check_request(request, today=TODAY))


def test_suspension_ending_after_the_maximum_study_date_is_refused(cast, catalogue):
    student = cast.student
    student.max_study_date = date(2026, 12, 31)
    student.save()
    request = build_request(
        student, catalogue["suspension"], effective_date=TODAY, end_date=date(2027, 2, 28)
    )

    result = failure(check_request(request, today=TODAY), "max_study_period")

    assert "截止日期 2027-02-28" in result.message


# --- suspension_limits (第二十五条, school parameters) ---------------------------------------


def test_a_first_suspension_of_twelve_months_passes(cast, catalogue):
    request = build_request(
        cast.student, catalogue["suspension"], effective_date=TODAY, end_date=date(2027, 3, 1)
    )

    assert check_request(request, today=TODAY) == []


def test_a_suspension_longer_than_the_school_allows_is_refused(cast, catalogue):
    request = build_request(
        cast.student, catalogue["suspension"], effective_date=TODAY, end_date=date(2027, 3, 2)
    )

    result = failure(check_request(request, today=TODAY), "suspension_limits")

    assert "每次最长 12 个月" in result.message
    assert "第二十五条" in result.article


def test_a_third_suspension_is_refused_when_the_school_allows_two(cast, catalogue):
    for year in (2024, 2025):
        applied_request(
            cast.student,
            catalogue["suspension"],
            effective_date=date(year, 10, 1),
            end_date=date(year, 12, 1),
            applicant=cast.student_user,
        )
    request = build_request(
        cast.student, catalogue["suspension"], effective_date=TODAY, end_date=date(2026, 6, 1)
    )

    result = failure(check_request(request, today=TODAY), "suspension_limits")

    assert "已休学 2 次" in result.message


def test_suspensions_that_together_exceed_the_total_are_refused(cast, catalogue, params):
    params.suspension_max_months = 18
    params.save()
    applied_request(
        cast.student,
        catalogue["suspension"],
        effective_date=date(2024, 9, 1),
        end_date=date(2025, 9, 1),
        applicant=cast.student_user,
    )
    request = build_request(
        cast.student, catalogue["suspension"], effective_date=TODAY, end_date=date(2027, 9, 1)
    )

    result = failure(check_request(request, today=TODAY), "suspension_limits")

    assert "累计最长 24 个月" in result.message


def test_requests_not_applied_do_not_count_as_earlier_suspensions(cast, catalogue):
    earlier = applied_request(
        cast.student,
        catalogue["suspension"],
        effective_date=date(2024, 10, 1),
        end_date=date(2024, 12, 1),
        applicant=cast.student_user,
    )
    earlier.status = "rejected"
    earlier.save()
    applied_request(
        cast.student,
        catalogue["suspension"],
        effective_date=date(2025, 10, 1),
        end_date=date(2025, 12, 1),
        applicant=cast.student_user,
    )
    request = build_request(
        cast.student, catalogue["suspension"], effective_date=TODAY, end_date=date(2026, 6, 1)
    )

    assert check_request(request, today=TODAY) == []


def test_a_registrar_override_sets_the_suspension_limit_aside(cast, catalogue):
    request = build_request(
        cast.student,
        catalogue["suspension"],
        effective_date=TODAY,
        end_date=date(2027, 6, 1),
        overrides=[{"rule": "suspension_limits", "reason": "重病住院，经校长批准"}],
    )

    assert check_request(request, today=TODAY) == []


def test_an_override_without_a_reason_is_not_honoured(cast, catalogue):
    request = build_request(
        cast.student,
        catalogue["suspension"],
        effective_date=TODAY,
        end_date=date(2027, 6, 1),
        overrides=[{"rule": "suspension_limits", "reason": "  "}],
    )

    assert "suspension_limits" in codes(check_request(request, today=TODAY))


# --- military_reservation (第二十七条; 2005: 第21号令) ---------------------------------------


def test_military_reservation_until_two_years_after_discharge_passes(cast, catalogue):
    request = build_request(
        cast.student,
        catalogue["military_reservation"],
        effective_date=date(2025, 9, 10),
        end_date=date(2029, 9, 10),
        details={"enlist_date": "2025-09-10", "discharge_date": "2027-09-10"},
    )

    assert "military_reservation" not in codes(check_request(request, today=TODAY))


def test_military_reservation_beyond_two_years_after_discharge_is_refused(cast, catalogue):
    request = build_request(
        cast.student,
        catalogue["military_reservation"],
        effective_date=date(2025, 9, 10),
        end_date=date(2029, 9, 11),
        details={"discharge_date": "2027-09-10"},
    )

    result = failure(check_request(request, today=TODAY), "military_reservation")

    assert "退役日期 2027-09-10 后 2 年" in result.message
    assert "第二十七条" in result.article


def test_a_student_enrolled_under_the_2005_rule_keeps_status_one_year_after_discharge(
    cast, catalogue
):
    student = make_student(
        school_class=cast.class_a,
        serial=40,
        name="赵六",
        college=cast.cs,
        major=cast.cs_major,
        cohort=cast.cohort,
    )
    student.enrollment_date = date(2016, 9, 1)
    student.save()
    request = build_request(
        student,
        catalogue["military_reservation"],
        effective_date=date(2017, 9, 10),
        end_date=date(2021, 3, 10),
        details={"discharge_date": "2019-09-10"},
    )

    result = failure(check_request(request, today=TODAY), "military_reservation")

    assert "后 1 年" in result.message
    assert "2005年入学适用的规定" in result.message


def test_military_reservation_without_a_discharge_date_yet_passes(cast, catalogue):
    request = build_request(
        cast.student,
        catalogue["military_reservation"],
        effective_date=date(2025, 9, 10),
        end_date=date(2029, 9, 10),
        details={"enlist_date": "2025-09-10"},
    )

    assert "military_reservation" not in codes(check_request(request, today=TODAY))


# --- transfer (第二十二条) -----------------------------------------------------------------


def test_a_transfer_in_the_first_term_is_refused_citing_article_22(cast, catalogue):
    first_term()
    request = build_request(
        cast.student,
        catalogue["transfer_out"],
        effective_date=date(2024, 12, 1),
        details=transfer_details(),
    )

    result = failure(check_request(request, today=TODAY), "transfer_first_term")

    assert "入学未满一学期不得转学" in result.message
    assert "2025-01-15" in result.message
    assert result.article == "教育部令第41号 第二十二条第（一）项"
    assert not result.overridable


def test_without_terms_the_first_term_is_six_months_from_enrolment(cast, catalogue):
    request = build_request(
        cast.student,
        catalogue["transfer_out"],
        effective_date=date(2025, 2, 28),
        details=transfer_details(),
    )

    result = failure(check_request(request, today=TODAY), "transfer_first_term")

    assert "2025-03-01" in result.message


def test_a_transfer_in_the_second_year_with_a_good_record_passes(cast, catalogue):
    first_term()
    request = build_request(
        cast.student,
        catalogue["transfer_out"],
        effective_date=date(2025, 9, 1),
        details=transfer_details(),
    )

    assert check_request(request, today=TODAY) == []


def test_a_transfer_in_the_last_year_is_refused(cast, catalogue):
    request = build_request(
        cast.student,
        catalogue["transfer_out"],
        effective_date=date(2027, 9, 1),
        details=transfer_details(),
    )

    result = failure(check_request(request, today=TODAY), "transfer_last_year")

    assert "毕业前一年不得转学" in result.message


def test_a_score_below_the_receiving_line_is_refused(cast, catalogue):
    request = build_request(
        cast.student,
        catalogue["transfer_out"],
        effective_date=date(2025, 9, 1),
        details=transfer_details(gaokao_score="550", receiving_line="560.5"),
    )

    result = failure(check_request(request, today=TODAY), "transfer_score_line")

    assert "550 低于" in result.message
    assert "第二十二条第（二）项" in result.article


def test_a_transfer_without_the_scores_cannot_be_checked(cast, catalogue):
    request = build_request(
        cast.student,
        catalogue["transfer_out"],
        effective_date=date(2025, 9, 1),
        details=transfer_details(gaokao_score=""),
    )

    assert "transfer_score_line" in codes(check_request(request, today=TODAY))


def test_a_transfer_to_a_higher_level_is_refused(cast, catalogue):
    request = build_request(
        cast.student,
        catalogue["transfer_out"],
        effective_date=date(2025, 9, 1),
        details=transfer_details(target_level="02"),
    )

    result = failure(check_request(request, today=TODAY), "transfer_level_up")

    assert "第二十二条第（三）项" in result.article


def test_a_transfer_to_a_lower_level_is_not_a_level_up(cast, catalogue):
    request = build_request(
        cast.student,
        catalogue["transfer_out"],
        effective_date=date(2025, 9, 1),
        details=transfer_details(target_level="06"),
    )

    assert "transfer_level_up" not in codes(check_request(request, today=TODAY))


def test_a_directed_admission_may_not_transfer(cast, catalogue):
    request = build_request(
        cast.student,
        catalogue["transfer_out"],
        effective_date=date(2025, 9, 1),
        details=transfer_details(directed=True),
    )

    result = failure(check_request(request, today=TODAY), "transfer_directed")

    assert "定向就业" in result.message
    assert "第二十二条第（四）项" in result.article


def test_a_transfer_without_a_real_reason_is_refused_but_may_be_overridden(cast, catalogue):
    request = build_request(
        cast.student,
        catalogue["transfer_out"],
        effective_date=date(2025, 9, 1),
        reason="想 转 学",
        details=transfer_details(),
    )

    result = failure(check_request(request, today=TODAY), "transfer_reason")
    assert "第二十二条第（六）项" in result.article
    assert result.overridable

    request.overrides = [{"rule": "transfer_reason", "reason": "面谈确认家庭有特殊困难"}]
    assert check_request(request, today=TODAY) == []


def test_a_non_overridable_transfer_ban_stays_even_when_listed_as_overridden(cast, catalogue):
    first_term()
    request = build_request(
        cast.student,
        catalogue["transfer_out"],
        effective_date=date(2024, 12, 1),
        details=transfer_details(),
        overrides=[{"rule": "transfer_first_term", "reason": "特批"}],
    )

    assert "transfer_first_term" in codes(check_request(request, today=TODAY))


# --- major change (第二十一条) ------------------------------------------------------------


def test_a_major_change_before_the_first_term_ends_is_refused(cast, catalogue, params):
    first_term()
    request = build_request(
        cast.student,
        catalogue["major_change"],
        effective_date=date(2024, 12, 1),
        target_major=cast.fl_major,
    )

    result = failure(check_request(request, today=TODAY), "major_change_eligibility")

    assert "只完成 0 个学期" in result.message
    assert "第二十一条" in result.article


def test_a_major_change_after_the_first_term_passes(cast, catalogue):
    first_term()
    request = build_request(
        cast.student,
        catalogue["major_change"],
        effective_date=date(2025, 2, 20),
        target_major=cast.fl_major,
    )

    assert check_request(request, today=TODAY) == []


def test_a_second_major_change_is_refused_when_the_school_allows_one(cast, catalogue):
    first_term()
    applied_request(
        cast.student,
        catalogue["major_change"],
        effective_date=date(2025, 2, 20),
        target_major=cast.fl_major,
        applicant=cast.student_user,
    )
    request = build_request(
        cast.student,
        catalogue["major_change"],
        effective_date=date(2025, 9, 1),
        target_major=cast.fl_major,
    )

    result = failure(check_request(request, today=TODAY), "major_change_eligibility")

    assert "已转专业 1 次" in result.message


def test_a_major_change_to_the_same_major_is_refused(cast, catalogue):
    first_term()
    request = build_request(
        cast.student,
        catalogue["major_change"],
        effective_date=date(2025, 9, 1),
        target_major=cast.cs_major,
    )

    assert "major_change_target" in codes(check_request(request, today=TODAY))


# --- resumption check (第二十九条) --------------------------------------------------------


def test_resumption_needs_a_passed_check_at_final_approval(cast, catalogue):
    student = suspended(cast.student)
    request = build_request(student, catalogue["resumption"], effective_date=TODAY)

    assert check_request(request, today=TODAY, stage="submit") == []
    result = failure(check_request(request, today=TODAY, stage="approve"), "resumption_check")
    assert "复查合格方可复学" in result.message
    assert "第二十九条" in result.article

    request.details = {"check_passed": True}
    assert check_request(request, today=TODAY, stage="approve") == []


# --- president office (第三十一条、第五十六条) ---------------------------------------------


def withdrawal_with_flow(cast, catalogue, *, state, minute):
    request = applied_request(
        cast.student,
        catalogue["withdrawal"],
        effective_date=TODAY,
        applicant=cast.student_user,
        details={"ground": "own_request"},
    )
    request.status = "approved"
    flow = Flow.objects.create(
        kind="change",
        subject_id=request.pk,
        title="退学",
        student=cast.student,
        applicant=cast.student_user,
    )
    FlowStep.objects.create(flow=flow, position=1, kind=StepKind.REGISTRAR, state="approved")
    FlowStep.objects.create(
        flow=flow, position=2, kind=StepKind.PRESIDENT_OFFICE, state=state, minute_number=minute
    )
    request.flow = flow
    request.save()
    return request


def test_a_withdrawal_cannot_take_effect_without_a_president_office_step(cast, catalogue):
    request = build_request(
        cast.student,
        catalogue["withdrawal"],
        effective_date=TODAY,
        details={"ground": "own_request"},
    )

    result = failure(check_request(request, today=TODAY, stage="apply"), "president_office")

    assert "校长办公会" in result.message
    assert result.article == "教育部令第41号 第三十一条、第五十六条"
    assert not result.overridable


def test_a_withdrawal_with_an_approved_minute_takes_effect(cast, catalogue):
    request = withdrawal_with_flow(
        cast, catalogue, state=StepState.APPROVED, minute="校办纪〔2026〕3号"
    )

    assert check_request(request, today=TODAY, stage="apply") == []


@pytest.mark.parametrize(
    ("state", "minute"), [(StepState.ACTIVE, "校办纪〔2026〕3号"), (StepState.APPROVED, "")]
)
def test_a_withdrawal_waits_for_the_minute_to_be_recorded(cast, catalogue, state, minute):
    request = withdrawal_with_flow(cast, catalogue, state=state, minute=minute)

    assert codes(check_request(request, today=TODAY, stage="apply")) == ["president_office"]


def test_the_president_office_check_holds_even_if_removed_from_the_type_rules(cast, catalogue):
    withdrawal = catalogue["withdrawal"]
    withdrawal.rules = ["from_status"]
    withdrawal.save()
    request = build_request(
        cast.student, withdrawal, effective_date=TODAY, details={"ground": "own_request"}
    )

    assert "president_office" in codes(check_request(request, today=TODAY, stage="apply"))


# --- entry recheck (第十一条) --------------------------------------------------------------


def test_cancellation_for_a_failed_entry_recheck_within_three_months_passes(cast, catalogue):
    request = build_request(
        cast.student,
        catalogue["cancellation"],
        effective_date=date(2024, 11, 1),
        details={"ground": "entry_recheck_failed"},
    )

    assert check_request(request, today=date(2024, 11, 1)) == []


def test_cancellation_for_a_failed_entry_recheck_after_three_months_is_refused(cast, catalogue):
    request = build_request(
        cast.student,
        catalogue["cancellation"],
        effective_date=date(2024, 12, 15),
        details={"ground": "entry_recheck_failed"},
    )

    result = failure(check_request(request, today=date(2024, 12, 15)), "entry_recheck_window")

    assert "2024-12-01" in result.message
    assert "第十一条" in result.article
    assert result.overridable


def test_a_stored_request_is_judged_by_its_submission_date(cast, catalogue):
    request = applied_request(
        cast.student,
        catalogue["cancellation"],
        effective_date=date(2024, 11, 1),
        applicant=cast.registrar,
        details={"ground": "entry_recheck_failed"},
    )
    request.status = "in_review"
    request.save()
    # auto_now_add stamped it today (2026), well past the window of a 2024 enrolment.
    assert request.submitted_at.date() > date(2024, 12, 1)

    assert "entry_recheck_window" in codes(check_request(request, today=date(2024, 11, 1)))


def test_cancellation_on_another_ground_has_no_window(cast, catalogue):
    request = build_request(
        cast.student,
        catalogue["cancellation"],
        effective_date=timezone.localdate(),
        details={"ground": "other"},
    )

    assert "entry_recheck_window" not in codes(check_request(request, today=TODAY))


# --- the table itself -----------------------------------------------------------------------


def test_every_rule_names_an_article_and_stages():
    for rule in RULES.values():
        assert rule.article, rule.code
        assert rule.stages, rule.code


def test_rules_that_protect_the_record_are_never_overridable():
    for code in ("from_status", "max_study_period", "president_office", "transfer_first_term"):
        assert not RULES[code].overridable, code


def test_unknown_stage_is_a_programming_error(cast, catalogue):
    request = build_request(cast.student, catalogue["suspension"], effective_date=TODAY)

    with pytest.raises(ValueError):
        check_request(request, stage="later")


def test_a_suspension_of_exactly_twelve_calendar_months_passes(cast, catalogue):
    # A suspension of exactly 12 calendar months (to the same day) is within 12 months.
    start = date(2026, 1, 31)
    request = build_request(
        cast.student,
        catalogue["suspension"],
        effective_date=start,
        end_date=start + timedelta(days=365),
    )

    assert check_request(request, today=TODAY) == []
