"""Long work (imports, exports, cross-checks) as jobs: one row per run, with its progress.

The job row is what people see (a progress bar, the result, the error); the task backend
(database worker or Redis workers) only carries the job's id. A job's writes happen in one
transaction at the end, so a cancelled or killed run leaves no partial data and can be re-run.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("进行中")
    SUCCEEDED = "succeeded", _("已完成")
    FAILED = "failed", _("失败")
    CANCELLED = "cancelled", _("已取消")


FINISHED = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})


def job_file_path(instance: "Job", filename: str) -> str:
    return f"jobs/{instance.kind}/{filename}"


class Job(models.Model):
    kind = models.CharField(_("类型"), max_length=40)
    title = models.CharField(_("名称"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="jobs",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("最近进度时间"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=JobStatus.choices, default=JobStatus.QUEUED
    )
    phase = models.CharField(_("阶段"), max_length=60, blank=True)
    done = models.PositiveIntegerField(_("已处理"), default=0)
    total = models.PositiveIntegerField(_("总数"), default=0)
    cancel_requested = models.BooleanField(_("已请求取消"), default=False)
    attempts = models.PositiveSmallIntegerField(_("运行次数"), default=0)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    result = models.JSONField(_("结果"), default=dict, blank=True)
    error = models.TextField(_("错误"), blank=True)
    input_file = models.FileField(
        _("输入文件"), upload_to=job_file_path, blank=True, max_length=300
    )
    output_file = models.FileField(
        _("结果文件"), upload_to=job_file_path, blank=True, max_length=300
    )

    class Meta:
        verbose_name = _("后台任务")
        verbose_name_plural = _("后台任务")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_by", "created_at"], name="job_owner")]

    def __str__(self) -> str:
        return f"{self.kind}#{self.pk} {self.status}"

    @property
    def percent(self) -> int:
        if self.status == JobStatus.SUCCEEDED:
            return 100
        return min(100, round(self.done * 100 / self.total)) if self.total else 0

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED


class SelftestRow(models.Model):
    """Rows written by the `jobs.selftest` kind (`manage.py job_selftest`): proof that a worker
    picked the job up and committed its one transaction. Harmless; safe to delete."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="selftest_rows")
    number = models.PositiveIntegerField(_("序号"))

    class Meta:
        verbose_name = _("后台进程自检记录")
        verbose_name_plural = _("后台进程自检记录")
        constraints = [
            models.UniqueConstraint(fields=["job", "number"], name="selftest_row_once"),
        ]

    def __str__(self) -> str:
        return f"{self.job_id}/{self.number}"
