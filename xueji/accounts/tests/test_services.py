"""Accounts: login lockout, API tokens, and who may grant which role over which scope."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from xueji.accounts.models import ApiToken, Grant, Role, Scope, User
from xueji.accounts.services import (
    LoginRefused,
    api_token_authenticate,
    api_token_issue,
    api_token_revoke,
    grant_create,
    login_check,
)
from xueji.audit.models import AuditEvent
from xueji.conftest import PASSWORD, Cast, make_user
from xueji.core.context import Actor
from xueji.core.exceptions import DomainError, PermissionDenied
from xueji.students.selectors import student_list_visible_to

pytestmark = pytest.mark.django_db

WRONG = "not-the-password"
ACTOR = Actor(user=None, ip="10.1.2.3", user_agent="pytest", via="web")


def login(username: str, password: str) -> User:
    return login_check(actor=ACTOR, request=None, username=username, password=password)


def refused(username: str, password: str) -> str:
    with pytest.raises(LoginRefused) as caught:
        login(username, password)
    return caught.value.message


@pytest.fixture
def five_failures(settings: Any) -> None:
    settings.LOGIN_MAX_FAILURES = 5
    settings.LOGIN_LOCKOUT_MINUTES = 15


# --- login and lockout -------------------------------------------------------------------------


def test_the_right_password_logs_in(cast: Cast) -> None:
    assert login("counsellor", PASSWORD) == cast.counsellor


def test_a_wrong_password_is_refused_and_counted(cast: Cast) -> None:
    assert refused("counsellor", WRONG) == "用户名或密码错误。"
    assert User.objects.get(pk=cast.counsellor.pk).failed_logins == 1


def test_an_unknown_username_gets_the_same_message_as_a_wrong_password(cast: Cast) -> None:
    assert refused("nobody-here", WRONG) == refused("counsellor", WRONG)


def test_the_account_locks_after_the_configured_number_of_failures(
    cast: Cast, five_failures: None
) -> None:
    for _ in range(4):
        assert refused("counsellor", WRONG) == "用户名或密码错误。"
    assert User.objects.get(pk=cast.counsellor.pk).locked_until is None
    assert refused("counsellor", WRONG) == "用户名或密码错误。"
    locked = User.objects.get(pk=cast.counsellor.pk)
    assert locked.locked_until is not None
    remaining = locked.locked_until - timezone.now()
    assert timedelta(minutes=14) < remaining <= timedelta(minutes=15)
    event = AuditEvent.objects.filter(action="account.locked").get()
    assert (event.target_id, event.ip) == (str(cast.counsellor.pk), "10.1.2.3")


def test_a_locked_account_refuses_even_the_right_password(cast: Cast, five_failures: None) -> None:
    for _ in range(5):
        refused("counsellor", WRONG)
    assert refused("counsellor", PASSWORD) == "登录失败次数过多，账号已锁定，请 15 分钟后再试。"


def test_the_lockout_message_counts_down_the_minutes(cast: Cast) -> None:
    User.objects.filter(pk=cast.counsellor.pk).update(
        locked_until=timezone.now() + timedelta(minutes=3, seconds=30)
    )
    assert refused("counsellor", PASSWORD) == "登录失败次数过多，账号已锁定，请 4 分钟后再试。"


def test_the_account_unlocks_when_the_lockout_period_is_over(
    cast: Cast, five_failures: None
) -> None:
    for _ in range(5):
        refused("counsellor", WRONG)
    User.objects.filter(pk=cast.counsellor.pk).update(
        locked_until=timezone.now() - timedelta(seconds=1)
    )
    assert login("counsellor", PASSWORD) == cast.counsellor
    unlocked = User.objects.get(pk=cast.counsellor.pk)
    assert (unlocked.failed_logins, unlocked.locked_until) == (0, None)


def test_after_unlocking_a_full_set_of_failures_is_needed_to_lock_again(
    cast: Cast, five_failures: None
) -> None:
    for _ in range(5):
        refused("counsellor", WRONG)
    User.objects.filter(pk=cast.counsellor.pk).update(
        locked_until=timezone.now() - timedelta(seconds=1)
    )
    for _ in range(4):
        assert refused("counsellor", WRONG) == "用户名或密码错误。"
    assert login("counsellor", PASSWORD) == cast.counsellor


def test_a_successful_login_resets_the_failure_count(cast: Cast, five_failures: None) -> None:
    for _ in range(4):
        refused("counsellor", WRONG)
    login("counsellor", PASSWORD)
    assert User.objects.get(pk=cast.counsellor.pk).failed_logins == 0
    for _ in range(4):
        refused("counsellor", WRONG)
    assert User.objects.get(pk=cast.counsellor.pk).locked_until is None


def test_the_failure_limit_follows_the_setting(cast: Cast, settings: Any) -> None:
    settings.LOGIN_MAX_FAILURES = 2
    refused("counsellor", WRONG)
    refused("counsellor", WRONG)
    assert "账号已锁定" in refused("counsellor", PASSWORD)


def test_failures_on_one_account_do_not_lock_another(cast: Cast, five_failures: None) -> None:
    for _ in range(5):
        refused("counsellor", WRONG)
    assert login("advisor", PASSWORD) == cast.advisor


def test_a_deactivated_account_cannot_log_in(cast: Cast) -> None:
    User.objects.filter(pk=cast.counsellor.pk).update(is_active=False)
    assert refused("counsellor", PASSWORD) == "用户名或密码错误。"


# --- API tokens --------------------------------------------------------------------------------


def test_an_issued_token_authenticates_and_only_its_hash_is_stored(cast: Cast) -> None:
    token, key = api_token_issue(actor=cast.actor(cast.registrar), user=cast.registrar, name="教务")
    assert key.startswith("xj_") and token.prefix == key[:8]
    stored = ApiToken.objects.get(pk=token.pk)
    assert key not in (stored.key_hash, stored.prefix, stored.name)
    assert api_token_authenticate(key) == token
    assert AuditEvent.objects.filter(action="api_token.issue", target_id=str(token.pk)).exists()


def test_a_token_expires_after_the_configured_days(cast: Cast, settings: Any) -> None:
    settings.API_TOKEN_DAYS = 7
    token, key = api_token_issue(actor=cast.actor(cast.registrar), user=cast.registrar)
    assert timedelta(days=6, hours=23) < token.expires_at - timezone.now() <= timedelta(days=7)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api_token_authenticate(key) is None


def test_a_revoked_token_no_longer_authenticates(cast: Cast) -> None:
    token, key = api_token_issue(actor=cast.actor(cast.counsellor), user=cast.counsellor)
    api_token_revoke(actor=cast.actor(cast.counsellor), token=token)
    assert api_token_authenticate(key) is None
    assert AuditEvent.objects.filter(action="api_token.revoke", target_id=str(token.pk)).exists()


def test_revoking_a_token_twice_says_it_is_already_revoked(cast: Cast) -> None:
    token, _ = api_token_issue(actor=cast.actor(cast.counsellor), user=cast.counsellor)
    api_token_revoke(actor=cast.actor(cast.counsellor), token=token)
    with pytest.raises(DomainError, match="该令牌已被吊销"):
        api_token_revoke(actor=cast.actor(cast.counsellor), token=token)


def test_nobody_else_revokes_a_token_except_the_registrar(cast: Cast) -> None:
    token, key = api_token_issue(actor=cast.actor(cast.counsellor), user=cast.counsellor)
    for who in (cast.college_admin, cast.student_user, None):
        with pytest.raises(PermissionDenied, match="只能吊销自己的令牌"):
            api_token_revoke(actor=cast.actor(who), token=token)
    assert api_token_authenticate(key) == token
    api_token_revoke(actor=cast.actor(cast.registrar), token=token)
    assert api_token_authenticate(key) is None


def test_a_token_of_a_deactivated_user_does_not_authenticate(cast: Cast) -> None:
    _, key = api_token_issue(actor=cast.actor(cast.counsellor), user=cast.counsellor)
    User.objects.filter(pk=cast.counsellor.pk).update(is_active=False)
    assert api_token_authenticate(key) is None


@pytest.mark.parametrize("key", ["", "xj_made-up", "Bearer"])
def test_a_made_up_key_does_not_authenticate(cast: Cast, key: str) -> None:
    api_token_issue(actor=cast.actor(cast.counsellor), user=cast.counsellor)
    assert api_token_authenticate(key) is None


def test_using_a_token_records_when_it_was_last_used(cast: Cast) -> None:
    token, key = api_token_issue(actor=cast.actor(cast.counsellor), user=cast.counsellor)
    assert token.last_used_at is None
    api_token_authenticate(key)
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None


# --- grants ------------------------------------------------------------------------------------


def test_registrar_grants_a_counsellor_their_classes_and_the_grant_is_audited(cast: Cast) -> None:
    teacher = make_user("teacher")
    grant = grant_create(
        actor=cast.actor(cast.registrar),
        user=teacher,
        role=Role.COUNSELLOR,
        scope=Scope.CLASSES,
        classes=[cast.class_b],
    )
    assert list(grant.classes.all()) == [cast.class_b]
    assert list(student_list_visible_to(User.objects.get(pk=teacher.pk))) == [cast.classmate_b]
    event = AuditEvent.objects.get(action="grant.create", target_id=str(grant.pk))
    assert event.actor_username == "registrar"
    assert f'"classes":[{cast.class_b.pk}]' in event.after


def test_the_system_may_grant_roles(cast: Cast) -> None:
    grant = grant_create(
        actor=Actor.system(), user=make_user("ops"), role=Role.AUDITOR, scope=Scope.SCHOOL
    )
    assert grant.is_active


@pytest.mark.parametrize("who", ["college_admin", "counsellor", "auditor", "student_user"])
def test_only_a_registrar_grants_roles(cast: Cast, who: str) -> None:
    target = make_user("teacher")
    with pytest.raises(PermissionDenied, match="只有校级学籍管理员可以授予角色"):
        grant_create(
            actor=cast.actor(getattr(cast, who)),
            user=target,
            role=Role.REGISTRAR,
            scope=Scope.SCHOOL,
        )
    assert not Grant.objects.filter(user=target).exists()


@pytest.mark.parametrize(
    "role, scope, message",
    [
        (Role.COUNSELLOR, Scope.SCHOOL, "辅导员/班主任不能授予“全校”范围"),
        (Role.STUDENT, Scope.COLLEGE, "学生不能授予“本学院”范围"),
        (Role.PARENT, Scope.SCHOOL, "家长不能授予“全校”范围"),
        (Role.REGISTRAR, Scope.SELF, "校级学籍管理员不能授予“本人”范围"),
        (Role.ADVISOR, Scope.CLASSES, "学业导师不能授予“所带班级”范围"),
        ("dean", Scope.SCHOOL, "未知角色“dean”"),
        (Role.AUDITOR, "galaxy", "未知范围“galaxy”"),
    ],
)
def test_a_role_outside_its_scopes_is_refused(
    cast: Cast, role: str, scope: str, message: str
) -> None:
    before = (Grant.objects.count(), AuditEvent.objects.count())
    with pytest.raises(DomainError) as caught:
        grant_create(
            actor=cast.actor(cast.registrar),
            user=make_user("teacher"),
            role=role,
            scope=scope,
            college=cast.cs,
            classes=[cast.class_a],
        )
    assert caught.value.message == message
    assert (Grant.objects.count(), AuditEvent.objects.count()) == before


def test_a_college_grant_needs_a_college(cast: Cast) -> None:
    with pytest.raises(DomainError, match="学院范围的授权须指定学院"):
        grant_create(
            actor=cast.actor(cast.registrar),
            user=make_user("dean"),
            role=Role.COLLEGE_ADMIN,
            scope=Scope.COLLEGE,
        )


def test_a_classes_grant_needs_at_least_one_class(cast: Cast) -> None:
    with pytest.raises(DomainError, match="班级范围的授权须指定至少一个班级"):
        grant_create(
            actor=cast.actor(cast.registrar),
            user=make_user("teacher"),
            role=Role.COUNSELLOR,
            scope=Scope.CLASSES,
            classes=[],
        )


def test_a_college_given_with_a_school_scope_is_not_stored(cast: Cast) -> None:
    grant = grant_create(
        actor=cast.actor(cast.registrar),
        user=make_user("ops"),
        role=Role.AUDITOR,
        scope=Scope.SCHOOL,
        college=cast.cs,
        classes=[cast.class_a],
    )
    assert grant.college is None
    assert not grant.classes.exists()
