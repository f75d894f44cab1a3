from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class CodeTable(models.TextChoices):
    """National and CHSI code tables, loaded as versioned data by `manage.py load_codes`."""

    GENDER = "gender", _("性别（GB/T 2261.1）")
    ETHNICITY = "ethnicity", _("民族（GB 3304）")
    POLITICAL_STATUS = "political_status", _("政治面貌（GB/T 4762）")
    REGION = "region", _("行政区划（GB/T 2260）")
    ID_TYPE = "id_type", _("证件类型")
    EDUCATION_LEVEL = "education_level", _("层次")
    STUDY_FORM = "study_form", _("学习形式")
    STUDY_DURATION = "study_duration", _("学制")
    DISCIPLINE = "discipline", _("学科门类")
    MAJOR_CATEGORY = "major_category_2024", _("专业类（2024）")
    MAJOR_CATALOGUE = "major_catalogue_2024", _("本科专业目录（2024）")


class CodeItem(models.Model):
    table = models.CharField(_("代码表"), max_length=40, choices=CodeTable.choices)
    code = models.CharField(_("代码"), max_length=12)
    name = models.CharField(_("名称"), max_length=100)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    parent = models.CharField(_("上级代码"), max_length=12, blank=True)
    # Years a code was in force; historical codes stay so old records still resolve.
    valid_from = models.PositiveSmallIntegerField(_("启用年份"), null=True, blank=True)
    valid_to = models.PositiveSmallIntegerField(_("停用年份"), null=True, blank=True)
    extra = models.JSONField(_("附加信息"), default=dict, blank=True)
    sort = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("代码项")
        verbose_name_plural = _("代码项")
        ordering = ["table", "sort", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["table", "code", "name", "valid_from"], name="code_item_unique"
            ),
        ]
        indexes = [models.Index(fields=["table", "code"], name="code_item_lookup")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_current(self) -> bool:
        return self.valid_to is None


class CodeTableVersion(models.Model):
    table = models.CharField(_("代码表"), max_length=40, unique=True, choices=CodeTable.choices)
    version = models.CharField(_("版本"), max_length=60)
    source = models.CharField(_("来源"), max_length=200, blank=True)
    rows = models.PositiveIntegerField(_("条目数"), default=0)
    loaded_at = models.DateTimeField(_("载入时间"), auto_now=True)

    class Meta:
        verbose_name = _("代码表版本")
        verbose_name_plural = _("代码表版本")

    def __str__(self) -> str:
        return f"{self.table} {self.version}"


class School(models.Model):
    code = models.CharField(_("学校代码"), max_length=5, help_text=_("教育部 5 位学校标识码"))
    name = models.CharField(_("学校名称"), max_length=100)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    # Used by the 18-digit diploma number rule (1 digit after the school code).
    school_type = models.CharField(_("办学类型码"), max_length=1, default="1")
    # Printed on every 毕（结）业证书 and reported to CHSI as 校（院）长姓名; each diploma keeps
    # the name in force when it was issued.
    president_name = models.CharField(_("校（院）长姓名"), max_length=60, blank=True)
    # Reported with every degree award (学位授予信息 ZXXM); each award keeps the name in force.
    degree_chair_name = models.CharField(_("学位评定委员会主席姓名"), max_length=60, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("学校")
        verbose_name_plural = _("学校")

    def __str__(self) -> str:
        return self.name


class College(models.Model):
    code = models.CharField(_("学院代码"), max_length=20, unique=True)
    name = models.CharField(_("学院名称"), max_length=100, unique=True)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("学院")
        verbose_name_plural = _("学院")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Major(models.Model):
    """A major as the school runs it, tied to a national catalogue code."""

    college = models.ForeignKey(
        College, verbose_name=_("学院"), on_delete=models.PROTECT, related_name="majors"
    )
    # 6 digits, except a few published 7-digit codes (e.g. 0502100) in the 2024 catalogue.
    national_code = models.CharField(_("国家专业代码"), max_length=8)
    code = models.CharField(_("校内专业代码"), max_length=20, unique=True)
    name = models.CharField(_("专业名称"), max_length=100)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    level = models.CharField(_("层次"), max_length=10)
    duration = models.DecimalField(_("学制"), max_digits=3, decimal_places=1)
    catalogue_year = models.PositiveSmallIntegerField(_("目录年份"), default=2024)
    valid_from = models.DateField(_("启用日期"), null=True, blank=True)
    valid_to = models.DateField(_("停用日期"), null=True, blank=True)
    # Old→new mapping when the catalogue renames or merges a major.
    replaced_by = models.ForeignKey(
        "self",
        verbose_name=_("由此专业替代"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replaces",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("专业")
        verbose_name_plural = _("专业")
        ordering = ["college__code", "code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.national_code}）"


class Cohort(models.Model):
    year = models.PositiveSmallIntegerField(_("年级"), unique=True)

    class Meta:
        verbose_name = _("年级")
        verbose_name_plural = _("年级")
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"{self.year}级"


class SchoolClass(models.Model):
    code = models.CharField(_("班号"), max_length=30, unique=True)
    name = models.CharField(_("班级名称"), max_length=100)
    college = models.ForeignKey(
        College, verbose_name=_("学院"), on_delete=models.PROTECT, related_name="classes"
    )
    major = models.ForeignKey(
        Major, verbose_name=_("专业"), on_delete=models.PROTECT, related_name="classes"
    )
    cohort = models.ForeignKey(
        Cohort, verbose_name=_("年级"), on_delete=models.PROTECT, related_name="classes"
    )
    is_active = models.BooleanField(_("启用"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("班级")
        verbose_name_plural = _("班级")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class AcademicYear(models.Model):
    start_year = models.PositiveSmallIntegerField(_("起始年份"), unique=True)
    start_date = models.DateField(_("开始日期"))
    end_date = models.DateField(_("结束日期"))

    class Meta:
        verbose_name = _("学年")
        verbose_name_plural = _("学年")
        ordering = ["-start_year"]

    def __str__(self) -> str:
        return f"{self.start_year}-{self.start_year + 1}学年"


class Term(models.Model):
    academic_year = models.ForeignKey(
        AcademicYear, verbose_name=_("学年"), on_delete=models.PROTECT, related_name="terms"
    )
    number = models.PositiveSmallIntegerField(
        _("学期"), choices=[(1, _("第一学期")), (2, _("第二学期")), (3, _("夏季学期"))]
    )
    start_date = models.DateField(_("开始日期"))
    end_date = models.DateField(_("结束日期"))
    registration_deadline = models.DateField(_("注册截止日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("学期")
        verbose_name_plural = _("学期")
        ordering = ["-start_date"]
        constraints = [
            models.UniqueConstraint(fields=["academic_year", "number"], name="term_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.academic_year} {self.get_number_display()}"


class CodeMapping(models.Model):
    """How another campus system's code maps to ours, per code table: e.g. the admissions
    system's 民族 "HA" is our "01". Imports that name a source system translate through these
    (`org.selectors.code_mapping_for`); they are loaded by the code-mapping import."""

    system = models.CharField(_("来源系统"), max_length=40)
    table = models.CharField(_("代码表"), max_length=40, choices=CodeTable.choices)
    external_code = models.CharField(_("外部代码"), max_length=40)
    external_name = models.CharField(_("外部名称"), max_length=100, blank=True)
    code = models.CharField(_("本系统代码"), max_length=12)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("代码映射")
        verbose_name_plural = _("代码映射")
        ordering = ["system", "table", "external_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "table", "external_code"], name="code_mapping_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.system} {self.table} {self.external_code}→{self.code}"
