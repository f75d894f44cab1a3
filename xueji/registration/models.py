"""Term registration (学期注册) and the per-term finance status that gates it.

教育部令第41号 第十二条: every term students register on time; those who cannot apply for
暂缓注册; unpaid tuition or unmet conditions mean no registration, except that students in
financial hardship may register after arranging aid (绿色通道, 助学贷款).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from xueji.org.models import Term
from xueji.students.models import Student


class FinanceState(models.TextChoices):
    PAID = "paid", _("已缴清")
    UNPAID = "unpaid", _("未缴清")
    AID = "aid", _("已办理缓缴或资助")


class FinanceStatus(models.Model):
    """Whether a student's tuition for a term is settled (from the finance office).

    No row means finance has not reported on the student: that does not block registration.
    """

    student = models.ForeignKey(
        Student, verbose_name=_("学生"), on_delete=models.PROTECT, related_name="finance_statuses"
    )
    term = models.ForeignKey(
        Term, verbose_name=_("学期"), on_delete=models.PROTECT, related_name="finance_statuses"
    )
    state = models.CharField(_("缴费状态"), max_length=10, choices=FinanceState.choices)
    amount_due = models.DecimalField(
        _("欠缴金额（元）"), max_digits=10, decimal_places=2, default=Decimal("0.00")
    )
    note = models.CharField(_("备注"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("更新人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("学费缴纳状态")
        verbose_name_plural = _("学费缴纳状态")
        constraints = [
            models.UniqueConstraint(fields=["student", "term"], name="finance_status_unique"),
        ]
        indexes = [models.Index(fields=["term", "state"], name="finance_term_state")]

    def __str__(self) -> str:
        return f"{self.student_id} {self.term_id} {self.state}"


class RegistrationState(models.TextChoices):
    REGISTERED = "registered", _("已注册")
    DEFERRED = "deferred", _("暂缓注册")
    UNREGISTERED = "unregistered", _("未注册")


class RegistrationVia(models.TextChoices):
    SELF = "self", _("本人自助注册")
    STAFF = "staff", _("教职工办理")


class TermRegistration(models.Model):
    """One student's registration for one term; rows are created when the registrar opens
    registration, as 未注册, and move by `registration_self` / `registration_set`."""

    student = models.ForeignKey(
        Student, verbose_name=_("学生"), on_delete=models.PROTECT, related_name="registrations"
    )
    term = models.ForeignKey(
        Term, verbose_name=_("学期"), on_delete=models.PROTECT, related_name="registrations"
    )
    state = models.CharField(
        _("注册状态"),
        max_length=15,
        choices=RegistrationState.choices,
        default=RegistrationState.UNREGISTERED,
    )
    reason = models.CharField(_("原因"), max_length=400, blank=True)
    defer_until = models.DateField(_("暂缓注册截止日期"), null=True, blank=True)
    via = models.CharField(
        _("办理方式"), max_length=10, choices=RegistrationVia.choices, blank=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("办理人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("办理时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("开放时间"), auto_now_add=True)
    # The day the last reminder went out: reminders go at most once a day per student.
    reminded_on = models.DateField(_("最近提醒日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("学期注册")
        verbose_name_plural = _("学期注册")
        constraints = [
            models.UniqueConstraint(fields=["student", "term"], name="registration_unique"),
        ]
        indexes = [
            # Per-class progress and the filtered list both start from (term, state).
            models.Index(fields=["term", "state"], name="registration_term_state"),
            models.Index(fields=["term", "student"], name="registration_term_student"),
        ]

    def __str__(self) -> str:
        return f"{self.student_id} {self.term_id} {self.state}"
