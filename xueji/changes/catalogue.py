"""The catalogue of change types (data the registrar edits) and the school's rule parameters.

`DEFAULT_TYPES` are the built-ins, following 普通高等学校学生管理规定（教育部令第41号）;
`change_types_install_defaults` creates the missing ones and never touches a registrar's edits.
`change_type_save` and `rule_parameters_save` are the only writes, both registrar-only and
audited with before/after values.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.text import slugify

from xueji.accounts.models import Role, User
from xueji.audit.services import audit_record
from xueji.changes.fields import APPLICANT_FIELDS
from xueji.changes.models import ChangeType, DateEffect, Initiator, RuleParameters
from xueji.changes.rules import PRESIDENT_OFFICE_STATUSES, RULES
from xueji.core.context import Actor
from xueji.core.exceptions import DomainError, PermissionDenied, ValidationFailed
from xueji.students.models import StudentStatus
from xueji.workflow.models import StepKind

S = StudentStatus
STUDENT, COUNSELLOR, COLLEGE, REGISTRAR = (
    Initiator.STUDENT.value,
    Initiator.COUNSELLOR.value,
    Initiator.COLLEGE.value,
    Initiator.REGISTRAR.value,
)
ALL_INITIATORS = [STUDENT, COUNSELLOR, COLLEGE, REGISTRAR]
STAFF_INITIATORS = [COUNSELLOR, COLLEGE, REGISTRAR]
FULL_CHAIN = [StepKind.COUNSELLOR.value, StepKind.COLLEGE.value, StepKind.REGISTRAR.value]
OFFICE = StepKind.PRESIDENT_OFFICE.value

# 学籍异动类别码 (the education-management standard's code list for 学籍异动类别, as used in
# 学籍异动 data; docs/howto/chsi-exports.md names the source and its limits). The built-ins
# carry theirs; a school-defined type may pick one, or stay without (reported by name only).
CHSI_CATEGORIES: dict[str, str] = {
    "02": "留级",
    "03": "降级",
    "06": "延长年限",
    "11": "休学",
    "12": "复学",
    "13": "停学",
    "14": "保留入学资格",
    "15": "恢复入学资格",
    "16": "取消入学资格",
    "17": "恢复学籍",
    "18": "取消学籍",
    "19": "保留学籍",
    "21": "转学（转出）",
    "22": "转学（转入）",
    "23": "转专业",
    "24": "专升本",
    "26": "转系",
    "29": "转班级",
    "31": "退学",
    "42": "开除学籍",
    "51": "死亡",
    "61": "提前毕业",
    "62": "结业",
    "63": "肄业",
    "99": "其他",
}

# The built-in types. Article numbers refer to 教育部令第41号 unless said otherwise.
DEFAULT_TYPES: list[dict[str, Any]] = [
    {
        "code": "suspension",
        "name": "休学",
        "chsi_category": "11",
        "name_en": "Suspension of study",
        "description": "第二十五条：休学次数和期限由学校规定；最长学习年限含休学时间，"
        "所以休学顺延预计毕业日期，不顺延最长学习年限截止日期。因病休学须交医院诊断证明。",
        "target_status": S.SUSPENDED,
        "from_statuses": [S.IN_SCHOOL],
        "graduation_effect": DateEffect.SHIFT_BY_PERIOD,
        "max_study_effect": DateEffect.NONE,
        "has_period": True,
        "applicant_fields": [],
        "required_attachments": ["休学证明材料（因病休学交医院诊断证明）"],
        "initiators": ALL_INITIATORS,
        "steps": FULL_CHAIN,
        "college_may_finish": True,
        "rules": ["from_status", "max_study_period", "suspension_limits"],
    },
    {
        "code": "resumption",
        "name": "复学",
        "chsi_category": "12",
        "name_en": "Resumption of study",
        "description": "第二十九条：休学或保留学籍期满前提出复学申请，经学校复查合格方可复学；"
        "复查结果由学院在审核时记录。保留入学资格期满入学（第十条）也走此类型。",
        "target_status": S.IN_SCHOOL,
        "from_statuses": [S.SUSPENDED, S.RESERVED, S.ADMISSION_RESERVED],
        "applicant_fields": ["check_passed"],
        "required_attachments": ["复学申请材料（因病休学交医院康复证明）"],
        "initiators": ALL_INITIATORS,
        "steps": FULL_CHAIN,
        "college_may_finish": True,
        "rules": ["from_status", "max_study_period", "resumption_check"],
    },
    {
        "code": "admission_reservation",
        "name": "保留入学资格",
        "chsi_category": "14",
        "name_en": "Deferred admission",
        "description": "第十条：保留入学资格期间不具有学籍；期满前申请入学，经审查合格后入学。"
        "保留期间不计入学习年限，预计毕业日期和最长学习年限截止日期都顺延。",
        "target_status": S.ADMISSION_RESERVED,
        "from_statuses": [S.IN_SCHOOL],
        "graduation_effect": DateEffect.SHIFT_BY_PERIOD,
        "max_study_effect": DateEffect.SHIFT_BY_PERIOD,
        "has_period": True,
        "required_attachments": ["保留入学资格证明材料"],
        "initiators": [STUDENT, COLLEGE, REGISTRAR],
        "steps": [StepKind.COLLEGE.value, StepKind.REGISTRAR.value],
        "rules": ["from_status"],
    },
    {
        "code": "military_reservation",
        "name": "保留学籍（入伍）",
        "chsi_category": "19",
        "name_en": "Reservation for military service",
        "description": "第二十七条：应征入伍的，学校保留其入学资格或学籍至退役后2年"
        "（2017年9月1日前入学、适用2005年规定的为1年）。服役时间默认不计入最长学习年限"
        "（第二十五条“除另有规定外”；学校另有规定时可改为“不变”）。",
        "target_status": S.RESERVED,
        "from_statuses": [S.IN_SCHOOL, S.SUSPENDED],
        "graduation_effect": DateEffect.SHIFT_BY_PERIOD,
        "max_study_effect": DateEffect.SHIFT_BY_PERIOD,
        "has_period": True,
        "applicant_fields": ["enlist_date", "discharge_date"],
        "required_attachments": ["入伍通知书"],
        "initiators": ALL_INITIATORS,
        "steps": FULL_CHAIN,
        "rules": ["from_status", "military_reservation"],
    },
    {
        "code": "other_reservation",
        "name": "保留学籍（联合培养等）",
        "chsi_category": "19",
        "name_en": "Reservation for joint training",
        "description": "第二十七条：参加学校组织的跨校联合培养项目，在联合培养学校学习期间"
        "学校同时为其保留学籍；学习时间照常计算。",
        "target_status": S.RESERVED,
        "from_statuses": [S.IN_SCHOOL],
        "has_period": True,
        "applicant_fields": ["destination_school"],
        "required_attachments": ["联合培养项目派出文件"],
        "initiators": [STUDENT, COLLEGE, REGISTRAR],
        "steps": [StepKind.COLLEGE.value, StepKind.REGISTRAR.value],
        "rules": ["from_status", "max_study_period"],
    },
    {
        "code": "major_change",
        "name": "转专业",
        "chsi_category": "23",
        "name_en": "Change of major",
        "description": "第二十一条：转专业的具体办法由学校制定（完成学期数、次数见规则参数）。",
        "from_statuses": [S.IN_SCHOOL],
        "moves_org": True,
        "applicant_fields": ["target_college", "target_major", "target_class"],
        "initiators": ALL_INITIATORS,
        "steps": FULL_CHAIN,
        "batch_approvable": True,
        "rules": ["from_status", "major_change_target", "major_change_eligibility"],
    },
    {
        "code": "transfer_out",
        "name": "转学转出",
        "chsi_category": "21",
        "name_en": "Transfer to another institution",
        "description": "第二十二条列出不得转学的情形；第二十三条：由本人申请，经所在学校和"
        "拟转入学校同意，由转入学校审核。",
        "target_status": S.TRANSFERRED_OUT,
        "from_statuses": [S.IN_SCHOOL],
        "applicant_fields": [
            "destination_school",
            "gaokao_score",
            "receiving_line",
            "target_level",
            "directed",
        ],
        "required_attachments": ["转学申请书", "拟转入学校同意接收的证明"],
        "initiators": [STUDENT],
        "steps": FULL_CHAIN,
        "rules": [
            "from_status",
            "transfer_first_term",
            "transfer_last_year",
            "transfer_score_line",
            "transfer_level_up",
            "transfer_directed",
            "transfer_reason",
        ],
    },
    {
        "code": "transfer_in",
        "name": "转学转入",
        "chsi_category": "22",
        "name_en": "Transfer from another institution",
        "description": "第二十三条：转入学校审核转学条件，经校长办公会或专题会议研究决定可以"
        "转入；第二十四条：转学完成后3个月内由转入学校报省级教育行政部门备案。",
        "target_status": S.IN_SCHOOL,
        "from_statuses": [S.IN_SCHOOL],
        "moves_org": True,
        "applicant_fields": [
            "source_school",
            "gaokao_score",
            "receiving_line",
            "directed",
            "target_college",
            "target_major",
            "target_class",
        ],
        "required_attachments": ["转出学校同意转出的证明", "高考成绩证明"],
        "initiators": [COLLEGE, REGISTRAR],
        "steps": [StepKind.COLLEGE.value, StepKind.REGISTRAR.value, OFFICE],
        "rules": ["from_status", "transfer_score_line", "transfer_directed", "transfer_reason"],
    },
    {
        "code": "repeat_year",
        "name": "降级/留级",
        "chsi_category": "03",
        "name_en": "Repeating a year",
        "description": "编入较低年级学习；预计毕业日期按新年级重新计算，最长学习年限不变。",
        "from_statuses": [S.IN_SCHOOL],
        "moves_cohort": True,
        "graduation_effect": DateEffect.RECOMPUTE,
        "applicant_fields": ["target_cohort", "target_class"],
        "initiators": [*STAFF_INITIATORS, STUDENT],
        "steps": FULL_CHAIN,
        "rules": ["from_status", "max_study_period"],
    },
    {
        "code": "extension",
        "name": "延长学习年限/延期毕业",
        "chsi_category": "06",
        "name_en": "Extension of study",
        "description": "在最长学习年限内延长学习时间，顺延预计毕业日期。",
        "from_statuses": [S.IN_SCHOOL],
        "graduation_effect": DateEffect.SHIFT_BY_YEARS,
        "applicant_fields": ["years"],
        "initiators": ALL_INITIATORS,
        "steps": FULL_CHAIN,
        "college_may_finish": True,
        "batch_approvable": True,
        "rules": ["from_status", "max_study_period"],
    },
    {
        "code": "withdrawal",
        "name": "退学",
        "chsi_category": "31",
        "name_en": "Withdrawal",
        "description": "第三十条列出退学情形，学生本人也可申请退学；第三十一条、第五十六条："
        "由校长办公会或校长授权的专门会议研究决定，事先进行合法性审查。",
        "target_status": S.WITHDRAWN,
        "from_statuses": [S.IN_SCHOOL, S.SUSPENDED, S.RESERVED],
        "applicant_fields": ["ground"],
        "initiators": ALL_INITIATORS,
        "steps": [*FULL_CHAIN, OFFICE],
        "rules": ["from_status", "president_office"],
    },
    {
        "code": "cancellation",
        "name": "取消学籍",
        "chsi_category": "18",
        "name_en": "Cancellation of student status",
        "description": "第十一条：入学后3个月内复查，发现弄虚作假、徇私舞弊等情形的取消学籍；"
        "第五十六条：由校长办公会研究决定。",
        "target_status": S.CANCELLED,
        "from_statuses": [S.IN_SCHOOL, S.SUSPENDED, S.RESERVED],
        "applicant_fields": ["ground"],
        "required_attachments": ["复查结论或调查材料"],
        "initiators": [COLLEGE, REGISTRAR],
        "steps": [StepKind.COLLEGE.value, StepKind.REGISTRAR.value, OFFICE],
        "rules": ["from_status", "entry_recheck_window", "president_office"],
    },
    {
        "code": "expulsion",
        "name": "开除学籍",
        "chsi_category": "42",
        "name_en": "Expulsion",
        "description": "纪律处分中最重的一种；第五十六条：由校长办公会研究决定，事先进行"
        "合法性审查。学生可在10日内提出申诉。",
        "target_status": S.EXPELLED,
        "from_statuses": [S.IN_SCHOOL, S.SUSPENDED, S.RESERVED],
        "applicant_fields": ["minute_ref"],
        "required_attachments": ["处分决定书"],
        "initiators": [COLLEGE, REGISTRAR],
        "steps": [StepKind.COLLEGE.value, StepKind.REGISTRAR.value, OFFICE],
        "rules": ["from_status", "president_office"],
    },
    {
        "code": "death",
        "name": "死亡",
        "chsi_category": "51",
        "name_en": "Death",
        "description": "生效日期为死亡日期。",
        "target_status": S.DECEASED,
        "from_statuses": [S.IN_SCHOOL, S.SUSPENDED, S.RESERVED],
        "required_attachments": ["死亡证明"],
        "initiators": STAFF_INITIATORS,
        "steps": [StepKind.COLLEGE.value, StepKind.REGISTRAR.value],
        "rules": ["from_status"],
    },
    # 毕业/结业/肄业: the outcomes (教育部令第41号, section 毕业、结业与肄业; article numbers not
    # cited here until checked). The graduation audit is capability 9; until it lands these
    # types let colleges and the registrar record an outcome, which diploma numbering reads.
    {
        "code": "graduation",
        "name": "毕业",
        "chsi_category": "",
        "name_en": "Graduation",
        "description": "修完培养方案规定内容、成绩合格、达到毕业要求的，准予毕业，颁发毕业证书。"
        "毕业生由“毕业证书电子注册”上报学信网，不列入学籍异动上报。",
        "target_status": S.GRADUATED,
        "from_statuses": [S.IN_SCHOOL],
        "initiators": [COLLEGE, REGISTRAR],
        "steps": [StepKind.COLLEGE.value, StepKind.REGISTRAR.value],
        "batch_approvable": True,
        "notify_departments": True,
        "rules": ["from_status"],
    },
    {
        "code": "completion",
        "name": "结业",
        "chsi_category": "62",
        "name_en": "Completion without graduation",
        "description": "在学校规定年限内修完培养方案规定内容，但未达到毕业要求的，准予结业，"
        "颁发结业证书。",
        "target_status": S.COMPLETED,
        "from_statuses": [S.IN_SCHOOL],
        "initiators": [COLLEGE, REGISTRAR],
        "steps": [StepKind.COLLEGE.value, StepKind.REGISTRAR.value],
        "batch_approvable": True,
        "rules": ["from_status"],
    },
    {
        "code": "non_completion",
        "name": "肄业",
        "chsi_category": "63",
        "name_en": "Non-completion (certificate of study)",
        "description": "学满一学年以上退学的学生，学校颁发肄业证书；肄业证书不作学历电子注册。",
        "target_status": S.NON_COMPLETION,
        "from_statuses": [S.IN_SCHOOL, S.SUSPENDED, S.RESERVED],
        "initiators": [COLLEGE, REGISTRAR],
        "steps": [StepKind.COLLEGE.value, StepKind.REGISTRAR.value],
        "rules": ["from_status"],
    },
    {
        "code": "reinstatement",
        "name": "恢复学籍",
        "chsi_category": "17",
        "name_en": "Reinstatement",
        "description": "申诉、复议等撤销了此前退学、取消学籍或开除学籍的决定时使用；"
        "以新的异动撤销旧的异动，历史记录不改。",
        "target_status": S.IN_SCHOOL,
        "from_statuses": [S.WITHDRAWN, S.CANCELLED, S.EXPELLED, S.TRANSFERRED_OUT],
        "applicant_fields": ["minute_ref"],
        "required_attachments": ["撤销原决定的文件"],
        "initiators": [REGISTRAR],
        "steps": [StepKind.REGISTRAR.value, OFFICE],
        "rules": ["from_status", "max_study_period"],
    },
]

# Declarations a ChangeType has, with their defaults (what `change_type_save` reads).
DECLARATION_DEFAULTS: dict[str, Any] = {
    "name_en": "",
    "chsi_category": "",
    "description": "",
    "is_active": True,
    "order": 100,
    "target_status": "",
    "from_statuses": [],
    "moves_org": False,
    "moves_cohort": False,
    "graduation_effect": DateEffect.NONE,
    "max_study_effect": DateEffect.NONE,
    "has_period": False,
    "applicant_fields": [],
    "required_attachments": [],
    "initiators": [],
    "steps": [],
    "college_may_finish": False,
    "batch_approvable": False,
    "step_days": 5,
    "rules": [],
    "notify_departments": True,
}
DECLARATIONS = ("code", "name", *DECLARATION_DEFAULTS)
_STEP_ORDER = [kind.value for kind in StepKind]
PARAMETER_FIELDS = (
    "max_extra_years",
    "suspension_max_times",
    "suspension_max_months",
    "suspension_total_months",
    "military_keep_years",
    "military_keep_years_2005",
    "recheck_months",
    "major_change_max_times",
    "major_change_min_terms",
)


# --- reads and permission ------------------------------------------------------------------


def can_manage_change_types(user: User | None) -> bool:
    """Only the school registrar edits the catalogue and the rule parameters."""
    return bool(user and user.is_authenticated and user.is_active and user.has_role(Role.REGISTRAR))


def change_type_list(*, include_inactive: bool = False) -> QuerySet[ChangeType]:
    types = ChangeType.objects.all()
    return types if include_inactive else types.filter(is_active=True)


def rule_parameters_get() -> RuleParameters:
    params, _created = RuleParameters.objects.get_or_create(pk=1)
    return params


# --- writes --------------------------------------------------------------------------------


def _require_registrar(actor: Actor) -> None:
    if actor.user is not None and not can_manage_change_types(actor.user):
        raise PermissionDenied("只有校级学籍管理员可以维护异动类型和学籍规则参数。")


def _snapshot(change_type: ChangeType) -> dict[str, Any]:
    return {name: getattr(change_type, name) for name in DECLARATIONS}


def _params_snapshot(params: RuleParameters) -> dict[str, Any]:
    return {name: str(getattr(params, name)) for name in PARAMETER_FIELDS}


def change_types_install_defaults(*, actor: Actor) -> int:
    """Create the built-in types that are missing, and the rule parameters row (id=1).

    Idempotent: an existing type (built-in or the school's own, edited or not) is left exactly
    as it is. Returns how many types were created; one audit event per created type.
    """
    created = 0
    with transaction.atomic():
        RuleParameters.objects.get_or_create(pk=1)
        existing = set(ChangeType.objects.values_list("code", flat=True))
        for order, spec in enumerate(DEFAULT_TYPES, start=1):
            if spec["code"] in existing:
                continue
            values = {**DECLARATION_DEFAULTS, "order": order * 10, **spec}
            change_type = ChangeType.objects.create(is_builtin=True, **values)
            audit_record(
                actor=actor,
                action="change_type.install",
                target=change_type,
                summary=f"安装内置异动类型“{change_type.name}”（{change_type.code}）",
                after=_snapshot(change_type),
            )
            created += 1
    return created


def _as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def validate_declarations(values: dict[str, Any], *, instance: ChangeType | None) -> dict[str, Any]:
    """Check a type's declarations against the regulation and the known codes.

    Returns normalised values; raises ValidationFailed with every problem found (field →
    messages in Chinese, citing the article where the regulation decides).
    """
    errors: dict[str, list[str]] = {}

    def error(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    clean = dict(values)
    code = str(clean.get("code") or "").strip()
    if instance is not None and code and code != instance.code:
        error("code", "已有异动类型的代码不能修改（历史申请引用它）。")
    if not code:
        error("code", "请填写代码。")
    elif slugify(code) != code or len(code) > 40:
        error("code", "代码只能由小写字母、数字、下划线和连字符组成，不超过 40 个字符。")
    elif instance is None and ChangeType.objects.filter(code=code).exists():
        error("code", f"代码“{code}”已被使用。")
    clean["code"] = code
    name = str(clean.get("name") or "").strip()
    if not name:
        error("name", "请填写名称。")
    elif len(name) > 40:
        error("name", "名称不能超过 40 个字。")
    else:
        duplicate = ChangeType.objects.filter(name=name)
        if instance is not None:
            duplicate = duplicate.exclude(pk=instance.pk)
        if duplicate.exists():
            error("name", f"已有名为“{name}”的异动类型。")
    clean["name"] = name

    category = str(clean.get("chsi_category") or "").strip()
    if category and category not in CHSI_CATEGORIES:
        known = "、".join(f"{k} {v}" for k, v in CHSI_CATEGORIES.items())
        error("chsi_category", f"学信网异动类别码“{category}”不在代码表中（{known}）。")
    clean["chsi_category"] = category

    target = str(clean.get("target_status") or "")
    if target and target not in S.values:
        error("target_status", f"没有“{target}”这种在校状态。")
    clean["target_status"] = target
    from_statuses = [str(s) for s in _as_list(clean.get("from_statuses"))]
    unknown = [s for s in from_statuses if s not in S.values]
    if unknown:
        error("from_statuses", "没有这些在校状态：" + "、".join(unknown))
    clean["from_statuses"] = [s for s in S.values if s in from_statuses]

    for field in ("graduation_effect", "max_study_effect"):
        effect = str(clean.get(field) or DateEffect.NONE)
        if effect not in DateEffect.values:
            error(field, f"没有“{effect}”这种日期变化方式。")
        clean[field] = effect

    fields = [str(f) for f in _as_list(clean.get("applicant_fields"))]
    unknown = [f for f in fields if f not in APPLICANT_FIELDS]
    if unknown:
        error("applicant_fields", "没有这些申请填写项：" + "、".join(unknown))
    clean["applicant_fields"] = [f for f in APPLICANT_FIELDS if f in fields]

    effects = (clean["graduation_effect"], clean["max_study_effect"])
    if DateEffect.SHIFT_BY_PERIOD in effects and not clean.get("has_period"):
        error("has_period", "按异动期限顺延日期的类型须“有起止期限”。")
    if DateEffect.SHIFT_BY_YEARS in effects and "years" not in clean["applicant_fields"]:
        error("applicant_fields", "按年数顺延日期的类型须请申请人填写“年数”。")
    if DateEffect.RECOMPUTE in effects and not clean.get("moves_cohort"):
        error("moves_cohort", "按新年级重新计算日期的类型须“变更年级”。")
    if clean.get("moves_org") and "target_major" not in clean["applicant_fields"]:
        error("applicant_fields", "变更学院/专业/班级的类型须请申请人填写“转入专业”。")
    if clean.get("moves_cohort") and "target_cohort" not in clean["applicant_fields"]:
        error("applicant_fields", "变更年级的类型须请申请人填写“转入年级”。")

    attachments = [str(a).strip() for a in _as_list(clean.get("required_attachments"))]
    attachments = [a for a in attachments if a]
    if any(len(a) > 100 for a in attachments):
        error("required_attachments", "材料名称不能超过 100 个字。")
    if len(set(attachments)) != len(attachments):
        error("required_attachments", "必交材料有重复。")
    clean["required_attachments"] = attachments

    initiators = [str(i) for i in _as_list(clean.get("initiators"))]
    unknown = [i for i in initiators if i not in Initiator.values]
    if unknown:
        error("initiators", "没有这些发起方：" + "、".join(unknown))
    if not initiators:
        error("initiators", "请至少选择一个可发起人。")
    clean["initiators"] = [i for i in Initiator.values if i in initiators]

    steps = [str(s) for s in _as_list(clean.get("steps"))]
    unknown = [s for s in steps if s not in _STEP_ORDER]
    if unknown:
        error("steps", "没有这些审批环节：" + "、".join(unknown))
    elif not steps:
        error("steps", "请至少选择一个审批环节。")
    elif len(set(steps)) != len(steps):
        error("steps", "审批环节不能重复。")
    elif OFFICE in steps and steps[-1] != OFFICE:
        error("steps", "校长办公会决定须是最后一个审批环节。")
    if target in PRESIDENT_OFFICE_STATUSES and (not steps or steps[-1] != OFFICE):
        label = S(target).label
        error(
            "steps",
            f"变更为“{label}”的异动须以“校长办公会决定”为最后一个审批环节"
            "（教育部令第41号 第三十一条、第五十六条）。",
        )
    clean["steps"] = steps
    if clean.get("college_may_finish") and StepKind.COLLEGE.value not in steps:
        error("college_may_finish", "授权学院终审的类型须有“学院审核”环节。")

    codes = [str(r) for r in _as_list(clean.get("rules"))]
    unknown = [r for r in codes if r not in RULES]
    if unknown:
        error("rules", "没有这些校验规则：" + "、".join(unknown))
    if OFFICE in steps and "president_office" not in codes:
        codes.append("president_office")
    if "from_status" not in codes:
        codes.insert(0, "from_status")
    clean["rules"] = [r for r in RULES if r in codes]

    try:
        days = int(clean.get("step_days") or 0)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= 60:
        error("step_days", "每步办理期限应为 1–60 天。")
    clean["step_days"] = days
    try:
        order = int(clean.get("order") if clean.get("order") is not None else 100)
    except (TypeError, ValueError):
        order = -1
    if not 0 <= order <= 32767:
        error("order", "排序应为 0–32767 的整数。")
    clean["order"] = order
    for flag in (
        "is_active",
        "moves_org",
        "moves_cohort",
        "has_period",
        "college_may_finish",
        "batch_approvable",
        "notify_departments",
    ):
        clean[flag] = bool(clean.get(flag))
    clean["name_en"] = str(clean.get("name_en") or "").strip()[:80]
    clean["description"] = str(clean.get("description") or "").strip()
    if errors:
        raise ValidationFailed(errors)
    return clean


def change_type_save(
    *, actor: Actor, instance: ChangeType | None, data: dict[str, Any]
) -> ChangeType:
    """Create a type (instance=None) or change an existing one's declarations.

    `data` may be partial when editing: missing declarations keep their current values.
    Registrar only (PermissionDenied otherwise). Raises ValidationFailed when a declaration is
    unknown or against the regulation — e.g. a type ending 学籍 (退学, 取消学籍, 开除学籍) whose
    chain does not end with the 校长办公会. Audited with before/after.
    """
    _require_registrar(actor)
    current = _snapshot(instance) if instance is not None else dict(DECLARATION_DEFAULTS)
    unknown = sorted(set(data) - set(DECLARATIONS))
    if unknown:
        raise ValidationFailed({name: ["没有这一项声明。"] for name in unknown})
    values = validate_declarations({**current, **data}, instance=instance)
    change_type = instance if instance is not None else ChangeType()
    before = _snapshot(instance) if instance is not None else None
    for name, value in values.items():
        setattr(change_type, name, value)
    verb = "修改" if before else "新建"
    with transaction.atomic():
        try:
            change_type.save()
        except IntegrityError as exc:
            raise DomainError("与已有的异动类型重复。", field="code") from exc
        audit_record(
            actor=actor,
            action="change_type.save",
            target=change_type,
            summary=f"{verb}异动类型“{change_type.name}”（{change_type.code}）",
            before=before,
            after=_snapshot(change_type),
        )
    return change_type


# Range of each parameter: (minimum, maximum, label).
PARAMETER_LIMITS: dict[str, tuple[Decimal, Decimal, str]] = {
    "max_extra_years": (Decimal("0"), Decimal("8"), "最长学习年限：学制外增加年数"),
    "suspension_max_times": (Decimal("0"), Decimal("10"), "休学次数上限"),
    "suspension_max_months": (Decimal("1"), Decimal("96"), "每次休学最长（月）"),
    "suspension_total_months": (Decimal("1"), Decimal("96"), "累计休学最长（月）"),
    "military_keep_years": (Decimal("0"), Decimal("10"), "入伍保留学籍：退役后年数"),
    "military_keep_years_2005": (Decimal("0"), Decimal("10"), "入伍保留学籍：退役后年数（2005）"),
    "recheck_months": (Decimal("1"), Decimal("12"), "入学复查期限（月）"),
    "major_change_max_times": (Decimal("0"), Decimal("10"), "转专业次数上限"),
    "major_change_min_terms": (Decimal("0"), Decimal("12"), "转专业前至少完成学期数"),
}


def rule_parameters_save(*, actor: Actor, data: dict[str, Any]) -> RuleParameters:
    """Change the school's rule parameters (row id=1). `data` may be partial.

    Registrar only. Raises ValidationFailed for a value out of range or not a number (whole
    numbers except `max_extra_years`, which takes halves). Audited with before/after.
    """
    _require_registrar(actor)
    unknown = sorted(set(data) - set(PARAMETER_FIELDS))
    errors: dict[str, list[str]] = {name: ["没有这一项参数。"] for name in unknown}
    clean: dict[str, Any] = {}
    for name, raw in data.items():
        if name not in PARAMETER_LIMITS:
            continue
        low, high, label = PARAMETER_LIMITS[name]
        try:
            number = Decimal(str(raw).strip())
        except InvalidOperation:
            errors.setdefault(name, []).append(f"“{label}”应为数字。")
            continue
        if not number.is_finite() or not low <= number <= high:
            errors.setdefault(name, []).append(f"“{label}”应在 {low}–{high} 之间。")
            continue
        if name == "max_extra_years":
            if (number * 2) % 1:
                errors.setdefault(name, []).append(f"“{label}”应为 0.5 的整数倍。")
                continue
            clean[name] = number
        else:
            if number % 1:
                errors.setdefault(name, []).append(f"“{label}”应为整数。")
                continue
            clean[name] = int(number)
    params = rule_parameters_get()
    merged = {n: clean.get(n, getattr(params, n)) for n in PARAMETER_FIELDS}
    if merged["suspension_total_months"] < merged["suspension_max_months"]:
        errors.setdefault("suspension_total_months", []).append(
            "累计休学最长月数不能小于每次休学最长月数。"
        )
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        params = RuleParameters.objects.select_for_update().get(pk=params.pk)
        before = _params_snapshot(params)
        for name, value in clean.items():
            setattr(params, name, value)
        params.save()
        audit_record(
            actor=actor,
            action="rule_parameters.save",
            target=params,
            summary="修改学籍规则参数",
            before=before,
            after=_params_snapshot(params),
        )
    return params
