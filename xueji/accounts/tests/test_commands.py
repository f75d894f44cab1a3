from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from xueji.accounts.models import User
from xueji.audit.models import AuditEvent
from xueji.students.selectors import student_list_visible_to


def test_grant_role_creates_a_counsellor_who_sees_only_the_granted_class(cast, monkeypatch):
    monkeypatch.setattr("sys.stdin", StringIO("a-long-password-1\n"))
    call_command(
        "grant_role",
        "new-counsellor",
        "counsellor",
        "--classes",
        "JK2402",
        "--password-stdin",
        stdout=StringIO(),
    )
    user = User.objects.get(username="new-counsellor")
    assert list(student_list_visible_to(user)) == [cast.classmate_b]
    assert AuditEvent.objects.filter(action="grant.create", target_id__isnull=False).exists()


def test_grant_role_refuses_an_unknown_class_code_and_creates_nothing(cast):
    with pytest.raises(CommandError, match="班号不存在：NOPE"):
        call_command("grant_role", "someone", "counsellor", "--classes", "NOPE")
    assert not User.objects.filter(username="someone").exists()


def test_grant_role_refuses_a_college_scope_without_a_college(cast):
    with pytest.raises(CommandError, match="学院范围的授权须指定学院"):
        call_command("grant_role", "counsellor", "college_admin")
