"""The catalogue's services: installing the built-ins, saving a type against the regulation,
and the rule parameters."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from xueji.audit.models import AuditEvent
from xueji.changes.catalogue import (
    DEFAULT_TYPES,
    change_type_save,
    change_types_install_defaults,
    rule_parameters_save,
    validate_declarations,
)
from xueji.changes.models import ChangeType, RuleParameters
from xueji.core.context import Actor
from xueji.core.exceptions import PermissionDenied, ValidationFailed

pytestmark = pytest.mark.django_db


def new_type(**overrides):
    data = {
        "code": "exchange_abroad",
        "name": "出国（境）交流",
        "target_status": "reserved",
        "from_statuses": ["in_school"],
        "has_period": True,
        "applicant_fields": ["destination_school"],
        "required_attachments": ["交流项目录取通知"],
        "initiators": ["student", "registrar"],
        "steps": ["counsellor", "college", "registrar"],
        "college_may_finish": True,
        "rules": ["max_study_period"],
    }
    data.update(overrides)
    return data


# --- installer ------------------------------------------------------------------------------


@pytest.fixture
def empty_catalogue(db):
    """The test database is set up with the catalogue installed; start these from none."""
    ChangeType.objects.all().delete()
    RuleParameters.objects.all().delete()


def test_installing_creates_every_built_in_type_and_the_parameters_row(empty_catalogue):
    events = AuditEvent.objects.filter(action="change_type.install").count()

    created = change_types_install_defaults(actor=Actor.system())

    assert created == len(DEFAULT_TYPES) == 18
    assert set(ChangeType.objects.values_list("code", flat=True)) == {
        spec["code"] for spec in DEFAULT_TYPES
    }
    assert ChangeType.objects.filter(is_builtin=True).count() == 18
    assert RuleParameters.objects.filter(pk=1).exists()
    assert AuditEvent.objects.filter(action="change_type.install").count() == events + 18


def test_installing_twice_changes_nothing(empty_catalogue):
    change_types_install_defaults(actor=Actor.system())
    events = AuditEvent.objects.count()

    assert change_types_install_defaults(actor=Actor.system()) == 0
    assert ChangeType.objects.count() == 18
    assert AuditEvent.objects.count() == events


def test_installing_never_overwrites_a_registrars_edit(cast, catalogue):
    change_type_save(
        actor=cast.actor(cast.registrar),
        instance=catalogue["suspension"],
        data={"name": "休学（本校）", "college_may_finish": False},
    )
    ChangeType.objects.filter(code="death").delete()

    created = change_types_install_defaults(actor=Actor.system())

    assert created == 1
    suspension = ChangeType.objects.get(code="suspension")
    assert suspension.name == "休学（本校）"
    assert suspension.college_may_finish is False
    assert ChangeType.objects.filter(code="death").exists()


def test_the_command_installs_the_built_ins_idempotently(empty_catalogue):
    out = StringIO()
    call_command("load_change_types", stdout=out)
    call_command("load_change_types", stdout=out)

    assert "installed 18" in out.getvalue()
    assert "all built-in change types exist" in out.getvalue()
    assert ChangeType.objects.count() == 18


def test_every_built_in_type_passes_the_catalogue_validation(catalogue):
    for change_type in catalogue.values():
        validate_declarations(
            {name: getattr(change_type, name) for name in new_type()} | {"step_days": 5},
            instance=change_type,
        )


def test_the_built_ins_follow_the_regulation(catalogue):
    # 休学 shifts the expected graduation but not the maximum date (第二十五条 counts it).
    assert catalogue["suspension"].graduation_effect == "period"
    assert catalogue["suspension"].max_study_effect == "none"
    # The school lets the college finish 休学 and 复学, never 退学/取消学籍/开除学籍.
    assert catalogue["suspension"].college_may_finish
    assert catalogue["resumption"].college_may_finish
    for code in ("withdrawal", "cancellation", "expulsion"):
        assert not catalogue[code].college_may_finish
        assert catalogue[code].steps[-1] == "president_office"
    assert "transfer_first_term" in catalogue["transfer_out"].rules
    assert "resumption_check" in catalogue["resumption"].rules


# --- change_type_save -----------------------------------------------------------------------


def test_a_registrar_creates_a_schools_own_type_and_it_is_audited(cast, catalogue):
    saved = change_type_save(actor=cast.actor(cast.registrar), instance=None, data=new_type())

    assert saved.pk and not saved.is_builtin
    assert saved.rules == ["from_status", "max_study_period"]
    event = AuditEvent.objects.get(action="change_type.save", target_id=str(saved.pk))
    assert event.before == ""
    assert "exchange_abroad" in event.after


def test_a_withdrawal_type_without_the_president_office_is_refused_citing_the_articles(
    cast, catalogue
):
    with pytest.raises(ValidationFailed) as caught:
        change_type_save(
            actor=cast.actor(cast.registrar),
            instance=catalogue["withdrawal"],
            data={"steps": ["counsellor", "college", "registrar"]},
        )

    message = caught.value.errors["steps"][0]
    assert "校长办公会" in message
    assert "第三十一条、第五十六条" in message
    assert ChangeType.objects.get(code="withdrawal").steps[-1] == "president_office"


@pytest.mark.parametrize("target", ["withdrawn", "cancelled", "expelled"])
def test_a_new_type_ending_student_status_must_end_with_the_president_office(
    cast, catalogue, target
):
    with pytest.raises(ValidationFailed) as caught:
        change_type_save(
            actor=cast.actor(cast.registrar),
            instance=None,
            data=new_type(target_status=target, has_period=False, college_may_finish=False),
        )

    assert "steps" in caught.value.errors


def test_the_president_office_step_must_be_last(cast, catalogue):
    with pytest.raises(ValidationFailed) as caught:
        change_type_save(
            actor=cast.actor(cast.registrar),
            instance=None,
            data=new_type(steps=["college", "president_office", "registrar"]),
        )

    assert "最后一个" in caught.value.errors["steps"][0]


def test_a_type_with_a_president_office_step_gets_its_check(cast, catalogue):
    saved = change_type_save(
        actor=cast.actor(cast.registrar),
        instance=None,
        data=new_type(steps=["college", "registrar", "president_office"], rules=[]),
    )

    assert "president_office" in saved.rules


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"steps": []}, "steps"),
        ({"steps": ["dean"]}, "steps"),
        ({"steps": ["college", "college"]}, "steps"),
        ({"initiators": []}, "initiators"),
        ({"initiators": ["parent"]}, "initiators"),
        ({"applicant_fields": ["shoe_size"]}, "applicant_fields"),
        ({"rules": ["no_such_rule"]}, "rules"),
        ({"required_attachments": ["证明", "证明"]}, "required_attachments"),
        ({"target_status": "on_holiday"}, "target_status"),
        ({"from_statuses": ["on_holiday"]}, "from_statuses"),
        ({"code": "Bad Code"}, "code"),
        ({"code": "suspension"}, "code"),
        ({"name": ""}, "name"),
        ({"name": "休学"}, "name"),
        ({"step_days": 0}, "step_days"),
        ({"has_period": False}, "has_period"),
        ({"graduation_effect": "years"}, "applicant_fields"),
        ({"graduation_effect": "recompute"}, "moves_cohort"),
        ({"moves_org": True}, "applicant_fields"),
        ({"college_may_finish": True, "steps": ["registrar"]}, "college_may_finish"),
    ],
)
def test_a_declaration_that_does_not_fit_is_refused_with_its_field(
    cast, catalogue, overrides, field
):
    data = new_type(**overrides)
    if field == "has_period":
        data["graduation_effect"] = "period"

    with pytest.raises(ValidationFailed) as caught:
        change_type_save(actor=cast.actor(cast.registrar), instance=None, data=data)

    assert field in caught.value.errors
    assert not ChangeType.objects.filter(code=data["code"]).exclude(code="suspension").exists()


def test_the_code_of_an_existing_type_cannot_change(cast, catalogue):
    with pytest.raises(ValidationFailed) as caught:
        change_type_save(
            actor=cast.actor(cast.registrar),
            instance=catalogue["death"],
            data={"code": "deceased"},
        )

    assert "code" in caught.value.errors


def test_an_edit_is_audited_with_before_and_after(cast, catalogue):
    change_type_save(
        actor=cast.actor(cast.registrar),
        instance=catalogue["extension"],
        data={"step_days": 10},
    )

    event = AuditEvent.objects.filter(action="change_type.save").latest("seq")
    assert '"step_days":5' in event.before.replace(" ", "")
    assert '"step_days":10' in event.after.replace(" ", "")


@pytest.mark.parametrize("persona", ["college_admin", "counsellor", "auditor", "student_user"])
def test_only_the_registrar_may_save_a_type(cast, catalogue, persona):
    with pytest.raises(PermissionDenied):
        change_type_save(
            actor=cast.actor(getattr(cast, persona)),
            instance=catalogue["suspension"],
            data={"step_days": 9},
        )

    assert ChangeType.objects.get(code="suspension").step_days == 5


# --- rule parameters ------------------------------------------------------------------------


def test_a_registrar_changes_the_rule_parameters_and_it_is_audited(cast, params):
    saved = rule_parameters_save(
        actor=cast.actor(cast.registrar),
        data={"max_extra_years": "1.5", "suspension_max_times": 3},
    )

    assert saved.max_extra_years == Decimal("1.5")
    assert saved.suspension_max_times == 3
    event = AuditEvent.objects.get(action="rule_parameters.save")
    assert "2" in event.before and "1.5" in event.after


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"max_extra_years": "1.3"}, "max_extra_years"),
        ({"max_extra_years": "9"}, "max_extra_years"),
        ({"suspension_max_times": "two"}, "suspension_max_times"),
        ({"recheck_months": 0}, "recheck_months"),
        ({"suspension_total_months": 6}, "suspension_total_months"),
        ({"major_change_min_terms": "1.5"}, "major_change_min_terms"),
        ({"no_such": 1}, "no_such"),
    ],
)
def test_a_parameter_out_of_range_is_refused_and_nothing_changes(cast, params, data, field):
    with pytest.raises(ValidationFailed) as caught:
        rule_parameters_save(actor=cast.actor(cast.registrar), data=data)

    assert field in caught.value.errors
    assert RuleParameters.objects.get(pk=1).max_extra_years == Decimal("2")


def test_only_the_registrar_may_change_the_rule_parameters(cast, params):
    with pytest.raises(PermissionDenied):
        rule_parameters_save(actor=cast.actor(cast.college_admin), data={"recheck_months": 6})

    assert RuleParameters.objects.get(pk=1).recheck_months == 3
