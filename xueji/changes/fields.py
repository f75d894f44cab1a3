"""The extra fields a change type may ask the applicant for, beyond reason and effective date.

A type lists field codes in `ChangeType.applicant_fields`; this table says what each one is
(label, kind, validation) so that the catalogue editor offers exactly these, the application
form and the API can render and parse them, and `xueji.changes.rules` knows where to read them.
Six of them live on `ChangeRequest` columns (`column=True`); the others go to
`ChangeRequest.details` as JSON-friendly values (ISO dates, decimal strings, booleans, codes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class FieldKind:
    DATE = "date"
    DECIMAL = "decimal"
    TEXT = "text"
    BOOL = "bool"
    CHOICE = "choice"
    FK = "fk"


# 退学 / 取消学籍 grounds. 教育部令第41号 第三十条 lists the grounds for 退学 (items 一–六, and
# the student's own request in its second paragraph); 第十一条 makes failing the 入学复查 (fraud)
# a ground for 取消学籍.
GROUND_CHOICES: tuple[tuple[str, Promise], ...] = (
    ("academic", _("学业成绩未达到学校要求或在规定学习年限内未完成学业（第三十条第（一）项）")),
    ("no_resumption", _("休学、保留学籍期满未申请复学或复查不合格（第三十条第（二）项）")),
    ("illness", _("患有疾病或意外伤残不能继续在校学习（第三十条第（三）项）")),
    ("absence", _("未经批准连续两周未参加学校规定的教学活动（第三十条第（四）项）")),
    ("unregistered", _("超过规定期限未注册又未履行暂缓注册手续（第三十条第（五）项）")),
    ("school_rule", _("学校规定的不能完成学业、应予退学的其他情形（第三十条第（六）项）")),
    ("own_request", _("本人申请（第三十条第二款）")),
    ("entry_recheck_failed", _("入学复查不合格（第十一条）")),
    ("other", _("其他")),
)
ENTRY_RECHECK_GROUND = "entry_recheck_failed"

_TRUE = {"1", "true", "on", "yes", "是"}
_FALSE = {"", "0", "false", "off", "no", "否"}


@dataclass(frozen=True)
class ApplicantField:
    code: str
    label: Promise
    kind: str
    help_text: Promise | str = ""
    # Stored on a ChangeRequest column of the same name rather than in `details`.
    column: bool = False
    # Who fills it: the applicant, or an approver (e.g. the college records the 复查 result).
    filled_by: str = "applicant"
    choices: tuple[tuple[str, Any], ...] = ()
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    max_length: int = 200
    # For kind "fk": the model the id refers to ("org.Major").
    model: str = ""
    # For kind "choice" drawn from a code table (the choices are then read from the database).
    code_table: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        """What a client needs to render and validate the field (labels as text)."""
        return {
            "code": self.code,
            "label": str(self.label),
            "kind": self.kind,
            "help_text": str(self.help_text),
            "filled_by": self.filled_by,
            "choices": [{"value": v, "label": str(label)} for v, label in self.choice_list()],
            "min_value": str(self.min_value) if self.min_value is not None else None,
            "max_value": str(self.max_value) if self.max_value is not None else None,
        }

    def choice_list(self) -> list[tuple[str, Any]]:
        if self.code_table:
            from xueji.org.selectors import code_names

            return list(code_names(self.code_table).items())
        return list(self.choices)


APPLICANT_FIELDS: dict[str, ApplicantField] = {
    spec.code: spec
    for spec in (
        ApplicantField(
            "end_date",
            _("截止日期"),
            FieldKind.DATE,
            _("休学、保留学籍等有期限的异动的结束日期"),
            column=True,
        ),
        ApplicantField(
            "years",
            _("年数"),
            FieldKind.DECIMAL,
            _("延长学习年限的年数，0.5 的整数倍"),
            column=True,
            min_value=Decimal("0.5"),
            max_value=Decimal("4"),
        ),
        ApplicantField(
            "target_college", _("转入学院"), FieldKind.FK, column=True, model="org.College"
        ),
        ApplicantField("target_major", _("转入专业"), FieldKind.FK, column=True, model="org.Major"),
        ApplicantField(
            "target_class", _("转入班级"), FieldKind.FK, column=True, model="org.SchoolClass"
        ),
        ApplicantField(
            "target_cohort", _("转入年级"), FieldKind.FK, column=True, model="org.Cohort"
        ),
        ApplicantField("enlist_date", _("入伍日期"), FieldKind.DATE, _("以入伍通知书为准")),
        ApplicantField(
            "discharge_date",
            _("退役日期"),
            FieldKind.DATE,
            _("以退役证明为准；入伍时尚不知道的可以复学时补填"),
        ),
        ApplicantField(
            "gaokao_score",
            _("高考成绩"),
            FieldKind.DECIMAL,
            _("本人高考总分"),
            min_value=Decimal("0"),
            max_value=Decimal("1000"),
        ),
        ApplicantField(
            "receiving_line",
            _("转入专业录取分数线"),
            FieldKind.DECIMAL,
            _("拟转入学校相关专业在本人生源地同一年份的录取成绩"),
            min_value=Decimal("0"),
            max_value=Decimal("1000"),
        ),
        ApplicantField(
            "target_level",
            _("转入层次"),
            FieldKind.CHOICE,
            _("拟转入的学历层次"),
            code_table="education_level",
        ),
        ApplicantField(
            "directed",
            _("定向就业招生录取"),
            FieldKind.BOOL,
            _("以定向就业招生录取的学生不得转学"),
        ),
        ApplicantField(
            "destination_school", _("转入学校/培养单位"), FieldKind.TEXT, max_length=100
        ),
        ApplicantField("source_school", _("转出学校"), FieldKind.TEXT, max_length=100),
        ApplicantField(
            "check_passed",
            _("复学复查合格"),
            FieldKind.BOOL,
            _("由学院在审核时记录复查结果"),
            filled_by="approver",
        ),
        ApplicantField(
            "minute_ref",
            _("决定文号"),
            FieldKind.TEXT,
            _("处分决定、复议或申诉决定等文件的编号"),
            max_length=60,
        ),
        ApplicantField("ground", _("事由"), FieldKind.CHOICE, choices=GROUND_CHOICES),
    )
}


def field_choices() -> list[tuple[str, Any]]:
    """(code, label) for every known field, for the catalogue editor."""
    return [(code, spec.label) for code, spec in APPLICANT_FIELDS.items()]


def parse_value(code: str, raw: Any) -> Any:
    """The stored form of one applicant field's value (None when empty).

    Dates become ISO strings, decimals strings, booleans booleans, foreign keys ints. Raises
    ValueError with a Chinese message when the value does not fit.
    """
    spec = APPLICANT_FIELDS[code]
    if spec.kind == FieldKind.BOOL:
        if isinstance(raw, bool):
            return raw
        text = str(raw if raw is not None else "").strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(f"“{spec.label}”应为是或否")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if spec.kind == FieldKind.DATE:
        if isinstance(raw, date):
            return raw.isoformat()
        try:
            return date.fromisoformat(str(raw).strip()).isoformat()
        except ValueError:
            raise ValueError(f"“{spec.label}”的日期格式应为 YYYY-MM-DD") from None
    if spec.kind == FieldKind.DECIMAL:
        try:
            number = Decimal(str(raw).strip())
        except InvalidOperation:
            raise ValueError(f"“{spec.label}”应为数字") from None
        if not number.is_finite():
            raise ValueError(f"“{spec.label}”应为数字")
        if spec.min_value is not None and number < spec.min_value:
            raise ValueError(f"“{spec.label}”不能小于 {spec.min_value}")
        if spec.max_value is not None and number > spec.max_value:
            raise ValueError(f"“{spec.label}”不能大于 {spec.max_value}")
        return str(number)
    if spec.kind == FieldKind.CHOICE:
        value = str(raw).strip()
        if value not in {v for v, _label in spec.choice_list()}:
            raise ValueError(f"“{spec.label}”没有“{value}”这一选项")
        return value
    if spec.kind == FieldKind.FK:
        try:
            return int(str(raw).strip())
        except ValueError:
            raise ValueError(f"“{spec.label}”所选项目不存在") from None
    text = str(raw).strip()
    if len(text) > spec.max_length:
        raise ValueError(f"“{spec.label}”不能超过 {spec.max_length} 个字")
    return text


def detail_date(details: dict[str, Any], code: str) -> date | None:
    """A date stored in `details` (ISO string), or None when absent or malformed."""
    value = details.get(code)
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def detail_decimal(details: dict[str, Any], code: str) -> Decimal | None:
    value = details.get(code)
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def detail_bool(details: dict[str, Any], code: str) -> bool:
    value = details.get(code)
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in _TRUE
