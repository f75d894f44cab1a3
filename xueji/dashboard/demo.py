"""Demo data for the work above the student record: the change-type catalogue, the cooperating
departments (with one demo member each for 财务处 and 宿舍管理中心), this term's registration,
and a few status-change requests in different states, so every demo login has something on
its workbench. Runs after `students.demo.demo_seed`, through the real services where a person
would act; idempotent (skipped when any change request exists).
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from xueji.accounts.models import User
from xueji.changes.catalogue import change_types_install_defaults
from xueji.changes.models import ChangeRequest, ChangeType
from xueji.changes.services import change_request_submit
from xueji.core.context import Actor
from xueji.exchange.models import Department
from xueji.exchange.services import departments_seed
from xueji.org.selectors import term_current
from xueji.registration.models import (
    FinanceState,
    FinanceStatus,
    RegistrationState,
    TermRegistration,
)
from xueji.registration.services import registration_open
from xueji.students.demo.data import DEMO_PASSWORD
from xueji.students.models import Student, StudentStatus
from xueji.workflow.services import flow_approve

# Department members added to the demo logins: (username, display name, department code).
DEPARTMENT_ACCOUNTS = (
    ("finance", "财务处 示例用户", "finance"),
    ("dormitory", "宿舍管理中心 示例用户", "dormitory"),
)


def workflow_demo_seed(*, seed: int = 2026) -> list[str]:
    """Install the catalogue and departments, open this term's registration and create the
    demo requests. Returns lines describing what was done."""
    system = Actor.system(via="demo")
    lines: list[str] = []
    created = change_types_install_defaults(actor=system)
    if created:
        lines.append(f"{created} change types installed")
    departments_seed(actor=system)
    for username, name, code in DEPARTMENT_ACCOUNTS:
        user, made = User.objects.get_or_create(username=username, defaults={"display_name": name})
        if made:
            user.set_password(DEMO_PASSWORD)
            user.save()
        Department.objects.get(code=code).members.add(user)
    if ChangeRequest.objects.exists() or TermRegistration.objects.exists():
        return lines
    registrar = User.objects.get(username="registrar")
    lines += _registration(registrar, random.Random(seed))
    lines += _changes(registrar)
    return lines


def _registration(registrar: User, rng: random.Random) -> list[str]:
    term = term_current(timezone.localdate())
    if term is None:
        return []
    actor = Actor(user=registrar, via="demo")
    opened = registration_open(actor=actor, term=term)
    # Most students have registered by now; a few deferred, some not yet; 4% owe tuition.
    # Written in bulk like the rest of the demo rows (one audit event for the whole seed).
    rows = list(TermRegistration.objects.filter(term=term).select_related("student"))
    now = timezone.now()
    finance = []
    for row in rows:
        roll = rng.random()
        me = row.student.user_id is not None
        if me or roll < 0.88:
            row.state, row.decided_at, row.via = RegistrationState.REGISTERED, now, "self"
        elif roll < 0.91:
            row.state, row.reason = RegistrationState.DEFERRED, "家庭困难，正在办理助学贷款"
            row.defer_until = min(term.end_date, timezone.localdate() + timedelta(days=20))
        unpaid = not me and row.state != RegistrationState.REGISTERED and rng.random() < 0.4
        finance.append(
            FinanceStatus(
                student=row.student,
                term=term,
                state=FinanceState.UNPAID if unpaid else FinanceState.PAID,
                amount_due=5500 if unpaid else 0,
            )
        )
    with transaction.atomic():
        TermRegistration.objects.bulk_update(
            rows, ["state", "decided_at", "via", "reason", "defer_until"], batch_size=1000
        )
        FinanceStatus.objects.bulk_create(finance, batch_size=1000, ignore_conflicts=True)
    return [f"registration opened for {term}: {opened} students"]


def _changes(registrar: User) -> list[str]:
    """Requests so that each approver has work: two at the college (started by the counsellor),
    one at the counsellor (started by the demo student), one 退学 waiting for the 校长办公会,
    and one 休学 that has already taken effect (with its events for the departments)."""
    counsellor = User.objects.get(username="counsellor")
    college_admin = User.objects.get(username="college-admin")
    me = Student.objects.filter(user__username="student").select_related("school_class").first()
    if me is None or me.school_class_id is None:
        return []
    classmates = list(
        Student.objects.filter(school_class=me.school_class, status=StudentStatus.IN_SCHOOL)
        .exclude(pk=me.pk)
        .order_by("student_number")[:4]
    )
    if len(classmates) < 4:
        return []
    today = timezone.localdate()
    types = {t.code: t for t in ChangeType.objects.all()}

    def submit(user: User, student: Student, code: str, **data: str) -> ChangeRequest:
        kind = types[code]
        # Demo requests carry no files; the real form asks for the type's documents.
        kind.required_attachments = []
        return change_request_submit(
            actor=Actor(user=user, via="demo"), student=student, change_type=kind, data=data
        )

    later = today + timedelta(days=180)
    submit(
        counsellor,
        classmates[0],
        "suspension",
        effective_date=today.isoformat(),
        end_date=later.isoformat(),
        reason="因病需住院治疗，申请休学一学期。",
    )
    submit(
        counsellor,
        classmates[1],
        "military_reservation",
        effective_date=(today + timedelta(days=7)).isoformat(),
        end_date=(today + timedelta(days=365 * 2 + 180)).isoformat(),
        enlist_date=(today + timedelta(days=7)).isoformat(),
        discharge_date=(today + timedelta(days=365 * 2)).isoformat(),
        reason="应征入伍，申请保留学籍。",
    )
    withdrawal = submit(
        college_admin,
        classmates[2],
        "withdrawal",
        effective_date=today.isoformat(),
        ground="own_request",
        reason="本人申请退学，家长已签字同意。",
    )
    applied = submit(
        counsellor,
        classmates[3],
        "suspension",
        effective_date=today.isoformat(),
        end_date=later.isoformat(),
        reason="家庭原因，申请休学一学期。",
    )
    flow_approve(actor=Actor(user=college_admin, via="demo"), flow=applied.flow, comment="同意")
    # Started by the college: the registrar reviews it, then it waits for the 校长办公会.
    flow_approve(actor=Actor(user=registrar, via="demo"), flow=withdrawal.flow, comment="同意")
    return ["5 demo status-change requests (one applied, one waiting for the 校长办公会)"]
