from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """One append-only, hash-chained record of a change or a sensitive read.

    `hash` = SHA-256 over `prev_hash` and this row's own fields (see `xueji.audit.chain`), so
    editing, deleting, inserting or reordering rows by direct SQL breaks the chain from that
    row on. Rows are written only by `audit.services.audit_record`.
    """

    seq = models.BigIntegerField(_("序号"), unique=True)
    occurred_at = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    actor_username = models.CharField(_("操作人账号"), max_length=150, blank=True)
    actor_role = models.CharField(_("角色"), max_length=200, blank=True)
    ip = models.CharField(_("IP 地址"), max_length=64, blank=True)
    user_agent = models.CharField(_("客户端"), max_length=400, blank=True)
    via = models.CharField(_("渠道"), max_length=20, blank=True)
    action = models.CharField(_("操作"), max_length=80, db_index=True)
    target_type = models.CharField(_("对象类型"), max_length=80, blank=True)
    target_id = models.CharField(_("对象"), max_length=80, blank=True, db_index=True)
    summary = models.CharField(_("摘要"), max_length=400, blank=True)
    # Canonical JSON text (sorted keys) so the verifier hashes exactly what was stored.
    before = models.TextField(_("变更前"), blank=True)
    after = models.TextField(_("变更后"), blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")
        ordering = ["-seq"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.target_type}:{self.target_id}"


class AuditHead(models.Model):
    """Single row holding the chain's last sequence number and hash.

    Appending locks this row (SELECT ... FOR UPDATE), which serialises writers on PostgreSQL;
    SQLite already serialises write transactions.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        verbose_name = _("审计链头")

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"
