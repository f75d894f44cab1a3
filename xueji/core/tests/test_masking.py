"""The one masking rule for 身份证号, phone and address (PRODUCT.md capability 12)."""

from __future__ import annotations

import pytest

from xueji.core.masking import mask_address, mask_id_number, mask_phone


def test_id_number_keeps_the_first_three_and_last_four_characters() -> None:
    assert mask_id_number("110101200503010133") == "110***********0133"


def test_masked_id_number_hides_the_birth_date() -> None:
    masked = mask_id_number("11010120050301013X")
    assert "20050301" not in masked
    assert masked.endswith("013X")
    assert len(masked) == 18


def test_short_id_numbers_are_masked_entirely() -> None:
    assert mask_id_number("H123456") == "*******"
    assert mask_id_number("AB12") == "****"


def test_an_eight_character_passport_number_shows_only_its_ends() -> None:
    assert mask_id_number("E1234567") == "E12*4567"


@pytest.mark.parametrize("value", ["", None])
def test_empty_id_number_masks_to_empty_text(value: str | None) -> None:
    assert mask_id_number(value) == ""


def test_mobile_phone_keeps_the_first_three_and_last_four_digits() -> None:
    assert mask_phone("13812345678") == "138****5678"


def test_phone_with_surrounding_spaces_is_trimmed_before_masking() -> None:
    assert mask_phone(" 13812345678 ") == "138****5678"


def test_short_phone_numbers_are_masked_entirely() -> None:
    assert mask_phone("1234567") == "*******"
    assert mask_phone("110") == "***"


@pytest.mark.parametrize("value", ["", None])
def test_empty_phone_masks_to_empty_text(value: str | None) -> None:
    assert mask_phone(value) == ""


def test_address_keeps_only_the_first_six_characters() -> None:
    assert mask_address("北京市东城区东华门街道1号院3单元") == "北京市东城区****"


def test_masked_address_does_not_reveal_its_length() -> None:
    assert mask_address("北京市东城区一号") == mask_address("北京市东城区东华门街道1号院3单元")


def test_short_address_keeps_two_characters() -> None:
    assert mask_address("北京市") == "北京****"
    assert mask_address("北京市东城区") == "北京****"


@pytest.mark.parametrize("value", ["", None])
def test_empty_address_masks_to_empty_text(value: str | None) -> None:
    assert mask_address(value) == ""


@pytest.mark.parametrize(
    "mask, value",
    [
        (mask_id_number, "110101200503010133"),
        (mask_phone, "13812345678"),
        (mask_address, "北京市东城区东华门街道1号院3单元"),
    ],
)
def test_masking_twice_gives_the_same_text(mask, value: str) -> None:  # type: ignore[no-untyped-def]
    assert mask(mask(value)) == mask(value)
