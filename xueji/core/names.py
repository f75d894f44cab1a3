"""Names kept in Chinese and, optionally, English: which one the reader sees."""

from __future__ import annotations

from django.utils.translation import get_language


def in_reader_language(name: str, name_en: str) -> str:
    """The English name when the reader chose English and one is set, else the Chinese."""
    if name_en and (get_language() or "").startswith("en"):
        return name_en
    return name
