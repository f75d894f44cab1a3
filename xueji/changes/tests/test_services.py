"""Status-change requests end to end through the services: submit, approve, apply."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from xueji.changes import services
from xueji.changes.models import ChangeRequest, ChangeStatus, ChangeType
from xueji.conftest import Cast, make_student, make_user
from xueji.core.exceptions import DomainError, PermissionDenied, ValidationFailed
from xueji.exchange.models import Delivery, OutboxEvent
from xueji.notifications.models import Notification
from xueji.students.models import StatusLedgerEntry, StudentState, StudentStatus
from xueji.workflow.models import FlowStatus, StepKind, StepState
from xueji.workflow.services import flow_approve, flow_reject, flow_withdraw


def pdf(name: str = "proof.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4\n% test document\n", content_type="application/pdf")


def transfer_data(student, reason: str) -> dict[str, str]:
    return {
        "effective_date": timezone.localdate().isoformat(),
        "destination_school": "另一所大学",
        "gaokao_score": "600",
        "receiving_line": "580",
        "target_level": student.level,
        "reason": reason,
    }


def change_type(code: str) -> ChangeType:
    return ChangeType.objects.get(code=code)


def submit(cast: Cast, user, student, code: str, data: dict, **kwargs) -> ChangeRequest:
    kind = change_type(code)
    attachments = [(label, pdf()) for label in kind.required_attachments]
    return services.change_request_submit(
        actor=cast.actor(user),
        student=student,
        change_type=kind,
        data=data,
        attachments=attachments,
        **kwargs,
    )


def suspension(cast: Cast, start: date, months: int = 6) -> ChangeRequest:
    return submit(
        cast,
        cast.student_user,
        cast.student,
        "suspension",
        {
            "effective_date": start.isoformat(),
            "end_date": (start + timedelta(days=30 * months)).isoformat(),
            "reason": "因病需要休养一学期，附医院诊断证明。",
        },
    )


def approve(cast: Cast, user, request: ChangeRequest, **kwargs) -> ChangeRequest:
    request.refresh_from_db()
    flow_approve(actor=cast.actor(user), flow=request.flow, **kwargs)
    request.refresh_from_db()
    return request


def test_a_suspension_approved_by_counsellor_then_college_takes_effect_today(cast: Cast) -> None:
    today = timezone.localdate()
    request = suspension(cast, today)
    steps = list(request.flow.steps.order_by("position"))
    assert [s.kind for s in steps] == [StepKind.COUNSELLOR, StepKind.COLLEGE, StepKind.REGISTRAR]
    # The school delegated the final approval of 休学 to the college: the registrar step is skipped.
    assert steps[2].state == StepState.SKIPPED

    request = approve(cast, cast.counsellor, request)
    assert request.status == ChangeStatus.IN_REVIEW
    request = approve(cast, cast.college_admin, request)

    assert request.status == ChangeStatus.APPLIED
    assert request.flow.status == FlowStatus.APPROVED
    student = cast.student
    student.refresh_from_db()
    assert student.status == StudentStatus.SUSPENDED
    # Expected graduation moves by the suspension period; the maximum date counts 休学 time.
    period = request.end_date - request.effective_date
    assert student.expected_graduation_date == date(2028, 6, 30) + period
    assert student.max_study_date == date(2030, 9, 1)
    current = StudentState.objects.get(student=student, valid_to__isnull=True)
    assert (current.status, current.valid_from) == (StudentStatus.SUSPENDED, today)
    entry = StatusLedgerEntry.objects.filter(student=student).latest("id")
    assert entry.to_status == StudentStatus.SUSPENDED and request.number in entry.note
    assert entry.actor == cast.college_admin  # whose approval made it final
    assert request.before["status"] == StudentStatus.IN_SCHOOL
    assert request.after["status"] == StudentStatus.SUSPENDED
    event = OutboxEvent.objects.get(student=student)
    assert event.payload["number"] == request.number
    departments = set(
        Delivery.objects.filter(event=event).values_list("department__code", flat=True)
    )
    assert {"finance", "dormitory"} <= departments
    assert Notification.objects.filter(user=cast.student_user, title__contains="已生效").exists()


def test_a_future_dated_change_waits_for_its_day_and_the_sweep_applies_it(cast: Cast) -> None:
    start = timezone.localdate() + timedelta(days=10)
    request = suspension(cast, start)
    approve(cast, cast.counsellor, request)
    request = approve(cast, cast.college_admin, request)
    assert request.status == ChangeStatus.APPROVED
    cast.student.refresh_from_db()
    assert cast.student.status == StudentStatus.IN_SCHOOL

    assert services.changes_apply_due(timezone.now()) == 0
    later = timezone.now() + timedelta(days=10)
    assert services.changes_apply_due(later) == 1
    request.refresh_from_db()
    cast.student.refresh_from_db()
    assert request.status == ChangeStatus.APPLIED
    assert cast.student.status == StudentStatus.SUSPENDED
    entry = StatusLedgerEntry.objects.filter(student=cast.student).latest("id")
    assert entry.actor == cast.college_admin  # applied by the sweep, recorded as approved by
    # Running the sweep again changes nothing.
    assert services.changes_apply_due(later) == 0


def test_rejecting_sends_the_request_back_to_the_applicant_with_the_reason(cast: Cast) -> None:
    request = suspension(cast, timezone.localdate())
    flow_reject(actor=cast.actor(cast.counsellor), flow=request.flow, reason="诊断证明不清晰")
    request.refresh_from_db()
    assert request.status == ChangeStatus.REJECTED
    note = Notification.objects.filter(user=cast.student_user).latest("id")
    assert "诊断证明不清晰" in note.title + note.body
    cast.student.refresh_from_db()
    assert cast.student.status == StudentStatus.IN_SCHOOL


def test_withdrawing_by_the_applicant_stops_the_request(cast: Cast) -> None:
    request = suspension(cast, timezone.localdate())
    flow_withdraw(actor=cast.actor(cast.student_user), flow=request.flow)
    request.refresh_from_db()
    assert request.status == ChangeStatus.WITHDRAWN
    with pytest.raises(DomainError):
        flow_approve(actor=cast.actor(cast.counsellor), flow=request.flow)
    cast.student.refresh_from_db()
    assert cast.student.status == StudentStatus.IN_SCHOOL


def test_a_counsellor_of_another_class_cannot_approve(cast: Cast) -> None:
    other = make_user("counsellor-b", "counsellor", "classes", classes=[cast.class_b])
    request = suspension(cast, timezone.localdate())
    with pytest.raises((PermissionDenied, DomainError)):
        flow_approve(actor=cast.actor(other), flow=request.flow)
    request.refresh_from_db()
    assert request.flow.steps.order_by("position").first().state == StepState.ACTIVE


def test_a_student_cannot_apply_for_another_student(cast: Cast) -> None:
    with pytest.raises(PermissionDenied):
        submit(
            cast,
            cast.student_user,
            cast.other_student,
            "suspension",
            {
                "effective_date": "2026-12-01",
                "end_date": "2027-06-01",
                "reason": "理由足够长的说明",
            },
        )


def test_missing_fields_and_attachments_are_named_and_nothing_is_written(cast: Cast) -> None:
    kind = change_type("suspension")
    with pytest.raises(ValidationFailed) as caught:
        services.change_request_submit(
            actor=cast.actor(cast.student_user),
            student=cast.student,
            change_type=kind,
            data={"effective_date": "2026-13-01", "reason": ""},
        )
    assert set(caught.value.errors) >= {"effective_date", "reason", "end_date", "attachments"}
    assert not ChangeRequest.objects.exists()


def test_a_second_open_request_of_the_same_type_is_refused(cast: Cast) -> None:
    suspension(cast, timezone.localdate())
    with pytest.raises(DomainError, match="办理中"):
        suspension(cast, timezone.localdate())


def test_a_withdrawal_cannot_take_effect_without_the_president_office_decision(
    cast: Cast,
) -> None:
    request = submit(
        cast,
        cast.registrar,
        cast.student,
        "withdrawal",
        {
            "effective_date": timezone.localdate().isoformat(),
            "ground": "own_request",
            "reason": "本人申请退学，家长同意。",
        },
    )
    kinds = [s.kind for s in request.flow.steps.order_by("position")]
    assert kinds[-1] == StepKind.PRESIDENT_OFFICE
    # The registrar approves every step up to the meeting; the request then waits for it.
    while True:
        request.refresh_from_db()
        step = request.flow.steps.get(state=StepState.ACTIVE)
        if step.kind == StepKind.PRESIDENT_OFFICE:
            break
        user = {
            StepKind.COUNSELLOR: cast.counsellor,
            StepKind.COLLEGE: cast.college_admin,
            StepKind.REGISTRAR: cast.registrar,
        }[step.kind]
        approve(cast, user, request)
    assert request.status == ChangeStatus.IN_REVIEW
    with pytest.raises(DomainError, match="纪要"):
        flow_approve(actor=cast.actor(cast.registrar), flow=request.flow)
    cast.student.refresh_from_db()
    assert cast.student.status == StudentStatus.IN_SCHOOL

    # Even an approved request (e.g. from data written around the engine) is not applied
    # until an approved 校长办公会 step with its minute exists.
    ChangeRequest.objects.filter(pk=request.pk).update(status=ChangeStatus.APPROVED)
    request.refresh_from_db()
    with pytest.raises(DomainError, match="校长办公会"):
        services.change_apply(actor=cast.actor(cast.registrar), request=request)
    cast.student.refresh_from_db()
    assert cast.student.status == StudentStatus.IN_SCHOOL

    ChangeRequest.objects.filter(pk=request.pk).update(status=ChangeStatus.IN_REVIEW)
    request = approve(
        cast,
        cast.registrar,
        request,
        minute_number="校办纪要〔2026〕12号",
        minute_date=timezone.localdate(),
    )
    assert request.status == ChangeStatus.APPLIED
    cast.student.refresh_from_db()
    assert cast.student.status == StudentStatus.WITHDRAWN
    assert cast.student.registry_status == "not_enrolled"


def test_a_transfer_in_the_first_term_is_refused_citing_the_rule(cast: Cast) -> None:
    from xueji.org.models import Cohort

    cohort = Cohort.objects.create(year=timezone.localdate().year)
    fresh_user = make_user("fresh", "student", "self")
    fresh = make_student(
        fresh_user,
        college=cast.cs,
        major=cast.cs_major,
        school_class=None,
        cohort=cohort,
        serial=40,
    )
    fresh.enrollment_date = timezone.localdate() - timedelta(days=30)
    fresh.save()
    with pytest.raises(DomainError) as caught:
        submit(
            cast,
            fresh_user,
            fresh,
            "transfer_out",
            transfer_data(fresh, "家庭搬迁至外省，需转学到当地高校就读。"),
        )
    assert "入学未满一学期" in caught.value.message or "第一学期" in caught.value.message
    assert "教育部令第41号 第二十二条第（一）项" in caught.value.message
    assert not ChangeRequest.objects.filter(student=fresh).exists()


def test_resumption_after_the_maximum_study_period_is_refused(cast: Cast) -> None:
    student = cast.student
    student.status = StudentStatus.SUSPENDED
    student.max_study_date = timezone.localdate() - timedelta(days=1)
    student.save()
    with pytest.raises(DomainError) as caught:
        submit(
            cast,
            cast.student_user,
            student,
            "resumption",
            {"effective_date": timezone.localdate().isoformat(), "reason": "病愈，申请复学。"},
        )
    assert "最长学习年限" in caught.value.message


def test_resumption_needs_the_recorded_check_before_final_approval(cast: Cast) -> None:
    student = cast.student
    student.status = StudentStatus.SUSPENDED
    student.save()
    request = submit(
        cast,
        cast.student_user,
        student,
        "resumption",
        {"effective_date": timezone.localdate().isoformat(), "reason": "病愈，申请复学。"},
    )
    approve(cast, cast.counsellor, request)
    with pytest.raises(DomainError, match="复查"):
        approve(cast, cast.college_admin, request)
    services.change_details_record(
        actor=cast.actor(cast.college_admin), request=request, values={"check_passed": "1"}
    )
    request = approve(cast, cast.college_admin, request)
    assert request.status == ChangeStatus.APPLIED
    student.refresh_from_db()
    assert student.status == StudentStatus.IN_SCHOOL


def approve_until_done(cast: Cast, request: ChangeRequest) -> ChangeRequest:
    people = {
        StepKind.COUNSELLOR: cast.counsellor,
        StepKind.COLLEGE: cast.college_admin,
        StepKind.REGISTRAR: cast.registrar,
    }
    while request.status == ChangeStatus.IN_REVIEW:
        step = request.flow.steps.get(state=StepState.ACTIVE)
        request = approve(cast, people[step.kind], request)
    return request


def transfer(cast: Cast, reason: str) -> ChangeRequest:
    return submit(
        cast,
        cast.student_user,
        cast.student,
        "transfer_out",
        transfer_data(cast.student, reason),
    )


def test_an_overridable_failure_blocks_the_final_approval_until_the_registrar_sets_it_aside(
    cast: Cast,
) -> None:
    request = transfer(cast, "转学")  # too short to be a reason (第二十二条第（六）项)
    approve(cast, cast.counsellor, request)
    approve(cast, cast.college_admin, request)
    with pytest.raises(DomainError, match="第二十二条第（六）项"):
        approve(cast, cast.registrar, request)
    with pytest.raises(PermissionDenied):
        services.change_rules_override(
            actor=cast.actor(cast.college_admin),
            request=request,
            rule="transfer_reason",
            reason="理由正当",
        )
    with pytest.raises(DomainError, match="不允许豁免"):
        services.change_rules_override(
            actor=cast.actor(cast.registrar), request=request, rule="from_status", reason="x"
        )
    services.change_rules_override(
        actor=cast.actor(cast.registrar),
        request=request,
        rule="transfer_reason",
        reason="学生另附详细书面说明，理由正当。",
    )
    request = approve(cast, cast.registrar, request)
    assert request.status == ChangeStatus.APPLIED
    assert request.overrides[0]["by"] == "registrar"
    cast.student.refresh_from_db()
    assert cast.student.status == StudentStatus.TRANSFERRED_OUT


def test_a_repeat_year_moves_the_cohort_and_the_expected_graduation(cast: Cast) -> None:
    from xueji.org.models import Cohort, SchoolClass

    cohort = Cohort.objects.create(year=2025)
    target = SchoolClass.objects.create(
        code="JK2501", name="计科2501", college=cast.cs, major=cast.cs_major, cohort=cohort
    )
    request = submit(
        cast,
        cast.college_admin,
        cast.student,
        "repeat_year",
        {
            "effective_date": timezone.localdate().isoformat(),
            "target_cohort": cohort.pk,
            "target_class": target.pk,
            "reason": "学业成绩未达要求，按学校规定降级。",
        },
    )
    request = approve_until_done(cast, request)
    assert request.status == ChangeStatus.APPLIED
    cast.student.refresh_from_db()
    assert cast.student.cohort == cohort
    assert cast.student.school_class == target
    assert cast.student.expected_graduation_date == date(2029, 6, 30)


def test_plan_skips_steps_at_or_below_the_initiator_and_those_delegated(cast: Cast) -> None:
    kind = change_type("suspension")  # counsellor → college → registrar, college may finish
    assert [s.skipped for s in services.plan_steps(kind, "student")] == [False, False, True]
    assert [s.skipped for s in services.plan_steps(kind, "counsellor")] == [True, False, True]
    # A college admin starting a type the college may finish still confirms it once.
    assert [s.skipped for s in services.plan_steps(kind, "college")] == [True, False, True]
    kind.college_may_finish = False
    assert [s.skipped for s in services.plan_steps(kind, "student")] == [False, False, False]
    assert [s.skipped for s in services.plan_steps(kind, "college")] == [True, True, False]
    withdrawal = change_type("withdrawal")
    plan = services.plan_steps(withdrawal, "registrar")
    assert [s.kind for s in plan if not s.skipped] == [StepKind.PRESIDENT_OFFICE]


def test_the_student_and_counsellor_are_reminded_once_before_a_suspension_ends(
    cast: Cast,
) -> None:
    request = suspension(cast, timezone.localdate(), months=1)  # ends in 30 days
    approve(cast, cast.counsellor, request)
    request = approve(cast, cast.college_admin, request)
    assert request.status == ChangeStatus.APPLIED
    assert services.changes_remind_ending(timezone.now()) == 1
    for user in (cast.student_user, cast.counsellor):
        note = Notification.objects.filter(user=user, title__contains="期满").get()
        assert "复学" in note.body
    # Once only.
    assert services.changes_remind_ending(timezone.now()) == 0


def test_no_reminder_for_a_period_far_from_its_end(cast: Cast) -> None:
    request = suspension(cast, timezone.localdate(), months=6)
    approve(cast, cast.counsellor, request)
    approve(cast, cast.college_admin, request)
    assert services.changes_remind_ending(timezone.now()) == 0
