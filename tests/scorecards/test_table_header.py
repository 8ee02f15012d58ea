"""The dimension table's headers in the PDF: a Thai word is not split across two lines
("เปอร์เซ็น/ไทล์"), and the headers stay in their columns and on the A4 page, in both
languages."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from assess.scorecards import render
from assess.scorecards.pdf import write_pdf
from assess.services.agency_results import for_response
from tests.scorecards.conftest import Scene, pdftotext, same_text

A4_WIDTH = 595.28  # points
MARGIN = 14 / 25.4 * 72  # 14 mm, the page's left and right margins (scorecard.css @page)
#: The last word of the right-aligned headers of the peers' columns, as each language
#: writes them (rank, percentile, peer median).
HEADERS = {
    "th": ["อันดับ", "เปอร์เซ็นไทล์", "ของกลุ่ม"],
    "en": ["Rank", "Percentile", "median"],
}
_FIGURE = re.compile(r"\d+(\.\d+|/\d+)")
_WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>'
)


@pytest.fixture
def published(scene: Scene) -> Scene:
    scene.publish()
    return scene


def _pdf(scene: Scene, lang: str) -> bytes:
    return write_pdf(render.prepare(for_response(scene.response, peers_visible=True), lang))


def _words(pdf: bytes, tmp_path: Path) -> list[tuple[float, float, float, str]]:
    """(left, top, right, text) of each word on the first page, as pdftotext places them."""
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing (apt-get install poppler-utils)")
    path = tmp_path / "boxes.pdf"
    path.write_bytes(pdf)
    html = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", "-bbox", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [
        (float(left), float(top), float(right), same_text(text))
        for left, top, right, text in _WORD.findall(html)
    ]


def test_the_thai_percentile_header_is_one_word_on_the_header_line(published, tmp_path):
    text = same_text(pdftotext(_pdf(published, "th"), tmp_path))
    header = next(line for line in text.splitlines() if "อันดับ" in line and "คะแนน" in line)
    assert "เปอร์เซ็นไทล์" in header
    assert not re.search(r"เปอร์เซ็น\s*$", text, re.MULTILINE)  # not cut after เปอร์เซ็น


@pytest.mark.parametrize("lang", ["th", "en"])
def test_the_headers_stay_in_their_columns_and_on_the_page(published, tmp_path, lang):
    """A header wider than its column would run out of it on the right (a fixed table
    layout does not widen the column): a right-aligned header ends where its column's
    figures end, and no header passes the page's right margin."""
    words = _words(_pdf(published, lang), tmp_path)
    # The header row: the line of the table's first header, "#".
    top = next(t for left, t, right, w in words if w == "#")
    header = {w: right for left, t, right, w in words if abs(t - top) < 1}
    figures = [right for left, t, right, w in words if t > top and _FIGURE.fullmatch(w)]
    for word in HEADERS[lang]:
        assert any(abs(header[word] - right) < 1 for right in figures), word
    assert max(header.values()) <= A4_WIDTH - MARGIN + 0.5
