"""姓名拼音: pypinyin with our own surname readings.

pypinyin reads a name character by character as ordinary words, which gets surnames with a
special reading wrong (单 is shàn as a surname, not dān). The table below overrides the first
character; compound surnames are matched first.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

# Surname → reading (tone-less, as CHSI and passports write it).
SURNAME_READINGS: dict[str, list[str]] = {
    "曾": ["zeng"],
    "单": ["shan"],
    "解": ["xie"],
    "仇": ["qiu"],
    "朴": ["piao"],
    "查": ["zha"],
    "区": ["ou"],
    "盖": ["ge"],
    "翟": ["zhai"],
    "缪": ["miao"],
    "尉": ["yu"],
    "乐": ["yue"],
    "任": ["ren"],
    "华": ["hua"],
    "纪": ["ji"],
    "种": ["chong"],
    "秘": ["bi"],
    "繁": ["po"],
    "冼": ["xian"],
    "覃": ["qin"],
    "尉迟": ["yu", "chi"],
    "长孙": ["zhang", "sun"],
    "万俟": ["mo", "qi"],
    "单于": ["chan", "yu"],
    "澹台": ["tan", "tai"],
    "令狐": ["ling", "hu"],
    "欧阳": ["ou", "yang"],
    "司马": ["si", "ma"],
    "诸葛": ["zhu", "ge"],
    "皇甫": ["huang", "fu"],
    "上官": ["shang", "guan"],
    "东方": ["dong", "fang"],
    "夏侯": ["xia", "hou"],
    "慕容": ["mu", "rong"],
    "宇文": ["yu", "wen"],
    "公孙": ["gong", "sun"],
    "闻人": ["wen", "ren"],
    "赫连": ["he", "lian"],
    "呼延": ["hu", "yan"],
    "端木": ["duan", "mu"],
}
_WORD = re.compile(r"[\s\-·•・.]+")
_COMPOUND = sorted((s for s in SURNAME_READINGS if len(s) > 1), key=len, reverse=True)
_COMPOUND_LENGTHS = sorted({len(s) for s in _COMPOUND}, reverse=True)


def _compound_surname(name: str) -> str | None:
    """The compound surname `name` starts with, longest first (a dict look-up per length,
    not a scan of the list: imports read 100k names)."""
    for length in _COMPOUND_LENGTHS:
        if len(name) >= length and name[:length] in SURNAME_READINGS:
            return name[:length]
    return None


@lru_cache(maxsize=100_000)
def _given_name(text: str) -> tuple[str, ...]:
    return tuple(lazy_pinyin(text, style=Style.NORMAL, errors="default"))


def name_syllables(name: str) -> list[str]:
    """Tone-less syllables of a Chinese name, surname readings applied."""
    name = name.strip()
    if not name:
        return []
    surname = _compound_surname(name)
    if surname is not None:
        return SURNAME_READINGS[surname] + list(_given_name(name[len(surname) :]))
    first = name[0]
    if first in SURNAME_READINGS:
        return SURNAME_READINGS[first] + list(_given_name(name[1:]))
    if "\u4e00" <= first <= "\u9fff" and len(name) > 1:
        # Read the surname on its own: as one phrase pypinyin reads 于思 "yu sai", 叶韵 "xie yun".
        return list(_given_name(first)) + list(_given_name(name[1:]))
    return list(_given_name(name))


def name_pinyin(name: str) -> str:
    """Display form: surname and given name as words, capitalised ("Shan Xiaoming")."""
    name = name.strip()
    syllables = name_syllables(name)
    if not syllables:
        return ""
    compound = _compound_surname(name)
    surname_length = len(compound) if compound else 1
    surname = "".join(syllables[:surname_length]).capitalize()
    given = "".join(syllables[surname_length:]).capitalize()
    return f"{surname} {given}".strip()


def pinyin_keys(pinyin: str) -> tuple[str, str]:
    """(full key, initials) used for prefix search from the stored pinyin text."""
    # Letters only: "A Bu·dureheman" (names with the interpunct) and "Lü" still give a key.
    text = pinyin.lower().replace("ü", "v")
    words = ["".join(ch for ch in w if ch.isascii() and ch.isalpha()) for w in _WORD.split(text)]
    words = [w for w in words if w]
    return "".join(words), "".join(w[0] for w in words)


def search_keys_for(name: str, pinyin: str) -> tuple[str, str]:
    """Search keys: syllable initials are better than word initials ("zxm" for 张小明)."""
    full, _ = pinyin_keys(pinyin)
    syllables = name_syllables(name)
    initials = "".join(s[0] for s in syllables if s and s.isascii() and s[0].isalpha())
    return full, initials.lower()
