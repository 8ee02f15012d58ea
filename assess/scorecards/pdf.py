"""HTML → PDF/A-3b with WeasyPrint: the costly half of a scorecard, without any Flask app.

Worker processes of a bulk export import only this module (WeasyPrint and the fetcher):
they take a :class:`Prepared` and give PDF bytes. Each process keeps one
:class:`~weasyprint.text.fonts.FontConfiguration` and one parsed stylesheet (Sarabun
registered once), so memory stays flat however many scorecards it makes.
"""

from __future__ import annotations

import atexit
import datetime as dt
import gc
import hashlib
import io
import logging
import re
import threading
import zlib
from dataclasses import dataclass
from importlib.resources import files
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

from assess.heap import no_collection
from assess.scorecards.paths import PREFIX, STATIC

if TYPE_CHECKING:  # WeasyPrint takes most of a second to import: only when a PDF is made
    from weasyprint import CSS, HTML
    from weasyprint.css import ColorProfile
    from weasyprint.text.fonts import FontConfiguration

    from assess.scorecards.fetcher import StaticOnlyFetcher

STYLESHEET = STATIC / "css" / "scorecard.css"
#: The output intent PDF/A requires: sRGB, under a name of ours (see :func:`_intent`).
INTENT = "assess-srgb"
PDF_OPTIONS: dict[str, Any] = {
    "pdf_variant": "pdf/a-3b",
    # Tagged as well (logical structure, reading order, the <html lang>), for screen
    # readers and reflow; PDF/A-3b itself does not require it.
    "pdf_tags": True,
    "output_intent": INTENT,
}


@dataclass(frozen=True)
class Prepared:
    """A scorecard ready for WeasyPrint: plain, picklable data (worker processes take it)."""

    html: str
    scores: bytes
    attachment_name: str
    file_name: str


_lock = threading.Lock()
_styles: tuple[FontConfiguration, CSS] | None = None
_profile: ColorProfile | None = None
_fetcher: StaticOnlyFetcher | None = None
# WeasyPrint's, Pango's and fontconfig's objects are shared by every render of the process;
# one render at a time keeps them consistent when web threads and the job worker thread meet
# (Python runs one of them at a time anyway).
_render_lock = threading.Lock()


def fetcher() -> StaticOnlyFetcher:
    """The process's fetcher (static files and ``data:`` only)."""
    from assess.scorecards.fetcher import StaticOnlyFetcher

    global _fetcher
    with _lock:
        if _fetcher is None:
            _fetcher = StaticOnlyFetcher()
        return _fetcher


class _Deflate:
    """pydyf's ``zlib`` with every stream compressed at zlib's default level.

    pydyf (WeasyPrint's PDF writer) asks for level 9, which spends about a twentieth of a
    scorecard's time for files 1.5 % smaller than the default level 6 makes.
    """

    def __getattr__(self, name: str) -> Any:
        return getattr(zlib, name)

    @staticmethod
    def compressobj(level: int = -1, *args: Any, **kwargs: Any) -> Any:
        return zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, *args, **kwargs)


def _use_default_compression() -> None:
    import pydyf

    if getattr(pydyf, "zlib", None) is zlib:
        pydyf.zlib = _Deflate()


THAI = re.compile("[\u0e00-\u0e7f]+")
#: NIKHAHIT (the circle of SARA AM) drawn before a tone mark: logically it comes after.
_NIKHAHIT_FIRST = re.compile("(\u0e4d)([\u0e48-\u0e4b]+)")
#: :func:`_glyph_texts` by font file (a hash of its bytes) and face.
_texts: dict[tuple[bytes, int], dict[int, str]] = {}


def _glyph_texts(data: bytes, index: int) -> dict[int, str]:
    """The Thai text each glyph of a font file draws, as its character map and its glyph
    substitutions (single, alternate, ligature) give it; read once per file and process.

    A glyph that a substitution makes from others draws their text: a tone mark made
    smaller or lower draws that tone mark, a ligature of NIKHAHIT and a tone mark draws
    both (in their logical order: the tone mark first).
    """
    key = (hashlib.blake2b(data, digest_size=16).digest(), index)
    found = _texts.get(key)
    if found is None:
        try:
            found = _read_glyph_texts(data, index)
        except Exception:  # a font fontTools cannot read keeps WeasyPrint's own mapping
            logging.getLogger(__name__).warning("cannot read a font's glyphs", exc_info=True)
            found = {}
        _texts[key] = found
    return found


def _read_glyph_texts(data: bytes, index: int) -> dict[int, str]:
    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(data), fontNumber=index, lazy=True)
    text: dict[str, str] = {}
    for codepoint, name in sorted((font.getBestCmap() or {}).items()):
        text.setdefault(name, chr(codepoint))
    singles: list[dict[str, list[str]]] = []
    ligatures: list[dict[str, list[Any]]] = []
    lookup_list = font["GSUB"].table.LookupList if "GSUB" in font else None
    for lookup in lookup_list.Lookup if lookup_list else []:
        for subtable in lookup.SubTable:
            kind = lookup.LookupType
            if kind == 7:  # an extension: the real subtable is inside
                kind, subtable = subtable.ExtensionLookupType, subtable.ExtSubTable
            if kind == 1:
                singles.append({k: [v] for k, v in subtable.mapping.items()})
            elif kind == 3:
                singles.append(subtable.alternates)
            elif kind == 4:
                ligatures.append(subtable.ligatures)
    for _pass in range(4):  # a substitution of a substitution, and so on
        before = len(text)
        for mapping in singles:
            for source, targets in mapping.items():
                if source in text:
                    for target in targets:
                        text.setdefault(target, text[source])
        for by_first in ligatures:
            for first, made in by_first.items():
                for ligature in made:
                    parts = [first, *ligature.Component]
                    if all(part in text for part in parts):
                        drawn = "".join(text[part] for part in parts)
                        text.setdefault(ligature.LigGlyph, _NIKHAHIT_FIRST.sub(r"\2\1", drawn))
        if len(text) == before:
            break
    return {font.getGlyphID(name): drawn for name, drawn in text.items() if THAI.fullmatch(drawn)}


class _OwnText(dict[int, str]):
    """A font's glyph → text map (WeasyPrint's ``Font.to_unicode``) that records each Thai
    glyph with the text it draws, whatever cluster WeasyPrint first met it in."""

    def __init__(self, mapping: dict[int, str], own: dict[int, str]) -> None:
        super().__init__(mapping)
        self.own = own

    def __setitem__(self, glyph: int, text: str) -> None:
        super().__setitem__(glyph, self.own.get(glyph, text))


def _map_glyphs_to_their_own_text() -> None:
    """Make Thai read back from the PDF's text layer as it was written.

    HarfBuzz draws SARA AM (ำ) with Sarabun as two glyphs, NIKHAHIT and SARA AA, and with a
    tone mark before it (น้ำ) as a ligature of the tone mark and NIKHAHIT, then SARA AA, all
    in one cluster. WeasyPrint maps each glyph to text once, the first time it draws it,
    and gives the first glyphs of a cluster no text and the last the whole cluster. So ำ
    vanished (ประจำปี read as ประจาปี, น้ำ as นา), and had a document's first ำ come before its
    first า, every later า would have read as ำ. Here each Thai glyph is mapped to the text
    it draws (:func:`_glyph_texts`): ำ reads as "ํา", its compatibility decomposition
    (NFKC gives the same for both, and they look the same), า as า, น้ำ as "น้ํา". Other
    glyphs keep WeasyPrint's mapping, and what is drawn and embedded is unchanged.
    """
    from weasyprint.pdf.stream import Stream

    if getattr(Stream.add_font, "maps_own_text", False):
        return
    original = Stream.add_font

    def add_font(self: Stream, pango_font: Any) -> Any:
        font, size = original(self, pango_font)
        if type(font.to_unicode) is dict:
            font.to_unicode = _OwnText(font.to_unicode, _glyph_texts(font.file_content, font.index))
        return font, size

    add_font.maps_own_text = True  # type: ignore[attr-defined]
    Stream.add_font = add_font  # type: ignore[method-assign]


def styles() -> tuple[FontConfiguration, CSS]:
    """The process's font configuration and parsed stylesheet, made on first use.

    Parsing the stylesheet registers Sarabun's ``@font-face`` files with fontconfig: once
    per process, not once per scorecard.
    """
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    global _styles
    chosen = fetcher()
    with _lock:
        if _styles is None:
            _use_default_compression()
            _map_glyphs_to_their_own_text()
            fonts = FontConfiguration()
            css = CSS(
                string=STYLESHEET.read_text(encoding="utf-8"),
                base_url=PREFIX,
                url_fetcher=chosen,
                font_config=fonts,
            )
            _styles = (fonts, css)
        return _styles


def _intent() -> ColorProfile:
    """WeasyPrint's own sRGB profile, read once and its file closed.

    With ``output_intent="srgb"`` WeasyPrint opens that file for every PDF and never closes
    it (a ResourceWarning each time); the same profile under our name avoids both.
    """
    from weasyprint.css import ColorProfile

    global _profile
    with _lock:
        if _profile is None:
            with (files("weasyprint.pdf") / "sRGB2014.icc").open("rb") as icc:
                _profile = ColorProfile(
                    icc, "sRGB2014.icc", "relative-colorimetric", (["r"], ["g"], ["b"])
                )
        return _profile


@atexit.register
def _release() -> None:
    """Drop the cached font configuration while the interpreter is still whole: its
    finaliser, run during shutdown, would find WeasyPrint's modules already torn down."""
    global _styles
    with _lock:
        _styles = None
    gc.collect()


def warm_up() -> None:
    """Load the fonts and the stylesheet now (a worker process's initializer)."""
    styles()


def bare_pdf(html: str) -> bytes:
    """WeasyPrint on the same HTML with nothing of ours (the benchmark's point of comparison):
    the stylesheet parsed and its fonts loaded anew, default options (no PDF/A, no tags, no
    attachment, pydyf's own compression level)."""
    import pydyf
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    ours, pydyf.zlib = pydyf.zlib, zlib
    try:
        fonts = FontConfiguration()
        css = CSS(filename=str(STYLESHEET), url_fetcher=fetcher(), font_config=fonts)
        pdf = HTML(string=html, base_url=PREFIX, url_fetcher=fetcher()).write_pdf(
            stylesheets=[css], font_config=fonts
        )
    finally:
        pydyf.zlib = ours
    assert isinstance(pdf, bytes)
    return pdf


def parse(html: str, url_fetcher: StaticOnlyFetcher) -> HTML:
    """WeasyPrint's document of ``html``, parsed by the C XML parser when it is well-formed.

    The scorecard template writes polyglot markup (XML as well as HTML), which
    :mod:`xml.etree` reads in a fraction of the time WeasyPrint's pure-Python HTML5 parser
    takes, into the very tree that parser would give (HTML elements without a namespace,
    SVG in its own, explicit ``<tbody>``). Anything else, e.g. a control character in an
    agency's name, goes through the HTML5 parser as before: same PDF, slower.
    """
    import cssselect2
    from weasyprint import HTML

    try:
        # Our template's markup, every value escaped by Jinja: no DTD nor entity can come in.
        root = ElementTree.fromstring(html)  # noqa: S314
    except ElementTree.ParseError:
        return HTML(string=html, base_url=PREFIX, url_fetcher=url_fetcher)
    # What HTML.__init__ sets once its parser is done (WeasyPrint 70): no <base> in ours.
    document = HTML.__new__(HTML)
    document.base_url = PREFIX
    document.url_fetcher = url_fetcher
    document.media_type = "print"
    document.wrapper_element = cssselect2.ElementWrapper.from_html_root(root)
    document.etree_element = document.wrapper_element.etree_element
    return document


def write_pdf(
    prepared: Prepared,
    *,
    url_fetcher: StaticOnlyFetcher | None = None,
    created: dt.datetime | None = None,
) -> bytes:
    """The PDF/A-3b bytes of a prepared scorecard, with its scores attached as JSON.

    ``url_fetcher`` replaces the process's fetcher for this document (tests record what
    is asked for with one); the cached stylesheet was parsed with the process's own.
    """
    from weasyprint import Attachment

    fonts, css = styles()
    chosen = url_fetcher or fetcher()
    attachment = Attachment(
        string=prepared.scores,
        name=prepared.attachment_name,
        description="Scores of this scorecard (assess, JSON)",
        # PDF/A-3 says how an attachment relates to the document: the data it shows.
        relationship="Data",
        url_fetcher=chosen,
        created=created,
        modified=created,
    )
    with _render_lock, no_collection():
        pdf = parse(prepared.html, chosen).write_pdf(
            stylesheets=[css],
            font_config=fonts,
            color_profiles={INTENT: _intent()},
            attachments=[attachment],
            **PDF_OPTIONS,
        )
    assert isinstance(pdf, bytes)
    return pdf
