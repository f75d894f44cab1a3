"""The one masking rule for sensitive fields, used by every page, export and API response.

ID numbers keep the first 3 and last 4 characters (region prefix and check digit area stay
recognisable for the holder, the birth date is hidden); phones keep the first 3 and last 4;
addresses keep the first 6 characters (province/city) only.
"""

from __future__ import annotations

MASK = "*"


def mask_id_number(value: str | None) -> str:
    if not value:
        return ""
    if len(value) <= 7:
        return MASK * len(value)
    return value[:3] + MASK * (len(value) - 7) + value[-4:]


def mask_phone(value: str | None) -> str:
    if not value:
        return ""
    digits = value.strip()
    if len(digits) <= 7:
        return MASK * len(digits)
    return digits[:3] + MASK * (len(digits) - 7) + digits[-4:]


def mask_address(value: str | None) -> str:
    if not value:
        return ""
    if len(value) <= 6:
        return value[:2] + MASK * 4
    return value[:6] + MASK * 4
