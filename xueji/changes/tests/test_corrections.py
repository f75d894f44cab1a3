"""Data-correction requests on the approval engine: what each service writes, who may decide,
and that a refusal writes nothing. (Moved from students: `students` sits below `workflow`.)"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from xueji.accounts.models import Role, Scope
from xueji.audit.models import AuditEvent
from xueji.changes.corrections import (
    CORRECTION_FLOW_KIND,
    CORRECTION_TRANSITIONS,
    correction_decide,
    correction_flow,
    correction_submit,
    correction_withdraw,
)
from xueji.conftest import Cast, make_user
from xueji.core.exceptions import DomainError, PermissionDenied
from xueji.notifications.models import Notification
from xueji.students.models import (
    CorrectionRequest,
    CorrectionStatus,
    LedgerAction,
    StatusLedgerEntry,
    Student,
)
from xueji.students.tests.factories import world
from xueji.workflow.handlers import handler_for
from xueji.workflow.models import Flow
from xueji.workflow.services import flow_reject, flow_withdraw

pytestmark = pytest.mark.django_db


def last_seq() -> int:
    event = AuditEvent.objects.order_by("-seq").first()
    return event.seq if event else 0


def new_events(before: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(seq__gt=before).order_by("seq"))


def flow_of(correction: CorrectionRequest) -> Flow:
    flow = correction_flow(correction)
    assert flow is not None
    return flow


def submit(cast: Cast, field: str = "phone", value: str = "13900000000") -> CorrectionRequest:
    return correction_submit(
        actor=cast.actor(cast.student_user),
        student=cast.student,
        field=field,
        requested_value=value,
        reason="号码已更换",
    )


def test_a_student_submits_a_correction_of_their_own_record(cast: Cast) -> None:
    seq = last_seq()
    correction = submit(cast)
    assert (correction.status, correction.current_value, correction.requested_value) == (
        CorrectionStatus.PENDING,
        "",
        "13900000000",
    )
    events = new_events(seq)
    assert [(e.action, e.actor_username) for e in events] == [
        ("correction.submit", "student"),
        ("workflow.start", "student"),
    ]
    # An ordinary field goes to 学院审核 alone; the college admin is told.
    assert list(flow_of(correction).steps.values_list("kind", "state")) == [("college", "active")]
    assert Notification.objects.filter(user=cast.college_admin).exists()
    assert Student.objects.get(pk=cast.student.pk).phone == ""


def test_college_admin_approves_a_contact_correction_and_the_record_follows(cast: Cast) -> None:
    correction = submit(cast)
    seq = last_seq()
    decided = correction_decide(
        actor=cast.actor(cast.college_admin), correction=correction, approve=True
    )
    assert (decided.status, decided.decided_by) == (CorrectionStatus.APPROVED, cast.college_admin)
    assert flow_of(decided).status == "approved"
    assert Student.objects.get(pk=cast.student.pk).phone == "13900000000"
    entry = StatusLedgerEntry.objects.filter(student=cast.student).latest("id")
    assert (entry.action, entry.note) == (LedgerAction.CORRECTED, "手机： → 13900000000")
    assert [e.action for e in new_events(seq)] == [
        "workflow.approve_final",
        "student.correct",
        "correction.approved",
    ]
    version = Student.history.filter(id=cast.student.pk).latest("history_date")
    assert version.history_change_reason == f"更正申请 #{correction.pk}"


def test_approving_a_correction_twice_is_refused_with_a_clear_message(cast: Cast) -> None:
    correction = submit(cast)
    correction_decide(actor=cast.actor(cast.college_admin), correction=correction, approve=True)
    before = world()
    with pytest.raises(DomainError) as caught:
        correction_decide(actor=cast.actor(cast.registrar), correction=correction, approve=True)
    assert caught.value.message == "该申请当前为“已通过”，不能再通过。"
    assert world() == before


def test_rejecting_needs_a_reason_and_leaves_the_record_alone(cast: Cast) -> None:
    correction = submit(cast)
    with pytest.raises(DomainError, match="驳回时请填写理由"):
        correction_decide(
            actor=cast.actor(cast.college_admin), correction=correction, approve=False
        )
    decided = correction_decide(
        actor=cast.actor(cast.college_admin),
        correction=correction,
        approve=False,
        note="号码无法核实",
    )
    assert (decided.status, decided.decision_note) == (CorrectionStatus.REJECTED, "号码无法核实")
    assert Student.objects.get(pk=cast.student.pk).phone == ""


def test_the_submitter_withdraws_a_pending_correction(cast: Cast) -> None:
    correction = submit(cast)
    withdrawn = correction_withdraw(actor=cast.actor(cast.student_user), correction=correction)
    assert withdrawn.status == CorrectionStatus.WITHDRAWN
    assert AuditEvent.objects.filter(action="correction.withdrawn").count() == 1


def test_only_the_submitter_withdraws(cast: Cast) -> None:
    correction = submit(cast)
    with pytest.raises(PermissionDenied, match="只有申请人可以撤回"):
        correction_withdraw(actor=cast.actor(cast.counsellor), correction=correction)


def test_the_transition_table_allows_only_decisions_on_pending_requests() -> None:
    assert {
        CorrectionStatus.PENDING: {
            CorrectionStatus.APPROVED,
            CorrectionStatus.REJECTED,
            CorrectionStatus.WITHDRAWN,
        },
        CorrectionStatus.APPROVED: set(),
        CorrectionStatus.REJECTED: set(),
        CorrectionStatus.WITHDRAWN: set(),
    } == CORRECTION_TRANSITIONS


def _approve(cast: Cast, c: CorrectionRequest) -> None:
    correction_decide(actor=cast.actor(cast.college_admin), correction=c, approve=True)


def _reject(cast: Cast, c: CorrectionRequest) -> None:
    correction_decide(
        actor=cast.actor(cast.college_admin), correction=c, approve=False, note="不符"
    )


def _withdraw(cast: Cast, c: CorrectionRequest) -> None:
    correction_withdraw(actor=cast.actor(cast.student_user), correction=c)


ACTIONS: dict[str, Callable[[Cast, CorrectionRequest], None]] = {
    "approve": _approve,
    "reject": _reject,
    "withdraw": _withdraw,
}
VERBS = {"approve": "通过", "reject": "驳回", "withdraw": "撤回"}


@pytest.mark.parametrize("first", ["approve", "reject", "withdraw"])
@pytest.mark.parametrize("then", ["approve", "reject", "withdraw"])
def test_a_decided_or_withdrawn_request_cannot_move_again(
    cast: Cast, first: str, then: str
) -> None:
    correction = submit(cast)
    ACTIONS[first](cast, correction)
    correction.refresh_from_db()
    shown = correction.get_status_display()
    before = world()
    with pytest.raises(DomainError) as caught:
        ACTIONS[then](cast, correction)
    assert caught.value.message == f"该申请当前为“{shown}”，不能再{VERBS[then]}。"
    assert world() == before


def test_a_locked_field_correction_is_decided_by_the_registrar_only(cast: Cast) -> None:
    correction = submit(cast, field="name", value="曾小明")
    # 学院审核 first, then the registrar's step: the college cannot finish a CHSI-locked field.
    with pytest.raises(PermissionDenied, match="须由校级学籍管理员审核"):
        correction_decide(actor=cast.actor(cast.registrar), correction=correction, approve=True)
    correction_decide(actor=cast.actor(cast.college_admin), correction=correction, approve=True)
    correction.refresh_from_db()
    assert correction.status == CorrectionStatus.PENDING
    assert Student.objects.get(pk=cast.student.pk).name == "单小明"
    for who in (cast.counsellor, cast.college_admin):
        with pytest.raises(PermissionDenied, match="须由校级学籍管理员审核"):
            correction_decide(actor=cast.actor(who), correction=correction, approve=True)
    correction_decide(actor=cast.actor(cast.registrar), correction=correction, approve=True)
    student = Student.objects.get(pk=cast.student.pk)
    assert (student.name, student.name_pinyin, student.pinyin_initials) == (
        "曾小明",
        "Zeng Xiaoming",
        "zxm",
    )


def test_counsellor_of_another_class_cannot_decide(cast: Cast) -> None:
    other = make_user("counsellor-b", Role.COUNSELLOR, Scope.CLASSES, classes=[cast.class_b])
    correction = submit(cast)
    with pytest.raises(PermissionDenied):
        correction_decide(actor=cast.actor(other), correction=correction, approve=True)
    assert CorrectionRequest.objects.get(pk=correction.pk).status == CorrectionStatus.PENDING


def test_a_student_cannot_request_a_correction_of_someone_elses_record(cast: Cast) -> None:
    before = world()
    with pytest.raises(PermissionDenied, match="只能为本人档案提交更正申请"):
        correction_submit(
            actor=cast.actor(cast.other_student_user),
            student=cast.student,
            field="phone",
            requested_value="13900000000",
            reason="x",
        )
    assert world() == before


@pytest.mark.parametrize(
    "field, value, reason, message",
    [
        ("major", "英语", "转专业", "该字段不能通过更正申请修改。"),
        ("phone", "  ", "换号", "请填写更正后的值。"),
        ("phone", "13900000000", " ", "请说明更正理由（姓名、出生日期等需附法定证明）。"),
        ("name", "单小明", "无", "更正后的值与当前值相同。"),
        ("birth_date", "2005/03/03", "证明", "日期格式应为 YYYY-MM-DD"),
        ("ethnicity", "60", "证明", "民族代码“60”不在民族（GB 3304）中"),
        ("gender", "2", "证明", "身份证号显示性别为男，与填写的性别不一致"),
        ("id_number", "110101200503020130", "证明", "身份证号校验位错误，请核对是否输错"),
    ],
)
def test_a_bad_correction_request_is_refused_with_its_reason_and_nothing_is_written(
    cast: Cast, field: str, value: str, reason: str, message: str
) -> None:
    before = world()
    with pytest.raises(DomainError) as caught:
        correction_submit(
            actor=cast.actor(cast.student_user),
            student=cast.student,
            field=field,
            requested_value=value,
            reason=reason,
        )
    assert caught.value.message == message
    assert world() == before


def test_a_second_pending_request_for_the_same_field_is_refused(cast: Cast) -> None:
    submit(cast)
    with pytest.raises(DomainError, match="该字段已有待审核的更正申请"):
        submit(cast, value="13700000000")


def test_an_approval_that_no_longer_validates_is_refused_and_rolled_back(cast: Cast) -> None:
    correction = submit(cast, field="political_status", value="01")
    # The code vanished from the table after submission (a bad code-table load).
    CorrectionRequest.objects.filter(pk=correction.pk).update(requested_value="99")
    correction.refresh_from_db()
    before = world()
    with pytest.raises(DomainError, match="政治面貌代码“99”"):
        correction_decide(actor=cast.actor(cast.college_admin), correction=correction, approve=True)
    assert world() == before
    assert CorrectionRequest.objects.get(pk=correction.pk).status == CorrectionStatus.PENDING


# --- corrections on the approval engine --------------------------------------------------------


def test_withdrawing_a_correction_withdraws_its_flow_and_the_reverse(cast: Cast) -> None:
    first = submit(cast)
    correction_withdraw(actor=cast.actor(cast.student_user), correction=first)
    first.refresh_from_db()
    assert (first.status, flow_of(first).status) == (CorrectionStatus.WITHDRAWN, "withdrawn")
    # Withdrawn from the flow panel instead: the request follows its flow.
    second = submit(cast, value="13700000000")
    flow_withdraw(actor=cast.actor(cast.student_user), flow=flow_of(second))
    second.refresh_from_db()
    assert second.status == CorrectionStatus.WITHDRAWN


def test_a_correction_rejected_on_its_flow_records_the_reason(cast: Cast) -> None:
    correction = submit(cast)
    flow_reject(actor=cast.actor(cast.college_admin), flow=flow_of(correction), reason="号码非本人")
    correction.refresh_from_db()
    assert (correction.status, correction.decided_by, correction.decision_note) == (
        CorrectionStatus.REJECTED,
        cast.college_admin,
        "号码非本人",
    )
    assert Student.objects.get(pk=cast.student.pk).phone == ""


def test_a_correction_from_before_the_engine_is_still_decided_directly(cast: Cast) -> None:
    # A request stored before flows existed has none: it is decided in one step.
    correction = CorrectionRequest.objects.create(
        student=cast.student,
        field="phone",
        requested_value="13900000000",
        reason="号码已更换",
        submitted_by=cast.student_user,
    )
    assert correction_flow(correction) is None
    decided = correction_decide(
        actor=cast.actor(cast.counsellor), correction=correction, approve=True
    )
    assert (decided.status, decided.decided_by) == (CorrectionStatus.APPROVED, cast.counsellor)
    assert Student.objects.get(pk=cast.student.pk).phone == "13900000000"
    assert not Flow.objects.exists()


def test_a_correction_from_before_the_engine_is_withdrawn_directly(cast: Cast) -> None:
    correction = CorrectionRequest.objects.create(
        student=cast.student,
        field="phone",
        requested_value="13900000000",
        reason="号码已更换",
        submitted_by=cast.student_user,
    )
    withdrawn = correction_withdraw(actor=cast.actor(cast.student_user), correction=correction)
    assert withdrawn.status == CorrectionStatus.WITHDRAWN
    assert AuditEvent.objects.filter(action="correction.withdrawn").count() == 1


def test_the_flow_of_a_correction_is_found_by_its_kind_and_subject(cast: Cast) -> None:
    correction = submit(cast, field="name", value="曾小明")
    other = submit(cast)
    flow = flow_of(correction)
    assert (flow.kind, flow.subject_id, flow.subject_type, flow.student) == (
        CORRECTION_FLOW_KIND,
        correction.pk,
        "name",
        cast.student,
    )
    assert list(flow.steps.order_by("position").values_list("kind", flat=True)) == [
        "college",
        "registrar",
    ]
    assert flow_of(other).pk != flow.pk
    # A flow of another kind with the same subject number is not the correction's.
    Flow.objects.filter(pk=flow.pk).update(kind="change")
    assert correction_flow(correction) is None


def test_the_changes_app_registers_the_correction_handler_with_the_engine(cast: Cast) -> None:
    correction = submit(cast)
    handler = handler_for(CORRECTION_FLOW_KIND)
    assert handler.label == "信息更正"  # type: ignore[attr-defined]
    assert handler.url(flow_of(correction)) == f"/corrections/{correction.pk}/"
