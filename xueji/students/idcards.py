"""Building valid 居民身份证 numbers (GB 11643) for demo data and tests."""

from __future__ import annotations

from datetime import date

from stdnum.cn import ric


def make_resident_id(region: str, birth: date, gender: str, serial: int) -> str:
    """An 18-character ID: 6-digit region, YYYYMMDD, 2-digit serial, gender digit, check digit.

    `gender` is the GB/T 2261.1 code: "1" gives an odd 17th digit, "2" an even one.
    """
    gender_digit = (serial % 5) * 2 + (1 if gender == "1" else 0)
    body = f"{region}{birth:%Y%m%d}{serial % 100:02d}{gender_digit}"
    # calc_check_digit ignores the last character, so give it a placeholder.
    return body + ric.calc_check_digit(body + "0")
