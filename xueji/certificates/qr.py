"""QR codes for the public verification URL printed on every certificate (segno).

The code is inline SVG for the HTML template: vector, so it prints sharp at any size, and no
image file to fetch. It has a viewBox and no width or height; the template sizes it with CSS
(about 20–25 mm on paper scans reliably). Error correction is at least M (15 %), raised by segno
when the symbol has room, so a stamp or a fold over a corner still scans. The mask pattern is
fixed (any of the eight is valid; choosing the best by the standard's penalty score took segno
~6 ms per code, a tenth of a batch's time per certificate). segno's encoding is deterministic:
the same URL gives the same SVG, byte for byte.
"""

from __future__ import annotations

import segno

MASK = 4


def qr_svg(url: str, *, title: str = "扫码核验") -> str:
    """An inline `<svg class="xueji-qr">` QR code (model 2, never Micro QR) encoding `url`."""
    code = segno.make_qr(url, error="m", mask=MASK)
    return code.svg_inline(
        border=2, omitsize=True, svgclass="xueji-qr", lineclass=None, title=title
    )
