"""Cutting a font down to a set of characters with HarfBuzz's subsetter (libharfbuzz-subset0,
which WeasyPrint also uses), called through cffi.

Why: WeasyPrint subsets every embedded font per document keeping the original glyph ids, so
the cost and the size of each embedded font grow with the highest glyph id used. In Noto CJK
the common characters sit between glyph 9,000 and 43,000 of 65,535; a face cut down to the
GB 2312 characters (and Latin and punctuation) numbers them below 8,000, which makes a
certificate about three times faster to write and a third of the size (docs/decisions.md).
"""

from __future__ import annotations

import functools
from pathlib import Path

from cffi import FFI

_CDEF = """
typedef struct hb_blob_t hb_blob_t;
typedef struct hb_face_t hb_face_t;
typedef struct hb_set_t hb_set_t;
typedef struct hb_subset_input_t hb_subset_input_t;
hb_blob_t *hb_blob_create_from_file_or_fail (const char *file_name);
void hb_blob_destroy (hb_blob_t *blob);
hb_face_t *hb_face_create (hb_blob_t *blob, unsigned int index);
void hb_face_destroy (hb_face_t *face);
hb_blob_t *hb_face_reference_blob (hb_face_t *face);
const char *hb_blob_get_data (hb_blob_t *blob, unsigned int *length);
unsigned int hb_face_get_glyph_count (const hb_face_t *face);
void hb_set_add (hb_set_t *set, unsigned int codepoint);
hb_subset_input_t *hb_subset_input_create_or_fail (void);
void hb_subset_input_destroy (hb_subset_input_t *input);
hb_set_t *hb_subset_input_unicode_set (hb_subset_input_t *input);
hb_set_t *hb_subset_input_set (hb_subset_input_t *input, int set_type);
hb_face_t *hb_subset_or_fail (hb_face_t *source, const hb_subset_input_t *input);
"""
_DROP_TABLE_TAG = 3  # HB_SUBSET_SETS_DROP_TABLE_TAG
# Layout tables would pull the JP/KR/TC variants back in through 'locl'; vertical metrics and
# the baseline table are not used by horizontal certificates.
_DROPPED_TABLES = (b"GSUB", b"GPOS", b"BASE", b"VORG", b"vhea", b"vmtx")


@functools.cache
def _libraries():
    ffi = FFI()
    ffi.cdef(_CDEF)
    return ffi, ffi.dlopen("libharfbuzz.so.0"), ffi.dlopen("libharfbuzz-subset.so.0")


@functools.cache
def common_codepoints() -> frozenset[int]:
    """ASCII, Latin-1 and Latin Extended-A, general punctuation, CJK symbols and punctuation,
    full-width forms, and every character of GB 2312 (6,763 hanzi and its symbols)."""
    points: set[int] = set()
    for low, high in ((0x20, 0x17F), (0x2000, 0x206F), (0x3000, 0x303F), (0xFF00, 0xFFEF)):
        points.update(range(low, high + 1))
    for first in range(0xA1, 0xF8):
        for second in range(0xA1, 0xFF):
            try:
                points.add(ord(bytes((first, second)).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return frozenset(points)


def cut_face(path: Path, index: int, codepoints: frozenset[int]) -> bytes:
    """Face `index` of the font file at `path` with only the glyphs of `codepoints` (those it
    has), renumbered from 0 in their original order; as OpenType bytes."""
    ffi, hb, subset = _libraries()
    blob = hb.hb_blob_create_from_file_or_fail(str(path).encode())
    if blob == ffi.NULL:
        raise OSError(f"cannot read font {path}")
    face = hb.hb_face_create(blob, index)
    request = subset.hb_subset_input_create_or_fail()
    result = ffi.NULL
    try:
        unicodes = subset.hb_subset_input_unicode_set(request)
        for point in sorted(codepoints):
            hb.hb_set_add(unicodes, point)
        dropped = subset.hb_subset_input_set(request, _DROP_TABLE_TAG)
        for tag in _DROPPED_TABLES:
            hb.hb_set_add(dropped, int.from_bytes(tag, "big"))
        result = subset.hb_subset_or_fail(face, request)
        if result == ffi.NULL:
            raise OSError(f"HarfBuzz could not cut font {path} #{index}")
        out = hb.hb_face_reference_blob(result)
        length = ffi.new("unsigned int *")
        data = ffi.buffer(hb.hb_blob_get_data(out, length), length[0])[:]
        hb.hb_blob_destroy(out)
        return data
    finally:
        if result != ffi.NULL:
            hb.hb_face_destroy(result)
        subset.hb_subset_input_destroy(request)
        hb.hb_face_destroy(face)
        hb.hb_blob_destroy(blob)
