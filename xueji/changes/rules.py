"""The regulation as checks: 普通高等学校学生管理规定（教育部令第41号，2017-09-01 施行）.

Each rule has a code (what `ChangeType.rules` lists), a title, the article it enforces, whether a
registrar may set it aside with a recorded reason, and the stages it runs at:
"submit" (the application), "approve" (the final approval) and "apply" (taking effect).
`check_request` runs a request's rules and returns what fails, each failure saying which rule
and which article, in words a registrar can pass on to the student.

Article numbers were checked against published copies of the regulation (see
docs/howto/change-types.md for which were verified and how); the school's own limits come from
`RuleParameters`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone

from xueji.changes.effects import add_months, compute_after, default_max_study_date
from xueji.changes.fields import (
    ENTRY_RECHECK_GROUND,
    detail_bool,
    detail_date,
    detail_decimal,
)
from xueji.changes.models import ChangeRequest, ChangeStatus, RuleParameters
from xueji.students.models import ENROLLED_STATUSES, StudentStatus

ORDER_41 = "教育部令第41号"
ORDER_21 = "教育部令第21号（2005年）"
# The 2017 regulation applies to students enrolled from its entry into force; earlier records
# keep the 2005 rule where it differs (military reservation: 1 year after discharge).
ORDER_41_IN_FORCE = date(2017, 9, 1)

SUBMIT = "submit"
APPROVE = "approve"
APPLY = "apply"
STAGES = (SUBMIT, APPROVE, APPLY)

# Statuses that end 学籍 by a decision of the 校长办公会 (第三十一条、第五十六条).
PRESIDENT_OFFICE_STATUSES = frozenset(
    {StudentStatus.WITHDRAWN, StudentStatus.CANCELLED, StudentStatus.EXPELLED}
)

# Education levels from high to low (the diploma level of the code table's `extra`): 第二十二条
# forbids a transfer to a higher level.
_LEVEL_RANK = {"01": 4, "02": 3, "04": 2, "05": 2, "06": 1}


@dataclass(frozen=True)
class RuleFailure:
    code: str
    title: str
    article: str
    message: str
    overridable: bool


@dataclass
class Context:
    """What a check sees: the request (possibly unsaved), its student and type, the school's
    parameters, the day it runs, and the student's earlier applied changes."""

    request: ChangeRequest
    params: RuleParameters
    today: date
    stage: str
    _history: list[ChangeRequest] | None = None

    @property
    def student(self) -> Any:
        return self.request.student

    @property
    def change_type(self) -> Any:
        return self.request.change_type

    @property
    def details(self) -> dict[str, Any]:
        return self.request.details or {}

    @property
    def history(self) -> list[ChangeRequest]:
        """The student's APPLIED requests other than this one, oldest first."""
        if self._history is None:
            rows = ChangeRequest.objects.filter(
                student_id=self.request.student_id, status=ChangeStatus.APPLIED
            ).select_related("change_type")
            if self.request.pk:
                rows = rows.exclude(pk=self.request.pk)
            self._history = list(rows.order_by("effective_date", "id"))
        return self._history

    def max_study_date(self) -> date:
        student = self.student
        return student.max_study_date or default_max_study_date(student, self.params)


Check = Callable[[Context], str | None]


@dataclass(frozen=True)
class Rule:
    code: str
    title: str
    article: str
    overridable: bool
    stages: frozenset[str]
    check: Check
    description: str = ""

    def failure(self, message: str) -> RuleFailure:
        return RuleFailure(
            code=self.code,
            title=self.title,
            article=self.article,
            message=message,
            overridable=self.overridable,
        )


def _d(day: date) -> str:
    return day.isoformat()


# --- the checks ----------------------------------------------------------------------------


def _from_status(ctx: Context) -> str | None:
    allowed = ctx.change_type.from_statuses or sorted(ENROLLED_STATUSES)
    status = ctx.student.status
    if status in allowed:
        return None
    names = "、".join(str(StudentStatus(s).label) for s in allowed)
    return (
        f"“{ctx.change_type.name}”只适用于当前状态为{names}的学生，"
        f"该学生当前为“{StudentStatus(status).label}”"
    )


def _max_study_period(ctx: Context) -> str | None:
    request = ctx.request
    limit = ctx.max_study_date()
    name = ctx.change_type.name
    if request.effective_date and request.effective_date > limit:
        return f"{name}日期 {_d(request.effective_date)} 已超过最长学习年限截止日期 {_d(limit)}"
    if request.end_date and request.end_date > limit:
        return f"{name}截止日期 {_d(request.end_date)} 已超过最长学习年限截止日期 {_d(limit)}"
    after = compute_after(ctx.student, request, ctx.params)
    new_limit = after.get("max_study_date", limit) or limit
    graduation = after.get("expected_graduation_date", ctx.student.expected_graduation_date)
    if graduation > new_limit:
        return f"{name}后的预计毕业日期 {_d(graduation)} 将超过最长学习年限截止日期 {_d(new_limit)}"
    return None


def _months_text(days: int) -> str:
    return f"约 {Decimal(days * 12) / Decimal('365.25'):.1f} 个月"


def _suspension_limits(ctx: Context) -> str | None:
    request = ctx.request
    params = ctx.params
    earlier = [r for r in ctx.history if r.change_type.target_status == StudentStatus.SUSPENDED]
    if len(earlier) + 1 > params.suspension_max_times:
        return (
            f"该学生已休学 {len(earlier)} 次，学校规定休学不超过 {params.suspension_max_times} 次"
        )
    if request.end_date is None or request.effective_date is None:
        return "休学须填写起止日期，才能核对休学期限"
    if request.end_date > add_months(request.effective_date, params.suspension_max_months):
        return (
            f"本次休学 {_d(request.effective_date)} 至 {_d(request.end_date)}，"
            f"超过学校规定的每次最长 {params.suspension_max_months} 个月"
        )
    used = sum(((r.end_date - r.effective_date).days for r in earlier if r.end_date), start=0)
    total = used + (request.end_date - request.effective_date).days
    limit_days = int(Decimal(params.suspension_total_months) * Decimal("365.25") / 12)
    if total > limit_days:
        return (
            f"累计休学将达{_months_text(total)}（此前已休{_months_text(used)}），"
            f"超过学校规定的累计最长 {params.suspension_total_months} 个月"
        )
    return None


def _military_reservation(ctx: Context) -> str | None:
    request = ctx.request
    discharge = detail_date(ctx.details, "discharge_date")
    if discharge is None or request.end_date is None:
        # Not known yet when the student enlists: checked again when it is filled in.
        return None
    under_2005 = ctx.student.enrollment_date < ORDER_41_IN_FORCE
    years = ctx.params.military_keep_years_2005 if under_2005 else ctx.params.military_keep_years
    limit = add_months(discharge, 12 * years)
    if request.end_date > limit:
        rule = "2005年入学适用的规定" if under_2005 else "规定"
        return (
            f"保留学籍截止日期 {_d(request.end_date)} 晚于退役日期 {_d(discharge)} 后 {years} 年"
            f"（{_d(limit)}），超出{rule}的保留期限"
        )
    return None


def first_term_end(student: Any) -> date:
    """The end of the student's first term: the first Term ending after enrolment, or
    enrolment + 6 months when the school has not entered its terms."""
    from xueji.org.models import Term

    term = Term.objects.filter(end_date__gt=student.enrollment_date).order_by("end_date").first()
    return term.end_date if term else add_months(student.enrollment_date, 6)


def _transfer_first_term(ctx: Context) -> str | None:
    end = first_term_end(ctx.student)
    if ctx.request.effective_date and ctx.request.effective_date <= end:
        return (
            f"转学生效日期 {_d(ctx.request.effective_date)} 在入学第一学期内"
            f"（第一学期至 {_d(end)} 结束），入学未满一学期不得转学"
        )
    return None


def _transfer_last_year(ctx: Context) -> str | None:
    graduation = ctx.student.expected_graduation_date
    start = add_months(graduation, -12)
    if ctx.request.effective_date and ctx.request.effective_date > start:
        return (
            f"转学生效日期 {_d(ctx.request.effective_date)} 已在毕业前一年内"
            f"（预计毕业日期 {_d(graduation)}），毕业前一年不得转学"
        )
    return None


def _transfer_score_line(ctx: Context) -> str | None:
    score = detail_decimal(ctx.details, "gaokao_score")
    line = detail_decimal(ctx.details, "receiving_line")
    if score is None or line is None:
        return "未填写高考成绩或转入专业录取分数线，无法核对"
    if score < line:
        return f"高考成绩 {score} 低于拟转入专业同一生源地相应年份录取成绩 {line}"
    return None


def _level_rank(code: str) -> int | None:
    from xueji.org.models import CodeItem, CodeTable

    item = CodeItem.objects.filter(table=CodeTable.EDUCATION_LEVEL, code=code).first()
    if item is None:
        return None
    return _LEVEL_RANK.get(str((item.extra or {}).get("diploma_level", code)))


def _transfer_level_up(ctx: Context) -> str | None:
    target = str(ctx.details.get("target_level") or "")
    if not target:
        return "未填写拟转入的学历层次，无法核对"
    current_rank = _level_rank(ctx.student.level)
    target_rank = _level_rank(target)
    if current_rank is not None and target_rank is not None and target_rank > current_rank:
        return "拟由低学历层次转为高学历层次，不得转学"
    return None


def _transfer_directed(ctx: Context) -> str | None:
    if detail_bool(ctx.details, "directed"):
        return "该学生以定向就业招生录取，不得转学"
    return None


TRANSFER_REASON_MIN_CHARS = 10


def _transfer_reason(ctx: Context) -> str | None:
    reason = "".join((ctx.request.reason or "").split())
    if len(reason) < TRANSFER_REASON_MIN_CHARS:
        return (
            f"转学理由过于简单（不足 {TRANSFER_REASON_MIN_CHARS} 个字），"
            "请写明患病、特殊困难或特别需要等正当理由"
        )
    return None


def _terms_completed(student: Any, before: date) -> int:
    from xueji.org.models import Term

    terms = Term.objects.filter(end_date__gt=student.enrollment_date, end_date__lte=before).exclude(
        number=3
    )
    if Term.objects.exists():
        return terms.count()
    months = (before.year - student.enrollment_date.year) * 12 + (
        before.month - student.enrollment_date.month
    )
    return max(months // 6, 0)


def _is_major_change(request: ChangeRequest) -> bool:
    return "major_change_eligibility" in (request.change_type.rules or [])


def _major_change_eligibility(ctx: Context) -> str | None:
    params = ctx.params
    effective = ctx.request.effective_date or ctx.today
    done = _terms_completed(ctx.student, effective)
    if done < params.major_change_min_terms:
        return (
            f"该学生到 {_d(effective)} 只完成 {done} 个学期，学校规定完成 "
            f"{params.major_change_min_terms} 个学期后方可申请转专业"
        )
    earlier = [r for r in ctx.history if _is_major_change(r)]
    if len(earlier) >= params.major_change_max_times:
        return (
            f"该学生已转专业 {len(earlier)} 次，学校规定转专业不超过 "
            f"{params.major_change_max_times} 次"
        )
    return None


def _major_change_target(ctx: Context) -> str | None:
    request = ctx.request
    if not request.target_major_id:
        return "未选择转入专业"
    if request.target_major_id == ctx.student.major_id:
        return "转入专业与当前专业相同"
    return None


def _resumption_check(ctx: Context) -> str | None:
    if not detail_bool(ctx.details, "check_passed"):
        return "学院尚未记录复学复查合格，复查合格方可复学"
    return None


def _president_office(ctx: Context) -> str | None:
    from xueji.workflow.models import StepKind, StepState

    flow_id = ctx.request.flow_id
    if flow_id is None:
        return f"“{ctx.change_type.name}”须经校长办公会研究决定，该申请没有校长办公会环节"
    steps = ctx.request.flow.steps.filter(kind=StepKind.PRESIDENT_OFFICE)
    if not steps.exists():
        return f"“{ctx.change_type.name}”须经校长办公会研究决定，该申请没有校长办公会环节"
    if steps.filter(~Q(state=StepState.APPROVED) | Q(minute_number="")).exists():
        return f"“{ctx.change_type.name}”须经校长办公会研究决定并记录会议纪要编号，该环节尚未完成"
    return None


def _entry_recheck_window(ctx: Context) -> str | None:
    if ctx.details.get("ground") != ENTRY_RECHECK_GROUND:
        return None
    submitted = ctx.request.submitted_at
    day = timezone.localdate(submitted) if submitted else ctx.today
    limit = add_months(ctx.student.enrollment_date, ctx.params.recheck_months)
    if day > limit:
        return (
            f"以“入学复查不合格”为由取消学籍须在入学后 {ctx.params.recheck_months} 个月内"
            f"（{_d(limit)} 前）提出，本申请日期为 {_d(day)}"
        )
    return None


ALL = frozenset(STAGES)
BEFORE_APPLY = frozenset({SUBMIT, APPROVE})

RULES: dict[str, Rule] = {
    rule.code: rule
    for rule in (
        Rule(
            "from_status",
            "适用状态",
            "异动类型的适用状态（学校规定）",
            False,
            ALL,
            _from_status,
            "学生当前的在校状态须在该类型的“适用的当前状态”之内。",
        ),
        Rule(
            "max_study_period",
            "最长学习年限",
            f"{ORDER_41} 第二十五条",
            False,
            BEFORE_APPLY,
            _max_study_period,
            "生效日期、截止日期和异动后的预计毕业日期都不得晚于最长学习年限截止日期"
            "（含休学和保留学籍的时间）。",
        ),
        Rule(
            "suspension_limits",
            "休学次数和期限",
            f"{ORDER_41} 第二十五条（休学次数和期限由学校规定）",
            True,
            BEFORE_APPLY,
            _suspension_limits,
            "休学次数、每次期限和累计期限不超过学校规定。",
        ),
        Rule(
            "military_reservation",
            "入伍保留学籍期限",
            f"{ORDER_41} 第二十七条；2017年9月1日前入学的适用{ORDER_21} 第二十四条",
            True,
            BEFORE_APPLY,
            _military_reservation,
            "保留学籍至退役后 2 年（2005 年规定下为 1 年）。",
        ),
        Rule(
            "transfer_first_term",
            "入学未满一学期不得转学",
            f"{ORDER_41} 第二十二条第（一）项",
            False,
            BEFORE_APPLY,
            _transfer_first_term,
        ),
        Rule(
            "transfer_last_year",
            "毕业前一年不得转学",
            f"{ORDER_41} 第二十二条第（一）项",
            False,
            BEFORE_APPLY,
            _transfer_last_year,
        ),
        Rule(
            "transfer_score_line",
            "高考成绩不低于转入专业录取成绩",
            f"{ORDER_41} 第二十二条第（二）项",
            False,
            BEFORE_APPLY,
            _transfer_score_line,
        ),
        Rule(
            "transfer_level_up",
            "不得由低学历层次转为高学历层次",
            f"{ORDER_41} 第二十二条第（三）项",
            False,
            BEFORE_APPLY,
            _transfer_level_up,
        ),
        Rule(
            "transfer_directed",
            "定向就业招生录取的不得转学",
            f"{ORDER_41} 第二十二条第（四）项",
            False,
            BEFORE_APPLY,
            _transfer_directed,
        ),
        Rule(
            "transfer_reason",
            "须有正当转学理由",
            f"{ORDER_41} 第二十二条第（六）项",
            True,
            BEFORE_APPLY,
            _transfer_reason,
            f"理由至少 {TRANSFER_REASON_MIN_CHARS} 个字；"
            "学籍管理员认定理由正当时可记录理由后豁免。",
        ),
        Rule(
            "major_change_eligibility",
            "转专业条件",
            f"{ORDER_41} 第二十一条（转专业的具体办法由学校制定）",
            True,
            BEFORE_APPLY,
            _major_change_eligibility,
            "完成学校规定的学期数后方可申请，转专业次数不超过学校规定。",
        ),
        Rule(
            "major_change_target",
            "转入专业",
            f"{ORDER_41} 第二十一条",
            False,
            BEFORE_APPLY,
            _major_change_target,
        ),
        Rule(
            "resumption_check",
            "复学须复查合格",
            f"{ORDER_41} 第二十九条",
            False,
            frozenset({APPROVE, APPLY}),
            _resumption_check,
            "学院在审核时记录复查结果；终审和生效时核对。",
        ),
        Rule(
            "president_office",
            "校长办公会研究决定",
            f"{ORDER_41} 第三十一条、第五十六条",
            False,
            frozenset({APPLY}),
            _president_office,
            "退学、取消学籍、开除学籍须经校长办公会（或校长授权的专门会议）研究决定，"
            "学籍管理员记录会议纪要编号后方可生效。",
        ),
        Rule(
            "entry_recheck_window",
            "入学复查期限",
            f"{ORDER_41} 第十一条",
            True,
            BEFORE_APPLY,
            _entry_recheck_window,
            "以入学复查不合格为由取消学籍，须在入学后 3 个月（学校参数）内提出；"
            "复查期后发现弄虚作假的，由学籍管理员记录理由后豁免。",
        ),
    )
}

# Checked for every type whatever its list says: no type may apply to a student in the wrong
# status, and the 校长办公会 cannot be configured away from 退学/取消学籍/开除学籍.
ALWAYS = ("from_status",)


def rule_codes_for(change_type: Any) -> list[str]:
    codes = list(ALWAYS)
    for code in change_type.rules or []:
        if code not in codes:
            codes.append(code)
    if change_type.target_status in PRESIDENT_OFFICE_STATUSES and "president_office" not in codes:
        codes.append("president_office")
    return codes


def overridden_codes(request: ChangeRequest) -> set[str]:
    return {
        str(row.get("rule"))
        for row in request.overrides or []
        if isinstance(row, dict) and str(row.get("reason", "")).strip()
    }


def check_request(
    request: ChangeRequest,
    *,
    today: date | None = None,
    stage: str = SUBMIT,
    params: RuleParameters | None = None,
) -> list[RuleFailure]:
    """Run the request's rules for `stage` and return the failures (empty = passes).

    `request` may be unsaved (an application being checked before it is stored). Overridable
    failures that a registrar set aside in `request.overrides` (with a reason) are left out;
    rules that are not overridable are always reported. Unknown rule codes are ignored (the
    catalogue refuses them on save).
    """
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    if params is None:
        params, _created = RuleParameters.objects.get_or_create(pk=1)
    ctx = Context(request=request, params=params, today=today or timezone.localdate(), stage=stage)
    skipped = overridden_codes(request)
    failures: list[RuleFailure] = []
    for code in rule_codes_for(request.change_type):
        rule = RULES.get(code)
        if rule is None or stage not in rule.stages:
            continue
        if rule.overridable and code in skipped:
            continue
        message = rule.check(ctx)
        if message:
            failures.append(rule.failure(message))
    return failures


def describe_failures(failures: list[RuleFailure]) -> str:
    """One line for a message box: each failure with its article."""
    return "；".join(f"{f.message}（{f.title}，{f.article}）" for f in failures)


def rule_choices() -> list[tuple[str, str]]:
    return [(code, f"{rule.title}（{rule.article}）") for code, rule in RULES.items()]
