"""Certificates as PDF: WeasyPrint with Debian's CJK fonts embedded, and a glyph check.

Fonts. Templates name CSS families of our own (`Xueji Serif`, `Xueji Sans`, and the two
rare-character fallbacks), never a file: `@font-face` rules generated here point at the Debian
font files, which fontconfig finds by PostScript name (`fc-list :postscriptname=…`), so the exact
face is pinned whatever the distribution's aliases say:
- body text: Noto Serif CJK SC and Noto Sans CJK SC, Regular and Bold (`fonts-noto-cjk`);
- rare characters in names: HanaMinA (URO, Extension A, part of B) and HanaMinB (Extensions B–F)
  from `fonts-hanazono`, together nearly all of CJK Unified Ideographs up to Extension F.

Noto CJK ships as collections (.ttc) holding the SC, TC, JP, KR and HK faces; WeasyPrint's
`@font-face` loads a collection's first face, which is the Japanese one (different glyph shapes
for common characters such as 骨 and 直). The font fetcher therefore serves the one face
named by the URL's fragment (`file:///…/NotoSerifCJK-Regular.ttc#2`), cut out of the collection
with fontTools without decompiling the outlines.

A missing glyph is an error, never an empty box: `missing_glyphs()` checks every character of
the variable text (names and the like) against the cmaps of these fonts, and `require_glyphs()`
raises `GlyphMissing` naming the character and its code point.

Warm fonts. One `FontConfiguration` and one parsed font stylesheet per process, made on the first
render and reused: building them reads ~150 MB of fonts (a few seconds); a warm render of one
certificate takes tens of milliseconds. Renders in one process are serialised by a lock, as
WeasyPrint's font configuration is not documented to be thread-safe.

Resources. Templates are edited by registrars, so the document's URL fetcher serves only
`data:` URLs and files under the `base_url` directory (when that is a local directory): no
network, and no `<link rel="attachment" href="file:///etc/…">` embedding a server file.
"""

from __future__ import annotations

import functools
import io
import shutil
import subprocess
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured
from fontTools.ttLib import TTCollection, TTFont
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from xueji.certificates.fontcut import common_codepoints, cut_face
from xueji.core.exceptions import DomainError


@dataclass(frozen=True)
class FontFace:
    family: str  # the CSS family templates use
    weight: int
    postscript_name: str  # the installed face, found through fontconfig
    package: str  # the Debian package that ships it
    gb_cut: bool = False  # served cut down to GB 2312 (`fontcut.common_codepoints`)


FONT_FACES: tuple[FontFace, ...] = (
    # The GB 2312 cuts come first in the stacks: they draw nearly all text and keep each
    # embedded font small (see fontcut.py); anything they lack falls to the whole face.
    FontFace("Xueji Serif GB", 400, "NotoSerifCJKsc-Regular", "fonts-noto-cjk", gb_cut=True),
    FontFace("Xueji Serif GB", 700, "NotoSerifCJKsc-Bold", "fonts-noto-cjk", gb_cut=True),
    FontFace("Xueji Sans GB", 400, "NotoSansCJKsc-Regular", "fonts-noto-cjk", gb_cut=True),
    FontFace("Xueji Sans GB", 700, "NotoSansCJKsc-Bold", "fonts-noto-cjk", gb_cut=True),
    FontFace("Xueji Serif", 400, "NotoSerifCJKsc-Regular", "fonts-noto-cjk"),
    FontFace("Xueji Serif", 700, "NotoSerifCJKsc-Bold", "fonts-noto-cjk"),
    FontFace("Xueji Sans", 400, "NotoSansCJKsc-Regular", "fonts-noto-cjk"),
    FontFace("Xueji Sans", 700, "NotoSansCJKsc-Bold", "fonts-noto-cjk"),
    FontFace("Xueji Rare A", 400, "HanaMinA", "fonts-hanazono"),
    FontFace("Xueji Rare B", 400, "HanaMinB", "fonts-hanazono"),
)
_FALLBACK = '"Xueji Rare A", "Xueji Rare B"'
# The stacks templates use: the body face first, then the rare-character fonts.
SERIF_STACK = f'"Xueji Serif GB", "Xueji Serif", {_FALLBACK}'
SANS_STACK = f'"Xueji Sans GB", "Xueji Sans", {_FALLBACK}'

# Characters that draw nothing of their own: whitespace, and variation selectors (a name may
# carry an ideographic variation sequence; the base character is what needs a glyph).
_VARIATION_SELECTORS = ((0xFE00, 0xFE0F), (0xE0100, 0xE01EF))


class GlyphMissing(DomainError):
    """A character of the document's text has no glyph in any of the certificate fonts."""

    code = "glyph_missing"

    def __init__(self, characters: list[str], *, field: str | None = None):
        self.characters = characters
        listed = "、".join(f"“{ch}”（U+{ord(ch):04X}）" for ch in characters)
        super().__init__(
            f"字符 {listed} 在证书字体中没有字形，打印出来会是空白方框，因此未生成文件。"
            "请核对该字符是否录入正确；如确为生僻字，请联系系统管理员添加含该字的字体。",
            field=field,
        )


@dataclass(frozen=True)
class InstalledFace:
    face: FontFace
    path: Path
    index: int  # the face's index in a collection (.ttc); 0 for a plain font file

    @property
    def url(self) -> str:
        # The fragment selects the face of a collection, and the cut; see _FontFetcher.
        return f"{self.path.as_uri()}#{self.index}{'-gb' if self.face.gb_cut else ''}"


def _fc_list() -> str:
    found = shutil.which("fc-list")
    if found is None:
        raise ImproperlyConfigured(
            "fc-list (fontconfig) is missing: apt-get install fontconfig fonts-noto-cjk "
            "fonts-hanazono"
        )
    return found


@functools.cache
def installed_faces() -> tuple[InstalledFace, ...]:
    """Where each of FONT_FACES is installed. Raises ImproperlyConfigured naming the Debian
    package when one is missing."""
    fc_list = _fc_list()
    found: list[InstalledFace] = []
    missing: list[FontFace] = []
    for face in FONT_FACES:
        output = subprocess.run(  # noqa: S603 (fixed program, our own constant pattern)
            [fc_list, f":postscriptname={face.postscript_name}", "--format", "%{file}\t%{index}\n"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        # A font may also be reachable through an alternatives symlink; take the real file.
        matches = sorted(
            {
                (Path(file).resolve(), int(index))
                for file, index in (line.split("\t") for line in output.splitlines() if line)
            }
        )
        if not matches:
            missing.append(face)
            continue
        path, index = matches[0]
        found.append(InstalledFace(face, path, index))
    if missing:
        names = ", ".join(face.postscript_name for face in missing)
        packages = " ".join(sorted({face.package for face in missing}))
        raise ImproperlyConfigured(
            f"Certificate fonts not installed: {names} (apt-get install {packages})"
        )
    return tuple(found)


def _open_face(installed: InstalledFace) -> TTFont:
    if installed.path.suffix.lower() in {".ttc", ".otc"}:
        return TTCollection(installed.path, lazy=True).fonts[installed.index]
    return TTFont(installed.path, lazy=True, fontNumber=installed.index)


@functools.cache
def _coverage() -> frozenset[int]:
    """Code points with a glyph in at least one certificate font (read once per process)."""
    covered: set[int] = set()
    for installed in installed_faces():
        if installed.face.gb_cut:
            continue  # a cut of a face already counted
        covered.update(_open_face(installed).getBestCmap())
    return frozenset(covered)


def _draws_nothing(ch: str) -> bool:
    code = ord(ch)
    return ch.isspace() or any(low <= code <= high for low, high in _VARIATION_SELECTORS)


def missing_glyphs(text: str) -> list[str]:
    """The distinct characters of `text` that no certificate font can draw, in order of first
    appearance. Whitespace and variation selectors are not checked."""
    covered = _coverage()
    suspects = {ch for ch in set(text) if ord(ch) not in covered and not _draws_nothing(ch)}
    if not suspects:  # the usual case, decided without a loop in Python over the text
        return []
    return list(dict.fromkeys(ch for ch in text if ch in suspects))


def require_glyphs(texts: Iterable[str], *, field: str | None = None) -> None:
    """Raise GlyphMissing if any character of `texts` (the document's variable text: names,
    places, majors …) has no glyph in the certificate fonts."""
    missing = missing_glyphs("".join(texts))
    if missing:
        raise GlyphMissing(missing, field=field)


class _FontFetcher(URLFetcher):
    """Serves exactly the configured font files; a collection's face is cut out by index."""

    def __init__(self, faces: tuple[InstalledFace, ...]):
        super().__init__(fail_on_errors=True)
        self._faces = {installed.url: installed for installed in faces}

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        installed = self._faces.get(url)
        if installed is None:
            raise ValueError(f"not a certificate font: {url}")
        if installed.face.gb_cut:
            body = cut_face(installed.path, installed.index, common_codepoints())
        elif installed.path.suffix.lower() in {".ttc", ".otc"}:
            out = io.BytesIO()
            # Lazy: tables are copied as stored, so this takes well under a second.
            _open_face(installed).save(out)
            body = out.getvalue()
        else:
            body = installed.path.read_bytes()
        return URLFetcherResponse(url, body, {"Content-Type": "font/otf"})


class _ResourceFetcher(URLFetcher):
    """`data:` URLs, and local files under `root` when one is given; nothing else."""

    def __init__(self, root: Path | None):
        super().__init__(allowed_protocols={"data", "file"}, timeout=5)
        self._root = root

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        parts = urlsplit(url)
        if parts.scheme == "file":
            path = Path(unquote(parts.path)).resolve()
            if self._root is None or not path.is_relative_to(self._root):
                raise ValueError(f"resource outside the template folder: {url}")
        return super().fetch(url, headers)


@functools.lru_cache(maxsize=64)
def _resource_fetcher(root: Path | None) -> _ResourceFetcher:
    # Kept: making a URLFetcher loads the system's CA certificates (~20 ms), per render if not.
    return _ResourceFetcher(root)


def font_face_css() -> str:
    """The `@font-face` rules for the certificate fonts, and the serif stack as the default."""
    rules = [
        f'@font-face {{ font-family: "{installed.face.family}"; '
        f'font-weight: {installed.face.weight}; src: url("{installed.url}"); }}'
        for installed in installed_faces()
    ]
    rules.append(f"html {{ font-family: {SERIF_STACK}; }}")
    return "\n".join(rules)


class _Engine:
    """The warm part: one font configuration and one parsed font stylesheet per process."""

    def __init__(self) -> None:
        faces = installed_faces()
        self.font_config = FontConfiguration()
        self.font_css = CSS(
            string=font_face_css(), font_config=self.font_config, url_fetcher=_FontFetcher(faces)
        )
        self.lock = threading.Lock()


_engine: _Engine | None = None
_engine_lock = threading.Lock()


def _warm_engine() -> _Engine:
    global _engine  # one per process, made on first use
    if _engine is None:
        with _engine_lock:
            if _engine is None:
                _engine = _Engine()
    return _engine


def render_pdf(html: str, *, base_url: str | None = None) -> bytes:
    """Render `html` to PDF bytes with the certificate fonts embedded.

    `base_url` resolves relative URLs; when it is a local directory (`file:///…/`), images under
    it may be used (a seal, a logo). Check the variable text with `require_glyphs()` before: the
    renderer itself cannot tell a missing glyph from a drawn one.
    """
    engine = _warm_engine()
    root = None
    if base_url is not None and urlsplit(base_url).scheme == "file":
        path = Path(unquote(urlsplit(base_url).path)).resolve()
        root = path if base_url.endswith("/") else path.parent
    with engine.lock:
        document = HTML(string=html, base_url=base_url, url_fetcher=_resource_fetcher(root))
        return document.write_pdf(stylesheets=[engine.font_css], font_config=engine.font_config)
