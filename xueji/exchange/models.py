"""Events to cooperating departments: an outbox of events, one delivery per subscribed
department, each delivered as a signed webhook and acknowledged by the department."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def new_secret() -> str:
    """A fresh signing secret (43 URL-safe characters, 256 bits)."""
    return secrets.token_urlsafe(32)


class Department(models.Model):
    """A department that receives events: 财务处, 宿舍管理中心, 图书馆 … (configurable)."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    webhook_url = models.URLField(
        _("接收地址"),
        max_length=400,
        blank=True,
        help_text=_("部门系统接收事件的 http(s) 地址；留空则只在页面上查看并确认。"),
    )
    # Kept in clear: every delivery is signed with it. Shown to the registrar only right after
    # it is generated (see department_secret_rotate).
    secret = models.CharField(_("签名密钥"), max_length=64, default=new_secret)
    is_active = models.BooleanField(_("启用"), default=True)
    change_types = models.JSONField(
        _("订阅的异动类型"),
        default=list,
        blank=True,
        help_text=_("异动类型代码列表；为空表示接收全部类型。"),
    )
    ack_hours = models.PositiveIntegerField(
        _("确认时限（小时）"), default=72, help_text=_("事件发生后须在此时限内确认收到。")
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("部门经办人"),
        blank=True,
        related_name="exchange_departments",
    )
    secret_rotated_at = models.DateTimeField(_("密钥生成时间"), default=timezone.now)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("最后修改"), auto_now=True)

    class Meta:
        verbose_name = _("协同部门")
        verbose_name_plural = _("协同部门")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def subscribes_to(self, change_type: str) -> bool:
        """Empty list = every type; an event without a type goes to every department."""
        return not self.change_types or not change_type or change_type in self.change_types


class OutboxEvent(models.Model):
    """Something that happened to a student, written in the same transaction as the change."""

    event_id = models.UUIDField(_("事件编号"), default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("事件类型"), max_length=60)
    student = models.ForeignKey(
        "students.Student",
        verbose_name=_("学生"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="outbox_events",
    )
    # What the receiving systems are told about the student, frozen when the event is written
    # so that every retry sends the same body.
    student_data = models.JSONField(_("学生信息"), default=dict, blank=True)
    change_type = models.CharField(_("异动类型"), max_length=40, blank=True)
    effective_date = models.DateField(_("生效日期"), null=True, blank=True)
    occurred_at = models.DateTimeField(_("发生时间"), default=timezone.now, db_index=True)
    payload = models.JSONField(_("内容"), default=dict, blank=True)

    class Meta:
        verbose_name = _("事件")
        verbose_name_plural = _("事件")
        ordering = ["-occurred_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} {self.event_id}"


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("待送达")
    DELIVERED = "delivered", _("已送达")
    FAILED = "failed", _("送达失败")
    ACKNOWLEDGED = "acknowledged", _("已确认")


class Delivery(models.Model):
    """One event for one department: pushed as a webhook (when it has a URL) and acknowledged."""

    event = models.ForeignKey(
        OutboxEvent, verbose_name=_("事件"), on_delete=models.CASCADE, related_name="deliveries"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("部门"), on_delete=models.PROTECT, related_name="deliveries"
    )
    state = models.CharField(
        _("状态"), max_length=20, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("推送次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次推送时间"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("最近响应码"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=400, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    # occurred_at + the department's ack_hours, fixed when the delivery is created.
    ack_due_at = models.DateTimeField(_("确认截止"))
    acknowledged_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    ack_note = models.CharField(_("确认备注"), max_length=400, blank=True)

    class Meta:
        verbose_name = _("事件投递")
        verbose_name_plural = _("事件投递")
        constraints = [
            models.UniqueConstraint(fields=["event", "department"], name="delivery_once_per_dept")
        ]
        indexes = [
            # The sweep: pending deliveries whose next attempt is due.
            models.Index(fields=["state", "next_attempt_at"], name="delivery_sweep_idx"),
            # Overdue list and inboxes: unacknowledged deliveries by due time.
            models.Index(fields=["acknowledged_at", "ack_due_at"], name="delivery_overdue_idx"),
            models.Index(fields=["department", "state"], name="delivery_dept_state_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.department}"

    def is_overdue(self, now: datetime | None = None) -> bool:
        return self.acknowledged_at is None and self.ack_due_at <= (now or timezone.now())


# --- Admission vs registration cross-check (录取数据与学籍数据比对) --------------------------


class AdmissionBatch(models.Model):
    """One admission data set (录取库) as it came from the admission office or CHSI."""

    name = models.CharField(_("名称"), max_length=120)
    year = models.PositiveSmallIntegerField(
        _("录取年份"), help_text=_("与此年级（入学年份）的在籍学生比对。")
    )
    source_name = models.CharField(_("来源文件"), max_length=200, blank=True)
    record_count = models.PositiveIntegerField(_("记录数"), default=0)
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("导入人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    loaded_at = models.DateTimeField(_("导入时间"), auto_now_add=True)
    checked_at = models.DateTimeField(_("最近比对时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("录取数据批次")
        verbose_name_plural = _("录取数据批次")
        ordering = ["-loaded_at", "-pk"]

    def __str__(self) -> str:
        return self.name


class AdmissionRecord(models.Model):
    """One admitted candidate as the admission list has them. Values are kept normalised
    (trimmed, half-width, ID upper-case) so that comparing is a plain equality."""

    batch = models.ForeignKey(
        AdmissionBatch, verbose_name=_("批次"), on_delete=models.CASCADE, related_name="records"
    )
    row = models.PositiveIntegerField(_("行号"), default=0)
    candidate_number = models.CharField(_("考生号"), max_length=18)
    name = models.CharField(_("姓名"), max_length=60)
    id_number = models.CharField(_("证件号码"), max_length=30, blank=True)
    gender = models.CharField(_("性别"), max_length=1, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    major_code = models.CharField(_("专业代码"), max_length=8, blank=True)
    major_name = models.CharField(_("专业名称"), max_length=100, blank=True)
    level = models.CharField(_("层次"), max_length=10, blank=True)
    duration = models.DecimalField(_("学制"), max_digits=3, decimal_places=1, null=True, blank=True)
    photo_present = models.BooleanField(_("有录取照片"), default=False)

    class Meta:
        verbose_name = _("录取记录")
        verbose_name_plural = _("录取记录")
        ordering = ["batch", "row", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "candidate_number"], name="admission_candidate_once"
            )
        ]
        indexes = [models.Index(fields=["batch", "id_number"], name="admission_id_number")]

    def __str__(self) -> str:
        return f"{self.candidate_number} {self.name}"


class DiscrepancyKind(models.TextChoices):
    FIELD = "field", _("字段不一致")
    NOT_REGISTERED = "not_registered", _("已录取未注册")
    NOT_ADMITTED = "not_admitted", _("在籍但不在录取名单")


class DiscrepancyStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    RESOLVED = "resolved", _("已更正")
    ACCEPTED = "accepted", _("确认无误")


class Discrepancy(models.Model):
    """One difference found by a cross-check, and how it was settled.

    The key (batch, kind, candidate, field) is stable across runs, so re-running a check
    updates the queue instead of duplicating it (see crosscheck.services.crosscheck_apply).
    """

    batch = models.ForeignKey(
        AdmissionBatch,
        verbose_name=_("批次"),
        on_delete=models.CASCADE,
        related_name="discrepancies",
    )
    kind = models.CharField(_("类别"), max_length=20, choices=DiscrepancyKind.choices)
    field = models.CharField(_("字段"), max_length=30, blank=True)
    # 考生号 of the admission record, or of the student when not in the list.
    candidate_number = models.CharField(_("考生号"), max_length=18)
    name = models.CharField(_("姓名"), max_length=60, blank=True)
    record = models.ForeignKey(
        AdmissionRecord,
        verbose_name=_("录取记录"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="discrepancies",
    )
    student = models.ForeignKey(
        "students.Student",
        verbose_name=_("学生"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="admission_discrepancies",
    )
    # The college whose staff may settle it: the student's, or the admitted major's.
    college = models.ForeignKey(
        "org.College",
        verbose_name=_("学院"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    admission_value = models.CharField(_("录取数据"), max_length=200, blank=True)
    record_value = models.CharField(_("学籍数据"), max_length=200, blank=True)
    status = models.CharField(
        _("状态"),
        max_length=20,
        choices=DiscrepancyStatus.choices,
        default=DiscrepancyStatus.OPEN,
    )
    found_at = models.DateTimeField(_("发现时间"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("最近比对时间"), default=timezone.now)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    resolution_note = models.CharField(_("处理说明"), max_length=400, blank=True)

    class Meta:
        verbose_name = _("比对差异")
        verbose_name_plural = _("比对差异")
        ordering = ["batch", "candidate_number", "kind", "field", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "kind", "candidate_number", "field"], name="discrepancy_once"
            )
        ]
        indexes = [
            models.Index(fields=["batch", "status"], name="discrepancy_queue"),
            models.Index(fields=["college", "status"], name="discrepancy_college"),
        ]

    def __str__(self) -> str:
        return f"{self.candidate_number} {self.kind} {self.field}"
