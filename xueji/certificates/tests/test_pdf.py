"""The certificate PDF engine: Chinese text that extracts as itself, rare name characters drawn by
the fallback fonts, a missing glyph refused, and page 1 as a PNG for a person to look at."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from fontTools.ttLib import TTFont
from PIL import Image
from pypdf import PdfReader

from xueji.certificates import pdf
from xueji.certificates.pdf import GlyphMissing, missing_glyphs, render_pdf, require_glyphs
from xueji.certificates.sample import SampleData, sample_html

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
RARE = "䶮堃喆赟"  # rare in names, all four in Noto CJK (䶮 is Extension A)
EXT_B_NOT_IN_NOTO = "𪚥"  # U+2A6A5, drawn by HanaMinA
ONLY_IN_HANAMIN_B = "𠀁"  # U+20001, Extension B, drawn by HanaMinB


def text_of(document: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(document)).pages)


def embedded_fonts(document: bytes) -> dict[str, TTFont]:
    """BaseFont name → the embedded (subset) font program of page 1."""
    found = {}
    page = PdfReader(io.BytesIO(document)).pages[0]
    for font in page["/Resources"]["/Font"].values():
        font = font.get_object()
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        for key in ("/FontFile2", "/FontFile3"):
            if key in descriptor:
                data = descriptor[key].get_object().get_data()
                found[str(font["/BaseFont"])] = TTFont(io.BytesIO(data))
    return found


def paragraph(text: str) -> str:
    return f'<!doctype html><html lang="zh-CN"><body><p>{text}</p></body></html>'


def test_a_chinese_certificate_renders_and_its_text_extracts_as_the_same_chinese() -> None:
    document = render_pdf(sample_html())

    assert document.startswith(b"%PDF-")
    text = text_of(document)
    for expected in (
        "示例大学",
        "在 校 证 明",
        "兹证明王䶮",
        "计算机学院计算机科学与",
        "特此证明。",
    ):
        assert expected in text
    assert "ZM-2026-000001" in text


def test_the_body_font_embedded_is_the_simplified_chinese_face_not_the_japanese_one() -> None:
    # Noto CJK is a collection whose first face is Japanese (骨 and 直 are drawn differently);
    # the fetcher must cut out the SC face the fontconfig lookup named.
    fonts = embedded_fonts(render_pdf(paragraph("骨直")))

    families = {font["name"].getDebugName(1) for font in fonts.values()}
    assert families == {"Noto Serif CJK SC"}


@pytest.mark.parametrize("name", [f"王{RARE[0]}", f"李{RARE[1]}", f"张{RARE[2]}", f"刘{RARE[3]}"])
def test_a_name_with_a_rare_character_renders_and_extracts(name: str) -> None:
    require_glyphs([name])
    document = render_pdf(sample_html(SampleData(name=name)))

    assert f"兹证明{name}" in text_of(document)


def test_characters_beyond_noto_are_drawn_by_the_hanazono_fallback_fonts() -> None:
    name = f"龙{EXT_B_NOT_IN_NOTO}{ONLY_IN_HANAMIN_B}"
    assert missing_glyphs(name) == []

    document = render_pdf(paragraph(name))

    assert name in text_of(document)
    fonts = embedded_fonts(document)
    assert any("Xueji-Rare-A" in base for base in fonts)
    assert any("Xueji-Rare-B" in base for base in fonts)
    drawn = set().union(*(font.getBestCmap() for font in fonts.values()))
    assert {ord(ch) for ch in name} <= drawn


def test_a_character_no_certificate_font_has_is_refused_naming_it_and_its_code_point() -> None:
    with pytest.raises(GlyphMissing) as refused:
        require_glyphs(["王\ue000明", "计算机学院"], field="name")

    assert refused.value.characters == ["\ue000"]
    assert "U+E000" in refused.value.message
    assert "没有字形" in refused.value.message
    assert refused.value.field == "name"
    assert refused.value.code == "glyph_missing"


def test_missing_glyphs_lists_each_character_once_and_ignores_spaces_and_variation_selectors() -> (
    None
):
    # U+E000 and U+E001 are private-use; U+FE00 is a variation selector; U+3000 a CJK space.
    text = "张\ue000 \ue001\u3000\ue000葛\U000e0100\ufe00"

    assert missing_glyphs(text) == ["\ue000", "\ue001"]
    assert missing_glyphs("王䶮 堃\t喆\n赟 Zhang") == []


def test_the_fonts_are_found_through_fontconfig_as_debian_installs_them() -> None:
    faces = pdf.installed_faces()

    assert [f.face.postscript_name for f in faces] == [f.postscript_name for f in pdf.FONT_FACES]
    for installed in faces:
        assert installed.path.is_file()
        assert installed.path.is_relative_to("/usr/share/fonts")
    noto = next(f for f in faces if f.face.postscript_name == "NotoSerifCJKsc-Regular")
    assert noto.path.suffix == ".ttc"
    assert noto.index > 0  # not the Japanese first face


def test_renders_reuse_one_warm_font_configuration() -> None:
    render_pdf(paragraph("一"))
    engine = pdf._engine
    render_pdf(paragraph("二"))

    assert engine is not None
    assert pdf._engine is engine


def test_a_template_cannot_attach_or_show_a_file_of_the_server(tmp_path: Path) -> None:
    allowed = tmp_path / "seal.txt"
    allowed.write_text("印章说明")
    html = (
        '<!doctype html><html lang="zh-CN"><head>'
        '<link rel="attachment" href="file:///etc/hostname">'
        '<link rel="attachment" href="seal.txt">'
        "</head><body><p>证明</p></body></html>"
    )

    attachments = PdfReader(io.BytesIO(render_pdf(html, base_url=tmp_path.as_uri() + "/")))

    # The file under the template's folder is attached (so the check can fail); /etc is not.
    assert set(attachments.attachments) == {"seal.txt"}


def test_page_one_renders_to_a_png_a_person_can_look_at() -> None:
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "pdftoppm is missing: apt-get install poppler-utils (or run .ci/run as root)"
    ARTIFACTS.mkdir(exist_ok=True)
    source = ARTIFACTS / "certificate-sample.pdf"
    source.write_bytes(render_pdf(sample_html(SampleData(name=f"王{RARE[0]}{EXT_B_NOT_IN_NOTO}"))))

    subprocess.run(  # noqa: S603 (our own file names)
        [pdftoppm, "-r", "100", "-png", "-singlefile", "-f", "1", str(source), str(source)[:-4]],
        check=True,
    )

    image = Image.open(ARTIFACTS / "certificate-sample.png").convert("L")
    assert image.size == (827, 1170)  # A4 at 100 dpi
    dark = sum(image.histogram()[:128])
    assert dark > 5_000  # text, seal and QR code are there, not a blank page
