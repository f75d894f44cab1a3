"""One document's final bytes from its filled-in HTML: rendered, then signed (PAdES) when the
school has configured a signing key (`xueji.certificates.signing`). What this returns is what
is stored, hashed and verified. Batch render processes call it too, so it needs no database."""

from __future__ import annotations

from django.conf import settings

from xueji.certificates.pdf import render_pdf
from xueji.certificates.signing import sign_pdf


def produce_pdf(html: str, reason: str = "") -> bytes:
    """`reason` is what a PDF reader shows as the signature's reason (type and serial)."""
    return sign_pdf(render_pdf(html), reason=reason, location=settings.SCHOOL_NAME)


def produce_pdf_job(item: tuple[str, str]) -> bytes:
    """`produce_pdf` for a pool's map: (html, reason)."""
    return produce_pdf(*item)
