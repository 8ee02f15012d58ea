"""A round of fiscal year 2570 may reuse the questionnaire of 2569, whose title says
"…ประจำปีงบประมาณ พ.ศ. 2569": where a round is shown with its questionnaire, the round's
fiscal year comes first and the questionnaire is named by its version, and the new-round
page warns (without refusing) when the version names another year."""

from __future__ import annotations

import json
import re

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _

from assess import thai
from assess.extensions import db
from assess.models import Round
from assess.review.routes import version_year

TITLE_TH = "ประจำปีงบประมาณ พ.ศ. 2569"  # the 2569 questionnaire's title says so
TITLE_EN = "fiscal year B.E. 2569"


@pytest.fixture
def reused(world):  # type: ignore[no-untyped-def]
    """A round of 2570 on the 2569 questionnaire, and its agency's coordinator (English)."""
    agency = world.agency("AG-1")
    round_ = world.round(world.questionnaire(), agencies=[agency], fiscal_year=2570)
    coordinator = world.user("c@example.go.th", agency=agency)
    coordinator.language = "en"
    db.session.commit()
    return round_, coordinator


def _line(html: str) -> str:
    """The text of the line naming the round's year and questionnaire."""
    found = re.search(r'class="small text-muted round-questionnaire">(.*?)</(?:div|p)>', html, re.S)
    assert found is not None
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


#: The coordinator's home page, the answer page (its header) and the submit page.
PAGES = ["/my", "/rounds/{id}/answer", "/rounds/{id}/submit"]


@pytest.mark.parametrize("path", PAGES)
def test_the_round_leads_with_its_year_and_names_the_version(client, auth, reused, path):
    round_, _coordinator = reused
    auth.login("c@example.go.th")
    reply = client.get(path.format(id=round_.id), follow_redirects=True)
    html = reply.get_data(as_text=True)
    assert _line(html).startswith("Fiscal year 2570 (2026–27) · Questionnaire version 2569")
    assert TITLE_EN not in html


@pytest.mark.parametrize("path", PAGES)
def test_thai_pages_lead_with_the_year_too(app, client, auth, reused, path):
    round_, coordinator = reused
    coordinator.language = "th"
    db.session.commit()
    auth.login("c@example.go.th")
    reply = client.get(path.format(id=round_.id), follow_redirects=True)
    html = reply.get_data(as_text=True)
    with app.test_request_context(), force_locale("th"):
        version = _("Questionnaire version %(version)s", version="2569")
    assert _line(html).startswith(f"ปีงบประมาณ พ.ศ. 2570 · {version}")
    assert TITLE_TH not in html


def test_a_version_names_a_year_when_it_holds_one():
    assert version_year("2569") == 2569
    assert version_year("2569.1") == version_year("2569-rev2") == 2569
    assert version_year("v2") is None
    assert version_year("12569") is None
    assert version_year("2026") is None  # a Gregorian year names no fiscal year


@pytest.fixture
def reviewer(client, auth, world):  # type: ignore[no-untyped-def]
    world.user("r@example.go.th", role="reviewer").language = "en"
    db.session.commit()
    auth.login("r@example.go.th")
    return client


def _warning(html: str) -> tuple[bool, str]:
    """Whether the version warning shows, and what it says."""
    found = re.search(r'<div[^>]*id="version-year-warning"([^>]*)>(.*?)</div>', html, re.S)
    assert found is not None
    return "hidden" not in found.group(1), found.group(2).strip()


def test_the_new_round_page_warns_when_the_version_names_another_year(reviewer, world):
    version = world.questionnaire()
    world.agency("AG-1")
    current = thai.fiscal_year(thai.today())
    data = {
        "questionnaire": version.id,
        "name": "",
        "invite": "codes",
        "agency_codes": "AG-1",
    }
    # Refused for its missing name: the page is shown again, warning or not as the year is.
    for year, shown in ((2569, False), (2570, True)):
        reply = reviewer.post("/central/rounds/new", data={**data, "fiscal_year": year})
        assert reply.status_code == 422
        assert _warning(reply.get_data(as_text=True))[0] is shown
    assert _warning(reply.get_data(as_text=True))[1] == (
        "Questionnaire version 2569 names another fiscal year than the round&#39;s (2570). "
        "A round may use an earlier year&#39;s questionnaire: check that this is the one "
        "you mean."
    )
    # The page as it opens: this year's round on the newest version.
    page = reviewer.get("/central/rounds/new").get_data(as_text=True)
    assert _warning(page)[0] is (current != 2569)
    # A warning, not an error: the round is created.
    reply = reviewer.post(
        "/central/rounds/new", data={**data, "name": "รอบ 2570", "fiscal_year": 2570}
    )
    assert reply.status_code == 302
    assert db.session.scalars(db.select(Round).filter_by(fiscal_year=2570)).one().name == "รอบ 2570"


def test_the_page_gives_its_script_the_years_and_the_message(reviewer, world):
    old = world.questionnaire(key="dg-readiness@2568")
    new = world.questionnaire()
    page = reviewer.get("/central/rounds/new").get_data(as_text=True)
    found = re.search(r'<script type="application/json" id="round-new-data">(.*?)</script>', page)
    assert found is not None
    script = json.loads(found.group(1))
    assert script["years"] == {str(old.id): 2568, str(new.id): 2569}
    assert script["versions"] == {str(old.id): "2568", str(new.id): "2569"}
    assert script["message"].startswith("Questionnaire version %(version)s names another")
    assert "(%(year)s)" in script["message"]
