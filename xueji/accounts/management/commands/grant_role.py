"""Create an account if needed and grant it a role over a scope (for the campus IT team)."""

from __future__ import annotations

import getpass

from django.core.management.base import BaseCommand, CommandError

from xueji.accounts.models import ROLE_SCOPES, Role, User
from xueji.accounts.services import grant_create
from xueji.core.context import Actor
from xueji.core.exceptions import DomainError
from xueji.org.models import College, SchoolClass


class Command(BaseCommand):
    help = (
        "Grant USERNAME a role: registrar, college_admin (--college), counsellor (--classes), "
        "advisor, student, parent, auditor. Creates the account when it does not exist."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("role", choices=Role.values)
        parser.add_argument("--scope", help="default: the role's usual scope")
        parser.add_argument("--college", help="college code, for college scope")
        parser.add_argument("--classes", default="", help="comma-separated class codes (班号)")
        parser.add_argument("--display-name", default="", help="姓名 for a new account")
        parser.add_argument(
            "--full-id", action="store_true", help="may view unmasked ID numbers (audited)"
        )
        parser.add_argument(
            "--password-stdin", action="store_true", help="read a new account's password from stdin"
        )

    def handle(self, *args, **options):
        role = options["role"]
        scope = options["scope"] or ROLE_SCOPES[role][0]
        college = None
        if options["college"]:
            college = College.objects.filter(code=options["college"]).first()
            if college is None:
                raise CommandError(f"学院代码“{options['college']}”不存在")
        codes = [c.strip() for c in options["classes"].split(",") if c.strip()]
        classes = list(SchoolClass.objects.filter(code__in=codes))
        missing = sorted(set(codes) - {c.code for c in classes})
        if missing:
            raise CommandError(f"班号不存在：{'、'.join(missing)}")
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            password = (
                input() if options["password_stdin"] else getpass.getpass("新账号密码 / password: ")
            )
            if len(password) < 10:
                raise CommandError("密码至少 10 位 / password must have at least 10 characters")
            user = User.objects.create_user(
                username=options["username"],
                password=password,
                display_name=options["display_name"],
            )
            self.stdout.write(f"已创建账号 / created account {user.username}")
        try:
            grant = grant_create(
                actor=Actor.system(),
                user=user,
                role=role,
                scope=scope,
                college=college,
                classes=classes,
                can_view_full_id=options["full_id"],
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"已授权 / granted: {grant}")
