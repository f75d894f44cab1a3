"""Run the registered periodic jobs: once (`--once`, for cron) or in a loop."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from xueji.core.periodic import jobs


class Command(BaseCommand):
    help = "运行定时任务（到期异动生效、催办提醒、部门推送重试、注册提醒）。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="每个任务运行一次后退出")
        parser.add_argument("--tick", type=int, default=30, help="循环模式下的检查间隔（秒）")

    def handle(self, *args: Any, once: bool, tick: int, **options: Any) -> None:
        last_run: dict[str, float] = {}
        while True:
            for job in jobs():
                now = time.monotonic()
                if not once and now - last_run.get(job.name, -1e9) < job.every_seconds:
                    continue
                last_run[job.name] = now
                try:
                    result = job.run(timezone.now())
                except Exception as exc:  # one failing sweep must not stop the others
                    self.stderr.write(f"{job.name}: {type(exc).__name__}: {exc}")
                    continue
                if result:
                    self.stdout.write(f"{job.name}: {result}")
            if once:
                return
            time.sleep(tick)
