"""学籍异动: the catalogue of change types (data the registrar edits), the school's rule
parameters, and the change requests themselves.

A type declares what it changes; `xueji.changes.effects` computes the new record from the type
and the request, and `xueji.changes.rules` checks the request against 教育部令第41号 with the
school's parameters.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from xueji.core.names import in_reader_language
from xueji.org.models import Cohort, College, Major, SchoolClass
from xueji.students.models import Student, StudentStatus


class Initiator(models.TextChoices):
    STUDENT = "student", _("学生本人")
    COUNSELLOR = "counsellor", _("辅导员")
    COLLEGE = "college", _("学院")
    REGISTRAR = "registrar", _("学校学籍管理部门")


class DateEffect(models.TextChoices):
    """How a type moves the expected graduation date or the maximum study date."""

    NONE = "none", _("不变")
    SHIFT_BY_PERIOD = "period", _("顺延异动期限（起止日期之间的时间）")
    SHIFT_BY_YEARS = "years", _("顺延申请的年数")
    RECOMPUTE = "recompute", _("按新年级和学制重新计算")


class ChangeType(models.Model):
    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=40)
    name_en = models.CharField(_("英文名称"), max_length=80, blank=True)
    description = models.TextField(_("说明"), blank=True)
    is_builtin = models.BooleanField(_("内置类型"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=100)
    # The 学籍异动类别码 reported to CHSI (学籍异动上报); empty = a school-defined type without
    # a national category (reported with its name only, flagged by the pre-export check).
    chsi_category = models.CharField(_("学信网异动类别码"), max_length=2, blank=True)
    # What the type changes. An empty target status leaves the status as it is.
    target_status = models.CharField(
        _("变更后在校状态"), max_length=20, choices=StudentStatus.choices, blank=True
    )
    # The statuses a student must be in to apply (empty = any status that keeps 学籍).
    from_statuses = models.JSONField(_("适用的当前状态"), default=list, blank=True)
    moves_org = models.BooleanField(_("变更学院/专业/班级"), default=False)
    moves_cohort = models.BooleanField(_("变更年级"), default=False)
    graduation_effect = models.CharField(
        _("预计毕业日期"), max_length=20, choices=DateEffect.choices, default=DateEffect.NONE
    )
    max_study_effect = models.CharField(
        _("最长学习年限截止日期"),
        max_length=20,
        choices=DateEffect.choices,
        default=DateEffect.NONE,
    )
    # The applicant fills a start (effective) date always; an end date when the type has a period.
    has_period = models.BooleanField(_("有起止期限"), default=False)
    # Extra fields the form asks for, from `xueji.changes.fields.APPLICANT_FIELDS`.
    applicant_fields = models.JSONField(_("申请填写项"), default=list, blank=True)
    required_attachments = models.JSONField(_("必交材料"), default=list, blank=True)
    initiators = models.JSONField(_("可发起人"), default=list)
    # The approval chain: `xueji.workflow.models.StepKind` values in order.
    steps = models.JSONField(_("审批环节"), default=list)
    # School→college delegation: the college's approval is final (the registrar's steps after it
    # are skipped). The 校长办公会 step is never skipped.
    college_may_finish = models.BooleanField(_("授权学院终审"), default=False)
    batch_approvable = models.BooleanField(_("允许批量审批"), default=False)
    step_days = models.PositiveSmallIntegerField(_("每步办理期限（天）"), default=5)
    # Rule codes from `xueji.changes.rules.RULES` checked for this type.
    rules = models.JSONField(_("校验规则"), default=list, blank=True)
    notify_departments = models.BooleanField(_("通知相关部门"), default=True)

    class Meta:
        verbose_name = _("异动类型")
        verbose_name_plural = _("异动类型")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        """The name in the reader's language (the English name when English is chosen)."""
        return in_reader_language(self.name, self.name_en)


class RuleParameters(models.Model):
    """The school's parameters for the regulation's checks (one row, id=1)."""

    # 第二十五条: 最长学习年限（含休学和保留学籍）由学校规定 — 学制 + N years.
    max_extra_years = models.DecimalField(
        _("最长学习年限：学制外增加年数"), max_digits=3, decimal_places=1, default=Decimal("2")
    )
    # 第二十五条: 休学次数和期限由学校规定.
    suspension_max_times = models.PositiveSmallIntegerField(_("休学次数上限"), default=2)
    suspension_max_months = models.PositiveSmallIntegerField(_("每次休学最长（月）"), default=12)
    suspension_total_months = models.PositiveSmallIntegerField(_("累计休学最长（月）"), default=24)
    # 第二十七条 (2017): 学籍保留至退役后2年; 教育部令第21号 (2005) 第二十四条: 退役后1年.
    military_keep_years = models.PositiveSmallIntegerField(_("入伍保留学籍：退役后年数"), default=2)
    military_keep_years_2005 = models.PositiveSmallIntegerField(
        _("入伍保留学籍：退役后年数（2005 年规定）"), default=1
    )
    # 第十一条: 新生入学后3个月内复查.
    recheck_months = models.PositiveSmallIntegerField(_("入学复查期限（月）"), default=3)
    # 第二十一条: 转专业条件由学校规定.
    major_change_max_times = models.PositiveSmallIntegerField(_("转专业次数上限"), default=1)
    major_change_min_terms = models.PositiveSmallIntegerField(
        _("转专业前至少完成学期数"), default=1
    )
    updated_at = models.DateTimeField(_("最后修改"), auto_now=True)

    class Meta:
        verbose_name = _("学籍规则参数")
        verbose_name_plural = _("学籍规则参数")

    def __str__(self) -> str:
        return str(_("学籍规则参数"))


class ChangeStatus(models.TextChoices):
    IN_REVIEW = "in_review", _("审批中")
    RETURNED = "returned", _("退回补充")
    REJECTED = "rejected", _("已驳回")
    WITHDRAWN = "withdrawn", _("已撤回")
    APPROVED = "approved", _("已批准，待生效")
    APPLIED = "applied", _("已生效")
    REVOKED = "revoked", _("已被撤销")


class ChangeRequest(models.Model):
    number = models.CharField(_("异动编号"), max_length=20, unique=True)
    student = models.ForeignKey(
        Student, verbose_name=_("学生"), on_delete=models.PROTECT, related_name="change_requests"
    )
    change_type = models.ForeignKey(
        ChangeType, verbose_name=_("异动类型"), on_delete=models.PROTECT, related_name="requests"
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        on_delete=models.PROTECT,
        related_name="change_requests",
    )
    initiator = models.CharField(_("发起方"), max_length=20, choices=Initiator.choices)
    reason = models.TextField(_("异动原因"))
    effective_date = models.DateField(_("生效日期"))
    end_date = models.DateField(_("截止日期"), null=True, blank=True)
    years = models.DecimalField(_("年数"), max_digits=3, decimal_places=1, null=True, blank=True)
    target_college = models.ForeignKey(
        College,
        verbose_name=_("转入学院"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    target_major = models.ForeignKey(
        Major,
        verbose_name=_("转入专业"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    target_class = models.ForeignKey(
        SchoolClass,
        verbose_name=_("转入班级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    target_cohort = models.ForeignKey(
        Cohort,
        verbose_name=_("转入年级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Other applicant fields the type asks for (退役日期, 高考成绩, 转入学校…).
    details = models.JSONField(_("其他信息"), default=dict, blank=True)
    # Rules a registrar set aside, each with a recorded reason: [{rule, reason, by, at}].
    overrides = models.JSONField(_("规则豁免"), default=list, blank=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=ChangeStatus.choices, default=ChangeStatus.IN_REVIEW
    )
    flow = models.OneToOneField(
        "workflow.Flow",
        verbose_name=_("审批流程"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="change_request",
    )
    # A later change that undoes this one (e.g. 恢复学籍 after 退学); history is never edited.
    revokes = models.ForeignKey(
        "self",
        verbose_name=_("撤销的异动"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="revoked_by",
    )
    before = models.JSONField(_("异动前"), default=dict, blank=True)
    after = models.JSONField(_("异动后"), default=dict, blank=True)
    submitted_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    approved_at = models.DateTimeField(_("批准时间"), null=True, blank=True)
    applied_at = models.DateTimeField(_("生效处理时间"), null=True, blank=True)
    # When the student was reminded that the period (休学, 保留学籍) is ending.
    ending_reminded_at = models.DateTimeField(_("期满提醒时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("学籍异动申请")
        verbose_name_plural = _("学籍异动申请")
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["status", "effective_date"], name="change_due"),
            models.Index(fields=["student", "status"], name="change_student"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.change_type_id} {self.student_id}"
