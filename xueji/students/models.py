from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from xueji.org.models import Cohort, College, Major, SchoolClass


class RegistryStatus(models.TextChoices):
    ENROLLED = "enrolled", _("在籍")
    NOT_ENROLLED = "not_enrolled", _("不在籍")


class StudentStatus(models.TextChoices):
    """Where the student stands; the first three keep 学籍, the rest end it."""

    IN_SCHOOL = "in_school", _("在校")
    SUSPENDED = "suspended", _("休学")
    RESERVED = "reserved", _("保留学籍")
    # 教育部令第41号 第十条: a new student holds no 学籍 while admission is deferred.
    ADMISSION_RESERVED = "admission_reserved", _("保留入学资格")
    WITHDRAWN = "withdrawn", _("退学")
    TRANSFERRED_OUT = "transferred_out", _("转学转出")
    CANCELLED = "cancelled", _("取消学籍")
    EXPELLED = "expelled", _("开除学籍")
    GRADUATED = "graduated", _("毕业")
    COMPLETED = "completed", _("结业")
    NON_COMPLETION = "non_completion", _("肄业")
    DECEASED = "deceased", _("死亡")


ENROLLED_STATUSES = frozenset(
    {StudentStatus.IN_SCHOOL, StudentStatus.SUSPENDED, StudentStatus.RESERVED}
)


def registry_for(status: str) -> str:
    return RegistryStatus.ENROLLED if status in ENROLLED_STATUSES else RegistryStatus.NOT_ENROLLED


def photo_path(instance: "Student", filename: str) -> str:
    return f"photos/{instance.student_number}.jpg"


class Student(models.Model):
    """The master record, CHSI-aligned. Never hard-deleted; status lives in dated rows."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登录账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="student",
    )
    candidate_number = models.CharField(_("考生号"), max_length=18, unique=True)
    student_number = models.CharField(_("学号"), max_length=15, unique=True)
    name = models.CharField(_("姓名"), max_length=60)
    name_pinyin = models.CharField(_("姓名拼音"), max_length=120, blank=True)
    # Lower-case pinyin without spaces or tones, for prefix search ("zhangsan", "zs").
    pinyin_key = models.CharField(max_length=120, blank=True, db_index=True)
    pinyin_initials = models.CharField(max_length=30, blank=True, db_index=True)
    gender = models.CharField(_("性别"), max_length=1)
    birth_date = models.DateField(_("出生日期"))
    id_type = models.CharField(_("证件类型"), max_length=4)
    id_number = models.CharField(_("证件号码"), max_length=30)
    political_status = models.CharField(_("政治面貌"), max_length=2)
    ethnicity = models.CharField(_("民族"), max_length=2)
    native_region = models.CharField(_("生源地"), max_length=6, blank=True)
    college = models.ForeignKey(
        College, verbose_name=_("学院"), on_delete=models.PROTECT, related_name="students"
    )
    department = models.CharField(_("系所"), max_length=60, blank=True)
    major = models.ForeignKey(
        Major, verbose_name=_("专业"), on_delete=models.PROTECT, related_name="students"
    )
    school_class = models.ForeignKey(
        SchoolClass,
        verbose_name=_("班级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="students",
    )
    cohort = models.ForeignKey(
        Cohort, verbose_name=_("年级"), on_delete=models.PROTECT, related_name="students"
    )
    level = models.CharField(_("层次"), max_length=10)
    study_form = models.CharField(_("学习形式"), max_length=10)
    duration = models.DecimalField(_("学制"), max_digits=3, decimal_places=1)
    enrollment_date = models.DateField(_("入学日期"))
    expected_graduation_date = models.DateField(_("预计毕业日期"))
    max_study_date = models.DateField(_("最长学习年限截止"), null=True, blank=True)
    registry_status = models.CharField(
        _("学籍状态"),
        max_length=20,
        choices=RegistryStatus.choices,
        default=RegistryStatus.ENROLLED,
    )
    status = models.CharField(
        _("在校状态"), max_length=20, choices=StudentStatus.choices, default=StudentStatus.IN_SCHOOL
    )
    photo = models.ImageField(_("照片"), upload_to=photo_path, blank=True)
    phone = models.CharField(_("手机"), max_length=20, blank=True)
    email = models.EmailField(_("电子邮箱"), blank=True)
    address = models.CharField(_("家庭地址"), max_length=200, blank=True)
    emergency_contact = models.CharField(_("紧急联系人"), max_length=60, blank=True)
    emergency_phone = models.CharField(_("紧急联系电话"), max_length=20, blank=True)
    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("学业导师"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="advisees",
    )
    created_at = models.DateTimeField(_("建档时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("最后修改"), auto_now=True)
    # History is read per student (by id) and by date; the live table's look-up indexes would
    # only slow every history insert (a 100k import writes 100k history rows), so not copied.
    history = HistoricalRecords(
        excluded_fields=["pinyin_key", "pinyin_initials", "updated_at"],
        no_db_index=[
            "candidate_number", "student_number", "college", "major", "school_class",
            "cohort", "advisor",
        ],
    )  # fmt: skip

    class Meta:
        verbose_name = _("学生")
        verbose_name_plural = _("学生")
        ordering = ["student_number"]
        constraints = [
            models.UniqueConstraint(fields=["id_type", "id_number"], name="student_id_unique"),
        ]
        indexes = [
            models.Index(fields=["name"], name="student_name"),
            models.Index(fields=["id_number"], name="student_id_number"),
            models.Index(fields=["college", "student_number"], name="student_college"),
            models.Index(fields=["school_class", "student_number"], name="student_class"),
            models.Index(fields=["major", "student_number"], name="student_major"),
            models.Index(fields=["cohort", "student_number"], name="student_cohort"),
            models.Index(fields=["status", "student_number"], name="student_status"),
            # Home-page counts and the list filtered by college and status.
            models.Index(
                fields=["college", "status", "student_number"], name="student_college_status"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student_number} {self.name}"


class StudentState(models.Model):
    """A dated slice of a student's status: valid from `valid_from` until the next slice."""

    student = models.ForeignKey(
        Student, verbose_name=_("学生"), on_delete=models.PROTECT, related_name="states"
    )
    registry_status = models.CharField(_("学籍状态"), max_length=20, choices=RegistryStatus.choices)
    status = models.CharField(_("在校状态"), max_length=20, choices=StudentStatus.choices)
    valid_from = models.DateField(_("起始日期"))
    valid_to = models.DateField(_("截止日期"), null=True, blank=True)
    reason = models.CharField(_("原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("学籍状态记录")
        verbose_name_plural = _("学籍状态记录")
        ordering = ["student", "valid_from", "id"]

    def __str__(self) -> str:
        return f"{self.student_id} {self.status} {self.valid_from}–{self.valid_to or ''}"


class LedgerAction(models.TextChoices):
    ADMITTED = "admitted", _("新生建档")
    STATUS_CHANGED = "status_changed", _("状态变更")
    CORRECTED = "corrected", _("信息更正")


class StatusLedgerEntry(models.Model):
    """Append-only: services insert, nothing updates or deletes."""

    student = models.ForeignKey(
        Student, verbose_name=_("学生"), on_delete=models.PROTECT, related_name="ledger"
    )
    action = models.CharField(_("事项"), max_length=30, choices=LedgerAction.choices)
    from_status = models.CharField(_("原状态"), max_length=20, blank=True)
    to_status = models.CharField(_("新状态"), max_length=20, blank=True)
    effective_date = models.DateField(_("生效日期"))
    recorded_at = models.DateTimeField(_("记录时间"), auto_now_add=True)
    note = models.CharField(_("说明"), max_length=400, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("学籍台账")
        verbose_name_plural = _("学籍台账")
        ordering = ["student", "recorded_at", "id"]

    def __str__(self) -> str:
        return f"{self.student_id} {self.action} {self.effective_date}"


class ParentLink(models.Model):
    """A parent may see a student only while the (adult) student's consent stands."""

    parent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("家长"),
        on_delete=models.CASCADE,
        related_name="children_links",
    )
    student = models.ForeignKey(
        Student, verbose_name=_("学生"), on_delete=models.CASCADE, related_name="parent_links"
    )
    relation = models.CharField(_("关系"), max_length=20, default="父母")
    consent_given_at = models.DateTimeField(_("学生同意时间"), null=True, blank=True)
    consent_revoked_at = models.DateTimeField(_("撤回同意时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("家长关联")
        verbose_name_plural = _("家长关联")
        constraints = [
            models.UniqueConstraint(fields=["parent", "student"], name="parent_link_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.parent} → {self.student}"

    @property
    def has_consent(self) -> bool:
        return self.consent_given_at is not None and self.consent_revoked_at is None


class CorrectionStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("已通过")
    REJECTED = "rejected", _("已驳回")
    WITHDRAWN = "withdrawn", _("已撤回")


class CorrectionRequest(models.Model):
    """A student's request to correct one field of their record.

    Its approval flow (学院审核, then the registrar for CHSI-locked fields) is the engine's
    Flow with kind "correction" and subject_id = this pk; see `changes/corrections.py`.
    """

    student = models.ForeignKey(
        Student, verbose_name=_("学生"), on_delete=models.PROTECT, related_name="corrections"
    )
    field = models.CharField(_("字段"), max_length=40)
    current_value = models.CharField(_("当前值"), max_length=200, blank=True)
    requested_value = models.CharField(_("申请更正为"), max_length=200)
    reason = models.TextField(_("理由"))
    status = models.CharField(
        _("状态"),
        max_length=20,
        choices=CorrectionStatus.choices,
        default=CorrectionStatus.PENDING,
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decision_note = models.CharField(_("审核意见"), max_length=400, blank=True)

    class Meta:
        verbose_name = _("信息更正申请")
        verbose_name_plural = _("信息更正申请")
        ordering = ["-submitted_at"]
        indexes = [models.Index(fields=["status", "submitted_at"], name="correction_status")]

    def __str__(self) -> str:
        return f"{self.student_id} {self.field} {self.status}"


# --- Graduation records: diploma numbers and degree awards ---------------------------------


class DiplomaOutcome(models.TextChoices):
    """毕业/结业/肄业: the same values as the StudentStatus each one follows."""

    GRADUATED = "graduated", _("毕业")
    COMPLETED = "completed", _("结业")
    NON_COMPLETION = "non_completion", _("肄业")


class Diploma(models.Model):
    """The 学历证书 a student leaves with (毕业证书, 结业证书) or the 肄业证书.

    One row per student: 教学司〔2001〕80号 三 gives a student one 电子注册号 whether 结业 or
    毕业 — a 结业 certificate exchanged for a 毕业 one keeps its number, so the row's outcome
    changes (`reissued_on` set) and its history keeps the earlier issue. 肄业证书 are not
    electronically registered and carry no number (see docs/howto/graduation-records.md).
    """

    student = models.OneToOneField(
        Student, verbose_name=_("学生"), on_delete=models.PROTECT, related_name="diploma"
    )
    outcome = models.CharField(_("毕结业结论"), max_length=20, choices=DiplomaOutcome.choices)
    # The year and date the outcome took effect (the StudentState row's valid_from).
    year = models.PositiveSmallIntegerField(_("毕结业年份"))
    outcome_date = models.DateField(_("毕（结）业日期"))
    issue_date = models.DateField(_("发证日期"))
    number = models.CharField(_("证书编号"), max_length=18, unique=True, null=True, blank=True)
    president_name = models.CharField(_("校（院）长姓名"), max_length=60, blank=True)
    reissued_on = models.DateField(_("结业换发毕业证书日期"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("编号人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("编号时间"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("毕（结）业证书")
        verbose_name_plural = _("毕（结）业证书")
        ordering = ["number", "pk"]
        indexes = [models.Index(fields=["year", "outcome"], name="diploma_year_outcome")]

    def __str__(self) -> str:
        return f"{self.student_id} {self.get_outcome_display()} {self.number or ''}"


class DegreeLevel(models.TextChoices):
    """学位级别, by the digit the 学位证书编号 uses for it (6th digit: 2 博士, 3 硕士, 4 学士)."""

    DOCTOR = "2", _("博士")
    MASTER = "3", _("硕士")
    BACHELOR = "4", _("学士")


class DegreeAward(models.Model):
    """A degree conferred by the 学位评定委员会 on a graduate (学位授予信息)."""

    student = models.ForeignKey(
        Student, verbose_name=_("学生"), on_delete=models.PROTECT, related_name="degree_awards"
    )
    level = models.CharField(_("学位级别"), max_length=1, choices=DegreeLevel.choices)
    # 学科门类 code (01 哲学 … 14 交叉学科), from the major's national code.
    discipline = models.CharField(_("学科门类"), max_length=2)
    conferral_date = models.DateField(_("获学位日期"))
    decision_number = models.CharField(_("学位评定委员会决议文号"), max_length=100)
    certificate_number = models.CharField(_("学位证书编号"), max_length=16, unique=True)
    # As in force at conferral (学位授予信息 XZXM, ZXXM).
    president_name = models.CharField(_("校（院）长姓名"), max_length=60, blank=True)
    chair_name = models.CharField(_("学位评定委员会主席姓名"), max_length=60, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("授予操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("授予记录时间"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("学位授予")
        verbose_name_plural = _("学位授予")
        ordering = ["certificate_number"]
        constraints = [
            models.UniqueConstraint(fields=["student", "level"], name="degree_award_unique"),
        ]
        indexes = [models.Index(fields=["conferral_date"], name="degree_award_date")]

    def __str__(self) -> str:
        return f"{self.student_id} {self.get_level_display()} {self.certificate_number}"
