"""The national numbering rules for 毕（结）业证书 and 学位证书, as pure functions.

毕（结）业证书编号 (= 学历证书电子注册号), 18 digits (教育部《高等教育学历证书电子注册管理暂行
规定》教学〔2001〕4号, extended from 17 to 18 digits in 2002 by 教学〔2002〕15号):
  1–5   school code (教育部 5 位学校标识码)
  6     school type (办学类型): 1 普通高等教育, 5 成人高等教育, 6 高等教育自学考试和高等教育
        学历文凭考试, 7 网络教育
  7–10  year
  11–12 level (培养层次): 01 博士研究生, 02 硕士研究生, 04 第二学士学位, 05 本科, 06 专科（含高职）
  13–18 the school's serial; positions a small school does not reach are written as 0
        (教学司〔2001〕80号 三: "不得出现其它字符").

学位证书编号, 16 digits (《国务院学位委员会关于调整学位证书编号方式的通知》, 2005-08-25 — known
here only through secondary sources that quote it, see docs/howto/graduation-records.md):
  1–5   degree-awarding unit code (学位授予单位代码, the school code)
  6     degree level: 2 博士, 3 硕士, 4 学士
  7–10  year of conferral
  11–16 the unit's serial.
Professional (Z…), equivalent-education (T…) and adult (C…) degree numbers carry a letter prefix
under the same notice; Xueji numbers academic degrees of its own graduates only.
"""

from __future__ import annotations

from dataclasses import dataclass

from xueji.core.exceptions import DomainError

SCHOOL_TYPES: dict[str, str] = {
    "1": "普通高等教育",
    "5": "成人高等教育",
    "6": "高等教育自学考试和高等教育学历文凭考试",
    "7": "网络教育",
}
DIPLOMA_LEVELS: dict[str, str] = {
    "01": "博士研究生",
    "02": "硕士研究生",
    "04": "第二学士学位",
    "05": "本科",
    "06": "专科（含高职）",
}
DEGREE_LEVELS: dict[str, str] = {"2": "博士", "3": "硕士", "4": "学士"}
# Which degree a graduate of each diploma level may receive (专科 receives none).
DEGREE_FOR_DIPLOMA_LEVEL: dict[str, str] = {"01": "2", "02": "3", "04": "4", "05": "4"}
MAX_SERIAL = 999_999
# The 18-digit rule dates from 2002; nothing before it can be numbered this way.
FIRST_YEAR, LAST_YEAR = 2002, 2099

# 学科门类 by code: the 14 门类 of 《研究生教育学科专业目录（2022年）》 (国务院学位委员会、
# 教育部, 2022). The 2024 undergraduate catalogue uses the same codes (it has no 11 军事学 and no
# 14 交叉学科; see org/data/codes/discipline.csv). A major's national code starts with its 门类
# code.
DISCIPLINES: dict[str, str] = {
    "01": "哲学",
    "02": "经济学",
    "03": "法学",
    "04": "教育学",
    "05": "文学",
    "06": "历史学",
    "07": "理学",
    "08": "工学",
    "09": "农学",
    "10": "医学",
    "11": "军事学",
    "12": "管理学",
    "13": "艺术学",
    "14": "交叉学科",
}


class CertificateNumberError(DomainError):
    """A number cannot be made or does not follow the rule; the message says which part."""


def _check_school_code(code: str) -> None:
    # isascii(): isdigit() also accepts full-width "１０９９９" (a Chinese IME's digits).
    if not (len(code) == 5 and code.isascii() and code.isdigit()):
        raise CertificateNumberError(f"学校代码“{code}”应为 5 位数字，请先在学校信息中设置")


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise CertificateNumberError(f"年份 {year} 不在 {FIRST_YEAR}–{LAST_YEAR} 之间")


def _check_serial(serial: int, what: str) -> None:
    if serial < 1:
        raise CertificateNumberError(f"{what}顺序号应从 1 开始，实为 {serial}")
    if serial > MAX_SERIAL:
        raise CertificateNumberError(
            f"{what}顺序号 {serial} 超过 6 位上限 {MAX_SERIAL}：该年份、层次的编号已用完"
        )


@dataclass(frozen=True)
class DiplomaNumber:
    school_code: str
    school_type: str
    year: int
    level: str
    serial: int

    @property
    def prefix(self) -> str:
        return diploma_prefix(
            school_code=self.school_code,
            school_type=self.school_type,
            year=self.year,
            level=self.level,
        )

    def __str__(self) -> str:
        return f"{self.prefix}{self.serial:06d}"


def diploma_prefix(*, school_code: str, school_type: str, year: int, level: str) -> str:
    """The first 12 digits (school, type, year, level); CertificateNumberError names the bad
    part."""
    _check_school_code(school_code)
    if school_type not in SCHOOL_TYPES:
        raise CertificateNumberError(
            f"办学类型码“{school_type}”不是 1（普通）、5（成人）、6（自考）或 7（网络教育）"
        )
    _check_year(year)
    if level not in DIPLOMA_LEVELS:
        raise CertificateNumberError(
            f"培养层次码“{level}”不是 01、02、04、05、06 之一，无法编制毕业证书编号"
        )
    return f"{school_code}{school_type}{year:04d}{level}"


def diploma_number(
    *, school_code: str, school_type: str, year: int, level: str, serial: int
) -> str:
    """The 18-digit 毕（结）业证书编号. Raises CertificateNumberError for a bad part or a serial
    past 999999."""
    prefix = diploma_prefix(
        school_code=school_code, school_type=school_type, year=year, level=level
    )
    _check_serial(serial, "毕业证书")
    return f"{prefix}{serial:06d}"


def diploma_number_parse(number: str) -> DiplomaNumber:
    """Split an 18-digit number into its parts, checking each; CertificateNumberError if it does
    not follow the rule."""
    if len(number) != 18 or not (number.isascii() and number.isdigit()):
        raise CertificateNumberError(f"证书编号“{number}”应为 18 位数字，实为 {len(number)} 位")
    parts = DiplomaNumber(
        school_code=number[:5],
        school_type=number[5],
        year=int(number[6:10]),
        level=number[10:12],
        serial=int(number[12:]),
    )
    diploma_number(
        school_code=parts.school_code,
        school_type=parts.school_type,
        year=parts.year,
        level=parts.level,
        serial=parts.serial,
    )
    return parts


def diploma_number_problems(
    number: str, *, school_code: str, school_type: str, level: str, year: int | None
) -> list[str]:
    """Why `number` is not the number this student's diploma should carry (empty = fine).

    `year` None skips the year check (a 结业 certificate exchanged for a 毕业 one keeps the
    number of its first year)."""
    try:
        parts = diploma_number_parse(number)
    except CertificateNumberError as exc:
        return [exc.message]
    problems: list[str] = []
    if parts.school_code != school_code:
        problems.append(f"证书编号前 5 位“{parts.school_code}”不是本校代码“{school_code}”")
    if parts.school_type != school_type:
        problems.append(f"证书编号第 6 位“{parts.school_type}”应为办学类型码“{school_type}”")
    if year is not None and parts.year != year:
        problems.append(f"证书编号第 7–10 位“{parts.year}”应为毕（结）业年份“{year}”")
    if parts.level != level:
        problems.append(f"证书编号第 11–12 位“{parts.level}”应为培养层次码“{level}”")
    return problems


def degree_prefix(*, unit_code: str, level: str, year: int) -> str:
    """The first 10 digits of a 学位证书编号 (unit, level, year)."""
    _check_school_code(unit_code)
    if level not in DEGREE_LEVELS:
        raise CertificateNumberError(f"学位级别码“{level}”应为 2（博士）、3（硕士）或 4（学士）")
    _check_year(year)
    return f"{unit_code}{level}{year:04d}"


def degree_certificate_number(*, unit_code: str, level: str, year: int, serial: int) -> str:
    """The 16-digit 学位证书编号. Raises CertificateNumberError for a bad part or a serial past
    999999. The rule is documented as verified through secondary sources only."""
    prefix = degree_prefix(unit_code=unit_code, level=level, year=year)
    _check_serial(serial, "学位证书")
    return f"{prefix}{serial:06d}"


def degree_number_problems(number: str, *, unit_code: str, level: str, year: int) -> list[str]:
    """Why `number` is not the 学位证书编号 this award should carry (empty = fine)."""
    if len(number) != 16 or not (number.isascii() and number.isdigit()):
        return [f"学位证书编号“{number}”应为 16 位数字，实为 {len(number)} 位"]
    problems: list[str] = []
    if number[:5] != unit_code:
        problems.append(f"学位证书编号前 5 位“{number[:5]}”不是本校代码“{unit_code}”")
    if number[5] != level:
        problems.append(f"学位证书编号第 6 位“{number[5]}”应为学位级别码“{level}”")
    if number[6:10] != f"{year:04d}":
        problems.append(f"学位证书编号第 7–10 位“{number[6:10]}”应为授予年份“{year}”")
    if int(number[10:]) < 1:
        problems.append("学位证书编号顺序号应从 000001 开始")
    return problems


def discipline_of(national_code: str) -> str:
    """The 学科门类 code of a major: the first two digits of its national code."""
    code = national_code[:2]
    if not code.isdigit() or code not in DISCIPLINES:
        raise CertificateNumberError(f"专业代码“{national_code}”的前两位不是学科门类代码（01–14）")
    return code


def degree_category_code(level: str, discipline: str) -> str:
    """学位类别码 for an academic degree: the level digit then the 门类 code (工学学士 408,
    艺术学学士 413). Derived from the 学位授予信息 code practice; see the how-to."""
    return f"{level}{discipline}"


def degree_category_name(level: str, discipline: str) -> str:
    return f"{DISCIPLINES.get(discipline, '')}{DEGREE_LEVELS.get(level, '')}学位"
