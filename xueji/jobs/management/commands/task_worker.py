"""One worker command for either task backend (the XUEJI_TASKS_BACKEND setting picks it).

- database backend: runs `db_worker` (django-tasks-db) on this machine's database connection;
- Redis backend: runs an RQ worker (django-rq `rqworker`) on the "default" queue with the
  scheduler, so tasks deferred with `run_after` (webhook retries, changes due on a date) start
  on time. Start as many as you like, on as many machines as share DATABASE_URL, XUEJI_REDIS_URL
  and the media storage.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

# RQ must build our jobs with the django-tasks-rq job class, which calls a `django.tasks` Task.
RQ_JOB_CLASS = "django_tasks_rq.backend.Job"


class Command(BaseCommand):
    help = "运行后台任务进程（数据库或 Redis 后端，由 XUEJI_TASKS_BACKEND 决定）。"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--burst",
            action="store_true",
            help="Run what is queued now, then exit (for tests and one-off catch-ups).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        backend = settings.TASKS["default"]["BACKEND"]
        if backend == settings.TASKS_BACKENDS["db"]:
            argv = ["--no-startup-delay"] + (["--batch"] if options["burst"] else [])
            call_command("db_worker", *argv)
        elif backend == settings.TASKS_BACKENDS["redis"]:
            argv = ["--with-scheduler", "--job-class", RQ_JOB_CLASS, "default"]
            call_command("rqworker", *argv + (["--burst"] if options["burst"] else []))
        else:
            raise CommandError(
                f"不认识的任务后端 {backend}：请用 XUEJI_TASKS_BACKEND=db 或 redis。"
            )
