"""A scorecard read back as a reader and an archive would: its text, fonts, attachment,
PDF/A declaration, tags and metadata; and PNG pages kept as test artefacts."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from decimal import Decimal

import pytest
from pypdf import PdfReader

from assess.models import Result
from assess.scorecards import pdf, render
from assess.scorecards.pdf import write_pdf
from assess.services.agency_results import for_response
from tests.scorecards.conftest import ARTIFACTS, Scene, pdftotext, same_text


def _make(scene: Scene, lang: str, *, peers: bool = True) -> tuple[bytes, object]:
    result = for_response(scene.response, peers_visible=peers)
    return write_pdf(render.prepare(result, lang)), result


def _stored(scene: Scene, kind: str) -> Result:
    return next(r for r in scene.response.results if r.kind == kind)


@pytest.fixture
def published(scene: Scene) -> Scene:
    scene.publish()
    return scene


def test_thai_scorecard_reads_back_with_names_scores_and_levels(published, tmp_path):
    data, result = _make(published, "th")
    text = same_text(pdftotext(data, tmp_path))
    for word in same_text(published.a.name_th + " " + published.ministry.name_th).split():
        assert word in text
    verified = _stored(published, "verified")
    assert verified.overall_score in text  # "63.89": the stored text, two decimals
    for code, stored in verified.dimensions.items():
        assert stored["score"] in text, code
    for level in published.questionnaire.levels:
        if level.code in {d["level"] for d in verified.dimensions.values()}:
            for word in same_text(level.name.get("th")).split():
                assert word in text
    # Buddhist Era: the fiscal year and the date of generation.
    assert "พ.ศ. 2569" in text
    assert re.search(r"\b25[6-9]\d\b", text.split("พ.ศ. 2569", 1)[1])
    # The verification code, whole.
    code = json.loads(result_attachment(data))["scorecard"]["verification_code"]
    assert code in text.replace("\n", " ")


def result_attachment(data: bytes) -> bytes:
    """The one embedded file of a scorecard."""
    reader = PdfReader(io.BytesIO(data))
    files = reader.attachments
    assert len(files) == 1, files.keys()
    ((name, contents),) = files.items()
    assert name.startswith("scores-2569-")
    assert name.endswith(".json")
    return contents[0]


def test_the_attachment_equals_the_stored_scores(published):
    data, _result = _make(published, "en")
    record = json.loads(result_attachment(data))
    verified, own = _stored(published, "verified"), _stored(published, "self")

    def number(text: str | None) -> float | None:
        return None if text is None else float(Decimal(text))

    assert record["agency"]["code"] == "AG-A"
    assert record["round"]["id"] == published.round.id
    assert record["overall"]["score"] == number(verified.overall_score)
    assert record["overall"]["level"] == verified.overall_level
    assert record["overall"]["self_assessed"] == {
        "score": number(own.overall_score),
        "level": own.overall_level,
    }
    for code, stored in verified.dimensions.items():
        assert record["dimensions"][code]["score"] == number(stored["score"])
        assert record["dimensions"][code]["level"] == stored["level"]
        assert record["dimensions"][code]["self_assessed"]["score"] == number(
            own.dimensions[code]["score"]
        )
    # The verified value lowered a score: the record says so too.
    assert record["overall"]["score"] != record["overall"]["self_assessed"]["score"]


def test_sarabun_is_embedded_and_no_other_font(published, tmp_path):
    data, _ = _make(published, "th")
    path = tmp_path / "card.pdf"
    path.write_bytes(data)
    done = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    rows = done.stdout.splitlines()[2:]
    assert rows, done.stdout
    names = {row.split()[0].split("+")[-1] for row in rows}
    assert names <= {"Sarabun", "Sarabun-Bold"}, names
    assert "Sarabun" in names
    assert "Sarabun-Bold" in names
    # Column "emb" is yes for every font.
    assert all(" yes " in row for row in rows), rows


def test_pdfa_3b_tagged_with_title_and_language(published):
    data, _ = _make(published, "en")
    reader = PdfReader(io.BytesIO(data))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode("utf-8")
    assert re.search(r"pdfaid:part(>|=\")3", xmp), xmp
    assert re.search(r"pdfaid:conformance(>|=\")B", xmp), xmp
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "en"
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root
    assert "/OutputIntents" in root  # sRGB, as PDF/A wants
    assert reader.metadata.title.startswith("Digital government readiness scorecard")
    assert "The Revenue Department" in reader.metadata.title
    # PDF/A-3: the attachment says how it relates to the document.
    assert any(str(f.get_object()["/AFRelationship"]) == "/Data" for f in root["/AF"])
    assert reader.pdf_header.startswith("%PDF-1.7")


def test_thai_language_and_title(published):
    data, _ = _make(published, "th")
    reader = PdfReader(io.BytesIO(data))
    assert reader.trailer["/Root"]["/Lang"] == "th"
    assert "กรมสรรพากร" in reader.metadata.title


def test_without_peers_no_rank_nor_median(scene, tmp_path):
    scene.publish("preliminary")
    data, result = _make(scene, "en", peers=False)
    text = pdftotext(data, tmp_path)
    assert "Peer median" not in text
    assert "Percentile" not in text
    assert "peers" not in json.loads(result_attachment(data))["overall"]
    assert "Preliminary" in text  # the round's status, and that results may change


def test_the_verified_difference_is_noted(published, tmp_path):
    data, _ = _make(published, "en")
    text = pdftotext(data, tmp_path)
    assert "Verified and self-assessed results differ" in text


@pytest.mark.parametrize("lang", ["th", "en"])
def test_png_pages_for_people_to_look_at(published, tmp_path, lang):
    """Pages as images in test-artifacts/scorecards/ (looked at by people, kept by CI)."""
    if shutil.which("pdftoppm") is None:
        pytest.fail("pdftoppm is missing (apt-get install poppler-utils)")
    data, _ = _make(published, lang)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"scorecard-{lang}.pdf").write_bytes(data)
    prefix = ARTIFACTS / f"scorecard-{lang}"
    for old in ARTIFACTS.glob(f"scorecard-{lang}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "100", "-png", str(prefix) + ".pdf", str(prefix)], check=True)
    pages = sorted(ARTIFACTS.glob(f"scorecard-{lang}-*.png"))
    assert 1 <= len(pages) <= 3, pages
    assert all(p.stat().st_size > 20_000 for p in pages)


def test_one_context_for_many_agencies_gives_each_what_its_own_gives(published):
    """A bulk export (and the cached context of the web pages) asks one context for every
    agency: the peer index and the trend rows found once give each agency exactly what a
    context of its own gives."""
    from assess.models import Response
    from assess.services.agency_results import RoundContext

    bulk = RoundContext(published.round, peers_visible=True)
    responses = Response.query.filter_by(round_id=published.round.id).all()
    assert len(responses) >= 4
    for response in responses:
        single = RoundContext(published.round, peers_visible=True)
        many, one = bulk.agency(response), single.agency(response)
        assert many.overall == one.overall, response.agency.code
        assert many.dimensions == one.dimensions, response.agency.code
        assert many.lifts == one.lifts, response.agency.code
    assert any(m.peers and m.change is not None for m in bulk.agency(published.response).dimensions)


@pytest.mark.parametrize("lang", ["th", "en"])
def test_the_fast_parser_gives_the_same_pdf_as_the_html5_parser(
    published, tmp_path, lang, monkeypatch
):
    """The scorecard's markup is well-formed XML, read by the C parser; WeasyPrint's own
    HTML5 parser on the same markup gives the same pages, pixel for pixel, also for the
    agency whose name carries markup."""
    from weasyprint import HTML

    from assess.scorecards import pdf

    for response in (published.response, published.response_x):
        prepared = render.prepare(for_response(response, peers_visible=True), lang)
        with monkeypatch.context() as patched:  # the HTML5 parser is not used at all
            patched.setattr("tinyhtml5.parse", _refuse)
            fast = pdf.parse(prepared.html, pdf.fetcher())
        fonts, css = pdf.styles()
        pages = {}
        for name, document in (
            ("fast", fast),
            ("html5", HTML(string=prepared.html, base_url=pdf.PREFIX, url_fetcher=pdf.fetcher())),
        ):
            path = tmp_path / f"{name}.pdf"
            path.write_bytes(document.write_pdf(stylesheets=[css], font_config=fonts))
            subprocess.run(
                ["pdftoppm", "-r", "60", "-png", str(path), str(tmp_path / name)], check=True
            )
            pages[name] = [p.read_bytes() for p in sorted(tmp_path.glob(f"{name}-*.png"))]
        assert pages["fast"], response.agency.code
        assert pages["fast"] == pages["html5"], response.agency.code
        for leftover in tmp_path.glob("*.png"):
            leftover.unlink()


def _refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
    raise AssertionError("the HTML5 parser was used")


def test_markup_that_is_not_xml_still_makes_the_scorecard(published):
    """A control character (valid in HTML, not in XML) sends the document through the
    HTML5 parser: still a PDF, with the text."""
    from assess.scorecards import pdf

    prepared = render.prepare(for_response(published.response, peers_visible=True), "en")
    broken = prepared.html.replace("</h2>", "\x0b</h2>", 1)
    with pytest.raises(Exception):  # noqa: B017, PT011  (xml.etree's ParseError)
        __import__("xml.etree.ElementTree").etree.ElementTree.fromstring(broken)
    document = pdf.parse(broken, pdf.fetcher())
    assert document.etree_element.find(".//h2") is not None


def test_sara_am_reads_back_from_the_text_layer(tmp_path):
    """ำ, alone or under a tone mark, reads back (as "ํา", the same under NFKC), and never
    turns a later า into ำ, even when a document's first ำ comes before its first า."""
    words = ["ำ", "น้ำ", "ประจำปี", "สำนักงาน", "ก้ำกึ่ง", "ค่ำ", "มา", "ป่า", "ข้าราชการ", "ทั่วไป", "ปี่"]
    html = f'<html lang="th"><body><p>{" ".join(words)}</p></body></html>'
    data = pdf.write_pdf(pdf.Prepared(html, b"{}", "scores.json", "card.pdf"))
    text = pdftotext(data, tmp_path)
    assert text.split()[: len(words)] == [same_text(word) for word in words]
    assert "ประจําปี" in text  # NIKHAHIT and SARA AA, as drawn
    assert "น้ํา" in text  # the tone mark before NIKHAHIT, in the order typed
    assert "มา" in text.split()  # not "มำ"


def test_percentiles_read_as_everywhere_else(published, tmp_path):
    """Two decimals, the stored figure (scoring.md §7), as the pages, the API and the
    command line give it: "79.55", not "79.5"."""
    data, _result = _make(published, "en")
    record = json.loads(result_attachment(data))
    text = pdftotext(data, tmp_path)
    peers = [p for p in record["overall"]["peers"] if p["by"] == "type"]
    assert peers
    assert peers[0]["percentile"] is not None
    assert f"{peers[0]['percentile']:.2f}" in text
    for measure in record["dimensions"].values():
        for peer in measure["peers"]:
            if peer["by"] == "type" and peer["percentile"] is not None:
                assert f"{peer['percentile']:.2f}" in text
