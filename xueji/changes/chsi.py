"""学籍异动上报 (status-change report) as a CHSI export kind: one row per change that took effect
in the period, with the student's identity, the 学籍异动类别码, the effective date, reason,
approval date and 文号 when recorded, and the before/after values of what changed.

Only applied changes (status 已生效) are reported: a request withdrawn, rejected, still under
review, or revoked by a later change (e.g. 退学 undone by 恢复学籍, whose own row is reported)
is not. The period is on the effective date (生效日期).

Field codes follow the education-management data standard's 学籍异动 data (YDLBM, YDRQ, SPRQ,
SPWH; Y… = 原 before, X… = 现 after). No public source gives the 学信网 platform's own upload
layout, so it must be checked against the school's template (docs/howto/chsi-exports.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from xueji.changes.catalogue import CHSI_CATEGORIES
from xueji.changes.models import ChangeRequest, ChangeStatus
from xueji.core.exceptions import NotFound
from xueji.exchange.chsi import new_students
from xueji.exchange.chsi.columns import Column, Problem
from xueji.exchange.chsi.kinds import ExportKind, ExportRow, Filters
from xueji.exchange.chsi.permissions import EXPORT_ROLES
from xueji.exchange.chsi.selectors import chsi_colleges_for
from xueji.org.models import College, Major, SchoolClass
from xueji.students.models import Student, StudentStatus
from xueji.students.selectors import scope_filter

if TYPE_CHECKING:
    from xueji.accounts.models import User

_IDENTITY = ("KSH", "XH", "XM", "XB", "ZJLX", "ZJHM")
_BY_CODE = {c.code: c for c in new_students.COLUMNS}
COLUMNS: tuple[Column, ...] = (
    *(_BY_CODE[code] for code in _IDENTITY),
    Column("YDBH", "异动编号", 20),
    Column("YDLBM", "异动类别码", 2),
    Column("YDLB", "异动类别", 40),
    Column("YDRQ", "异动日期", 8),
    Column("YDYY", "异动原因", 254),
    Column("SPRQ", "审批日期", 8),
    Column("SPWH", "审批文号", 60),
    Column("YFY", "原分院", 100),
    Column("XFY", "现分院", 100),
    Column("YZYDM", "原专业代码", 8),
    Column("YZYMC", "原专业名称", 100),
    Column("XZYDM", "现专业代码", 8),
    Column("XZYMC", "现专业名称", 100),
    Column("YBH", "原班号", 30),
    Column("XBH", "现班号", 30),
    Column("YCC", "原层次", 4),
    Column("XCC", "现层次", 4),
    Column("YXZ", "原学制", 4),
    Column("XXZ", "现学制", 4),
    Column("YYJBYRQ", "原预计毕业日期", 8),
    Column("XYJBYRQ", "现预计毕业日期", 8),
    Column("YXJZT", "原学籍状态", 20),
    Column("XXJZT", "现学籍状态", 20),
)
CODES = tuple(c.code for c in COLUMNS)
_STATUS = {value: str(label) for value, label in StudentStatus.choices}


def _ymd(iso: Any) -> str:
    if not iso:
        return ""
    day = iso if isinstance(iso, date) else date.fromisoformat(str(iso))
    return f"{day:%Y%m%d}"


def changes_reported(user: User, filters: Filters) -> Any:
    """The applied changes with an effective date in the period, of students in the user's
    export scope (by the student's current college), oldest first; 毕业 is left out."""
    students = Student.objects.filter(scope_filter(user, roles=EXPORT_ROLES))
    if filters.college_id is not None:
        if not chsi_colleges_for(user).filter(pk=filters.college_id).exists():
            raise NotFound("未找到该学院，或您无权导出该学院的数据。")
        students = students.filter(college_id=filters.college_id)
    if filters.cohort_year is not None:
        students = students.filter(cohort__year=filters.cohort_year)
    # 毕业 is reported by the diploma registration (毕业证书电子注册), not as a 学籍异动.
    changes = ChangeRequest.objects.filter(
        status=ChangeStatus.APPLIED, student__in=students.values("pk")
    ).exclude(change_type__target_status=StudentStatus.GRADUATED)
    if filters.date_from is not None:
        changes = changes.filter(effective_date__gte=filters.date_from)
    if filters.date_to is not None:
        changes = changes.filter(effective_date__lte=filters.date_to)
    return changes.select_related(
        "change_type", "student", "student__college", "student__major", "student__school_class"
    ).order_by("effective_date", "number")


def export_rows(user: User, filters: Filters) -> Iterator[ExportRow]:
    changes = list(changes_reported(user, filters))
    if not changes:
        return
    ids: dict[str, set[int]] = {"college": set(), "major": set(), "school_class": set()}
    for change in changes:
        for side in (change.before, change.after):
            for key in ids:
                if side.get(key):
                    ids[key].add(int(side[key]))
    colleges = College.objects.in_bulk(ids["college"])
    majors = Major.objects.in_bulk(ids["major"])
    classes = SchoolClass.objects.in_bulk(ids["school_class"])
    codes = new_students.CodeTables.load()
    for change in changes:
        student = change.student
        identity = new_students.student_values(student, codes, full_id=True)
        problems = [
            p
            for p in new_students.student_problems(student, identity, codes, for_dbf=False)
            if p.column in _IDENTITY
        ]
        before = change.before or {}
        after = {**before, **(change.after or {})}
        if not before:
            problems.append(
                Problem("YDBH", "该异动没有记录异动前的数据，无法填写原/现各项", "异动编号")
            )
        kind = change.change_type
        category = kind.chsi_category
        if not category:
            problems.append(
                Problem(
                    "YDLBM",
                    f"异动类型“{kind.name}”是本校自定义类型，没有学信网异动类别码："
                    "请在异动类型设置中选择类别码",
                    "异动类别码",
                )
            )

        def org(side: dict[str, Any]) -> dict[str, str]:
            college = colleges.get(int(side["college"])) if side.get("college") else None
            major = majors.get(int(side["major"])) if side.get("major") else None
            school_class = (
                classes.get(int(side["school_class"])) if side.get("school_class") else None
            )
            return {
                "FY": college.name if college else "",
                "ZYDM": major.national_code if major else "",
                "ZYMC": major.name if major else "",
                "BH": school_class.code if school_class else "",
                "YJBYRQ": _ymd(side.get("expected_graduation_date")),
                "XJZT": _STATUS.get(side.get("status", ""), ""),
            }

        old, new = org(before), org(after)
        # Xueji's change types move neither 层次 nor 学制: both sides are the record's.
        level = codes.chsi_level(student.level)
        duration = new_students.duration_value(student.duration)
        values = {code: identity[code] for code in _IDENTITY}
        values.update(
            YDBH=change.number,
            YDLBM=category,
            YDLB=CHSI_CATEGORIES.get(category, kind.name),
            YDRQ=_ymd(change.effective_date),
            YDYY=" ".join(change.reason.split()),
            SPRQ=_ymd(timezone.localdate(change.approved_at)) if change.approved_at else "",
            SPWH=str((change.details or {}).get("minute_ref") or ""),
            YFY=old["FY"],
            XFY=new["FY"],
            YZYDM=old["ZYDM"],
            YZYMC=old["ZYMC"],
            XZYDM=new["ZYDM"],
            XZYMC=new["ZYMC"],
            YBH=old["BH"],
            XBH=new["BH"],
            YCC=level,
            XCC=level,
            YXZ=duration,
            XXZ=duration,
            YYJBYRQ=old["YJBYRQ"],
            XYJBYRQ=new["YJBYRQ"],
            YXJZT=old["XJZT"],
            XXJZT=new["XJZT"],
        )
        yield ExportRow(
            student_number=student.student_number,
            name=student.name,
            college=student.college.name,
            values=values,
            problems=problems,
        )


KIND = ExportKind(
    key="status_changes",
    title="学信网学籍异动数据",
    file_stem="xjyd",
    columns=COLUMNS,
    filters=("date_from", "date_to", "cohort_year", "college_id"),
    required_filters=("date_from", "date_to"),
    require_all=True,
    rows=export_rows,
    order=30,
    purposes=("学信网学籍异动上报", "学籍异动数据核对"),
    description="所选期间内已生效的每一项学籍异动一行：异动类别、日期、原因、审批日期和文号，"
    "以及异动前后的学院、专业、班号、层次、学制、预计毕业日期和学籍状态。"
    "撤回、驳回和已被撤销的异动不上报。",
)
