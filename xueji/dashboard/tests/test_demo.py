"""The demo seed gives every approver something to do, through the real services."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from xueji.accounts.models import User
from xueji.changes.models import ChangeRequest, ChangeStatus
from xueji.exchange.models import Delivery
from xueji.registration.models import TermRegistration
from xueji.workflow.selectors import pending_count


@pytest.mark.django_db
def test_the_demo_seed_leaves_work_for_each_approver_and_is_idempotent() -> None:
    call_command("seed_demo", "--students", "2000", verbosity=0)
    statuses = sorted(ChangeRequest.objects.values_list("status", flat=True))
    assert statuses.count(ChangeStatus.APPLIED) == 1
    assert statuses.count(ChangeStatus.IN_REVIEW) == 3
    assert pending_count(User.objects.get(username="college-admin")) == 2
    assert pending_count(User.objects.get(username="registrar")) == 1  # the 校长办公会 step
    finance = User.objects.get(username="finance")
    assert Delivery.objects.filter(department__members=finance).count() == 1
    rows = TermRegistration.objects.count()
    call_command("seed_demo", "--students", "2000", verbosity=0)
    assert ChangeRequest.objects.count() == 4
    assert TermRegistration.objects.count() == rows
