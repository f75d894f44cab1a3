"""Checks for identity documents: 居民身份证 (GB 11643) and the other types students hold.

Each check returns normalised text or raises IdentityError with a Chinese message that says
what is wrong. Which check applies to an 证件类型 code comes from the code table's `extra.check`.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric
from stdnum.iso7064 import mod_11_2


class IdentityError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


_FULL_WIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}


def normalise(value: str) -> str:
    # Full-width digits/letters from IMEs and stray spaces are common in spreadsheets.
    text = value if value.isascii() else value.translate(_FULL_WIDTH)
    return "".join(text.split()).upper()


def check_resident_id(value: str, *, birth_date: date | None, gender: str | None) -> str:
    number = normalise(value)
    if len(number) == 18 and number.isascii() and number[:17].isdigit():
        # The usual case, checked like ric.validate (check digit, then embedded date, then
        # region valid in the birth year) but with the region look-up cached: imports check
        # 100k numbers from a few hundred counties.
        if number[-1] != ric.calc_check_digit(number):
            raise IdentityError("身份证号校验位错误，请核对是否输错")
        try:
            born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        except ValueError:
            raise IdentityError(_component_problem(number)) from None
        if not _region_valid(number[:6], born.year):
            raise IdentityError(_component_problem(number))
        _check_birth_and_gender(number, birth_date=birth_date, gender=gender)
        return number
    try:
        ric.validate(number)
    except stdnum_errors.InvalidLength as exc:
        raise IdentityError(f"身份证号应为 18 位，实为 {len(number)} 位") from exc
    except stdnum_errors.InvalidFormat as exc:
        raise IdentityError("身份证号格式错误：前 17 位应为数字，末位为数字或 X") from exc
    except stdnum_errors.InvalidChecksum as exc:
        raise IdentityError("身份证号校验位错误，请核对是否输错") from exc
    except (stdnum_errors.InvalidComponent, KeyError) as exc:
        # python-stdnum 2.2 raises KeyError for an unknown county inside a known province.
        raise IdentityError(_component_problem(number)) from exc
    _check_birth_and_gender(number, birth_date=birth_date, gender=gender)
    return number


@lru_cache(maxsize=65536)
def _region_valid(region: str, year: int) -> bool:
    sample = f"{region}{year:04d}01010000"  # only the region and the year are looked at
    try:
        ric.get_birth_place(sample)
    except (stdnum_errors.InvalidComponent, KeyError):
        return False
    return True


def _component_problem(number: str) -> str:
    """Say which part stdnum refused: the embedded birth date or the region code."""
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return f"身份证号中的出生日期“{number[6:14]}”不是有效日期"
    return f"身份证号中的地区代码“{number[:6]}”不存在，或在出生年份尚未设立"


def _check_birth_and_gender(number: str, *, birth_date: date | None, gender: str | None) -> None:
    embedded = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    if birth_date is not None and embedded != birth_date:
        raise IdentityError(
            f"身份证号中的出生日期 {embedded:%Y-%m-%d} 与填写的出生日期"
            f" {birth_date:%Y-%m-%d} 不一致"
        )
    # GB 11643: the 17th digit is odd for men and even for women (GB/T 2261.1: 1 男, 2 女).
    embedded_gender = "1" if int(number[16]) % 2 == 1 else "2"
    if gender in {"1", "2"} and gender != embedded_gender:
        shown = "男" if embedded_gender == "1" else "女"
        raise IdentityError(f"身份证号显示性别为{shown}，与填写的性别不一致")


def check_residence_permit(value: str, *, birth_date: date | None, gender: str | None) -> str:
    """港澳台居民居住证: 18 characters like an ID, region 810000/820000/830000."""
    number = normalise(value)
    if not re.fullmatch(r"8[123]0000\d{11}[\dX]", number):
        raise IdentityError("港澳台居民居住证号码应为 18 位，以 810000、820000 或 830000 开头")
    if not mod_11_2.is_valid(number):
        raise IdentityError("港澳台居民居住证号码校验位错误")
    try:
        _check_birth_and_gender(number, birth_date=birth_date, gender=gender)
    except ValueError as exc:
        if isinstance(exc, IdentityError):
            raise
        raise IdentityError("港澳台居民居住证号码中的出生日期无效") from exc
    return number


def check_passport(value: str, **_: object) -> str:
    number = normalise(value)
    if not re.fullmatch(r"[A-Z0-9]{5,17}", number):
        raise IdentityError("护照号码应为 5–17 位字母或数字")
    return number


def check_hk_macau_permit(value: str, **_: object) -> str:
    number = normalise(value)
    if not re.fullmatch(r"[HM]\d{8}(\d{2})?", number):
        raise IdentityError("港澳居民来往内地通行证号码应为 H 或 M 开头加 8 位或 10 位数字")
    return number


def check_taiwan_permit(value: str, **_: object) -> str:
    number = normalise(value)
    if not re.fullmatch(r"\d{8}|\d{10}[A-Z]?", number):
        raise IdentityError("台湾居民来往大陆通行证号码应为 8 位数字（旧证 10 位）")
    return number


def check_foreign_permanent(value: str, **_: object) -> str:
    number = normalise(value)
    if re.fullmatch(r"9\d{16}[\dX]", number):
        if not mod_11_2.is_valid(number):
            raise IdentityError("外国人永久居留身份证号码校验位错误")
        return number
    if re.fullmatch(r"[A-Z]{3}\d{12}", number):
        return number
    raise IdentityError("外国人永久居留身份证号码应为 18 位（9 开头）或 3 位字母加 12 位数字")


def check_other(value: str, **_: object) -> str:
    number = normalise(value)
    if not re.fullmatch(r"[A-Z0-9\-]{4,30}", number):
        raise IdentityError("证件号码应为 4–30 位字母或数字")
    return number


CHECKS = {
    "ric": check_resident_id,
    "residence_permit": check_residence_permit,
    "passport": check_passport,
    "hk_macau_permit": check_hk_macau_permit,
    "taiwan_permit": check_taiwan_permit,
    "foreign_permanent": check_foreign_permanent,
}


def check_id_number(
    kind: str, value: str, *, birth_date: date | None = None, gender: str | None = None
) -> str:
    """Validate `value` as an ID of check `kind`; return it normalised or raise IdentityError."""
    if not value or not value.strip():
        raise IdentityError("请填写证件号码")
    check = CHECKS.get(kind, check_other)
    return check(value, birth_date=birth_date, gender=gender)
