"""Logins with lockout, API tokens and role grants."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from xueji.accounts.models import ROLE_SCOPES, ApiToken, Grant, Role, Scope, User
from xueji.audit.services import audit_record
from xueji.core.context import Actor
from xueji.core.exceptions import DomainError, PermissionDenied
from xueji.org.models import College, SchoolClass


class LoginRefused(DomainError):
    code = "login_refused"


def login_check(*, actor: Actor, request: HttpRequest | None, username: str, password: str) -> User:
    """Authenticate with lockout: after LOGIN_MAX_FAILURES failures the account is locked for
    LOGIN_LOCKOUT_MINUTES. A wrong username and a wrong password get the same message; only a
    locked account is told so (the owner must learn why they cannot log in), which reveals that
    a locked username exists."""
    user = User.objects.filter(username=username).first()
    now = timezone.now()
    if user is not None and user.locked_until and user.locked_until > now:
        minutes = int((user.locked_until - now).total_seconds() // 60) + 1
        raise LoginRefused(f"登录失败次数过多，账号已锁定，请 {minutes} 分钟后再试。")
    authenticated = authenticate(request, username=username, password=password)
    if authenticated is None:
        if user is not None:
            _record_failure(actor, user)
        raise LoginRefused("用户名或密码错误。")
    if authenticated.failed_logins or authenticated.locked_until:
        User.objects.filter(pk=authenticated.pk).update(failed_logins=0, locked_until=None)
    return authenticated  # type: ignore[return-value]


def _record_failure(actor: Actor, user: User) -> None:
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(failed_logins=F("failed_logins") + 1)
        user.refresh_from_db(fields=["failed_logins"])
        if user.failed_logins >= settings.LOGIN_MAX_FAILURES:
            user.locked_until = timezone.now() + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
            user.failed_logins = 0
            user.save(update_fields=["locked_until", "failed_logins"])
            audit_record(
                actor=actor,
                action="account.locked",
                target=user,
                summary=f"账号 {user.username} 因连续登录失败被锁定",
            )


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_issue(*, actor: Actor, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Create a token for `user`; the clear key is returned once and never stored."""
    key = "xj_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name[:100],
            key_hash=_digest(key),
            prefix=key[:8],
            expires_at=timezone.now() + timedelta(days=settings.API_TOKEN_DAYS),
        )
        audit_record(
            actor=actor,
            action="api_token.issue",
            target=token,
            summary=f"为 {user.username} 签发 API 令牌 {token.prefix}…",
        )
    return token, key


def api_token_authenticate(key: str) -> ApiToken | None:
    """The live token for `key`, or None when unknown, expired or revoked."""
    try:
        # get() on the unique key: no ORDER BY/LIMIT for the database to plan.
        token = ApiToken.objects.select_related("user").get(
            key_hash=_digest(key), revoked_at__isnull=True, expires_at__gt=timezone.now()
        )
    except ApiToken.DoesNotExist:
        return None
    if not token.user.is_active:
        return None
    now = timezone.now()
    # Touch at most once a minute: a write per request would halve API throughput.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def api_token_revoke(*, actor: Actor, token: ApiToken) -> ApiToken:
    user = actor.user
    if user is None or (token.user_id != user.pk and not user.has_role(Role.REGISTRAR)):
        raise PermissionDenied("只能吊销自己的令牌。")
    if token.revoked_at is not None:
        raise DomainError("该令牌已被吊销。")
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action="api_token.revoke",
            target=token,
            summary=f"吊销 API 令牌 {token.prefix}…",
        )
    return token


def grant_create(
    *,
    actor: Actor,
    user: User,
    role: str,
    scope: str,
    college: College | None = None,
    classes: list[SchoolClass] | None = None,
    can_view_full_id: bool = False,
) -> Grant:
    """Give `user` a role over a scope. Only a registrar (or the system) grants roles."""
    if actor.user is not None and not actor.user.has_role(Role.REGISTRAR):
        raise PermissionDenied("只有校级学籍管理员可以授予角色。")
    if role not in Role.values:
        raise DomainError(f"未知角色“{role}”", field="role")
    if scope not in Scope.values:
        raise DomainError(f"未知范围“{scope}”", field="scope")
    if scope not in ROLE_SCOPES[role]:
        raise DomainError(f"{Role(role).label}不能授予“{Scope(scope).label}”范围", field="scope")
    if scope == Scope.COLLEGE and college is None:
        raise DomainError("学院范围的授权须指定学院。", field="college")
    if scope == Scope.CLASSES and not classes:
        raise DomainError("班级范围的授权须指定至少一个班级。", field="classes")
    # A college or classes given with another scope would be stored but never apply.
    college = college if scope == Scope.COLLEGE else None
    classes = classes if scope == Scope.CLASSES else None
    with transaction.atomic():
        grant = Grant.objects.create(
            user=user, role=role, scope=scope, college=college, can_view_full_id=can_view_full_id
        )
        if classes:
            grant.classes.set(classes)
        audit_record(
            actor=actor,
            action="grant.create",
            target=grant,
            summary=f"授予 {user.username} {Role(role).label}（{Scope(scope).label}）",
            after={
                "role": role,
                "scope": scope,
                "college": college.pk if college else None,
                "classes": [c.pk for c in classes or []],
                "can_view_full_id": can_view_full_id,
            },
        )
    return grant
