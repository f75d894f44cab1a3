"""A small demo receiver for Xueji webhooks: verifies signatures, drops duplicates by event id
and can acknowledge through the API. For demos and browser tests, not for production.

    manage.py webhook_receiver --port 8765 --secret <部门密钥> [--secret <另一部门密钥>]
        [--ack-token <经办人的 API 令牌> [--api http://127.0.0.1:8000/api/v1]]
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from xueji.exchange.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_valid


class DemoReceiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        *,
        secrets: list[str],
        say: Callable[[str], None],
        ack_token: str = "",
        api: str = "",
    ) -> None:
        super().__init__(address, _Handler)
        self.secrets = secrets
        self.say = say
        self.ack_token = ack_token
        self.api = api.rstrip("/")
        self.seen: set[str] = set()
        self.lock = threading.Lock()

    def acknowledge(self, envelope: dict[str, Any]) -> None:
        url = (
            f"{self.api}/deliveries/{envelope['delivery_id']}/ack/"
            if self.api
            else envelope["ack_url"]
        )
        request = urllib.request.Request(  # noqa: S310 (the operator's own API address)
            url,
            data=json.dumps({"note": "webhook_receiver 自动确认"}).encode(),
            method="POST",
            headers={
                "Authorization": f"Bearer {self.ack_token}",
                "Content-Type": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                self.say(f"acknowledged {envelope['event_id']} (HTTP {response.status})")
        except (urllib.error.URLError, OSError) as exc:
            self.say(f"ack failed {envelope['event_id']}: {exc}")


class _Handler(BaseHTTPRequestHandler):
    server: DemoReceiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        timestamp = self.headers.get(TIMESTAMP_HEADER, "")
        given = self.headers.get(SIGNATURE_HEADER, "")
        if not any(signature_valid(s, timestamp, body, given) for s in self.server.secrets):
            self.server.say("bad signature")
            self._answer(401)
            return
        envelope = json.loads(body)
        key = f"{envelope.get('department', '')}:{envelope['event_id']}"
        with self.server.lock:
            duplicate = key in self.server.seen
            self.server.seen.add(key)
        if duplicate:
            self.server.say(f"duplicate {envelope['event_id']} ({envelope.get('department')})")
            self._answer(200)
            return
        student = envelope.get("student") or {}
        self.server.say(
            f"received {envelope['event_id']} {envelope['kind']} {envelope.get('change_type')}"
            f" {student.get('student_number', '')} {student.get('name', '')}"
            f" → {envelope.get('department')}"
        )
        self._answer(200)
        if self.server.ack_token:
            # After answering, so the sender has recorded the delivery before the ack arrives.
            self.server.acknowledge(envelope)

    def _answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()
        self.wfile.flush()

    def log_message(self, format: str, *args: Any) -> None:
        return


class Command(BaseCommand):
    help = "演示用的事件接收端：验证签名、按事件编号去重，可选地通过 API 确认收到。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument(
            "--secret", action="append", required=True, help="部门签名密钥（可重复，多个部门）"
        )
        parser.add_argument("--ack-token", default="", help="部门经办人的 API 令牌")
        parser.add_argument(
            "--api",
            default="",
            help="API 根地址，如 http://127.0.0.1:8000/api/v1；默认用事件中的 ack_url",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        def say(line: str) -> None:
            self.stdout.write(line)
            self.stdout.flush()

        server = DemoReceiver(
            (options["host"], options["port"]),
            secrets=options["secret"],
            say=say,
            ack_token=options["ack_token"],
            api=options["api"],
        )
        say(f"listening on http://{options['host']}:{server.server_address[1]}/")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
