"""Workbench, flow page and panel actions, delegations: what each role sees and may do."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from xueji.accounts.models import Role, Scope
from xueji.conftest import PASSWORD, Cast, make_student, make_user
from xueji.workflow.models import Delegation, Flow, FlowStatus, StepKind, StepState
from xueji.workflow.services import StepSpec, flow_approve
from xueji.workflow.tests.conftest import StartFlow
from xueji.workflow.tests.test_services import PDF, states

C, COL, REG, PRES = (
    StepKind.COUNSELLOR,
    StepKind.COLLEGE,
    StepKind.REGISTRAR,
    StepKind.PRESIDENT_OFFICE,
)


def login(client: Any, user: Any) -> Any:
    assert client.login(username=user.username, password=PASSWORD)
    return client


def texts(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def follow_messages(client: Any, response: Any) -> list[str]:
    page = client.get(response["Location"])
    return [str(m) for m in page.context["messages"]]


# --- workbench ------------------------------------------------------------------------------


def test_the_workbench_lists_my_pending_steps_with_counts(
    client: Any, cast: Cast, start: StartFlow
) -> None:
    mine = start(title="单小明休学")
    start([COL], title="学院环节的申请")
    page = login(client, cast.counsellor).get(reverse("workbench"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "单小明休学" in html and "学院环节的申请" not in html
    assert page.context["summary"]["total"] == 1
    assert f'data-flow="{mine.pk}"' in html
    assert reverse("flow-detail", args=[mine.pk]) in html


def test_the_workbench_filters_by_college_and_overdue(
    client: Any, cast: Cast, start: StartFlow
) -> None:
    cs = start([REG], title="计算机学院的")
    start([REG], student=cast.other_student, title="外国语学院的")
    old = start([StepSpec(REG, due_days=1)], title="超期的")
    old.steps.update(due_at=timezone.now() - timedelta(days=2))
    login(client, cast.registrar)
    every = client.get(reverse("workbench"))
    assert every.context["summary"] == {"total": 3, "overdue": 1, "by_kind": {"test": 3}}
    by_college = client.get(reverse("workbench"), {"college": cast.fl.pk})
    assert [r["flow"].title for r in by_college.context["rows"]] == ["外国语学院的"]
    overdue = client.get(reverse("workbench"), {"overdue": "on"})
    assert [r["flow"].title for r in overdue.context["rows"]] == ["超期的"]
    assert cs.pk not in [r["flow"].pk for r in overdue.context["rows"]]


def test_the_college_admin_does_not_see_steps_of_another_college(
    client: Any, cast: Cast, start: StartFlow
) -> None:
    start([COL], student=cast.other_student, title="外国语学院的")
    page = login(client, cast.college_admin).get(reverse("workbench"))
    assert page.context["summary"]["total"] == 0
    assert "外国语学院的" not in page.content.decode()


def test_workbench_pages_need_login_and_staff(client: Any, cast: Cast) -> None:
    for name in ("workbench", "workbench-history", "delegation-list"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    login(client, cast.student_user)
    assert client.get(reverse("workbench"))["Location"] == reverse("my-record")
    client.logout()
    login(client, cast.parent)
    assert client.get(reverse("workbench")).status_code == 403


def test_batch_approval_from_the_workbench(client: Any, cast: Cast, start: StartFlow) -> None:
    batch = [start([REG], batch=True, title=f"批量{n}") for n in range(2)]
    single = start([REG], title="逐件")
    login(client, cast.registrar)
    page = client.get(reverse("workbench"))
    html = page.content.decode()
    assert html.count('name="flows"') == 2 and "批量同意" in html
    response = client.post(
        reverse("workbench-batch-approve"), {"flows": [f.pk for f in [*batch, single]]}
    )
    assert response.status_code == 302
    shown = follow_messages(client, response)
    assert "已批量同意 2 件申请。" in shown
    assert "逐件：该类申请不允许批量审批，请逐件办理。" in shown
    assert {Flow.objects.get(pk=f.pk).status for f in batch} == {FlowStatus.APPROVED}
    assert Flow.objects.get(pk=single.pk).status == FlowStatus.IN_PROGRESS


def test_batch_approval_ignores_flows_outside_scope(
    client: Any, cast: Cast, start: StartFlow
) -> None:
    other = start([COL], student=cast.other_student, batch=True)
    login(client, cast.college_admin)
    client.post(reverse("workbench-batch-approve"), {"flows": [other.pk]})
    assert Flow.objects.get(pk=other.pk).status == FlowStatus.IN_PROGRESS


def test_the_history_lists_what_i_decided(client: Any, cast: Cast, start: StartFlow) -> None:
    flow = start(title="我审过的")
    flow_approve(actor=cast.actor(cast.counsellor), flow=flow, comment="同意休学")
    page = login(client, cast.counsellor).get(reverse("workbench-history"))
    assert "我审过的" in page.content.decode() and "同意休学" in page.content.decode()
    other = login(client, cast.college_admin).get(reverse("workbench-history"))
    assert "我审过的" not in other.content.decode()


# --- flow page and actions ------------------------------------------------------------------


def test_the_flow_page_shows_the_panel_with_approve_forms_to_the_approver(
    client: Any, cast: Cast, start: StartFlow
) -> None:
    flow = start()
    page = login(client, cast.counsellor).get(reverse("flow-detail", args=[flow.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="approve-form"' in html and 'name="expected_version" value="0"' in html
    assert 'id="withdraw-form"' not in html
    client.logout()
    mine = login(client, cast.student_user).get(reverse("flow-detail", args=[flow.pk]))
    html = mine.content.decode()
    assert 'id="approve-form"' not in html and 'id="withdraw-form"' in html


@pytest.mark.parametrize("who", ["other_student_user", "parent"])
def test_the_flow_page_is_404_for_people_outside_it(
    client: Any, cast: Cast, start: StartFlow, who: str
) -> None:
    flow = start()
    response = login(client, getattr(cast, who)).get(reverse("flow-detail", args=[flow.pk]))
    assert response.status_code == 404


def test_staff_of_another_college_get_404_on_page_and_actions(
    client: Any, cast: Cast, start: StartFlow
) -> None:
    flow = start()
    other = make_user("fl-admin", Role.COLLEGE_ADMIN, Scope.COLLEGE, college=cast.fl)
    login(client, other)
    assert client.get(reverse("flow-detail", args=[flow.pk])).status_code == 404
    for name in ("flow-approve", "flow-reject", "flow-return", "flow-withdraw", "flow-comment"):
        assert client.post(reverse(name, args=[flow.pk]), {"reason": "x"}).status_code == 404
    assert states(flow) == [StepState.ACTIVE, StepState.WAITING]


def test_anonymous_posts_are_sent_to_login(client: Any, cast: Cast, start: StartFlow) -> None:
    flow = start()
    response = client.post(reverse("flow-approve", args=[flow.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert states(flow) == [StepState.ACTIVE, StepState.WAITING]


def test_approving_from_the_panel_redirects_to_the_subject_with_a_message(
    client: Any, cast: Cast, start: StartFlow
) -> None:
    flow = start()
    login(client, cast.counsellor)
    response = client.post(
        reverse("flow-approve", args=[flow.pk]), {"comment": "同意", "expected_version": 0}
    )
    assert response["Location"] == reverse("flow-detail", args=[flow.pk])
    assert "已同意。" in follow_messages(client, response)
    assert states(flow) == [StepState.APPROVED, StepState.ACTIVE]


def test_a_stale_form_is_refused_with_a_message_and_nothing_changes(
    client: Any, cast: Cast, start: StartFlow
) -> None:
    flow = start([C, COL])
    flow_approve(actor=cast.actor(cast.counsellor), flow=flow)
    login(client, cast.college_admin)
    response = client.post(reverse("flow-approve", args=[flow.pk]), {"expected_version": 0})
    assert "该申请已被他人处理，请刷新后再试。" in follow_messages(client, response)
    assert states(flow) == [StepState.APPROVED, StepState.ACTIVE]


def test_a_wrong_role_in_scope_gets_403_when_acting(
    client: Any, cast: Cast, start: StartFlow
) -> None:
    flow = start()
    response = login(client, cast.auditor).post(reverse("flow-approve", args=[flow.pk]))
    assert response.status_code == 403
    assert states(flow) == [StepState.ACTIVE, StepState.WAITING]


def test_reject_without_reason_says_so_and_with_reason_rejects(
    client: Any, cast: Cast, start: StartFlow
) -> None:
    flow = start()
    login(client, cast.counsellor)
    response = client.post(reverse("flow-reject", args=[flow.pk]), {"reason": ""})
    assert "请填写驳回理由。" in follow_messages(client, response)
    client.post(reverse("flow-reject", args=[flow.pk]), {"reason": "材料不全"})
    assert Flow.objects.get(pk=flow.pk).status == FlowStatus.REJECTED


def test_return_resubmit_and_withdraw_from_the_panel(
    client: Any, cast: Cast, start: StartFlow
) -> None:
    flow = start()
    login(client, cast.counsellor)
    client.post(reverse("flow-return", args=[flow.pk]), {"reason": "请补充病历"})
    assert Flow.objects.get(pk=flow.pk).status == FlowStatus.RETURNED
    client.logout()
    login(client, cast.student_user)
    page = client.get(reverse("flow-detail", args=[flow.pk]))
    assert 'id="resubmit-form"' in page.content.decode()
    client.post(reverse("flow-resubmit", args=[flow.pk]), {"comment": "已补充"})
    assert Flow.objects.get(pk=flow.pk).status == FlowStatus.IN_PROGRESS
    client.post(reverse("flow-withdraw", args=[flow.pk]), {"reason": "不需要了"})
    assert Flow.objects.get(pk=flow.pk).status == FlowStatus.WITHDRAWN


def test_the_president_office_step_asks_for_the_minute(
    client: Any, cast: Cast, start: StartFlow
) -> None:
    flow = start([PRES], applicant=cast.college_admin)
    login(client, cast.registrar)
    html = client.get(reverse("flow-detail", args=[flow.pk])).content.decode()
    assert 'name="minute_number"' in html and 'name="minute_date"' in html
    response = client.post(reverse("flow-approve", args=[flow.pk]), {"comment": "同意"})
    assert "请填写校长办公会纪要编号和会议日期" in follow_messages(client, response)
    client.post(
        reverse("flow-approve", args=[flow.pk]),
        {"minute_number": "校办〔2026〕3号", "minute_date": "2026-03-02"},
    )
    assert Flow.objects.get(pk=flow.pk).status == FlowStatus.APPROVED


def test_comment_attach_and_download(client: Any, cast: Cast, start: StartFlow) -> None:
    flow = start()
    login(client, cast.student_user)
    client.post(reverse("flow-comment", args=[flow.pk]), {"text": "病历已上传"})
    upload = SimpleUploadedFile("诊断.pdf", PDF, content_type="application/pdf")
    client.post(reverse("flow-attach", args=[flow.pk]), {"label": "诊断证明", "file": upload})
    attachment = flow.attachments.get()
    page = client.get(reverse("flow-detail", args=[flow.pk])).content.decode()
    assert "病历已上传" in page and "诊断证明" in page
    download = client.get(reverse("attachment-download", args=[attachment.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    client.logout()
    login(client, cast.other_student_user)
    assert client.get(reverse("attachment-download", args=[attachment.pk])).status_code == 404


def test_a_bad_upload_is_refused_with_its_reason(client: Any, cast: Cast, start: StartFlow) -> None:
    flow = start()
    login(client, cast.student_user)
    upload = SimpleUploadedFile("a.exe", b"MZ\x90")
    response = client.post(reverse("flow-attach", args=[flow.pk]), {"label": "x", "file": upload})
    assert "附件只能是 PDF、JPG 或 PNG 文件。" in follow_messages(client, response)
    assert not flow.attachments.exists()


# --- delegations ----------------------------------------------------------------------------


def test_an_approver_names_a_deputy_who_then_sees_and_decides_the_step(
    client: Any, cast: Cast, start: StartFlow
) -> None:
    flow = start()
    today = timezone.localdate()
    login(client, cast.counsellor)
    response = client.post(
        reverse("delegation-list"),
        {
            "deputy": cast.advisor.username,
            "starts_on": today.isoformat(),
            "ends_on": (today + timedelta(days=7)).isoformat(),
            "note": "休假",
        },
    )
    assert response.status_code == 302
    client.logout()
    login(client, cast.advisor)
    bench = client.get(reverse("workbench"))
    assert [r["flow"].pk for r in bench.context["rows"]] == [flow.pk]
    client.post(reverse("flow-approve", args=[flow.pk]), {"expected_version": 0})
    step = flow.steps.get(position=1)
    assert (step.decided_by, step.on_behalf_of) == (cast.advisor, cast.counsellor)


def test_a_bad_delegation_shows_the_reason_on_the_form(client: Any, cast: Cast) -> None:
    today = timezone.localdate().isoformat()
    login(client, cast.counsellor)
    for deputy, message in (
        ("nobody", "没有这个用户名。"),
        ("student", "代理人须为在职教职工账号。"),
    ):
        page = client.post(
            reverse("delegation-list"), {"deputy": deputy, "starts_on": today, "ends_on": today}
        )
        assert page.status_code == 200 and message in page.content.decode()
    assert not Delegation.objects.exists()


def test_only_approvers_may_delegate_and_only_principals_revoke(client: Any, cast: Cast) -> None:
    today = timezone.localdate().isoformat()
    data = {"deputy": "registrar", "starts_on": today, "ends_on": today}
    assert login(client, cast.auditor).post(reverse("delegation-list"), data).status_code == 403
    client.logout()
    login(client, cast.counsellor).post(reverse("delegation-list"), {**data, "deputy": "advisor"})
    delegation = Delegation.objects.get()
    client.logout()
    login(client, cast.advisor)
    response = client.post(reverse("delegation-revoke", args=[delegation.pk]))
    assert response.status_code == 404
    client.logout()
    login(client, cast.counsellor).post(reverse("delegation-revoke", args=[delegation.pk]))
    assert Delegation.objects.get().revoked_at is not None


def test_a_deputys_view_follows_the_principals_scope(
    client: Any, cast: Cast, start: StartFlow
) -> None:
    outsider = make_student(
        college=cast.fl,
        major=cast.fl_major,
        school_class=cast.class_fl,
        cohort=cast.cohort,
        serial=9,
        name="赵六",
    )
    flow = start([REG], student=outsider, applicant=cast.registrar)
    today = timezone.localdate()
    Delegation.objects.create(
        principal=cast.counsellor, deputy=cast.advisor, starts_on=today, ends_on=today
    )
    login(client, cast.advisor)
    assert client.get(reverse("flow-detail", args=[flow.pk])).status_code == 404
