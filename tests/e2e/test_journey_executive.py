"""The executive's journey in a real browser, in Thai: once the results are published, the
agency's executive (a coordinator account of the agency) signs in, opens the results page
and downloads the PDF scorecard — a real PDF that names the agency (read back with
``pdftotext``). The same results page is checked on a phone's width (no sideways
scrolling) and in print (no navigation, no buttons; Chromium's own PDF of it has pages).

Steps go to ``test-artifacts/journeys/executive/NN-<step>.png``, each checked with axe-core.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from assess.extensions import db
from assess.services import rounds
from tests.conftest import fill
from tests.e2e.conftest import Journey

pytestmark = pytest.mark.e2e

EXECUTIVE = "executive@rd.go.th"
AGENCY_TH = "กรมสรรพากร"
PHONE = {"width": 375, "height": 812}
#: Whether the page is wider than the window (a phone would scroll sideways).
OVERFLOWS = "() => document.scrollingElement.scrollWidth > window.innerWidth"


def test_executive_downloads_the_pdf_scorecard(world, person, tmp_path):  # type: ignore[no-untyped-def]
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing (apt-get install poppler-utils)")
    journey = Journey("executive")
    agency = world.agency("MOF-RD", name_th=AGENCY_TH, name_en="The Revenue Department")
    peers = [world.agency(f"AG-{n}") for n in range(1, 4)]
    world.user(EXECUTIVE, agency=agency)
    reviewer = world.user("reviewer@central.go.th", role="reviewer")
    round_ = world.round(
        agencies=[agency, *peers], name="การประเมินความพร้อมรัฐบาลดิจิทัล ปีงบประมาณ พ.ศ. 2569"
    )
    for target, maturity in zip([agency, *peers], (0.7, 0.4, 0.55, 0.85), strict=True):
        fill(world.response(round_, target), reviewer, maturity)
    rounds.move(round_, "closed", reviewer)
    rounds.move(round_, "published", reviewer)
    db.session.commit()
    rid = round_.id

    boss = person()
    page = boss.page
    page.goto(boss.url("/login"))
    journey.step(boss, "login")
    boss.login(EXECUTIVE, lands_on="**/my")
    journey.step(boss, "my-rounds")
    page.locator(f'.round-card[data-round="{rid}"] a[href="/rounds/{rid}/results"]').click()
    page.wait_for_url(f"**/rounds/{rid}/results")
    page.wait_for_selector("html[data-charts-drawn='1']", state="attached", timeout=30_000)
    assert AGENCY_TH in page.locator("h1").inner_text()
    journey.step(boss, "results")

    # -- the PDF scorecard in Thai, as the browser downloads it
    link = page.locator(f'a[href="/rounds/{rid}/responses/{agency.code}/scorecard.pdf?lang=th"]')
    with page.expect_download(timeout=60_000) as info:
        link.click()
    download = info.value
    assert download.suggested_filename.endswith(".pdf")
    pdf = tmp_path / download.suggested_filename
    download.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert AGENCY_TH in text
    assert "2569" in text

    # -- print: the navigation, the footer and the buttons stay off paper; Chromium prints it
    page.emulate_media(media="print")
    assert page.locator("nav.navbar").is_hidden()
    assert page.locator("footer").is_hidden()
    assert link.is_hidden()
    assert page.locator("#radar").is_visible()
    printed = page.pdf(format="A4", print_background=True)
    assert printed.startswith(b"%PDF-")
    page.emulate_media(media="screen")

    # -- a phone's width: the results page and my rounds fit without sideways scrolling
    page.set_viewport_size(PHONE)
    page.reload()
    page.wait_for_selector("html[data-charts-drawn='1']", state="attached", timeout=30_000)
    assert not page.evaluate(OVERFLOWS)
    journey.step(boss, "results-phone")
    boss.goto("/my")
    assert not page.evaluate(OVERFLOWS)
    journey.step(boss, "my-rounds-phone")

    assert boss.problems == [], "\n".join(boss.problems)
