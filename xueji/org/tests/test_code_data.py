"""The national code tables: shape, counts and agreement with python-stdnum.

Pure Python: no database and no Django settings are needed.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache

import pytest
import stdnum
from stdnum.cn import ric

from xueji.org.code_data import (
    TABLES,
    CodeRow,
    iter_code_table,
    iter_regions,
    table_version,
)

pytestmark: list[pytest.MarkDecorator] = []


@cache
def rows(table: str) -> tuple[CodeRow, ...]:
    return tuple(iter_code_table(table))


@cache
def by_code(table: str) -> dict[str, CodeRow]:
    return {row.code: row for row in rows(table)}


@cache
def regions() -> tuple[CodeRow, ...]:
    return tuple(iter_regions())


def id_number(county: str, year: int) -> str:
    """A syntactically valid 18-digit ID number born on 1 January of ``year`` in ``county``."""
    body = f"{county}{year}0101123"
    return body + ric.calc_check_digit(body + "0")


def ric_accepts(number: str) -> bool:
    # stdnum 2.2 raises KeyError (not a ValidationError) for an unknown county inside a known
    # province, e.g. 110099; count that as "not accepted".
    try:
        return ric.is_valid(number)
    except KeyError:
        return False


@cache
def region_periods() -> dict[str, tuple[CodeRow, ...]]:
    index: dict[str, list[CodeRow]] = {}
    for row in regions():
        index.setdefault(row.code, []).append(row)
    return {code: tuple(found) for code, found in index.items()}


def region_valid_in(code: str, year: int) -> bool:
    return any(row.is_valid_in(year) for row in region_periods().get(code, ()))


# --- every CSV table --------------------------------------------------------------------------


@pytest.mark.parametrize("table", TABLES)
def test_codes_are_unique_within_each_table(table: str) -> None:
    duplicates = [code for code, n in Counter(r.code for r in rows(table)).items() if n > 1]
    assert rows(table), f"{table} is empty"
    assert duplicates == []


@pytest.mark.parametrize("table", TABLES)
def test_every_row_has_a_code_and_a_chinese_name(table: str) -> None:
    for row in rows(table):
        assert row.code.strip() == row.code != ""
        assert row.name.strip() == row.name != ""
        assert row.table == table


@pytest.mark.parametrize("table", [*TABLES, "region"])
def test_every_table_has_a_documented_version(table: str) -> None:
    assert table_version(table)


def test_an_unknown_table_is_refused() -> None:
    with pytest.raises(KeyError):
        list(iter_code_table("no_such_table"))


# --- the 2024 undergraduate catalogue -----------------------------------------------------------


def test_the_2024_catalogue_has_exactly_816_majors() -> None:
    assert len(rows("major_catalogue_2024")) == 816


def test_the_2024_catalogue_has_93_categories_in_12_disciplines() -> None:
    assert len(rows("major_category_2024")) == 93
    assert [r.code for r in rows("discipline")] == [
        "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "12", "13",
    ]  # fmt: skip


def test_majors_per_discipline_match_the_catalogue() -> None:
    counts = Counter(r.extra["discipline"] for r in rows("major_catalogue_2024"))
    assert counts == {
        "哲学": 4, "经济学": 26, "法学": 54, "教育学": 32, "文学": 127, "历史学": 9,
        "理学": 50, "工学": 277, "农学": 49, "医学": 62, "管理学": 69, "艺术学": 57,
    }  # fmt: skip


def test_every_major_belongs_to_an_existing_category_of_its_discipline() -> None:
    categories = by_code("major_category_2024")
    for major in rows("major_catalogue_2024"):
        category = categories[major.parent]
        assert major.code.startswith(major.parent)
        assert major.extra["category"] == category.name
        assert major.extra["discipline_code"] == category.parent == major.code[:2]


def test_every_category_belongs_to_an_existing_discipline() -> None:
    disciplines = by_code("discipline")
    for category in rows("major_category_2024"):
        assert disciplines[category.parent].name == category.extra["discipline"]
        assert category.code.startswith(category.parent)


def test_major_codes_are_six_digits_except_the_four_long_language_codes() -> None:
    long_codes = sorted(r.code for r in rows("major_catalogue_2024") if len(r.code) != 6)
    assert long_codes == ["0502100", "0502101", "0502102", "0502103"]
    assert all(re.fullmatch(r"\d{6,7}", r.code) for r in rows("major_catalogue_2024"))


def test_the_special_and_controlled_suffixes_are_kept_out_of_the_code() -> None:
    majors = by_code("major_catalogue_2024")
    assert {r.extra["suffix"] for r in majors.values()} == {"", "T", "K", "TK"}
    assert majors["080910"].name == "数据科学与大数据技术"
    assert majors["080910"].extra["suffix"] == "T"
    assert majors["080901"].extra["suffix"] == ""
    assert majors["100201"].extra["suffix"] == "K"
    assert majors["101102"].extra["suffix"] == "TK"


def test_majors_carry_degree_and_length_of_study() -> None:
    majors = by_code("major_catalogue_2024")
    assert majors["080901"].extra["degree"] == "理学,工学"
    assert majors["080901"].extra["years"] == 4
    assert majors["100201"].extra["years"] == 5
    assert majors["082801"].extra["years_options"] == [5, 4]
    assert all(r.extra["years"] in (4, 5) for r in majors.values())


def test_majors_added_after_2012_start_in_their_year_of_addition() -> None:
    majors = by_code("major_catalogue_2024")
    assert majors["080910"].valid_from == 2015
    assert majors["080423"].valid_from == 2023
    assert majors["080901"].valid_from is None
    assert all(r.valid_to is None for r in majors.values())


# --- small standards ----------------------------------------------------------------------------


def test_gender_has_the_four_codes_of_gb_t_2261() -> None:
    assert {r.code: r.name for r in rows("gender")} == {
        "0": "未知的性别",
        "1": "男",
        "2": "女",
        "9": "未说明的性别",
    }


def test_ethnicity_has_56_groups_plus_the_two_other_codes() -> None:
    codes = [r.code for r in rows("ethnicity")]
    assert codes == [f"{n:02d}" for n in range(1, 57)] + ["97", "98"]
    ethnicity = by_code("ethnicity")
    assert ethnicity["01"].name == "汉族"
    assert ethnicity["01"].extra["alpha"] == "HA"
    assert ethnicity["56"].name == "基诺族"
    assert ethnicity["98"].name == "外国血统中国籍人士"


def test_every_ethnic_group_has_a_unique_two_letter_code() -> None:
    alphas = [r.extra["alpha"] for r in rows("ethnicity") if int(r.code) <= 56]
    assert len(alphas) == len(set(alphas)) == 56
    assert all(re.fullmatch(r"[A-Z]{2}", a) for a in alphas)


def test_political_status_has_exactly_the_codes_01_to_13() -> None:
    status = by_code("political_status")
    assert list(status) == [f"{n:02d}" for n in range(1, 14)]
    assert status["01"].name == "中共党员"
    assert status["03"].name == "共青团员"
    assert status["13"].name == "群众"


def test_every_id_type_says_how_its_number_is_checked() -> None:
    kinds = {"ric", "passport", "hk_macau_permit", "taiwan_permit", "residence_permit"}
    kinds |= {"foreign_permanent", "none"}
    id_types = by_code("id_type")
    assert {r.extra["check"] for r in id_types.values()} <= kinds
    assert id_types["1"].name == "居民身份证"
    assert id_types["1"].extra["check"] == "ric"
    assert id_types["A"].extra["check"] == "passport"


def test_education_levels_know_their_diploma_number_level() -> None:
    levels = by_code("education_level")
    assert {r.extra["diploma_level"] for r in levels.values()} == {"01", "02", "04", "05", "06"}
    assert levels["05"].name == "本科"
    assert levels["05Z"].name == "专升本"
    assert levels["05Z"].extra["diploma_level"] == "05"


def test_study_durations_are_the_chsi_values() -> None:
    durations = [r.code for r in rows("study_duration")]
    assert durations == ["1.5", "2", "2.5", "3", "3.5", "4", "4.5", "5", "5.5", "6", "7", "8"]
    assert by_code("study_duration")["4"].name == "四年"
    assert by_code("study_duration")["4"].extra["months"] == 48


def test_study_forms_carry_the_diploma_school_type() -> None:
    forms = {r.name: r.extra["school_type"] for r in rows("study_form")}
    assert forms["普通全日制"] == "1"
    assert forms["函授"] == "5"
    assert forms["网络教育"] == "7"


# --- regions (GB/T 2260 via python-stdnum) -------------------------------------------------------


def test_regions_include_a_current_district() -> None:
    dongcheng = region_periods()["110101"]
    assert [(r.name, r.valid_to) for r in dongcheng] == [("东城区", None)]
    assert dongcheng[0].parent == "110100"


def test_abolished_regions_remain_resolvable_as_history() -> None:
    chongwen = region_periods()["110103"]
    assert [(r.name, r.valid_from, r.valid_to) for r in chongwen] == [("崇文区", None, 2010)]
    assert not chongwen[0].is_current
    assert chongwen[0].is_valid_in(1990)
    assert not chongwen[0].is_valid_in(2011)


def test_a_region_created_later_starts_in_its_year() -> None:
    fangshan = region_periods()["110111"]
    assert [(r.name, r.valid_from, r.valid_to) for r in fangshan] == [("房山区", 1986, None)]


def test_a_renamed_region_has_one_row_per_name() -> None:
    dongli = [(r.name, r.valid_from, r.valid_to) for r in region_periods()["120110"]]
    assert dongli == [("东郊区", None, 1991), ("东丽区", 1992, None)]


def test_regions_have_three_levels_with_existing_parents() -> None:
    all_regions = regions()
    codes = {r.code for r in all_regions}
    assert all(re.fullmatch(r"\d{6}", r.code) for r in all_regions)
    provinces = {r.code for r in all_regions if r.extra["level"] == "province"}
    assert len(provinces) == 34
    assert {"110000", "440000", "460000", "500000", "810000", "820000"} <= provinces
    for row in all_regions:
        assert (row.parent == "") == (row.extra["level"] == "province")
        assert row.parent == "" or row.parent in codes
    beijing_prefecture = next(r for r in all_regions if r.code == "110100")
    assert beijing_prefecture.parent == "110000"


def test_no_region_code_has_two_current_names() -> None:
    current = Counter(r.code for r in regions() if r.is_current)
    assert [code for code, n in current.items() if n > 1] == []


@pytest.mark.parametrize(
    ("number", "county", "year"),
    [
        ("11010519491231002X", "110105", 1949),  # the sample number printed in GB 11643
        (id_number("110101", 2005), "110101", 2005),
        (id_number("110103", 1990), "110103", 1990),  # 崇文区, abolished 2010
        (id_number("310104", 2003), "310104", 2003),
        (id_number("440305", 2004), "440305", 2004),
        (id_number("500101", 2001), "500101", 2001),
        (id_number("650102", 1999), "650102", 1999),
    ],
)
def test_counties_in_known_id_numbers_are_present(number: str, county: str, year: int) -> None:
    assert ric_accepts(number)
    assert region_valid_in(county, year)


def test_an_abolished_county_is_refused_for_later_births_by_both() -> None:
    number = id_number("110103", 2015)
    assert not ric_accepts(number)
    assert not region_valid_in("110103", 2015)


# A whole province scan is a few seconds each; Beijing (renamed and abolished districts) and
# Hainan (province since 1988, counties numbered directly under the province) cover the edge cases.
@pytest.mark.parametrize(("province", "year"), [("11", 1990), ("46", 2020)])
def test_every_county_stdnum_accepts_in_a_province_is_a_region(province: str, year: int) -> None:
    for suffix in range(10000):
        county = f"{province}{suffix:04d}"
        assert ric_accepts(id_number(county, year)) == region_valid_in(county, year), county


def test_stdnum_accepts_every_region_in_its_own_period() -> None:
    refused = []
    for row in regions():
        if row.valid_from and row.valid_to and row.valid_from > row.valid_to:
            continue  # a few upstream entries have an inverted range; stdnum can never match them
        year = row.valid_from or row.valid_to or 2000
        if not ric_accepts(id_number(row.code, year)):
            refused.append((row.code, row.name, year))
    assert refused == []


def test_the_region_version_names_the_installed_stdnum() -> None:
    assert table_version("region") == f"python-stdnum {stdnum.__version__}"
