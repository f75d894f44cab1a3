"""姓名拼音: surnames read as surnames (曾 zēng, 单 shàn …), and the keys used for search."""

from __future__ import annotations

import pytest

from xueji.students.pinyin import name_pinyin, name_syllables, pinyin_keys, search_keys_for


@pytest.mark.parametrize(
    "name, expected",
    [
        ("曾小明", "Zeng Xiaoming"),
        ("单小明", "Shan Xiaoming"),
        ("解放", "Xie Fang"),
        ("仇大海", "Qiu Dahai"),
        ("朴志勇", "Piao Zhiyong"),
        ("查良镛", "Zha Liangyong"),
        ("区嘉欣", "Ou Jiaxin"),
        ("盖丽丽", "Ge Lili"),
        ("翟天临", "Zhai Tianlin"),
        ("乐嘉", "Yue Jia"),
    ],
)
def test_surnames_with_a_special_reading_are_read_as_surnames(name: str, expected: str) -> None:
    assert name_pinyin(name) == expected


@pytest.mark.parametrize(
    "name, expected",
    [
        ("欧阳娜娜", "Ouyang Nana"),
        ("司马光", "Sima Guang"),
        ("诸葛亮", "Zhuge Liang"),
        ("尉迟恭", "Yuchi Gong"),
        ("单于一", "Chanyu Yi"),
        ("长孙无忌", "Zhangsun Wuji"),
    ],
)
def test_compound_surnames_are_written_as_one_word(name: str, expected: str) -> None:
    assert name_pinyin(name) == expected


def test_compound_surname_wins_over_its_first_character() -> None:
    # 单 alone is shàn, but 单于 is chányú.
    assert name_syllables("单于一")[:2] == ["chan", "yu"]
    assert name_syllables("单一")[0] == "shan"


def test_the_surname_reading_applies_only_to_the_first_character() -> None:
    assert name_syllables("张曾") == ["zhang", "ceng"]
    assert name_syllables("李单") == ["li", "dan"]


def test_an_ordinary_name_is_read_by_pypinyin() -> None:
    assert name_pinyin("张小明") == "Zhang Xiaoming"


def test_surrounding_spaces_do_not_change_the_pinyin() -> None:
    assert name_pinyin("  欧阳娜娜 ") == "Ouyang Nana"
    assert name_pinyin(" 曾国藩") == "Zeng Guofan"


def test_an_empty_name_has_no_pinyin() -> None:
    assert name_pinyin("") == ""
    assert name_pinyin("   ") == ""
    assert search_keys_for("", "") == ("", "")


def test_search_keys_are_the_lower_case_pinyin_and_the_syllable_initials() -> None:
    assert search_keys_for("张小明", "Zhang Xiaoming") == ("zhangxiaoming", "zxm")
    assert search_keys_for("单小明", "Shan Xiaoming") == ("shanxiaoming", "sxm")
    assert search_keys_for("欧阳娜娜", "Ouyang Nana") == ("ouyangnana", "oynn")


def test_search_key_follows_a_pinyin_edited_by_the_registrar() -> None:
    full, initials = search_keys_for("曾小明", "Ceng Xiaoming")
    assert full == "cengxiaoming"
    # Initials come from our own reading of the name, so "zxm" still finds 曾小明.
    assert initials == "zxm"


def test_search_keys_of_a_name_with_an_interpunct_keep_every_part() -> None:
    # Minority and foreign names are written with "·"; the key must not drop the second part.
    full, initials = search_keys_for("阿依·买买提", name_pinyin("阿依·买买提"))
    assert full == "ayimaimaiti"
    assert initials == "aymmt"


def test_search_keys_of_a_latin_name_are_lower_case() -> None:
    assert search_keys_for("Anna", name_pinyin("Anna")) == ("anna", "a")


def test_pinyin_keys_ignore_hyphens_and_write_u_umlaut_as_v() -> None:
    assert pinyin_keys("Lü Bu") == ("lvbu", "lb")
    assert pinyin_keys("Zhang-San Feng") == ("zhangsanfeng", "zsf")


@pytest.mark.parametrize(
    ("name", "expected"),
    [("于思", "Yu Si"), ("叶韵", "Ye Yun"), ("覃海", "Qin Hai")],
)
def test_a_surname_is_read_on_its_own_not_as_part_of_a_phrase(name, expected):
    assert name_pinyin(name) == expected
