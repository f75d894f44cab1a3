from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from xueji.org.models import College, SchoolClass


class Role(models.TextChoices):
    REGISTRAR = "registrar", _("校级学籍管理员")
    COLLEGE_ADMIN = "college_admin", _("二级学院教务员")
    COUNSELLOR = "counsellor", _("辅导员/班主任")
    ADVISOR = "advisor", _("学业导师")
    STUDENT = "student", _("学生")
    PARENT = "parent", _("家长")
    AUDITOR = "auditor", _("审计员")


class Scope(models.TextChoices):
    SCHOOL = "school", _("全校")
    COLLEGE = "college", _("本学院")
    CLASSES = "classes", _("所带班级")
    ADVISEES = "advisees", _("所指导学生")
    SELF = "self", _("本人")
    CHILD = "child", _("已授权的子女")


# Which scopes make sense for which role: a grant outside this table is refused.
ROLE_SCOPES: dict[str, tuple[str, ...]] = {
    Role.REGISTRAR: (Scope.SCHOOL,),
    Role.COLLEGE_ADMIN: (Scope.COLLEGE,),
    Role.COUNSELLOR: (Scope.CLASSES,),
    Role.ADVISOR: (Scope.ADVISEES,),
    Role.STUDENT: (Scope.SELF,),
    Role.PARENT: (Scope.CHILD,),
    Role.AUDITOR: (Scope.SCHOOL, Scope.COLLEGE),
}

STAFF_ROLES = frozenset(
    {Role.REGISTRAR, Role.COLLEGE_ADMIN, Role.COUNSELLOR, Role.ADVISOR, Role.AUDITOR}
)


class User(AbstractUser):
    display_name = models.CharField(_("姓名"), max_length=60, blank=True)
    phone = models.CharField(_("手机"), max_length=20, blank=True)
    failed_logins = models.PositiveSmallIntegerField(_("连续登录失败次数"), default=0)
    locked_until = models.DateTimeField(_("锁定至"), null=True, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name or self.username

    @cached_property
    def active_grants(self) -> list["Grant"]:
        return list(
            self.grants.filter(is_active=True).select_related("college").prefetch_related("classes")
        )

    @cached_property
    def roles(self) -> frozenset[str]:
        return frozenset(g.role for g in self.active_grants)

    @property
    def role_label(self) -> str:
        return ",".join(sorted(self.roles))

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_staff_member(self) -> bool:
        return bool(self.roles & STAFF_ROLES)

    # Role questions the apps below accounts (org, audit) ask without importing Role.
    @property
    def is_registrar(self) -> bool:
        """Holds an active grant as the school's registrar (校级学籍管理员)."""
        return self.has_role(Role.REGISTRAR)

    @property
    def is_school_auditor(self) -> bool:
        """Holds an active school-wide auditor grant (a college-scoped auditor does not)."""
        return any(g.role == Role.AUDITOR and g.scope == Scope.SCHOOL for g in self.active_grants)

    @property
    def can_view_full_id(self) -> bool:
        return any(g.can_view_full_id for g in self.active_grants)


class Grant(models.Model):
    """A role given to a user over a scope of students.

    Visibility of students is decided from grants by one selector
    (`xueji.students.selectors.student_list_visible_to`).
    """

    user = models.ForeignKey(
        User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="grants"
    )
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    scope = models.CharField(_("范围"), max_length=20, choices=Scope.choices)
    college = models.ForeignKey(
        College, verbose_name=_("学院"), null=True, blank=True, on_delete=models.PROTECT
    )
    classes = models.ManyToManyField(SchoolClass, verbose_name=_("班级"), blank=True)
    can_view_full_id = models.BooleanField(
        _("可查看完整证件号"),
        default=False,
        help_text=_("仅显式授予后才能看到未脱敏的身份证号，且每次查看都记入审计链。"),
    )
    is_active = models.BooleanField(_("有效"), default=True)
    created_at = models.DateTimeField(_("授予时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("角色授权")
        verbose_name_plural = _("角色授权")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(scope="college") | models.Q(college__isnull=False),
                name="grant_college_scope_needs_college",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.get_scope_display()}"


class ApiToken(models.Model):
    """A revocable, expiring token for systems; only its SHA-256 is stored."""

    user = models.ForeignKey(
        User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("用途"), max_length=100, blank=True)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(_("前缀"), max_length=8)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    expires_at = models.DateTimeField(_("过期时间"))
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"
