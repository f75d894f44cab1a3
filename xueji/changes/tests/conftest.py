"""Fixtures for the change apps' tests: the installed catalogue and request builders."""

from __future__ import annotations

from datetime import date
from itertools import count
from typing import Any

import pytest

from xueji.changes.catalogue import change_types_install_defaults
from xueji.changes.models import ChangeRequest, ChangeStatus, ChangeType, Initiator, RuleParameters
from xueji.core.context import Actor
from xueji.students.models import Student

_serial = count(1)


@pytest.fixture
def catalogue(db) -> dict[str, ChangeType]:
    """The built-in types, by code (installed as the lead's DB setup and seed_demo do)."""
    change_types_install_defaults(actor=Actor.system())
    return {t.code: t for t in ChangeType.objects.all()}


@pytest.fixture
def params(db) -> RuleParameters:
    return RuleParameters.objects.get_or_create(pk=1)[0]


def build_request(
    student: Student,
    change_type: ChangeType,
    *,
    effective_date: date,
    reason: str = "家庭经济困难需要照顾患病的父母",
    **values: Any,
) -> ChangeRequest:
    """An unsaved request, as `check_request` sees an application before it is stored."""
    return ChangeRequest(
        student=student,
        change_type=change_type,
        reason=reason,
        effective_date=effective_date,
        initiator=Initiator.STUDENT,
        **values,
    )


def applied_request(
    student: Student,
    change_type: ChangeType,
    *,
    effective_date: date,
    applicant: Any,
    **values: Any,
) -> ChangeRequest:
    """A stored request that has taken effect: the student's history for the rules."""
    request = build_request(student, change_type, effective_date=effective_date, **values)
    request.number = f"T{next(_serial):08d}"
    request.applicant = applicant
    request.status = ChangeStatus.APPLIED
    request.save()
    return request
