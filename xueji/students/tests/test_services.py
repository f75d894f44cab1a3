"""Writes to the student record: what each service writes, and that a refusal writes nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from xueji.accounts.models import Grant, Role, Scope, User
from xueji.audit.models import AuditEvent
from xueji.audit.selectors import audit_chain_verify
from xueji.conftest import Cast, code_for, make_user
from xueji.core.exceptions import DomainError, NotFound, PermissionDenied, ValidationFailed
from xueji.org.models import CodeTable
from xueji.students import services
from xueji.students.idcards import make_resident_id
from xueji.students.models import (
    LedgerAction,
    ParentLink,
    RegistryStatus,
    StatusLedgerEntry,
    Student,
    StudentState,
    StudentStatus,
)
from xueji.students.selectors import student_list_visible_to
from xueji.students.services import (
    parent_link_create,
    parent_link_set_consent,
    student_create,
    student_reveal_id_number,
    student_status_set,
    student_update,
)
from xueji.students.tests.factories import (
    new_student_values,
    world,
)

pytestmark = pytest.mark.django_db


def fresh(user: User) -> User:
    """The user re-read, so cached grants reflect the database."""
    return User.objects.get(pk=user.pk)


def new_events(before: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(seq__gt=before).order_by("seq"))


def last_seq() -> int:
    event = AuditEvent.objects.order_by("-seq").first()
    return event.seq if event else 0


# --- student_create ----------------------------------------------------------------------------


def test_registrar_creates_a_student_with_state_row_ledger_entry_version_and_one_audit_event(
    cast: Cast,
) -> None:
    seq = last_seq()
    student = student_create(actor=cast.actor(cast.registrar), data=new_student_values(cast))

    student.refresh_from_db()
    assert student.name_pinyin == "Zeng Xiaoming"
    assert (student.pinyin_key, student.pinyin_initials) == ("zengxiaoming", "zxm")
    assert (student.status, student.registry_status) == (
        StudentStatus.IN_SCHOOL,
        RegistryStatus.ENROLLED,
    )
    states = list(student.states.all())
    assert len(states) == 1
    assert (states[0].status, states[0].valid_from, states[0].valid_to) == (
        StudentStatus.IN_SCHOOL,
        date(2024, 9, 1),
        None,
    )
    ledger = list(student.ledger.all())
    assert [(e.action, e.to_status, e.actor) for e in ledger] == [
        (LedgerAction.ADMITTED, StudentStatus.IN_SCHOOL, cast.registrar)
    ]
    versions = list(student.history.all())
    assert len(versions) == 1
    assert versions[0].history_type == "+"
    assert versions[0].history_user == cast.registrar
    assert versions[0].history_change_reason == "新生建档"
    events = new_events(seq)
    assert [(e.action, e.target_type, e.target_id) for e in events] == [
        ("student.create", "students.student", str(student.pk))
    ]
    assert events[0].actor_username == "registrar"
    assert events[0].ip == "127.0.0.1"
    assert '"student_number":"2024000050"' in events[0].after
    assert audit_chain_verify().ok


def test_college_admin_creates_a_student_in_their_own_college(cast: Cast) -> None:
    student = student_create(actor=cast.actor(cast.college_admin), data=new_student_values(cast))
    assert student.college == cast.cs


def test_college_admin_cannot_create_a_student_in_another_college(cast: Cast) -> None:
    data = new_student_values(
        cast, college=cast.fl, major=cast.fl_major, school_class=cast.class_fl
    )
    before = world()
    with pytest.raises(PermissionDenied, match="您无权在该学院新建学生档案"):
        student_create(actor=cast.actor(cast.college_admin), data=data)
    assert world() == before


@pytest.mark.parametrize("who", ["counsellor", "advisor", "auditor", "student_user", "parent"])
def test_only_registrar_and_college_admin_create_students(cast: Cast, who: str) -> None:
    before = world()
    with pytest.raises(PermissionDenied):
        student_create(actor=cast.actor(getattr(cast, who)), data=new_student_values(cast))
    assert world() == before


def test_an_anonymous_actor_is_asked_to_log_in(cast: Cast) -> None:
    with pytest.raises(PermissionDenied, match="请先登录"):
        student_create(actor=cast.actor(None), data=new_student_values(cast))


def _bad_inputs(cast: Cast) -> dict[str, tuple[dict[str, Any], str, str]]:
    """Case name → (overrides, field, the exact message shown next to that field)."""
    good = new_student_values(cast)
    wrong_check = good["id_number"][:-1] + ("0" if good["id_number"][-1] != "0" else "1")
    return {
        "bad checksum": (
            {"id_number": wrong_check},
            "id_number",
            "身份证号校验位错误，请核对是否输错",
        ),
        "short id": (
            {"id_number": good["id_number"][:16]},
            "id_number",
            "身份证号应为 18 位，实为 16 位",
        ),
        "birth date mismatch": (
            {"birth_date": date(2005, 3, 24)},
            "id_number",
            "身份证号中的出生日期 2005-03-23 与填写的出生日期 2005-03-24 不一致",
        ),
        "gender mismatch": (
            {"gender": "2"},
            "id_number",
            "身份证号显示性别为男，与填写的性别不一致",
        ),
        "unknown ethnicity": (
            {"ethnicity": "60"},
            "ethnicity",
            "民族代码“60”不在民族（GB 3304）中",
        ),
        "unknown political status": (
            {"political_status": "14"},
            "political_status",
            "政治面貌代码“14”不在政治面貌（GB/T 4762）中",
        ),
        "unknown gender code": ({"gender": "3"}, "gender", "性别代码“3”不在性别（GB/T 2261.1）中"),
        "unknown region": (
            {"native_region": "119999"},
            "native_region",
            "生源地代码“119999”不在行政区划（GB/T 2260）中",
        ),
        "unknown id type": ({"id_type": "Q"}, "id_type", "证件类型代码“Q”不在证件类型中"),
        "duplicate student number": (
            {"student_number": cast.student.student_number},
            "student_number",
            "学号“2024000001”已被其他学生使用",
        ),
        "duplicate candidate number": (
            {"candidate_number": cast.student.candidate_number},
            "candidate_number",
            "考生号“24110101000001”已被其他学生使用",
        ),
        "duplicate id number": (
            {"id_number": cast.student.id_number, "birth_date": cast.student.birth_date},
            "id_number",
            "该证件号码已属于另一名学生",
        ),
        "duplicate id number given from the household register": (
            {
                "id_type": code_for(CodeTable.ID_TYPE, "户口簿"),
                "id_number": cast.student.id_number,
                "birth_date": cast.student.birth_date,
            },
            "id_number",
            "该证件号码已属于另一名学生",
        ),
        "major of another college": (
            {"major": cast.fl_major, "school_class": None},
            "major",
            "专业“英语”不属于计算机学院",
        ),
        "class of another major": (
            {"school_class": cast.class_fl},
            "school_class",
            "班级“英语2401”不属于专业“计算机科学与技术”",
        ),
        "missing name": ({"name": "  "}, "name", "姓名为必填项"),
        "student number too long": (
            {"student_number": "2024" + "0" * 12},
            "student_number",
            "学号最长 15 位，实为 16 位",
        ),
        "student number with a dash": (
            {"student_number": "2024-0050"},
            "student_number",
            "学号只能包含字母和数字",
        ),
        "duration outside CHSI values": (
            {"duration": Decimal("3.7")},
            "duration",
            "学制“3.7”不是 CHSI 允许的取值（1.5 至 8 年）",
        ),
        "graduation before enrolment": (
            {"expected_graduation_date": date(2024, 6, 30)},
            "expected_graduation_date",
            "预计毕业日期应晚于入学日期",
        ),
        "birth date in the future": (
            {
                "birth_date": date(2099, 1, 1),
                "id_number": make_resident_id("110101", date(2099, 1, 1), "1", 50),
            },
            "birth_date",
            "出生日期不能晚于今天",
        ),
    }


BAD_INPUT_CASES = [
    "bad checksum",
    "short id",
    "birth date mismatch",
    "gender mismatch",
    "unknown ethnicity",
    "unknown political status",
    "unknown gender code",
    "unknown region",
    "unknown id type",
    "duplicate student number",
    "duplicate candidate number",
    "duplicate id number",
    "duplicate id number given from the household register",
    "major of another college",
    "class of another major",
    "missing name",
    "student number too long",
    "student number with a dash",
    "duration outside CHSI values",
    "graduation before enrolment",
    "birth date in the future",
]


@pytest.mark.parametrize("case", BAD_INPUT_CASES)
def test_bad_input_gets_a_specific_chinese_message_and_changes_nothing(
    cast: Cast, case: str
) -> None:
    overrides, field, message = _bad_inputs(cast)[case]
    data = new_student_values(cast, **overrides)
    before = world()
    with pytest.raises(ValidationFailed) as caught:
        student_create(actor=cast.actor(cast.registrar), data=data)
    assert message in caught.value.errors.get(field, []), caught.value.errors
    assert world() == before


def test_several_bad_fields_are_reported_together(cast: Cast) -> None:
    data = new_student_values(cast, ethnicity="60", political_status="14", name="")
    with pytest.raises(ValidationFailed) as caught:
        student_create(actor=cast.actor(cast.registrar), data=data)
    assert {"ethnicity", "political_status", "name"} <= set(caught.value.errors)


def test_a_duplicate_that_slips_past_validation_is_refused_by_the_database_and_rolled_back(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two writers racing: both pass validation, the unique constraint decides.
    monkeypatch.setattr(services, "student_validate", lambda data, **_: dict(data))
    data = new_student_values(cast, student_number=cast.student.student_number)
    before = world()
    with pytest.raises(ValidationFailed) as caught:
        student_create(actor=cast.actor(cast.registrar), data=data)
    assert caught.value.errors == {"student_number": ["学号、考生号或证件号码与其他学生重复"]}
    assert world() == before


def test_a_failure_after_the_audit_event_rolls_the_whole_creation_back(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = services.audit_record

    def audit_then_fail(**kwargs: Any) -> AuditEvent:
        real(**kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "audit_record", audit_then_fail)
    before = world()
    with pytest.raises(RuntimeError):
        student_create(actor=cast.actor(cast.registrar), data=new_student_values(cast))
    assert world() == before
    assert audit_chain_verify().ok


def test_id_number_is_stored_normalised(cast: Cast) -> None:
    data = new_student_values(cast)
    typed = " " + data["id_number"][:6] + " " + data["id_number"][6:] + " "
    student = student_create(actor=cast.actor(cast.registrar), data={**data, "id_number": typed})
    assert Student.objects.get(pk=student.pk).id_number == data["id_number"]


def test_a_passport_holder_is_created_without_a_resident_id(cast: Cast) -> None:
    data = new_student_values(
        cast, id_type=code_for(CodeTable.ID_TYPE, "护照"), id_number="e12345678"
    )
    student = student_create(actor=cast.actor(cast.registrar), data=data)
    assert Student.objects.get(pk=student.pk).id_number == "E12345678"


def test_an_edited_pinyin_is_kept_on_creation(cast: Cast) -> None:
    data = new_student_values(cast, name_pinyin="Tsang Siuming")
    student = student_create(actor=cast.actor(cast.registrar), data=data)
    student.refresh_from_db()
    assert student.name_pinyin == "Tsang Siuming"
    assert student.pinyin_key == "tsangsiuming"


# --- student_update ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"name": "单大明"},
        {"id_number": make_resident_id("110102", date(2005, 3, 2), "1", 1)},
        {"gender": "2"},
        {"birth_date": date(2005, 3, 3)},
        {"major": "other-major"},
        {"duration": Decimal("5")},
        {"name": "单大明", "phone": "13800000000"},
    ],
    ids=["name", "id_number", "gender", "birth_date", "major", "duration", "name_and_phone"],
)
def test_college_admin_cannot_change_locked_fields_and_nothing_changes(
    cast: Cast, changes: dict[str, Any]
) -> None:
    if changes.get("major") == "other-major":
        changes = {"major": cast.fl_major}
    before = world()
    with pytest.raises(PermissionDenied, match="以下字段须由校级学籍管理员修改"):
        student_update(actor=cast.actor(cast.college_admin), student=cast.student, changes=changes)
    assert world() == before


def test_the_refusal_names_every_locked_field_asked_for(cast: Cast) -> None:
    with pytest.raises(PermissionDenied) as caught:
        student_update(
            actor=cast.actor(cast.college_admin),
            student=cast.student,
            changes={"name": "单大明", "gender": "2", "phone": "13800000000"},
        )
    assert caught.value.message == "以下字段须由校级学籍管理员修改：性别、姓名"


def test_college_admin_changes_unlocked_fields_with_before_and_after_in_the_audit(
    cast: Cast,
) -> None:
    seq = last_seq()
    updated = student_update(
        actor=cast.actor(cast.college_admin),
        student=cast.student,
        changes={"phone": "13800000000", "department": "软件工程系", "political_status": "01"},
        reason="学院核对",
    )
    assert (updated.phone, updated.department, updated.political_status) == (
        "13800000000",
        "软件工程系",
        "01",
    )
    [event] = new_events(seq)
    assert event.action == "student.update"
    assert '"political_status":"03"' in event.before
    assert '"political_status":"01"' in event.after
    version = Student.history.filter(id=cast.student.pk).latest("history_date")
    assert version.history_user == cast.college_admin
    assert version.history_change_reason == "学院核对"


def test_college_admin_cannot_edit_a_student_of_another_college(cast: Cast) -> None:
    before = world()
    with pytest.raises(PermissionDenied, match="您无权修改该学生档案"):
        student_update(
            actor=cast.actor(cast.college_admin),
            student=cast.other_student,
            changes={"phone": "13800000000"},
        )
    assert world() == before


def test_counsellor_can_change_contacts_of_their_class(cast: Cast) -> None:
    updated = student_update(
        actor=cast.actor(cast.counsellor),
        student=cast.student,
        changes={"phone": "13800000000", "emergency_contact": "单大山"},
    )
    assert Student.objects.get(pk=updated.pk).phone == "13800000000"


@pytest.mark.parametrize(
    "changes", [{"political_status": "01"}, {"department": "软件工程系"}, {"name": "单大明"}]
)
def test_counsellor_cannot_change_anything_but_contacts(
    cast: Cast, changes: dict[str, Any]
) -> None:
    before = world()
    with pytest.raises(PermissionDenied, match="以下字段须由校级学籍管理员修改"):
        student_update(actor=cast.actor(cast.counsellor), student=cast.student, changes=changes)
    assert world() == before


def test_counsellor_cannot_edit_a_student_of_another_class(cast: Cast) -> None:
    with pytest.raises(PermissionDenied, match="您无权修改该学生档案"):
        student_update(
            actor=cast.actor(cast.counsellor),
            student=cast.classmate_b,
            changes={"phone": "13800000000"},
        )


@pytest.mark.parametrize("who", ["advisor", "auditor", "student_user", "parent"])
def test_roles_without_edit_rights_cannot_edit(cast: Cast, who: str) -> None:
    before = world()
    with pytest.raises(PermissionDenied, match="您无权修改该学生档案"):
        student_update(
            actor=cast.actor(getattr(cast, who)),
            student=cast.student,
            changes={"phone": "13800000000"},
        )
    assert world() == before


def test_registrar_changes_a_locked_field_and_the_pinyin_and_search_keys_follow(
    cast: Cast,
) -> None:
    seq = last_seq()
    updated = student_update(
        actor=cast.actor(cast.registrar),
        student=cast.student,
        changes={"name": "曾小明"},
        reason="公安户籍更名证明",
    )
    updated.refresh_from_db()
    assert (updated.name, updated.name_pinyin) == ("曾小明", "Zeng Xiaoming")
    assert (updated.pinyin_key, updated.pinyin_initials) == ("zengxiaoming", "zxm")
    [event] = new_events(seq)
    assert (event.action, event.actor_username) == ("student.update", "registrar")
    assert '"name":"单小明"' in event.before and '"name":"曾小明"' in event.after
    version = Student.history.filter(id=cast.student.pk).latest("history_date")
    assert (version.name, version.history_user, version.history_change_reason) == (
        "曾小明",
        cast.registrar,
        "公安户籍更名证明",
    )


def test_registrar_changes_id_number_birth_date_and_gender_together(cast: Cast) -> None:
    birth = date(2005, 7, 8)
    new_id = make_resident_id("320102", birth, "2", 9)
    updated = student_update(
        actor=cast.actor(cast.registrar),
        student=cast.student,
        changes={"id_number": new_id, "birth_date": birth, "gender": "2"},
    )
    assert Student.objects.get(pk=updated.pk).id_number == new_id


def test_an_id_number_no_longer_matching_a_corrected_birth_date_is_refused(cast: Cast) -> None:
    before = world()
    with pytest.raises(ValidationFailed) as caught:
        student_update(
            actor=cast.actor(cast.registrar),
            student=cast.student,
            changes={"birth_date": date(2005, 3, 3)},
        )
    assert caught.value.errors == {
        "id_number": ["身份证号中的出生日期 2005-03-02 与填写的出生日期 2005-03-03 不一致"]
    }
    assert world() == before


def test_registrar_cannot_take_another_students_id_number(cast: Cast) -> None:
    before = world()
    with pytest.raises(ValidationFailed) as caught:
        student_update(
            actor=cast.actor(cast.registrar),
            student=cast.classmate_b,
            changes={
                "id_number": cast.student.id_number,
                "birth_date": cast.student.birth_date,
                "gender": "1",
            },
        )
    assert caught.value.errors == {"id_number": ["该证件号码已属于另一名学生"]}
    assert world() == before


def test_an_update_that_changes_no_value_writes_nothing(cast: Cast) -> None:
    before = world()
    student_update(
        actor=cast.actor(cast.registrar),
        student=cast.student,
        changes={"name": cast.student.name, "phone": cast.student.phone},
    )
    assert world() == before


# --- student_status_set ------------------------------------------------------------------------


def test_status_change_closes_the_current_state_row_and_opens_a_new_one(cast: Cast) -> None:
    seq = last_seq()
    changed = student_status_set(
        actor=cast.actor(cast.registrar),
        student=cast.student,
        status=StudentStatus.SUSPENDED,
        effective_date=date(2025, 3, 1),
        reason="因病休学一年",
    )
    assert (changed.status, changed.registry_status) == (
        StudentStatus.SUSPENDED,
        RegistryStatus.ENROLLED,
    )
    states = list(
        StudentState.objects.filter(student=cast.student)
        .order_by("valid_from", "id")
        .values_list("status", "valid_from", "valid_to")
    )
    assert states == [
        (StudentStatus.IN_SCHOOL, date(2024, 9, 1), date(2025, 3, 1)),
        (StudentStatus.SUSPENDED, date(2025, 3, 1), None),
    ]
    entry = StatusLedgerEntry.objects.filter(student=cast.student).latest("id")
    assert (entry.action, entry.from_status, entry.to_status, entry.actor) == (
        LedgerAction.STATUS_CHANGED,
        StudentStatus.IN_SCHOOL,
        StudentStatus.SUSPENDED,
        cast.registrar,
    )
    [event] = new_events(seq)
    assert event.action == "student.status"
    assert '"effective_date":"2025-03-01"' in event.after


def test_status_changes_append_and_never_edit_earlier_history(cast: Cast) -> None:
    registrar = cast.actor(cast.registrar)
    student_status_set(
        actor=registrar,
        student=cast.student,
        status=StudentStatus.SUSPENDED,
        effective_date=date(2025, 3, 1),
        reason="因病休学",
    )
    closed = list(StudentState.objects.filter(valid_to__isnull=False).values())
    ledger = list(StatusLedgerEntry.objects.order_by("id").values())
    student_status_set(
        actor=registrar,
        student=cast.student,
        status=StudentStatus.IN_SCHOOL,
        effective_date=date(2026, 2, 20),
        reason="复学",
    )
    changed = student_status_set(
        actor=registrar,
        student=cast.student,
        status=StudentStatus.WITHDRAWN,
        effective_date=date(2026, 6, 1),
        reason="本人申请退学",
    )
    assert changed.registry_status == RegistryStatus.NOT_ENROLLED
    assert all(row in StudentState.objects.values() for row in closed)
    assert list(StatusLedgerEntry.objects.order_by("id").values())[: len(ledger)] == ledger
    assert StatusLedgerEntry.objects.count() == len(ledger) + 2
    assert StudentState.objects.filter(student=cast.student, valid_to__isnull=True).count() == 1


@pytest.mark.parametrize(
    "status, effective_date, reason, message",
    [
        (StudentStatus.IN_SCHOOL, date(2025, 3, 1), "无", "该学生已是“在校”状态。"),
        ("on_holiday", date(2025, 3, 1), "无", "未知的学籍状态“on_holiday”"),
        (StudentStatus.SUSPENDED, date(2025, 3, 1), "  ", "请填写变更原因。"),
        (
            StudentStatus.SUSPENDED,
            date(2024, 8, 31),
            "休学",
            "生效日期不能早于当前状态的起始日期。",
        ),
    ],
    ids=["same status", "unknown status", "no reason", "before current state"],
)
def test_a_refused_status_change_says_why_and_changes_nothing(
    cast: Cast, status: str, effective_date: date, reason: str, message: str
) -> None:
    before = world()
    with pytest.raises(DomainError) as caught:
        student_status_set(
            actor=cast.actor(cast.registrar),
            student=cast.student,
            status=status,
            effective_date=effective_date,
            reason=reason,
        )
    assert caught.value.message == message
    assert world() == before


@pytest.mark.parametrize("who", ["college_admin", "counsellor", "auditor", "student_user"])
def test_only_the_registrar_sets_a_status_directly(cast: Cast, who: str) -> None:
    before = world()
    with pytest.raises(PermissionDenied, match="只有校级学籍管理员可以直接变更学籍状态"):
        student_status_set(
            actor=cast.actor(getattr(cast, who)),
            student=cast.student,
            status=StudentStatus.SUSPENDED,
            effective_date=date(2025, 3, 1),
            reason="休学",
        )
    assert world() == before


# --- revealing the full ID number --------------------------------------------------------------


def test_a_user_granted_full_ids_sees_the_number_and_the_read_is_audited(cast: Cast) -> None:
    seq = last_seq()
    number = student_reveal_id_number(
        actor=cast.actor(cast.registrar), student=cast.student, purpose="核对学信网"
    )
    assert number == cast.student.id_number
    [event] = new_events(seq)
    assert (event.action, event.actor_username, event.target_id) == (
        "student.view_id",
        "registrar",
        str(cast.student.pk),
    )
    assert "核对学信网" in event.summary


@pytest.mark.parametrize(
    "who", ["college_admin", "counsellor", "auditor", "student_user", "parent"]
)
def test_revealing_the_full_id_is_refused_without_the_grant(cast: Cast, who: str) -> None:
    before = world()
    with pytest.raises(PermissionDenied, match="您没有查看完整证件号码的权限"):
        student_reveal_id_number(actor=cast.actor(getattr(cast, who)), student=cast.student)
    assert world() == before


def test_an_inactive_grant_does_not_reveal_full_ids(cast: Cast) -> None:
    Grant.objects.filter(user=cast.registrar).update(is_active=False)
    with pytest.raises(PermissionDenied):
        student_reveal_id_number(actor=cast.actor(fresh(cast.registrar)), student=cast.student)


def test_the_full_id_grant_covers_only_students_in_scope(cast: Cast) -> None:
    Grant.objects.filter(user=cast.college_admin).update(can_view_full_id=True)
    admin = fresh(cast.college_admin)
    assert student_reveal_id_number(actor=cast.actor(admin), student=cast.classmate_b)
    before = world()
    with pytest.raises(NotFound):
        student_reveal_id_number(actor=cast.actor(admin), student=cast.other_student)
    assert world() == before


# --- parents -----------------------------------------------------------------------------------


def test_the_student_withdraws_and_gives_back_consent_for_the_parent(cast: Cast) -> None:
    link = ParentLink.objects.get(parent=cast.parent, student=cast.student)
    seq = last_seq()
    parent_link_set_consent(actor=cast.actor(cast.student_user), link=link, consent=False)
    assert not ParentLink.objects.get(pk=link.pk).has_consent
    assert not student_list_visible_to(fresh(cast.parent)).exists()
    parent_link_set_consent(actor=cast.actor(cast.student_user), link=link, consent=True)
    assert ParentLink.objects.get(pk=link.pk).has_consent
    assert list(student_list_visible_to(fresh(cast.parent))) == [cast.student]
    events = new_events(seq)
    assert [(e.action, e.before, e.after) for e in events] == [
        ("parent_link.consent", '{"consent":true}', '{"consent":false}'),
        ("parent_link.consent", '{"consent":false}', '{"consent":true}'),
    ]


@pytest.mark.parametrize("who", ["parent", "other_student_user", "registrar"])
def test_only_the_student_decides_on_parent_consent(cast: Cast, who: str) -> None:
    link = ParentLink.objects.get(parent=cast.parent, student=cast.student)
    before = world()
    with pytest.raises(PermissionDenied, match="只有学生本人可以授权或撤回家长查看"):
        parent_link_set_consent(actor=cast.actor(getattr(cast, who)), link=link, consent=False)
    assert world() == before


def test_a_new_parent_link_shows_nothing_until_the_student_consents(cast: Cast) -> None:
    mother = make_user("mother", Role.PARENT, Scope.CHILD)
    link = parent_link_create(
        actor=cast.actor(cast.counsellor), student=cast.student, parent=mother, relation="母亲"
    )
    assert not link.has_consent
    assert not student_list_visible_to(fresh(mother)).exists()
    parent_link_set_consent(actor=cast.actor(cast.student_user), link=link, consent=True)
    assert list(student_list_visible_to(fresh(mother))) == [cast.student]


def test_linking_the_same_parent_twice_is_refused(cast: Cast) -> None:
    before = world()
    with pytest.raises(DomainError, match="该家长已关联此学生"):
        parent_link_create(
            actor=cast.actor(cast.registrar),
            student=cast.student,
            parent=cast.parent,
            relation="父亲",
        )
    assert world() == before


def test_staff_out_of_scope_cannot_link_a_parent(cast: Cast) -> None:
    mother = make_user("mother", Role.PARENT, Scope.CHILD)
    with pytest.raises(PermissionDenied, match="您无权为该学生关联家长"):
        parent_link_create(
            actor=cast.actor(cast.counsellor),
            student=cast.other_student,
            parent=mother,
            relation="母亲",
        )
