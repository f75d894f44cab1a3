"""The engine over the API: same scope and rules as the pages, JSON errors, OpenAPI entries."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from xueji.accounts.models import Role, Scope
from xueji.conftest import Cast, make_user
from xueji.workflow.models import FlowStatus, StepKind, StepState
from xueji.workflow.tests.conftest import StartFlow
from xueji.workflow.tests.test_services import PDF, states

C, COL, PRES = StepKind.COUNSELLOR, StepKind.COLLEGE, StepKind.PRESIDENT_OFFICE


def api(user: Any = None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_the_workbench_endpoint_lists_my_pending_steps(cast: Cast, start: StartFlow) -> None:
    flow = start(title="API 休学")
    start([COL], title="学院的")
    body = api(cast.counsellor).get("/api/v1/workbench/").json()
    assert body["count"] == 1
    [row] = body["results"]
    assert (row["flow"], row["flow_title"], row["kind"], row["flow_version"]) == (
        flow.pk,
        "API 休学",
        "counsellor",
        0,
    )
    assert api(cast.other_student_user).get("/api/v1/workbench/").json()["count"] == 0


def test_the_workbench_endpoint_refuses_bad_filters(cast: Cast) -> None:
    response = api(cast.registrar).get("/api/v1/workbench/", {"college": "x"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_anonymous_callers_get_401_everywhere(cast: Cast, start: StartFlow) -> None:
    flow = start()
    assert api().get("/api/v1/workbench/").status_code == 401
    assert api().get(f"/api/v1/flows/{flow.pk}/").status_code == 401
    assert api().post(f"/api/v1/flows/{flow.pk}/approve/").status_code == 401


def test_flow_detail_shows_steps_actions_and_attachments(cast: Cast, start: StartFlow) -> None:
    flow = start()
    body = api(cast.student_user).get(f"/api/v1/flows/{flow.pk}/").json()
    assert body["status"] == "in_progress" and body["kind_label"] == "测试事项"
    assert [s["state"] for s in body["steps"]] == ["active", "waiting"]
    assert [a["verb"] for a in body["actions"]] == ["start"]


@pytest.mark.parametrize("who", ["other_student_user", "parent"])
def test_a_flow_outside_scope_is_404_for_every_endpoint(
    cast: Cast, start: StartFlow, who: str
) -> None:
    flow = start()
    client = api(getattr(cast, who))
    assert client.get(f"/api/v1/flows/{flow.pk}/").status_code == 404
    for verb in ("approve", "reject", "return", "resubmit", "withdraw", "comment", "attachments"):
        response = client.post(f"/api/v1/flows/{flow.pk}/{verb}/", {"reason": "x"})
        assert response.status_code == 404, verb
        assert response.json()["error"]["code"] == "not_found"
    assert states(flow) == [StepState.ACTIVE, StepState.WAITING]


def test_a_college_admin_of_another_college_gets_404(cast: Cast, start: StartFlow) -> None:
    flow = start()
    other = make_user("fl-admin", Role.COLLEGE_ADMIN, Scope.COLLEGE, college=cast.fl)
    assert api(other).post(f"/api/v1/flows/{flow.pk}/approve/").status_code == 404


def test_approve_then_a_stale_approve_is_400_with_the_message(cast: Cast, start: StartFlow) -> None:
    flow = start()
    ok = api(cast.counsellor).post(
        f"/api/v1/flows/{flow.pk}/approve/", {"comment": "同意", "expected_version": 0}
    )
    assert ok.status_code == 200
    assert (ok.json()["version"], ok.json()["steps"][1]["state"]) == (1, "active")
    stale = api(cast.college_admin).post(
        f"/api/v1/flows/{flow.pk}/approve/", {"expected_version": 0}
    )
    assert stale.status_code == 400
    assert stale.json()["error"] == {
        "code": "stale",
        "message": "该申请已被他人处理，请刷新后再试。",
    }


def test_a_wrong_role_in_scope_gets_403(cast: Cast, start: StartFlow) -> None:
    flow = start()
    response = api(cast.auditor).post(f"/api/v1/flows/{flow.pk}/approve/")
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "您不是当前环节（辅导员审核）的审批人。"


def test_reject_needs_a_reason(cast: Cast, start: StartFlow) -> None:
    flow = start()
    response = api(cast.counsellor).post(f"/api/v1/flows/{flow.pk}/reject/", {"reason": ""})
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"reason": ["请填写驳回理由。"]}
    done = api(cast.counsellor).post(f"/api/v1/flows/{flow.pk}/reject/", {"reason": "不符"})
    assert done.json()["status"] == FlowStatus.REJECTED


def test_return_resubmit_withdraw_and_comment(cast: Cast, start: StartFlow) -> None:
    flow = start()
    url = f"/api/v1/flows/{flow.pk}"
    assert api(cast.counsellor).post(f"{url}/return/", {"reason": "补充"}).json()["status"] == (
        "returned"
    )
    assert api(cast.counsellor).post(f"{url}/resubmit/").status_code == 403
    assert api(cast.student_user).post(f"{url}/resubmit/").json()["status"] == "in_progress"
    commented = api(cast.student_user).post(f"{url}/comment/", {"text": "谢谢"}).json()
    assert commented["actions"][-1]["verb"] == "comment"
    assert api(cast.student_user).post(f"{url}/withdraw/").json()["status"] == "withdrawn"
    again = api(cast.student_user).post(f"{url}/withdraw/")
    assert again.status_code == 400
    assert again.json()["error"]["message"] == "该申请当前为“已撤回”，不能再撤回。"


def test_the_president_office_step_needs_the_minute_over_the_api(
    cast: Cast, start: StartFlow
) -> None:
    flow = start([PRES], applicant=cast.college_admin)
    url = f"/api/v1/flows/{flow.pk}/approve/"
    refused = api(cast.registrar).post(url, {})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "minute_required"
    done = api(cast.registrar).post(
        url, {"minute_number": "校办〔2026〕3号", "minute_date": "2026-03-02"}
    )
    assert done.json()["steps"][0]["minute_number"] == "校办〔2026〕3号"


def test_attachments_are_uploaded_as_multipart(cast: Cast, start: StartFlow) -> None:
    flow = start()
    upload = SimpleUploadedFile("证明.pdf", PDF, content_type="application/pdf")
    response = api(cast.student_user).post(
        f"/api/v1/flows/{flow.pk}/attachments/",
        {"label": "证明", "file": upload},
        format="multipart",
    )
    assert response.status_code == 201
    assert response.json()["original_name"] == "证明.pdf"
    bad = api(cast.student_user).post(
        f"/api/v1/flows/{flow.pk}/attachments/",
        {"label": "x", "file": SimpleUploadedFile("x.txt", b"hello")},
        format="multipart",
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["fields"] == {"file": ["附件只能是 PDF、JPG 或 PNG 文件。"]}


def test_the_schema_documents_the_workflow_endpoints(cast: Cast) -> None:
    schema = api(cast.registrar).get("/api/v1/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    for verb in ("approve", "reject", "return", "resubmit", "withdraw", "comment", "attachments"):
        operation = paths[f"/api/v1/flows/{{id}}/{verb}/"]["post"]
        assert {"400", "401", "404"} <= set(operation["responses"]), verb
    assert (
        "multipart/form-data"
        in paths["/api/v1/flows/{id}/attachments/"]["post"]["requestBody"]["content"]
    )
    assert "/api/v1/workbench/" in paths
