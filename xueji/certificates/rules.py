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


RULES: dict[str, Rule] = {
    rule.code: rule
    for rule in (
        Rule("enrolled", "具有学籍", _enrolled),
        Rule("in_school", "在校状态为“在校”", _in_school),
        Rule("registered_this_term", "本学期已注册", _registered_this_term),
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
