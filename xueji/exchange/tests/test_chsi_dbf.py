"""The DBF writer, checked byte by byte against the dBASE III layout and read back."""

from __future__ import annotations

import struct
from datetime import date

import pytest

from xueji.exchange.chsi.dbf import DbfError, Field, read_dbf, write_dbf
from xueji.exchange.chsi.new_students import CODES, DBF_FIELDS

FIELDS = (Field("XH", 10), Field("XM", 20), Field("FY", 30))
ROWS = [["2024000001", "单小明", "计算机学院"], ["2024000002", "欧阳娜娜", "外国语学院"]]


def test_the_header_bytes_follow_dbase_iii() -> None:
    data = write_dbf(FIELDS, ROWS, updated=date(2026, 9, 15))
    assert data[0] == 0x03
    assert tuple(data[1:4]) == (126, 9, 15)
    count, header_length, record_length = struct.unpack_from("<IHH", data, 4)
    assert count == 2
    assert header_length == 32 + 32 * 3 + 1
    assert record_length == 1 + 10 + 20 + 30
    assert data[29] == 0x4D  # language driver: GBK (code page 936)
    first = data[32:64]
    assert first[:11] == b"XH" + b"\x00" * 9
    assert (chr(first[11]), first[16], first[17]) == ("C", 10, 0)
    assert data[header_length - 1] == 0x0D
    assert data[-1] == 0x1A
    assert len(data) == header_length + 2 * record_length + 1
    record = data[header_length : header_length + record_length]
    assert record[:1] == b" "
    assert record[11:31] == "单小明".encode("gbk").ljust(20, b" ")


def test_chinese_names_round_trip_through_gbk() -> None:
    data = write_dbf(FIELDS, ROWS, updated=date(2026, 9, 15))
    table = read_dbf(data)
    assert [f.name for f in table.fields] == ["XH", "XM", "FY"]
    assert [f.width for f in table.fields] == [10, 20, 30]
    assert table.records == ROWS
    assert table.updated == date(2026, 9, 15)
    assert "单小明".encode("gbk") in data
    assert "单小明".encode() not in data


def test_the_new_student_layout_has_the_19_column_codes_as_field_names() -> None:
    empty = write_dbf(DBF_FIELDS, [], updated=date(2026, 1, 1))
    table = read_dbf(empty)
    assert [f.name for f in table.fields] == list(CODES)
    assert len(CODES) == 19
    assert table.records == []


def test_a_value_wider_than_its_field_is_refused_not_cut() -> None:
    with pytest.raises(DbfError, match="超过字段宽度 10 字节"):
        write_dbf(FIELDS, [["20240000011", "张三", "计算机学院"]], updated=date(2026, 1, 1))
    # Eleven Chinese characters are 22 GBK bytes: too wide for XM (20) although only 11 chars.
    with pytest.raises(DbfError, match="XM"):
        write_dbf(FIELDS, [["1", "一" * 11, ""]], updated=date(2026, 1, 1))


def test_a_character_outside_gbk_is_refused_with_the_character_named() -> None:
    with pytest.raises(DbfError, match="𠮷"):
        write_dbf(FIELDS, [["1", "𠮷小明", ""]], updated=date(2026, 1, 1))


def test_field_names_must_be_short_ascii() -> None:
    with pytest.raises(DbfError):
        Field("学号", 10)
    with pytest.raises(DbfError):
        Field("ABCDEFGHIJK", 10)
