"""Identity documents: 居民身份证 through stdnum.cn.ric; other 证件类型 with their own checks.

Every refusal names what is wrong in Chinese, because a registrar reads it next to the field.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric
from stdnum.iso7064 import mod_11_2

from xueji.org.code_data import iter_regions
from xueji.students.idcards import make_resident_id
from xueji.students.identity import IdentityError, check_id_number

BIRTH = date(2005, 3, 1)
VALID = make_resident_id("110101", BIRTH, "1", 1)  # 110101200503010133


def with_check_digit(body: str) -> str:
    """A 17-digit body completed with its GB 11643 check digit."""
    assert len(body) == 17
    return body + ric.calc_check_digit(body + "0")


def refusal(kind: str, value: str, **kwargs: object) -> str:
    with pytest.raises(IdentityError) as caught:
        check_id_number(kind, value, **kwargs)  # type: ignore[arg-type]
    return caught.value.message


# --- 居民身份证 -------------------------------------------------------------------------------


def test_a_valid_resident_id_is_accepted() -> None:
    assert check_id_number("ric", VALID, birth_date=BIRTH, gender="1") == VALID


def test_the_example_number_of_stdnum_is_accepted() -> None:
    assert check_id_number("ric", "360426199101010071") == "360426199101010071"


def test_resident_id_is_normalised_from_full_width_lower_case_and_spaces() -> None:
    ending_in_x = with_check_digit("11010120050301007")
    assert ending_in_x.endswith("X")
    typed = " " + ending_in_x[:6] + " " + ending_in_x[6:].lower() + " "
    assert check_id_number("ric", typed) == ending_in_x
    full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in VALID)
    assert check_id_number("ric", full_width) == VALID


def test_resident_id_with_a_wrong_check_digit_is_refused() -> None:
    wrong = VALID[:-1] + ("0" if VALID[-1] != "0" else "1")
    assert refusal("ric", wrong) == "身份证号校验位错误，请核对是否输错"


def test_resident_id_of_seventeen_digits_is_refused_with_its_length() -> None:
    assert refusal("ric", VALID[:17]) == "身份证号应为 18 位，实为 17 位"


def test_old_fifteen_digit_resident_id_is_refused_with_its_length() -> None:
    assert refusal("ric", "110101850301013") == "身份证号应为 18 位，实为 15 位"


def test_resident_id_with_a_letter_inside_is_refused_as_malformed() -> None:
    assert refusal("ric", "1101012005O3010133") == (
        "身份证号格式错误：前 17 位应为数字，末位为数字或 X"
    )


def test_resident_id_with_an_impossible_birth_date_is_refused_naming_the_date() -> None:
    number = with_check_digit("11010120050230013")  # 30 February
    assert refusal("ric", number) == "身份证号中的出生日期“20050230”不是有效日期"


def test_resident_id_with_an_unknown_region_is_refused_naming_the_region() -> None:
    # 119999 lies inside 北京市 but is no county: stdnum raised KeyError here, a 500 error.
    number = with_check_digit("11999920050301013")
    assert refusal("ric", number) == "身份证号中的地区代码“119999”不存在，或在出生年份尚未设立"


def test_resident_id_with_a_region_abolished_before_the_birth_is_refused() -> None:
    # 110103 崇文区 existed until 2010; nobody born in 2015 was registered there.
    number = make_resident_id("110103", date(2015, 5, 5), "1", 3)
    assert "地区代码“110103”" in refusal("ric", number)
    assert check_id_number("ric", make_resident_id("110103", date(2005, 5, 5), "1", 3))


def test_resident_id_not_matching_the_birth_date_is_refused_showing_both_dates() -> None:
    message = refusal("ric", VALID, birth_date=date(2005, 3, 2), gender="1")
    assert message == "身份证号中的出生日期 2005-03-01 与填写的出生日期 2005-03-02 不一致"


def test_resident_id_of_a_man_given_for_a_woman_is_refused() -> None:
    message = refusal("ric", VALID, birth_date=BIRTH, gender="2")
    assert message == "身份证号显示性别为男，与填写的性别不一致"


def test_resident_id_of_a_woman_given_for_a_man_is_refused() -> None:
    woman = make_resident_id("110101", BIRTH, "2", 4)
    assert refusal("ric", woman, gender="1") == "身份证号显示性别为女，与填写的性别不一致"


@pytest.mark.parametrize("gender", ["0", "9", None])
def test_resident_id_is_not_compared_with_an_unknown_or_unstated_gender(
    gender: str | None,
) -> None:
    assert check_id_number("ric", VALID, gender=gender) == VALID


@pytest.mark.parametrize("value", ["", "   "])
def test_an_empty_id_number_asks_for_one(value: str) -> None:
    assert refusal("ric", value) == "请填写证件号码"


# --- Other identity documents ------------------------------------------------------------------


@pytest.mark.parametrize("value", ["E12345678", "G1234567", "ab 12345"])
def test_passport_numbers_of_five_to_seventeen_letters_or_digits_are_accepted(value: str) -> None:
    assert check_id_number("passport", value) == value.replace(" ", "").upper()


@pytest.mark.parametrize("value", ["E123", "E1234567890123456789", "E1234-567"])
def test_malformed_passport_numbers_are_refused(value: str) -> None:
    assert refusal("passport", value) == "护照号码应为 5–17 位字母或数字"


@pytest.mark.parametrize("value", ["H12345678", "M12345678", "h1234567890"])
def test_hong_kong_and_macao_permits_are_accepted(value: str) -> None:
    assert check_id_number("hk_macau_permit", value) == value.upper()


@pytest.mark.parametrize("value", ["H1234567", "A12345678", "H123456789", "12345678"])
def test_malformed_hong_kong_and_macao_permits_are_refused(value: str) -> None:
    assert refusal("hk_macau_permit", value) == (
        "港澳居民来往内地通行证号码应为 H 或 M 开头加 8 位或 10 位数字"
    )


@pytest.mark.parametrize("value", ["12345678", "1234567890", "1234567890B"])
def test_taiwan_permits_of_eight_or_ten_digits_are_accepted(value: str) -> None:
    assert check_id_number("taiwan_permit", value) == value


@pytest.mark.parametrize("value", ["1234567", "123456789", "T1234567"])
def test_malformed_taiwan_permits_are_refused(value: str) -> None:
    assert (
        refusal("taiwan_permit", value) == "台湾居民来往大陆通行证号码应为 8 位数字（旧证 10 位）"
    )


@pytest.mark.parametrize("region", ["810000", "820000", "830000"])
def test_residence_permits_of_hong_kong_macao_and_taiwan_residents_are_accepted(
    region: str,
) -> None:
    number = make_resident_id(region, BIRTH, "2", 6)
    assert check_id_number("residence_permit", number, birth_date=BIRTH, gender="2") == number


def test_residence_permit_with_another_region_is_refused() -> None:
    assert refusal("residence_permit", VALID) == (
        "港澳台居民居住证号码应为 18 位，以 810000、820000 或 830000 开头"
    )


def test_residence_permit_with_a_wrong_check_digit_is_refused() -> None:
    number = make_resident_id("810000", BIRTH, "1", 1)
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    assert refusal("residence_permit", wrong) == "港澳台居民居住证号码校验位错误"


def test_residence_permit_with_an_impossible_birth_date_is_refused() -> None:
    number = with_check_digit("81000020050230013")
    assert refusal("residence_permit", number) == "港澳台居民居住证号码中的出生日期无效"


def test_residence_permit_is_checked_against_birth_date_and_gender() -> None:
    number = make_resident_id("810000", BIRTH, "1", 1)
    assert "不一致" in refusal("residence_permit", number, birth_date=date(2005, 3, 9))
    assert refusal("residence_permit", number, gender="2") == (
        "身份证号显示性别为男，与填写的性别不一致"
    )


def test_new_foreign_permanent_resident_id_with_a_valid_check_digit_is_accepted() -> None:
    body = "93361120050301001"  # 9 + country 336 + region 11 + birth date + serial
    number = body + mod_11_2.calc_check_digit(body)
    assert check_id_number("foreign_permanent", number) == number


def test_new_foreign_permanent_resident_id_with_a_wrong_check_digit_is_refused() -> None:
    body = "93361120050301001"
    good = mod_11_2.calc_check_digit(body)
    wrong = body + ("0" if good != "0" else "1")
    assert refusal("foreign_permanent", wrong) == "外国人永久居留身份证号码校验位错误"


def test_old_foreign_permanent_resident_id_of_three_letters_and_twelve_digits_is_accepted() -> None:
    assert check_id_number("foreign_permanent", "usa110005030101") == "USA110005030101"


@pytest.mark.parametrize("value", ["US1100050301011", "810000200503010137", "X12345"])
def test_malformed_foreign_permanent_resident_ids_are_refused(value: str) -> None:
    assert refusal("foreign_permanent", value) == (
        "外国人永久居留身份证号码应为 18 位（9 开头）或 3 位字母加 12 位数字"
    )


def test_documents_without_a_national_format_accept_letters_digits_and_dashes() -> None:
    assert check_id_number("none", "jz 2005-001") == "JZ2005-001"


def test_documents_without_a_national_format_refuse_chinese_characters() -> None:
    assert refusal("none", "军字第001号") == "证件号码应为 4–30 位字母或数字"


# --- Properties --------------------------------------------------------------------------------

# (code, first year, last year) for every GB/T 2260 period stdnum knows, limited to birth years
# of living students; a few periods in stdnum's data are empty (from 1983 to 1982) and are skipped.
REGION_PERIODS = sorted(
    {
        (row.code, max(1950, row.valid_from or 1950), min(2015, row.valid_to or 2015))
        for row in iter_regions()
        if max(1950, row.valid_from or 1950) <= min(2015, row.valid_to or 2015)
    }
)


@st.composite
def resident_ids(draw: st.DrawFn) -> tuple[str, date, str]:
    code, first, last = draw(st.sampled_from(REGION_PERIODS))
    birth = draw(st.dates(min_value=date(first, 1, 1), max_value=date(last, 12, 31)))
    gender = draw(st.sampled_from(["1", "2"]))
    serial = draw(st.integers(min_value=0, max_value=999))
    return make_resident_id(code, birth, gender, serial), birth, gender


@settings(max_examples=300, deadline=None)
@given(resident_ids())
def test_any_well_built_resident_id_validates_and_matches_its_birth_date_and_gender(
    built: tuple[str, date, str],
) -> None:
    number, birth, gender = built
    assert check_id_number("ric", number, birth_date=birth, gender=gender) == number
    other_gender = "2" if gender == "1" else "1"
    with pytest.raises(IdentityError, match="与填写的性别不一致"):
        check_id_number("ric", number, birth_date=birth, gender=other_gender)


@settings(max_examples=300, deadline=None)
@given(resident_ids(), st.integers(min_value=0, max_value=17), st.integers(1, 10))
def test_changing_any_single_character_of_a_resident_id_is_caught_by_the_check_digit(
    built: tuple[str, date, str], position: int, shift: int
) -> None:
    number, birth, gender = built
    alphabet = "0123456789X" if position == 17 else "0123456789"
    current = alphabet.index(number[position])
    replacement = alphabet[(current + shift) % len(alphabet)]
    if replacement == number[position]:
        return
    changed = number[:position] + replacement + number[position + 1 :]
    with pytest.raises(IdentityError) as caught:
        check_id_number("ric", changed, birth_date=birth, gender=gender)
    assert caught.value.message == "身份证号校验位错误，请核对是否输错"


@settings(max_examples=200, deadline=None)
@given(resident_ids(), st.integers(min_value=0, max_value=16))
def test_swapping_two_neighbouring_digits_of_a_resident_id_is_caught(
    built: tuple[str, date, str], position: int
) -> None:
    number, birth, gender = built
    if number[position] == number[position + 1]:
        return
    swapped = number[:position] + number[position + 1] + number[position] + number[position + 2 :]
    with pytest.raises(IdentityError):
        check_id_number("ric", swapped, birth_date=birth, gender=gender)
