"""QR codes for the verification URL: inline SVG, the same for the same URL, drawn in the PDF."""

from __future__ import annotations

import io
import re
import subprocess

import segno
from pypdf import PdfReader

from xueji.certificates.pdf import render_pdf
from xueji.certificates.qr import MASK, qr_svg

URL = "https://xueji.example.edu.cn/v/K7Q2M9XW"


def test_the_qr_code_is_inline_svg_sized_by_the_template() -> None:
    svg = qr_svg(URL)

    assert svg.startswith('<svg viewBox="0 0 ') and svg.endswith("</svg>")
    assert 'class="xueji-qr"' in svg
    assert "<title>扫码核验</title>" in svg
    assert "<?xml" not in svg  # inline in HTML, no document prologue
    assert not re.search(r"<svg[^>]* (width|height)=", svg)  # CSS gives the size


def test_the_same_url_gives_the_same_svg_and_another_url_another() -> None:
    assert qr_svg(URL) == qr_svg(URL)
    assert qr_svg(URL) != qr_svg(URL.replace("K7Q2M9XW", "K7Q2M9XY"))


def test_the_svg_is_segnos_symbol_for_the_url_with_a_quiet_zone() -> None:
    symbol = segno.make_qr(URL, error="m", mask=MASK)
    side = symbol.symbol_size(border=2)[0]

    assert not symbol.is_micro
    assert symbol.error in {"M", "Q", "H"}
    assert f'viewBox="0 0 {side} {side}"' in qr_svg(URL)


def modules_drawn(content: bytes) -> set[tuple[int, int]]:
    """(row, column) of every dark module drawn as `x1 y m  x2 y l` segments on half rows."""
    dark = set()
    segments = re.findall(rb"([\d.]+) ([\d.]+) m\n([\d.]+) ([\d.]+) l\n", content)
    for x1, y1, x2, y2 in segments:
        assert y1 == y2
        row = int(float(y1)) - 2  # two modules of quiet zone
        dark.update((row, column - 2) for column in range(int(float(x1)), int(float(x2))))
    return dark


def test_the_pdf_draws_exactly_the_modules_of_the_urls_symbol() -> None:
    html = f'<!doctype html><html lang="zh-CN"><body><p>核验</p>{qr_svg(URL)}</body></html>'

    content = PdfReader(io.BytesIO(render_pdf(html))).pages[0].get_contents().get_data()

    symbol = segno.make_qr(URL, error="m", mask=MASK)
    expected = {
        (row, column)
        for row, line in enumerate(symbol.matrix)
        for column, module in enumerate(line)
        if module
    }
    assert modules_drawn(content) == expected


def test_a_scanner_reads_the_verify_url_off_a_printed_page(tmp_path) -> None:
    """What a phone does with the paper: the page rendered at 150 dpi, scanned by zbar."""
    url = "https://xueji.example.edu.cn/verify/K7Q2M9XWABCD2345/"
    html = f'<html><body><p>扫码核验</p><div style="width: 24mm">{qr_svg(url)}</div></body></html>'
    pdf = tmp_path / "page.pdf"
    pdf.write_bytes(render_pdf(html))
    subprocess.run(  # noqa: S603 (fixed programs, our own files)
        ["/usr/bin/pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", pdf, tmp_path / "page"],
        check=True,
    )
    scanned = subprocess.run(  # noqa: S603
        ["/usr/bin/zbarimg", "-q", "--raw", next(tmp_path.glob("page*.png"))],
        capture_output=True,
        text=True,
        check=True,
    )
    assert scanned.stdout.strip() == url
