"""证明文书: the document types (data the registrar edits) and the documents issued.

A type carries who may request it, the eligibility rules it checks (codes of
`xueji.certificates.rules.RULES`), whether it is issued at once, the free quota per term, and its
HTML/CSS template (Django template syntax, rendered to PDF by `xueji.certificates.pdf`).

Every issued document has a serial (year + type code + 6-digit sequence, from `SerialCounter`
under a row lock) and a random verification code for the public page `/verify/<code>/`; the
PDF's SHA-256 is stored here and in the audit chain.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from xueji.core.names import in_reader_language
from xueji.jobs.models import Job
from xueji.org.models import Cohort, College, Major, SchoolClass, Term
from xueji.students.models import Student


class DocumentType(models.Model):
    code = models.SlugField(_("代码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=40)
    name_en = models.CharField(_("英文名称"), max_length=80, blank=True)
    description = models.TextField(_("说明"), blank=True)
    # Who may request: a student in 学籍 for themself, a graduate for themself, staff (the
    # registrar, or a college admin for their college) on a student's behalf.
    for_students = models.BooleanField(_("在校生可申请"), default=True)
    for_graduates = models.BooleanField(_("毕业生可申请"), default=False)
    for_staff = models.BooleanField(_("教职工可代为开具"), default=True)
    # Rule codes from `xueji.certificates.rules.RULES`, checked before issuing.
    rules = models.JSONField(_("开具条件"), default=list, blank=True)
    auto_issue = models.BooleanField(_("自动开具（无需审核）"), default=True)
    free_per_term = models.PositiveSmallIntegerField(_("每学期免费份数"), default=5)
    template_html = models.TextField(_("模板（HTML/CSS）"))
    # The English version (language "en"); empty when the type has none.
    template_html_en = models.TextField(_("英文模板（HTML/CSS）"), blank=True)
    is_builtin = models.BooleanField(_("内置类型"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=100)

    class Meta:
        verbose_name = _("证明类型")
        verbose_name_plural = _("证明类型")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return in_reader_language(self.name, self.name_en)

    @property
    def languages(self) -> tuple[str, ...]:
        """Chinese, and English when the type has an English template."""
        return ("zh", "en") if self.template_html_en.strip() else ("zh",)


class SerialCounter(models.Model):
    """The last sequence number used per type and year; locked while a serial is taken."""

    document_type = models.ForeignKey(DocumentType, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["document_type", "year"], name="serial_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.document_type_id} {self.year} {self.last}"


class DocumentStatus(models.TextChoices):
    VALID = "valid", _("有效")
    REVOKED = "revoked", _("已撤销")
    SUPERSEDED = "superseded", _("已被新版本取代")


def document_path(instance: "IssuedDocument", filename: str) -> str:
    return f"certificates/{instance.issued_at:%Y}/{filename}"


class IssuedDocument(models.Model):
    document_type = models.ForeignKey(
        DocumentType, verbose_name=_("证明类型"), on_delete=models.PROTECT, related_name="issued"
    )
    student = models.ForeignKey(
        Student, verbose_name=_("学生"), on_delete=models.PROTECT, related_name="documents"
    )
    # The term the document counts against for the free quota (None outside any term).
    term = models.ForeignKey(
        Term, verbose_name=_("学期"), null=True, blank=True, on_delete=models.PROTECT
    )
    serial = models.CharField(_("证明编号"), max_length=40, unique=True)
    verification_code = models.CharField(_("核验码"), max_length=32, unique=True)
    language = models.CharField(_("语言"), max_length=10, default="zh")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    issued_at = models.DateTimeField(_("开具时间"))
    pdf = models.FileField(_("PDF 文件"), upload_to=document_path, max_length=200)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    status = models.CharField(
        _("状态"), max_length=12, choices=DocumentStatus.choices, default=DocumentStatus.VALID
    )
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("撤销人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revoke_reason = models.CharField(_("撤销原因"), max_length=400, blank=True)
    # Re-issue: the new document names the one it replaces, which becomes SUPERSEDED.
    supersedes = models.OneToOneField(
        "self",
        verbose_name=_("取代的证明"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
    )
    # Issued by staff for a class or cohort (not counted against the student's free quota).
    batch = models.ForeignKey(
        "DocumentBatch",
        verbose_name=_("批量开具"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="documents",
    )

    class Meta:
        verbose_name = _("已开具证明")
        verbose_name_plural = _("已开具证明")
        ordering = ["-issued_at", "-id"]
        indexes = [models.Index(fields=["student", "document_type", "term"])]

    def __str__(self) -> str:
        return self.serial


class BatchOutput(models.TextChoices):
    PDF = "pdf", _("合并为一个 PDF（便于打印）")
    ZIP = "zip", _("每人一个 PDF，打包为 ZIP")


class DocumentBatch(models.Model):
    """Staff issue one type for a whole class, or a cohort (optionally one college / major),
    as a background job; the job's output is the merged PDF or the zip."""

    document_type = models.ForeignKey(
        DocumentType, verbose_name=_("证明类型"), on_delete=models.PROTECT, related_name="+"
    )
    language = models.CharField(_("语言"), max_length=10, default="zh")
    school_class = models.ForeignKey(
        SchoolClass, verbose_name=_("班级"), null=True, blank=True, on_delete=models.PROTECT
    )
    cohort = models.ForeignKey(
        Cohort, verbose_name=_("年级"), null=True, blank=True, on_delete=models.PROTECT
    )
    college = models.ForeignKey(
        College, verbose_name=_("学院"), null=True, blank=True, on_delete=models.PROTECT
    )
    major = models.ForeignKey(
        Major, verbose_name=_("专业"), null=True, blank=True, on_delete=models.PROTECT
    )
    output = models.CharField(
        _("输出"), max_length=4, choices=BatchOutput.choices, default=BatchOutput.ZIP
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    job = models.OneToOneField(
        Job, verbose_name=_("后台任务"), null=True, blank=True, on_delete=models.SET_NULL
    )
    issued = models.PositiveIntegerField(_("已开具"), default=0)
    skipped = models.PositiveIntegerField(_("未开具"), default=0)

    class Meta:
        verbose_name = _("批量开具")
        verbose_name_plural = _("批量开具")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.document_type_id} batch {self.pk}"


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("审核中")
    ISSUED = "issued", _("已开具")
    REJECTED = "rejected", _("未通过")
    WITHDRAWN = "withdrawn", _("已撤回")


class DocumentRequest(models.Model):
    """A request for a type that needs staff approval; it goes through the approval engine
    (`xueji.workflow`) and the document is issued when the last step approves."""

    document_type = models.ForeignKey(
        DocumentType, verbose_name=_("证明类型"), on_delete=models.PROTECT, related_name="+"
    )
    student = models.ForeignKey(
        Student, verbose_name=_("学生"), on_delete=models.PROTECT, related_name="document_requests"
    )
    language = models.CharField(_("语言"), max_length=10, default="zh")
    purpose = models.CharField(_("用途"), max_length=200)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    document = models.OneToOneField(
        IssuedDocument,
        verbose_name=_("开具的证明"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="request",
    )

    class Meta:
        verbose_name = _("证明申请")
        verbose_name_plural = _("证明申请")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.document_type_id} request {self.pk} {self.status}"
