"""Who may obtain a document: eligibility rules as small checks, in the style of
`xueji.changes.rules`. A type lists rule codes; `check_eligibility` returns the failures, each
with a reason in words the student can act on ("您当前为休学状态，不能开具在校证明")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from xueji.certificates.models import DocumentType
from xueji.org.models import Term
from xueji.registration.models import RegistrationState, TermRegistration
from xueji.students.models import RegistryStatus, Student, StudentStatus


@dataclass(frozen=True)
class Context:
    student: Student
    document_type: DocumentType
    term: Term | None  # the current term (None outside any term)
    for_self: bool  # the student asks for themself ("您") or staff on their behalf ("该学生")

    @property
    def who(self) -> str:
        return "您" if self.for_self else "该学生"


@dataclass(frozen=True)
class RuleFailure:
    code: str
    message: str


@dataclass(frozen=True)
class Rule:
    code: str
    title: str
    check: Callable[[Context], str | None]


def _enrolled(ctx: Context) -> str | None:
    if ctx.student.registry_status == RegistryStatus.ENROLLED:
        return None
    return (
        f"{ctx.who}当前不具有学籍（在校状态：{ctx.student.get_status_display()}），"
        f"不能开具{ctx.document_type.name}。"
    )


GRADUATE_STATUSES = (StudentStatus.GRADUATED, StudentStatus.COMPLETED, StudentStatus.NON_COMPLETION)


def is_graduate(student: Student) -> bool:
    """毕业、结业 or 肄业: left with a certificate; may request the types open to graduates."""
    return student.status in GRADUATE_STATUSES


def _enrolled_or_graduated(ctx: Context) -> str | None:
    if ctx.student.registry_status == RegistryStatus.ENROLLED or is_graduate(ctx.student):
        return None
    return (
        f"{ctx.who}当前既不具有学籍，也不是毕业（结业、肄业）生"
        f"（在校状态：{ctx.student.get_status_display()}），不能开具{ctx.document_type.name}。"
    )


def _in_school(ctx: Context) -> str | None:
    if ctx.student.status == StudentStatus.IN_SCHOOL:
        return None
    return (
        f"{ctx.who}当前为{ctx.student.get_status_display()}状态，不能开具{ctx.document_type.name}。"
    )


def _registered_this_term(ctx: Context) -> str | None:
    if ctx.term is None:
        return f"当前不在任何学期内，无法确认本学期注册状态，不能开具{ctx.document_type.name}。"
    registered = TermRegistration.objects.filter(
        student=ctx.student, term=ctx.term, state=RegistrationState.REGISTERED
    ).exists()
    if registered:
        return None
    return (
        f"本学期（{ctx.term}）{ctx.who}尚未注册，不能开具{ctx.document_type.name}。"
        "请先完成本学期注册。"
    )


def _has_transcript(ctx: Context) -> str | None:
    from xueji.certificates.transcript import has_provider, transcript_for

    if not has_provider():
        return (
            f"成绩数据尚未接入本系统（待教务成绩模块上线），暂不能开具{ctx.document_type.name}。"
            "请联系教务部门。"
        )
    if transcript_for(ctx.student) is None:
        return f"{ctx.who}还没有成绩记录，不能开具{ctx.document_type.name}。"
    return None


RULES: dict[str, Rule] = {
    rule.code: rule
    for rule in (
        Rule("enrolled", "具有学籍", _enrolled),
        Rule("enrolled_or_graduated", "具有学籍，或已毕业、结业、肄业", _enrolled_or_graduated),
        Rule("in_school", "在校状态为“在校”", _in_school),
        Rule("registered_this_term", "本学期已注册", _registered_this_term),
        Rule("has_transcript", "有成绩记录（成绩数据已接入）", _has_transcript),
    )
}


def check_eligibility(ctx: Context) -> list[RuleFailure]:
    """The failing rules of the type, in the type's order. An unknown code fails closed."""
    failures = []
    for code in ctx.document_type.rules:
        rule = RULES.get(code)
        if rule is None:
            failures.append(RuleFailure(code, f"未知的开具条件“{code}”，请联系学籍管理部门。"))
            continue
        message = rule.check(ctx)
        if message:
            failures.append(RuleFailure(code, message))
    return failures
