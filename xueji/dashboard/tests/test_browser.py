"""The whole 休学 path in Chromium: the student applies, the counsellor and the college approve,
the change takes effect, finance and the dormitory receive signed webhooks at a local receiver
and acknowledge them — finance through the API, the dormitory on its page.

Screenshots of each step go to test-artifacts/change-*.png.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import urllib.request
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone

from xueji.accounts.services import api_token_issue
from xueji.changes.catalogue import change_types_install_defaults
from xueji.changes.models import ChangeRequest, ChangeStatus
from xueji.conftest import make_user
from xueji.core.context import Actor
from xueji.exchange.models import Delivery, DeliveryState, Department
from xueji.exchange.services import deliveries_sweep, departments_seed
from xueji.students.models import StudentState, StudentStatus
from xueji.students.tests.test_browser import browser, live_cast, log_in, page, shot  # noqa: F401

pytestmark = pytest.mark.browser

SECRETS = {"finance": "finance-secret-for-test", "dormitory": "dormitory-secret-for-test"}


class Receiver:
    """A department's system: verifies each signature with its own secret, stores an event
    once per event id (a repeat is recognised, not stored twice)."""

    def __init__(self) -> None:
        self.stored: dict[str, dict[str, dict[str, Any]]] = {code: {} for code in SECRETS}
        self.bad_signatures = 0
        self.lock = threading.Lock()

    def handle(self, department: str, headers: Any, body: bytes) -> int:
        timestamp = headers.get("X-Xueji-Timestamp", "")
        expected = hmac.new(
            SECRETS[department].encode(), timestamp.encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(f"sha256={expected}", headers.get("X-Xueji-Signature", "")):
            with self.lock:
                self.bad_signatures += 1
            return 401
        envelope = json.loads(body)
        with self.lock:
            self.stored[department].setdefault(envelope["event_id"], envelope)
        return 200


@pytest.fixture
def receiver():
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status = state.handle(self.path.strip("/"), self.headers, body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    yield state
    server.shutdown()


def test_a_suspension_walks_from_the_student_to_the_departments(
    page,  # noqa: F811
    live_server,
    live_cast,  # noqa: F811
    receiver,
):
    change_types_install_defaults(actor=Actor.system())
    departments_seed(actor=Actor.system())
    finance_user = make_user("finance")
    dormitory_user = make_user("dormitory")
    for code, member in (("finance", finance_user), ("dormitory", dormitory_user)):
        Department.objects.filter(code=code).update(
            webhook_url=f"{receiver.url}/{code}", secret=SECRETS[code]
        )
        Department.objects.get(code=code).members.add(member)
    student = live_cast.student
    today = timezone.localdate()
    expected_before = student.expected_graduation_date

    # 1. The student applies for 休学 with the required document.
    log_in(page, live_server, "student")
    page.goto(f"{live_server.url}/changes/new/")
    page.get_by_label("异动类型").select_option("suspension")
    page.wait_for_url(re.compile(r"type=suspension"))
    page.get_by_label("生效日期").fill(today.isoformat())
    page.get_by_label("截止日期").fill((today + timedelta(days=181)).isoformat())
    page.get_by_label("异动原因").fill("因病需要住院治疗，申请休学半年。")
    page.locator("#att-0").set_input_files(
        files=[{"name": "诊断证明.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%\n"}]
    )
    shot(page, "change-1-student-form")
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_url(re.compile(r"/changes/YD\d{10}/$"))
    request = ChangeRequest.objects.get()
    assert "审批中" in page.locator("h1").inner_text()
    shot(page, "change-2-student-submitted")
    page.context.clear_cookies()

    # 2. The counsellor finds it on the workbench and approves.
    log_in(page, live_server, "counsellor")
    assert page.get_by_test_id("pending-approvals").inner_text() == "1"
    page.goto(f"{live_server.url}/workbench/")
    row = page.locator(f"tr[data-flow='{request.flow_id}']")
    assert "单小明" in row.inner_text()
    shot(page, "change-3-counsellor-workbench")
    row.get_by_role("link", name="办理").click()
    page.wait_for_url(re.compile(rf"/changes/{request.number}/$"))
    page.get_by_label("审批意见").fill("情况属实，同意休学。")
    page.get_by_role("button", name="同意", exact=True).click()
    page.wait_for_url(re.compile(rf"/changes/{request.number}/$"))
    page.context.clear_cookies()

    # 3. The college admin approves; the school delegated 休学 to the college, so this is final
    #    and, the date being today, the change takes effect at once.
    log_in(page, live_server, "college-admin")
    page.goto(f"{live_server.url}/changes/{request.number}/")
    page.get_by_role("button", name="同意", exact=True).click()
    page.wait_for_url(re.compile(rf"/changes/{request.number}/$"))
    page.locator("[data-status='applied']").wait_for()
    effects = page.locator("#effects-table").inner_text()
    assert "休学" in effects and "预计毕业日期" in effects
    shot(page, "change-4-college-applied")
    page.context.clear_cookies()

    request.refresh_from_db()
    student.refresh_from_db()
    assert request.status == ChangeStatus.APPLIED
    assert student.status == StudentStatus.SUSPENDED
    assert student.expected_graduation_date == expected_before + timedelta(days=181)
    assert StudentState.objects.get(student=student, valid_to__isnull=True).valid_from == today

    # 4. The periodic sweep (what `run_periodic` runs beside the worker) pushes the webhooks.
    deliveries_sweep(timezone.now())
    assert receiver.bad_signatures == 0
    for code in SECRETS:
        (envelope,) = receiver.stored[code].values()
        assert envelope["payload"]["number"] == request.number
        assert envelope["student"]["student_number"] == student.student_number
    assert set(
        Delivery.objects.filter(department__code__in=SECRETS).values_list("state", flat=True)
    ) == {DeliveryState.DELIVERED}

    # 5. Finance's system acknowledges through the API with its token.
    (finance_envelope,) = receiver.stored["finance"].values()
    _, key = api_token_issue(actor=Actor.system(), user=finance_user)
    ack = urllib.request.Request(  # noqa: S310 (the local live server)
        f"{live_server.url}/api/v1/deliveries/{finance_envelope['delivery_id']}/ack/",
        data=json.dumps({"note": "已停止本学期收费"}).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(ack, timeout=10) as answer:  # noqa: S310
        assert answer.status == 200

    # 6. The dormitory acknowledges on its page.
    log_in(page, live_server, "dormitory")
    page.goto(f"{live_server.url}/exchange/inbox/")
    assert student.student_number in page.locator("table").inner_text()
    shot(page, "change-5-dormitory-inbox")
    page.get_by_role("button", name="确认收到").click()
    page.wait_for_load_state()
    page.context.clear_cookies()
    assert set(
        Delivery.objects.filter(department__code__in=SECRETS).values_list("state", flat=True)
    ) == {DeliveryState.ACKNOWLEDGED}

    # 7. The registrar sees both acknowledgements; the student's timeline shows the change.
    log_in(page, live_server, "registrar")
    page.goto(f"{live_server.url}/exchange/events/")
    shot(page, "change-6-registrar-events")
    page.goto(f"{live_server.url}/students/{student.student_number}/")
    assert request.number in page.content()
    shot(page, "change-7-student-timeline")
