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
    # The round's name gives its year: the subject does not say it again.
    assert reader.metadata.subject == "กรมสรรพากร · รอบปีงบประมาณ 2569"


def test_english_subject_adds_the_year_a_round_name_lacks(published):
    published.round.name_en = "Readiness round"
    data, _ = _make(published, "en")
    subject = PdfReader(io.BytesIO(data)).metadata.subject
    assert subject == "The Revenue Department · Readiness round · Fiscal year 2569 (2025–26)"


def test_a_term_and_its_number_are_never_split_across_lines(published):
    """Pango's Thai line breaker split "เปอร์เซ็นไทล์" (a loanword) and "ปี/งบประมาณ" at
    the end of a line: the figures keep each term with its number."""
    html = render.prepare(for_response(published.response, peers_visible=True), "th").html
    figures = html.split('<p class="figures">', 1)[1].split("</p>", 1)[0]
    assert re.search(r'<span class="unbroken">เปอร์เซ็นไทล์ [0-9]+\.[0-9]{2}</span>', figures)
    assert '<span class="unbroken">ค่ามัธยฐาน</span>' in figures
    assert '<span class="unbroken">ปีงบประมาณ 2568</span>' in figures  # the change's round


def test_unbroken_escapes_first():
    assert render.unbroken("<b>percentile 5.5</b> & ปีงบประมาณ พ.ศ. 2569 วันทำการ") == (
        '&lt;b&gt;<span class="unbroken">percentile 5.5</span>&lt;/b&gt; &amp; '
        '<span class="unbroken">ปีงบประมาณ พ.ศ. 2569</span> <span class="unbroken">วันทำการ</span>'
    )


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


# -- what the audit of the scorecards found ---------------------------------------------------


def plain_text(pdf_bytes: bytes, tmp_path, page: int | None = None) -> str:  # type: ignore[no-untyped-def]
    """The PDF's text in reading order (no layout: the columns are not interleaved), one
    page or all, its words separated by single spaces."""
    path = tmp_path / "plain.pdf"
    path.write_bytes(pdf_bytes)
    pages = ["-f", str(page), "-l", str(page)] if page else []
    done = subprocess.run(
        ["pdftotext", *pages, str(path), "-"], capture_output=True, text=True, check=True
    )
    return " ".join(same_text(done.stdout).split())


def _set_status(scene: Scene, status: str, completeness: str) -> None:
    from assess.extensions import db

    scene.response.status = status
    scene.response.completeness = completeness
    db.session.commit()


@pytest.mark.parametrize(
    ("status", "said"),
    [
        ("draft", "Draft — 50.0% answered; these are not assessment results."),
        ("returned", "Returned — 50.0% answered; these are not assessment results."),
        (
            "submitted",
            "Submitted — not yet accepted by the central office; these are not final "
            "assessment results.",
        ),
    ],
)
def test_a_response_not_accepted_says_its_scores_are_not_results(published, tmp_path, status, said):
    """A draft's scorecard once looked final ("23.80 / 100 · Level 2"): its status and
    completeness now stand above the overall score."""
    _set_status(published, status, "50.0")
    data, _ = _make(published, "en")
    text = plain_text(data, tmp_path, page=1)
    assert said in text
    assert text.index(said) < text.index("OVERALL SCORE") or text.index(said) < text.index(
        "Overall score"
    )


def test_a_thai_draft_says_so_beside_the_score(published):
    _set_status(published, "draft", "50.0")
    html = render.prepare(for_response(published.response, peers_visible=True), "th").html
    overall = html.split('<div class="overall">', 1)[1].split('<div class="label">', 1)[0]
    assert 'class="unofficial"' in overall
    assert "ร่าง" in overall  # the status in Thai
    assert "ตอบแล้วร้อยละ\u00a050.0" in overall  # "ร้อยละ" before the number, in Thai


def test_an_accepted_response_has_no_such_warning(published, tmp_path):
    data, _ = _make(published, "en")
    assert "these are not" not in plain_text(data, tmp_path)


def _link_targets(data: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(data))
    targets = []
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A")
            if action is not None and "/URI" in action:
                targets.append(str(action["/URI"]))
    return targets


def test_the_verification_address_is_a_link(published, tmp_path):
    result = for_response(published.response, peers_visible=True)
    data = write_pdf(render.prepare(result, "en", site="https://assess.example.go.th/"))
    code = json.loads(result_attachment(data))["scorecard"]["verification_code"]
    url = f"https://assess.example.go.th/scorecards/verify?code={code}"
    assert url in _link_targets(data)
    # On one line, the code unbroken.
    assert url in pdftotext(data, tmp_path).splitlines()[-1] or any(
        url in line for line in pdftotext(data, tmp_path).splitlines()
    )


def test_without_the_sites_address_the_page_is_named_not_a_bare_path(app, published, tmp_path):
    app.config["PUBLIC_URL"] = None
    data, _ = _make(published, "en")
    text = plain_text(data, tmp_path)
    assert "at /scorecards/verify" not in text
    assert "on this system's scorecard verification page: /scorecards/verify" in text
    assert _link_targets(data) == []
    code = json.loads(result_attachment(data))["scorecard"]["verification_code"]
    assert f"Verification code: {code}" in text


def _not_applicable(scene: Scene) -> str:
    """Make the agency's first dimension one that does not apply to it (no score, no
    level), as a dimension whose every question is not applicable is stored."""
    from sqlalchemy.orm.attributes import flag_modified

    from assess.extensions import db

    code = scene.questionnaire.dimensions[0].code
    for stored in scene.response.results:
        stored.dimensions = {**stored.dimensions, code: {"score": None, "level": None}}
        flag_modified(stored, "dimensions")
    db.session.commit()
    return code


def test_a_dimension_that_does_not_apply_is_not_drawn_as_zero(published, tmp_path):
    _not_applicable(published)
    result = for_response(published.response, peers_visible=True)
    radar = result.radar()
    assert radar["agency"][0] is None
    # The peers' median and best stay: other agencies of the type have the dimension.
    assert radar["median"][0] is not None
    assert radar["best"][0] is not None
    data = write_pdf(render.prepare(result, "en"))
    text = plain_text(data, tmp_path)
    assert "Not applicable" in text
    assert "– · –" not in text
    assert "Not scored" not in text


def _layout_page(data: bytes, tmp_path, page: int) -> str:  # type: ignore[no-untyped-def]
    path = tmp_path / "page.pdf"
    path.write_bytes(data)
    done = subprocess.run(
        ["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    return same_text(done.stdout)


def test_the_overall_row_stays_with_the_last_dimension(published, tmp_path):
    """With the change column, a Thai table once left its overall row alone on the next
    page under a repeated header. Longer and longer round names (the change's, in the
    overall box, and the round's, in the masthead) move the table down across the page's
    end: the overall row is always on the last dimension's page."""
    from assess.extensions import db

    dims = published.questionnaire.dimensions
    first_word = same_text(dims[-1].title.get("th")).split()[0]
    last_row = re.compile(rf"^\s*{len(dims)}\s+{re.escape(first_word)}", re.MULTILINE)
    result = for_response(published.response, peers_visible=True)
    assert result.previous_round is not None  # the change column is there
    overall_row = re.compile(
        rf"^\s*ภาพรวม\s+{re.escape(render.thai.format_score(result.overall.score))}\s+[^·\s]",
        re.MULTILINE,
    )
    previous, current = published.previous.name, published.round.name
    words = " รอบทดสอบความยาวชื่อ"  # 20 characters
    split_seen = set()
    for step in range(18):
        published.previous.name = previous + words * min(step, 8)
        published.round.name = current + words * max(0, step - 8)
        db.session.commit()
        data, _ = _make(published, "th")
        count = len(PdfReader(io.BytesIO(data)).pages)
        pages = [_layout_page(data, tmp_path, n) for n in range(1, count + 1)]
        with_last = [n for n, text in enumerate(pages) if last_row.search(text)]
        with_overall = [n for n, text in enumerate(pages) if overall_row.search(text)]
        assert with_last, step
        assert with_overall[:1] == with_last[:1], (step, with_last, with_overall)
        split_seen.add(with_last[0])
    assert split_seen == {0, 1}  # the table ended on page 1, and on page 2


def test_the_masthead_names_the_round_and_the_year_once(published, tmp_path):
    """The kicker once gave the questionnaire's title, with its own fiscal year (2568),
    beside the round's (2569); the facts said "ปีงบประมาณ | ปีงบประมาณ พ.ศ. 2569"."""
    html = render.prepare(for_response(published.response, peers_visible=True), "th").html
    kicker = html.split('<div class="kicker">', 1)[1].split("</div>", 1)[0]
    # The year kept on one line with its words (render.unbroken).
    assert kicker == 'รอบ<span class="unbroken">ปีงบประมาณ 2569</span>'
    assert re.sub(r"<[^>]+>", "", kicker) == published.round.title("th")
    data, _ = _make(published, "th")
    text = plain_text(data, tmp_path, page=1)
    assert not re.search(r"ปีงบประมาณ\s+ปีงบประมาณ", text)
    assert "แบบประเมิน" in text  # the questionnaire's title, labelled as such


def test_no_text_runs_past_the_right_margin(published, tmp_path):
    """The Thai header "เปลี่ยนแปลง" once overflowed its column into the margin."""
    data, _ = _make(published, "th")
    path = tmp_path / "card.pdf"
    path.write_bytes(data)
    done = subprocess.run(
        ["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True
    )
    right = 595.28 - 14 / 25.4 * 72  # A4, 14 mm margin
    widest = max(float(x) for x in re.findall(r'xMax="([0-9.]+)"', done.stdout))
    assert widest <= right + 0.5


def test_the_percentile_is_explained_as_scoring_md_computes_it(published, tmp_path):
    """scoring.md §7: (B + 0.5E)/N, ties counted as half, the agency among them."""
    data, _ = _make(published, "en")
    text = plain_text(data, tmp_path)
    assert "at or below" not in text
    assert "the share of them scoring below this agency, ties (this agency included) " in text


def test_the_lift_sections_have_their_levels_colour(tmp_path):
    """``.lift`` once set its grey border after ``.edge-N``: the level's colour was lost."""
    from PIL import Image

    html = (
        '<html lang="en"><body><div class="lift edge-1"><div class="head">1. A</div>'
        "</div></body></html>"
    )
    data = pdf.write_pdf(pdf.Prepared(html, b"{}", "scores.json", "card.pdf"))
    path = tmp_path / "lift.pdf"
    path.write_bytes(data)
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(path), str(tmp_path / "lift")], check=True)
    image = Image.open(next(tmp_path.glob("lift-*.png"))).convert("RGB")
    colours = {colour for _count, colour in image.getcolors(1_000_000)}
    red = (0xC0, 0x39, 0x2B)  # .edge-1
    assert any(sum(abs(a - b) for a, b in zip(c, red, strict=True)) < 12 for c in colours)


def test_numbers_read_with_their_units_in_each_language():
    assert render.with_unit("90", "ร้อยละ") == "ร้อยละ\u00a090"
    assert render.with_unit("90", "%") == "90%"
    assert render.with_unit("12", "services") == "12\u00a0services"
    assert render.with_unit("3", "") == "3"


def test_the_other_languages_name_says_its_language(published):
    html = render.prepare(for_response(published.response, peers_visible=True), "en").html
    assert f'<p class="other" lang="th">{published.a.name_th}</p>' in html
    html = render.prepare(for_response(published.response, peers_visible=True), "th").html
    assert f'<p class="other" lang="en">{published.a.name_en}</p>' in html


def test_the_gate_pill_never_wraps():
    css = (pdf.STYLESHEET).read_text(encoding="utf-8")
    assert re.search(r"\.gate \{[^}]*white-space: nowrap", css)
