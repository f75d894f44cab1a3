"""A small dBASE III writer and reader for the CHSI platform's DBF uploads.

The format (dBASE III, version byte 0x03), as the platform reads it:

* a 32-byte header: version, last-update date (YY-1900, MM, DD), record count (uint32 LE),
  header length (uint16 LE) = 32 + 32 × fields + 1, record length (uint16 LE) = 1 + field
  widths, reserved bytes, and at offset 29 the language driver id (0x4D: GBK, code page 936);
* one 32-byte descriptor per field: name (ASCII, ≤ 10 characters, NUL padded to 11 bytes),
  type (``C`` for character), 4 reserved bytes, width, decimal count, 14 reserved bytes;
* the terminator 0x0D, then the records: a deletion flag (a space for a live record) and each
  field left-justified and padded with spaces to its width, text encoded as GBK;
* the end-of-file marker 0x1A.

A value that does not fit its width, or holds a character GBK cannot represent, is refused
(DbfError) rather than silently cut: a truncated 证件号码 in a national upload is worse than
no file. The pre-export check reports such values per student first.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

ENCODING = "gbk"
VERSION = 0x03
LANGUAGE_DRIVER_GBK = 0x4D
HEADER_TERMINATOR = b"\x0d"
END_OF_FILE = b"\x1a"
LIVE = b" "
DELETED = b"*"


class DbfError(ValueError):
    """A field or value the DBF file cannot hold."""


@dataclass(frozen=True)
class Field:
    name: str
    width: int
    type: str = "C"

    def __post_init__(self) -> None:
        if not (self.name.isascii() and self.name.isalnum()) or not 1 <= len(self.name) <= 10:
            raise DbfError(f"DBF 字段名“{self.name}”应为 1–10 位英文字母或数字")
        if self.type != "C" or not 1 <= self.width <= 254:
            raise DbfError(f"DBF 字段 {self.name} 仅支持宽度 1–254 的字符型（C）")


def encode_value(field: Field, value: str) -> bytes:
    """The value as GBK, padded to the field's width; DbfError when it cannot be held."""
    try:
        raw = value.encode(ENCODING)
    except UnicodeEncodeError as exc:
        bad = value[exc.start : exc.end]
        raise DbfError(f"{field.name}：“{bad}”无法用 GBK 编码表示") from exc
    if len(raw) > field.width:
        raise DbfError(
            f"{field.name}：“{value}”占 {len(raw)} 字节，超过字段宽度 {field.width} 字节"
        )
    return raw.ljust(field.width, b" ")


def write_dbf(fields: Sequence[Field], records: Iterable[Sequence[str]], *, updated: date) -> bytes:
    """The whole DBF file as bytes: header, descriptors, records, end-of-file marker."""
    body = bytearray()
    count = 0
    for record in records:
        if len(record) != len(fields):
            raise DbfError(f"第 {count + 1} 条记录有 {len(record)} 个值，应为 {len(fields)} 个")
        body += LIVE
        for field, value in zip(fields, record, strict=True):
            body += encode_value(field, value)
        count += 1
    header_length = 32 + 32 * len(fields) + 1
    record_length = 1 + sum(f.width for f in fields)
    header = bytearray(32)
    struct.pack_into(
        "<BBBBIHH",
        header,
        0,
        VERSION,
        updated.year - 1900,
        updated.month,
        updated.day,
        count,
        header_length,
        record_length,
    )
    header[29] = LANGUAGE_DRIVER_GBK
    descriptors = bytearray()
    for field in fields:
        descriptor = bytearray(32)
        descriptor[0:11] = field.name.encode("ascii").ljust(11, b"\x00")
        descriptor[11] = ord(field.type)
        descriptor[16] = field.width
        descriptor[17] = 0
        descriptors += descriptor
    return bytes(header + descriptors + HEADER_TERMINATOR + body + END_OF_FILE)


@dataclass(frozen=True)
class DbfTable:
    updated: date
    language_driver: int
    fields: list[Field]
    records: list[list[str]]


def read_dbf(data: bytes) -> DbfTable:
    """Read a dBASE III file of character fields (GBK); deleted records are skipped.

    Written independently of the writer's bookkeeping (it trusts only the bytes), so the tests
    can use it to check what another program would see.
    """
    if len(data) < 33 or data[0] != VERSION:
        raise DbfError("不是 dBASE III 文件（首字节应为 0x03）")
    yy, mm, dd, count, header_length, record_length = struct.unpack_from("<BBBIHH", data, 1)
    fields: list[Field] = []
    offset = 32
    while data[offset : offset + 1] != HEADER_TERMINATOR:
        raw = data[offset : offset + 32]
        name = raw[0:11].split(b"\x00", 1)[0].decode("ascii")
        fields.append(Field(name=name, type=chr(raw[11]), width=raw[16]))
        offset += 32
    if offset + 1 != header_length:
        raise DbfError(f"文件头长度应为 {offset + 1}，头部记为 {header_length}")
    if record_length != 1 + sum(f.width for f in fields):
        raise DbfError("记录长度与字段宽度之和不符")
    records: list[list[str]] = []
    position = header_length
    for _ in range(count):
        chunk = data[position : position + record_length]
        position += record_length
        if chunk[:1] == DELETED:
            continue
        values, start = [], 1
        for field in fields:
            values.append(chunk[start : start + field.width].decode(ENCODING).rstrip(" "))
            start += field.width
        records.append(values)
    if data[position : position + 1] != END_OF_FILE:
        raise DbfError("文件末尾缺少结束标记 0x1A")
    return DbfTable(
        updated=date(1900 + yy, mm, dd),
        language_driver=data[29],
        fields=fields,
        records=records,
    )
