"""The approval engine: transitions, authority, delegation, reminders, attachments, batches."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from xueji.accounts.models import Role, Scope
from xueji.audit.models import AuditEvent
from xueji.conftest import Cast, make_user
from xueji.core.exceptions import DomainError, PermissionDenied
from xueji.notifications.models import Notification
from xueji.workflow.models import (
    Attachment,
    Delegation,
    Flow,
    FlowAction,
    FlowStatus,
    FlowStep,
    StepKind,
    StepState,
)
from xueji.workflow.services import (
    SKIPPED_COMMENT,
    STALE_MESSAGE,
    TRANSITIONS,
    StepSpec,
    Verb,
    attachment_add,
    delegation_create,
    delegation_revoke,
    flow_approve,
    flow_batch_approve,
    flow_comment,
    flow_reject,
    flow_remind_overdue,
    flow_resubmit,
    flow_return,
    flow_withdraw,
)
from xueji.workflow.tests.conftest import RecordingHandler, StartFlow

C, COL, REG, PRES = (
    StepKind.COUNSELLOR,
    StepKind.COLLEGE,
    StepKind.REGISTRAR,
    StepKind.PRESIDENT_OFFICE,
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def world() -> tuple[Any, ...]:
    """Everything a refused action must leave as it was."""
    return (
        list(Flow.objects.order_by("pk").values_list("pk", "status", "version", "finished_at")),
        list(
            FlowStep.objects.order_by("pk").values_list(
                "pk", "state", "decided_by", "on_behalf_of", "comment"
            )
        ),
        FlowAction.objects.count(),
        AuditEvent.objects.count(),
        Attachment.objects.count(),
    )


def states(flow: Flow) -> list[str]:
    return list(flow.steps.order_by("position").values_list("state", flat=True))


def titles(user: Any) -> list[str]:
    return list(
        Notification.objects.filter(user=user).order_by("pk").values_list("title", flat=True)
    )


# --- start ---------------------------------------------------------------------------------


def test_starting_a_flow_activates_the_first_step_and_tells_its_approver(
    cast: Cast, start: StartFlow, handler: RecordingHandler
) -> None:
    flow = start()
    assert (flow.status, flow.version, flow.applicant) == (
        FlowStatus.IN_PROGRESS,
        0,
        cast.student_user,
    )
    assert states(flow) == [StepState.ACTIVE, StepState.WAITING]
    first = flow.steps.get(position=1)
    assert first.due_at - first.activated_at == timedelta(days=5)
    assert titles(cast.counsellor) == ["待审批：休学申请"]
    assert titles(cast.college_admin) == []
    assert AuditEvent.objects.filter(action="workflow.start", target_id=str(flow.pk)).exists()
    assert handler.transitions == [(flow.pk, "start", FlowStatus.IN_PROGRESS)]


def test_a_step_the_school_lets_the_college_finish_is_skipped_with_its_reason(
    cast: Cast, start: StartFlow
) -> None:
    flow = start([C, COL, StepSpec(REG, skipped=True)])
    registrar_step = flow.steps.get(position=3)
    assert (registrar_step.state, registrar_step.comment) == (StepState.SKIPPED, SKIPPED_COMMENT)
    flow_approve(actor=cast.actor(cast.counsellor), flow=flow)
    done = flow_approve(actor=cast.actor(cast.college_admin), flow=flow)
    assert done.status == FlowStatus.APPROVED
    assert states(done) == [StepState.APPROVED, StepState.APPROVED, StepState.SKIPPED]


@pytest.mark.parametrize(
    "steps, message",
    [
        ([], "审批流程至少需要一个不跳过的环节。"),
        ([StepSpec(C, skipped=True)], "审批流程至少需要一个不跳过的环节。"),
        ([C, StepSpec(PRES, skipped=True)], "校长办公会决定环节不能跳过。"),
        (["dean"], "未知的审批环节“dean”。"),
    ],
)
def test_a_bad_chain_is_refused_and_nothing_is_created(
    cast: Cast, start: StartFlow, steps: list[Any], message: str
) -> None:
    before = world()
    with pytest.raises(DomainError) as caught:
        start(steps)
    assert caught.value.message == message
    assert world() == before


def test_an_unregistered_kind_cannot_start(cast: Cast) -> None:
    from xueji.workflow.services import flow_start

    with pytest.raises(DomainError, match="未登记审批事项类别“nosuch”"):
        flow_start(
            actor=cast.actor(cast.student_user),
            kind="nosuch",
            subject_id=1,
            student=cast.student,
            title="x",
            steps=[StepSpec(C)],
        )


# --- approve -------------------------------------------------------------------------------


def test_approvals_walk_the_chain_and_the_last_one_approves_the_flow(
    cast: Cast, start: StartFlow, handler: RecordingHandler
) -> None:
    flow = start()
    after_first = flow_approve(actor=cast.actor(cast.counsellor), flow=flow, comment="情况属实")
    assert (after_first.status, after_first.version) == (FlowStatus.IN_PROGRESS, 1)
    assert states(after_first) == [StepState.APPROVED, StepState.ACTIVE]
    step = after_first.steps.get(position=1)
    assert (step.decided_by, step.comment, step.on_behalf_of) == (cast.counsellor, "情况属实", None)
    assert titles(cast.college_admin) == ["待审批：休学申请"]

    done = flow_approve(actor=cast.actor(cast.college_admin), flow=flow)
    assert (done.status, done.version) == (FlowStatus.APPROVED, 2)
    assert done.finished_at is not None
    assert "申请已通过：休学申请" in titles(cast.student_user)
    assert [v for _pk, v, _s in handler.transitions] == ["start", "approve", "approve_final"]
    assert list(done.actions.values_list("verb", flat=True)) == [
        "start",
        "approve",
        "approve_final",
    ]
    assert list(
        AuditEvent.objects.filter(target_id=str(flow.pk), action__startswith="workflow.")
        .order_by("seq")
        .values_list("action", flat=True)
    ) == ["workflow.start", "workflow.approve", "workflow.approve_final"]


@pytest.mark.parametrize(
    "who", ["college_admin", "registrar", "auditor", "advisor", "student_user", "parent"]
)
def test_only_the_counsellor_of_the_class_decides_a_counsellor_step(
    cast: Cast, start: StartFlow, who: str
) -> None:
    flow = start()
    before = world()
    with pytest.raises(PermissionDenied, match="您不是当前环节（辅导员审核）的审批人"):
        flow_approve(actor=cast.actor(getattr(cast, who)), flow=flow)
    assert world() == before


def test_counsellor_cannot_approve_a_request_of_another_class(cast: Cast, start: StartFlow) -> None:
    other = make_user("counsellor-b", Role.COUNSELLOR, Scope.CLASSES, classes=[cast.class_b])
    flow = start()
    with pytest.raises(PermissionDenied):
        flow_approve(actor=cast.actor(other), flow=flow)
    assert states(flow) == [StepState.ACTIVE, StepState.WAITING]


def test_college_admin_of_another_college_cannot_decide(cast: Cast, start: StartFlow) -> None:
    other = make_user("fl-admin", Role.COLLEGE_ADMIN, Scope.COLLEGE, college=cast.fl)
    flow = start([COL])
    for act in (flow_approve, flow_reject, flow_return):
        kwargs = {} if act is flow_approve else {"reason": "不同意"}
        with pytest.raises(PermissionDenied):
            act(actor=cast.actor(other), flow=flow, **kwargs)
    assert states(flow) == [StepState.ACTIVE]


def test_a_stale_version_is_refused_and_changes_nothing(cast: Cast, start: StartFlow) -> None:
    flow = start([C, COL, REG])
    flow_approve(actor=cast.actor(cast.counsellor), flow=flow, expected_version=0)
    before = world()
    with pytest.raises(DomainError) as caught:
        flow_approve(actor=cast.actor(cast.college_admin), flow=flow, expected_version=0)
    assert caught.value.message == STALE_MESSAGE
    assert world() == before


def test_sequential_double_approval_of_the_same_step_is_refused(
    cast: Cast, start: StartFlow
) -> None:
    flow = start([REG])
    flow_approve(actor=cast.actor(cast.registrar), flow=flow, expected_version=0)
    before = world()
    with pytest.raises(DomainError) as caught:
        flow_approve(actor=cast.actor(cast.registrar), flow=flow, expected_version=0)
    assert caught.value.message == "该申请当前为“已通过”，不能再同意。"
    assert world() == before
    assert FlowAction.objects.filter(flow=flow, verb__startswith="approve").count() == 1


def test_the_president_office_step_needs_the_minute_number_and_date(
    cast: Cast, start: StartFlow
) -> None:
    flow = start([REG, PRES], applicant=cast.college_admin)
    flow_approve(actor=cast.actor(cast.registrar), flow=flow)
    before = world()
    for number, day in (("", date(2026, 5, 1)), ("校办〔2026〕12号", None)):
        with pytest.raises(DomainError, match="请填写校长办公会纪要编号和会议日期"):
            flow_approve(
                actor=cast.actor(cast.registrar), flow=flow, minute_number=number, minute_date=day
            )
    assert world() == before
    done = flow_approve(
        actor=cast.actor(cast.registrar),
        flow=flow,
        minute_number="校办〔2026〕12号",
        minute_date=date(2026, 5, 1),
    )
    step = done.steps.get(kind=PRES)
    assert (done.status, step.minute_number, step.minute_date) == (
        FlowStatus.APPROVED,
        "校办〔2026〕12号",
        date(2026, 5, 1),
    )


def test_a_rule_the_handler_checks_refuses_the_approval_and_nothing_changes(
    cast: Cast, start: StartFlow
) -> None:
    flow = start(title="不合规的休学申请")
    before = world()
    with pytest.raises(DomainError, match="不符合第二十七条"):
        flow_approve(actor=cast.actor(cast.counsellor), flow=flow)
    assert world() == before


# --- reject, return, resubmit, withdraw -----------------------------------------------------


def test_rejecting_needs_a_reason_and_tells_applicant_and_student(
    cast: Cast, start: StartFlow
) -> None:
    flow = start(applicant=cast.counsellor)
    flow_approve(actor=cast.actor(cast.counsellor), flow=flow)
    before = world()
    with pytest.raises(DomainError, match="请填写驳回理由") as caught:
        flow_reject(actor=cast.actor(cast.college_admin), flow=flow, reason="  ")
    assert caught.value.field == "reason"
    assert world() == before
    done = flow_reject(actor=cast.actor(cast.college_admin), flow=flow, reason="材料不全")
    assert done.status == FlowStatus.REJECTED
    assert done.finished_at is not None
    for user in (cast.counsellor, cast.student_user):
        note = Notification.objects.filter(user=user, title="申请被驳回：休学申请").get()
        assert note.body == "驳回理由：材料不全"


def test_rejecting_cancels_the_steps_not_reached(cast: Cast, start: StartFlow) -> None:
    flow = start([C, COL, REG])
    flow_reject(actor=cast.actor(cast.counsellor), flow=flow, reason="不符合条件")
    assert states(flow) == [StepState.REJECTED, StepState.CANCELLED, StepState.CANCELLED]


def test_a_returned_flow_resumes_at_the_step_that_returned_it(
    cast: Cast, start: StartFlow, handler: RecordingHandler
) -> None:
    flow = start()
    flow_approve(actor=cast.actor(cast.counsellor), flow=flow)
    returned = flow_return(actor=cast.actor(cast.college_admin), flow=flow, reason="请补充病历")
    assert returned.status == FlowStatus.RETURNED
    assert states(returned) == [StepState.APPROVED, StepState.RETURNED]
    assert (
        Notification.objects.get(user=cast.student_user, title__startswith="申请被退回").body
        == "需补充的内容：请补充病历"
    )
    with pytest.raises(PermissionDenied, match="只有申请人或学生本人可以重新提交"):
        flow_resubmit(actor=cast.actor(cast.college_admin), flow=flow)
    again = flow_resubmit(actor=cast.actor(cast.student_user), flow=flow, comment="已补充")
    assert again.status == FlowStatus.IN_PROGRESS
    assert states(again) == [StepState.APPROVED, StepState.ACTIVE]
    assert again.steps.get(position=2).decided_by is None
    done = flow_approve(actor=cast.actor(cast.college_admin), flow=flow)
    assert done.status == FlowStatus.APPROVED
    assert [v for _pk, v, _s in handler.transitions][-3:] == ["return", "resubmit", "approve_final"]


@pytest.mark.parametrize("returned_first", [False, True])
def test_the_applicant_withdraws_and_the_open_steps_are_cancelled(
    cast: Cast, start: StartFlow, returned_first: bool
) -> None:
    flow = start()
    if returned_first:
        flow_return(actor=cast.actor(cast.counsellor), flow=flow, reason="补充")
    done = flow_withdraw(actor=cast.actor(cast.student_user), flow=flow, reason="不休学了")
    assert (done.status, states(done)) == (
        FlowStatus.WITHDRAWN,
        [StepState.CANCELLED, StepState.CANCELLED],
    )


def test_the_student_the_flow_is_about_may_withdraw_a_counsellors_application(
    cast: Cast, start: StartFlow
) -> None:
    flow = start([COL], applicant=cast.counsellor)
    assert flow_withdraw(actor=cast.actor(cast.student_user), flow=flow).status == "withdrawn"


@pytest.mark.parametrize("who", ["counsellor", "college_admin", "registrar", "parent"])
def test_no_one_else_may_withdraw(cast: Cast, start: StartFlow, who: str) -> None:
    flow = start()
    before = world()
    with pytest.raises(PermissionDenied, match="只有申请人或学生本人可以撤回"):
        flow_withdraw(actor=cast.actor(getattr(cast, who)), flow=flow)
    assert world() == before


def test_the_transition_table_is_exactly_the_documented_one() -> None:
    assert TRANSITIONS == {
        ("in_progress", "approve"): "in_progress",
        ("in_progress", "approve_final"): "approved",
        ("in_progress", "reject"): "rejected",
        ("in_progress", "return"): "returned",
        ("in_progress", "withdraw"): "withdrawn",
        ("returned", "resubmit"): "in_progress",
        ("returned", "withdraw"): "withdrawn",
    }


def _put_in(cast: Cast, flow: Flow, status: str) -> None:
    counsellor, student = cast.actor(cast.counsellor), cast.actor(cast.student_user)
    if status == FlowStatus.RETURNED:
        flow_return(actor=counsellor, flow=flow, reason="补充")
    elif status == FlowStatus.APPROVED:
        flow_approve(actor=counsellor, flow=flow)
    elif status == FlowStatus.REJECTED:
        flow_reject(actor=counsellor, flow=flow, reason="不同意")
    elif status == FlowStatus.WITHDRAWN:
        flow_withdraw(actor=student, flow=flow)


def _do(cast: Cast, flow: Flow, verb: str) -> None:
    counsellor, student = cast.actor(cast.counsellor), cast.actor(cast.student_user)
    if verb == "approve":
        flow_approve(actor=counsellor, flow=flow)
    elif verb == "reject":
        flow_reject(actor=counsellor, flow=flow, reason="理由")
    elif verb == "return":
        flow_return(actor=counsellor, flow=flow, reason="理由")
    elif verb == "resubmit":
        flow_resubmit(actor=student, flow=flow)
    elif verb == "withdraw":
        flow_withdraw(actor=student, flow=flow)


VERB_WORDS = {
    "approve": "同意",
    "reject": "驳回",
    "return": "退回",
    "resubmit": "重新提交",
    "withdraw": "撤回",
}
ILLEGAL = [
    (status, verb)
    for status in FlowStatus.values
    for verb in VERB_WORDS
    if (status, verb) not in TRANSITIONS
    and not (status == FlowStatus.IN_PROGRESS and verb == "approve")
]


@pytest.mark.parametrize("status, verb", ILLEGAL)
def test_every_transition_outside_the_table_is_refused_with_a_clear_message(
    cast: Cast, start: StartFlow, status: str, verb: str
) -> None:
    flow = start([C])
    _put_in(cast, flow, status)
    flow.refresh_from_db()
    assert flow.status == status
    before = world()
    with pytest.raises(DomainError) as caught:
        _do(cast, flow, verb)
    label = FlowStatus(status).label
    assert caught.value.message == f"该申请当前为“{label}”，不能再{VERB_WORDS[verb]}。"
    assert world() == before


def test_the_illegal_cases_cover_every_status_and_verb_outside_the_table() -> None:
    # 5 statuses × 5 verbs, less the 7 legal ones (approve and approve_final count once).
    assert len(ILLEGAL) == 25 - 6


# --- delegation ------------------------------------------------------------------------------


def _delegate(cast: Cast, principal: Any, deputy: Any, days: int = 3) -> Delegation:
    today = timezone.localdate()
    return delegation_create(
        actor=cast.actor(principal),
        deputy=deputy,
        starts_on=today,
        ends_on=today + timedelta(days=days),
        note="出差",
    )


def test_a_deputy_acts_during_the_delegation_and_the_principal_is_recorded(
    cast: Cast, start: StartFlow
) -> None:
    deputy = make_user("deputy", Role.COUNSELLOR, Scope.CLASSES, classes=[cast.class_b])
    _delegate(cast, cast.counsellor, deputy)
    assert "counsellor 委托您代为审批" in titles(deputy)
    flow = start()
    flow_approve(actor=cast.actor(deputy), flow=flow, comment="代批")
    step = flow.steps.get(position=1)
    assert (step.decided_by, step.on_behalf_of) == (deputy, cast.counsellor)


def test_a_deputy_cannot_act_after_the_period_or_once_revoked(cast: Cast, start: StartFlow) -> None:
    flow = start()
    delegation = _delegate(cast, cast.counsellor, cast.advisor)
    Delegation.objects.filter(pk=delegation.pk).update(
        starts_on=timezone.localdate() - timedelta(days=10),
        ends_on=timezone.localdate() - timedelta(days=1),
    )
    with pytest.raises(PermissionDenied):
        flow_approve(actor=cast.actor(cast.advisor), flow=flow)
    current = _delegate(cast, cast.counsellor, cast.advisor)
    delegation_revoke(actor=cast.actor(cast.counsellor), delegation=current)
    with pytest.raises(PermissionDenied):
        flow_approve(actor=cast.actor(cast.advisor), flow=flow)
    assert states(flow) == [StepState.ACTIVE, StepState.WAITING]


def test_a_delegation_that_has_not_started_gives_no_authority(cast: Cast, start: StartFlow) -> None:
    today = timezone.localdate()
    delegation_create(
        actor=cast.actor(cast.counsellor),
        deputy=cast.advisor,
        starts_on=today + timedelta(days=1),
        ends_on=today + timedelta(days=5),
    )
    flow = start()
    with pytest.raises(PermissionDenied):
        flow_approve(actor=cast.actor(cast.advisor), flow=flow)


@pytest.mark.parametrize(
    "principal, deputy, days, message",
    [
        ("counsellor", "student_user", 3, "代理人须为在职教职工账号。"),
        ("counsellor", "parent", 3, "代理人须为在职教职工账号。"),
        ("counsellor", "counsellor", 3, "不能把审批委托给自己。"),
        ("counsellor", "advisor", -1, "结束日期不能早于开始日期。"),
    ],
)
def test_a_bad_delegation_is_refused(
    cast: Cast, principal: str, deputy: str, days: int, message: str
) -> None:
    with pytest.raises(DomainError) as caught:
        _delegate(cast, getattr(cast, principal), getattr(cast, deputy), days)
    assert caught.value.message == message
    assert not Delegation.objects.exists()


@pytest.mark.parametrize("who", ["advisor", "auditor", "student_user", "parent"])
def test_only_approvers_may_name_a_deputy(cast: Cast, who: str) -> None:
    with pytest.raises(PermissionDenied, match="只有审批人员可以设置审批代理"):
        _delegate(cast, getattr(cast, who), cast.registrar)


def test_only_the_principal_revokes_and_only_once(cast: Cast) -> None:
    delegation = _delegate(cast, cast.counsellor, cast.advisor)
    with pytest.raises(PermissionDenied, match="只有委托人可以撤销该代理"):
        delegation_revoke(actor=cast.actor(cast.advisor), delegation=delegation)
    delegation_revoke(actor=cast.actor(cast.counsellor), delegation=delegation)
    with pytest.raises(DomainError, match="该代理已撤销"):
        delegation_revoke(actor=cast.actor(cast.counsellor), delegation=delegation)


# --- reminders -------------------------------------------------------------------------------


def test_overdue_steps_are_reminded_at_most_once_a_day(cast: Cast, start: StartFlow) -> None:
    overdue = start([StepSpec(C, due_days=2)])
    start([StepSpec(C, due_days=10)], student=cast.student, title="未超期申请")
    now = timezone.now() + timedelta(days=3)
    assert flow_remind_overdue(now) == 1
    assert titles(cast.counsellor).count(f"催办：{overdue.title}") == 1
    assert flow_remind_overdue(now + timedelta(hours=5)) == 0
    assert flow_remind_overdue(now + timedelta(days=1, minutes=1)) == 1
    assert titles(cast.counsellor).count(f"催办：{overdue.title}") == 2


def test_a_decided_step_is_not_reminded(cast: Cast, start: StartFlow) -> None:
    flow = start([StepSpec(C, due_days=1)])
    flow_approve(actor=cast.actor(cast.counsellor), flow=flow)
    assert flow_remind_overdue(timezone.now() + timedelta(days=5)) == 0


def test_reminders_are_registered_as_an_hourly_periodic_job() -> None:
    from xueji.core.periodic import jobs

    job = next(job for job in jobs() if job.name == "workflow.remind_overdue")
    assert (job.every_seconds, job.run) == (3600, flow_remind_overdue)


# --- comments and attachments ----------------------------------------------------------------


def test_applicant_and_approvers_comment_and_the_other_side_is_told(
    cast: Cast, start: StartFlow
) -> None:
    flow = start()
    flow_comment(actor=cast.actor(cast.student_user), flow=flow, text="病历明天补交")
    flow_comment(actor=cast.actor(cast.counsellor), flow=flow, text="好的")
    assert list(flow.actions.filter(verb=Verb.COMMENT).values_list("comment", flat=True)) == [
        "病历明天补交",
        "好的",
    ]
    assert "申请人留言：休学申请" in titles(cast.counsellor)
    assert "审批留言：休学申请" in titles(cast.student_user)
    with pytest.raises(DomainError, match="请填写留言内容"):
        flow_comment(actor=cast.actor(cast.counsellor), flow=flow, text=" ")


@pytest.mark.parametrize("who", ["other_student_user", "parent"])
def test_people_outside_the_flow_cannot_comment(cast: Cast, start: StartFlow, who: str) -> None:
    flow = start()
    with pytest.raises(PermissionDenied):
        flow_comment(actor=cast.actor(getattr(cast, who)), flow=flow, text="x")


def test_an_attachment_is_stored_with_its_sha256(cast: Cast, start: StartFlow) -> None:
    flow = start()
    upload = SimpleUploadedFile("病历.pdf", PDF, content_type="application/pdf")
    attachment = attachment_add(
        actor=cast.actor(cast.student_user), flow=flow, upload=upload, label="医院诊断证明"
    )
    assert (attachment.original_name, attachment.size, attachment.sha256) == (
        "病历.pdf",
        len(PDF),
        hashlib.sha256(PDF).hexdigest(),
    )
    with attachment.file.open("rb") as stored:
        assert stored.read() == PDF
    assert flow.actions.filter(verb=Verb.ATTACH).count() == 1


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("virus.exe", b"MZ\x90\x00", "附件只能是 PDF、JPG 或 PNG 文件。"),
        ("fake.pdf", b"MZ\x90\x00not a pdf", "文件内容与扩展名“.pdf”不符"),
        ("photo.png", PDF, "文件内容与扩展名“.png”不符"),
        ("empty.pdf", b"", "附件是空文件。"),
        ("big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024), "附件不能超过 10 MB"),
    ],
)
def test_a_bad_attachment_is_refused_and_nothing_is_stored(
    cast: Cast, start: StartFlow, name: str, content: bytes, message: str
) -> None:
    flow = start()
    before = world()
    with pytest.raises(DomainError, match=message):
        attachment_add(
            actor=cast.actor(cast.student_user),
            flow=flow,
            upload=SimpleUploadedFile(name, content),
            label="材料",
        )
    assert world() == before


def test_the_applicant_cannot_attach_once_finished_but_an_approver_can(
    cast: Cast, start: StartFlow
) -> None:
    flow = start([C])
    flow_approve(actor=cast.actor(cast.counsellor), flow=flow)
    with pytest.raises(PermissionDenied):
        attachment_add(
            actor=cast.actor(cast.student_user),
            flow=flow,
            upload=SimpleUploadedFile("a.png", PNG),
            label="补充",
        )
    attachment_add(
        actor=cast.actor(cast.registrar),
        flow=flow,
        upload=SimpleUploadedFile("决定书.png", PNG),
        label="处理决定书",
    )
    assert flow.attachments.count() == 1


@pytest.mark.parametrize("who", ["other_student_user", "parent"])
def test_outsiders_cannot_attach(cast: Cast, start: StartFlow, who: str) -> None:
    flow = start()
    with pytest.raises(PermissionDenied):
        attachment_add(
            actor=cast.actor(getattr(cast, who)),
            flow=flow,
            upload=SimpleUploadedFile("a.png", PNG),
            label="x",
        )


# --- batch ---------------------------------------------------------------------------------


def test_batch_approval_approves_batchable_flows_and_explains_the_rest(
    cast: Cast, start: StartFlow
) -> None:
    ok = [start([REG], batch=True, title=f"批量{n}") for n in range(3)]
    single = start([REG], batch=False, title="逐件")
    meeting = start([PRES], batch=True, title="退学")
    failing = start([REG], batch=True, title="不合规申请")
    result = flow_batch_approve(
        actor=cast.actor(cast.registrar), flows=[*ok, single, meeting, failing], comment="同意"
    )
    assert result["approved"] == [f.pk for f in ok]
    assert result["refused"] == {
        single.pk: "该类申请不允许批量审批，请逐件办理。",
        meeting.pk: "请填写校长办公会纪要编号和会议日期",
        failing.pk: "不符合第二十七条：休学次数已达上限。",
    }
    assert set(Flow.objects.filter(pk__in=[f.pk for f in ok]).values_list("status", flat=True)) == {
        FlowStatus.APPROVED
    }
    assert Flow.objects.get(pk=single.pk).status == FlowStatus.IN_PROGRESS


def test_batch_approval_by_someone_without_authority_approves_nothing(
    cast: Cast, start: StartFlow
) -> None:
    flow = start([REG], batch=True)
    result = flow_batch_approve(actor=cast.actor(cast.counsellor), flows=[flow])
    assert result["approved"] == []
    assert "审批人" in result["refused"][flow.pk]
