"""Is a worker alive? Queue a `jobs.selftest` job and wait for a worker to finish it."""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from xueji.core.context import Actor
from xueji.jobs import selftest, services
from xueji.jobs.models import Job, JobStatus


class Command(BaseCommand):
    help = "排入一个自检任务，等待后台进程完成它（检查后台进程是否在运行）。"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--rows", type=int, default=10)
        parser.add_argument("--pause", type=float, default=0.1)
        parser.add_argument(
            "--wait", type=float, default=60, help="Seconds to wait for a worker (0: no wait)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        params = selftest.selftest_params(rows=options["rows"], pause=options["pause"])
        job = services.job_create(
            actor=Actor.system(), kind=selftest.KIND, title="后台进程自检", params=params
        )
        self.stdout.write(f"自检任务 #{job.pk} 已排队。")
        deadline = time.monotonic() + options["wait"]
        while time.monotonic() < deadline:
            job = Job.objects.get(pk=job.pk)
            if job.is_finished:
                break
            time.sleep(0.5)
        else:
            if options["wait"]:
                raise CommandError(
                    f"{options['wait']:.0f} 秒内没有后台进程完成自检任务 #{job.pk}"
                    f"（状态：{job.get_status_display()}）。"
                    "请检查 manage.py task_worker 是否在运行。"
                )
            return
        if job.status != JobStatus.SUCCEEDED:
            raise CommandError(f"自检任务 #{job.pk} {job.get_status_display()}：{job.error}")
        written = job.selftest_rows.count()
        self.stdout.write(
            self.style.SUCCESS(f"后台进程正常：自检任务 #{job.pk} 写入 {written} 行。")
        )
