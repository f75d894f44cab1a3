"""The generic approval engine's records: a flow of ordered steps, its actions and attachments.

A flow belongs to one subject (a status-change request, a data-correction request, …) named by
`kind` + `subject_id`; the subject's app registers a handler that the engine calls when the
flow finishes (see `xueji.workflow.handlers`).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class StepKind(models.TextChoices):
    """Who resolves a step, always relative to the student the flow is about."""

    COUNSELLOR = "counsellor", _("辅导员审核")
    COLLEGE = "college", _("学院审核")
    REGISTRAR = "registrar", _("学校学籍管理部门审核")
    # 41号令 第三十一条、第五十六条: 退学、取消学籍、开除学籍 are decided by the 校长办公会 (or a
    # meeting the president authorises); the registrar records the minute number and date.
    PRESIDENT_OFFICE = "president_office", _("校长办公会决定")


class FlowStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", _("审批中")
    RETURNED = "returned", _("退回补充")
    APPROVED = "approved", _("已通过")
    REJECTED = "rejected", _("已驳回")
    WITHDRAWN = "withdrawn", _("已撤回")


class StepState(models.TextChoices):
    WAITING = "waiting", _("未开始")
    ACTIVE = "active", _("待审批")
    APPROVED = "approved", _("已同意")
    REJECTED = "rejected", _("已驳回")
    RETURNED = "returned", _("已退回")
    SKIPPED = "skipped", _("免于此步")
    CANCELLED = "cancelled", _("已取消")


class FlowVerb(models.TextChoices):
    """What can happen to a flow; FlowAction.verb holds these."""

    START = "start", _("提交")
    APPROVE = "approve", _("同意")
    # The approval of the last step: the flow is approved and the subject takes effect.
    APPROVE_FINAL = "approve_final", _("同意（办结）")
    REJECT = "reject", _("驳回")
    RETURN = "return", _("退回补充")
    RESUBMIT = "resubmit", _("重新提交")
    WITHDRAW = "withdraw", _("撤回")
    COMMENT = "comment", _("留言")
    ATTACH = "attach", _("上传附件")


class Flow(models.Model):
    kind = models.CharField(_("事项类别"), max_length=30)
    subject_id = models.PositiveBigIntegerField(_("事项编号"))
    title = models.CharField(_("标题"), max_length=200)
    student = models.ForeignKey(
        "students.Student", verbose_name=_("学生"), on_delete=models.PROTECT, related_name="flows"
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        on_delete=models.PROTECT,
        related_name="flows_applied",
    )
    status = models.CharField(
        _("状态"), max_length=20, choices=FlowStatus.choices, default=FlowStatus.IN_PROGRESS
    )
    # Type code of the subject (e.g. the change type), for workbench filters.
    subject_type = models.CharField(_("类型"), max_length=40, blank=True)
    batch_approvable = models.BooleanField(_("可批量审批"), default=False)
    # Bumped on every transition: a stale form (two approvers at once) is refused, not applied.
    version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("审批流程")
        verbose_name_plural = _("审批流程")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "subject_id"], name="flow_subject_unique"),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="flow_status")]

    def __str__(self) -> str:
        return f"{self.kind}#{self.subject_id} {self.status}"


class FlowStep(models.Model):
    flow = models.ForeignKey(
        Flow, verbose_name=_("审批流程"), on_delete=models.CASCADE, related_name="steps"
    )
    position = models.PositiveSmallIntegerField(_("顺序"))
    kind = models.CharField(_("审批环节"), max_length=30, choices=StepKind.choices)
    label = models.CharField(_("名称"), max_length=100, blank=True)
    state = models.CharField(
        _("状态"), max_length=20, choices=StepState.choices, default=StepState.WAITING
    )
    # The deadline length given at start; `due_at` is set from it when the step becomes active.
    due_days = models.PositiveSmallIntegerField(_("办理期限（天）"), default=5)
    activated_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    due_at = models.DateTimeField(_("办理期限"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("催办时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Set when a deputy decided for someone during a delegation.
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("代理对象"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    comment = models.TextField(_("意见"), blank=True)
    minute_number = models.CharField(_("会议纪要编号"), max_length=60, blank=True)
    minute_date = models.DateField(_("会议日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("审批环节")
        verbose_name_plural = _("审批环节")
        ordering = ["flow", "position"]
        constraints = [
            models.UniqueConstraint(fields=["flow", "position"], name="flow_step_unique"),
        ]
        indexes = [models.Index(fields=["state", "kind"], name="flow_step_state")]

    def __str__(self) -> str:
        return f"{self.flow_id}/{self.position} {self.kind} {self.state}"

    @property
    def title(self) -> str:
        """The step's own label if it was given one, else its kind in the reader's language."""
        return self.label or str(self.get_kind_display())


class FlowAction(models.Model):
    """What happened to a flow, in order: the history shown on the request page."""

    flow = models.ForeignKey(
        Flow, verbose_name=_("审批流程"), on_delete=models.CASCADE, related_name="actions"
    )
    step = models.ForeignKey(
        FlowStep, verbose_name=_("审批环节"), null=True, blank=True, on_delete=models.SET_NULL
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    verb = models.CharField(_("操作"), max_length=20, choices=FlowVerb.choices)
    comment = models.TextField(_("意见"), blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("审批记录")
        verbose_name_plural = _("审批记录")
        ordering = ["flow", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.flow_id} {self.verb}"


def attachment_path(instance: "Attachment", filename: str) -> str:
    return f"attachments/{instance.flow_id}/{filename}"


class Attachment(models.Model):
    flow = models.ForeignKey(
        Flow, verbose_name=_("审批流程"), on_delete=models.PROTECT, related_name="attachments"
    )
    label = models.CharField(_("材料名称"), max_length=100)
    file = models.FileField(_("文件"), upload_to=attachment_path, max_length=300)
    original_name = models.CharField(_("原文件名"), max_length=200)
    size = models.PositiveIntegerField(_("大小"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["flow", "uploaded_at", "id"]

    def __str__(self) -> str:
        return f"{self.flow_id} {self.label}"


class Delegation(models.Model):
    """A person lets a deputy act on their approvals for a period (e.g. while on leave)."""

    principal = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("委托人"),
        on_delete=models.CASCADE,
        related_name="delegations_given",
    )
    deputy = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("代理人"),
        on_delete=models.CASCADE,
        related_name="delegations_received",
    )
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("设置时间"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("审批代理")
        verbose_name_plural = _("审批代理")
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="delegation_period_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(principal=models.F("deputy")), name="delegation_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.principal_id} → {self.deputy_id} {self.starts_on}–{self.ends_on}"
