"""The central office's round pages as the audit found them wanting: the final publication
warns of a dispute window still open, a published round's page counts its agencies as its
results do, and the CSV exports hold what the page they come from lists."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from assess import thai
from assess.extensions import db
from assess.models import Round
from assess.services import agencies, reports, responses, rounds
from assess.thai import today
from tests.conftest import fill


@pytest.fixture
def scene(world):  # type: ignore[no-untyped-def]
    """Two departments, a province and two local administrations (one in Bangkok, one in
    Chiang Mai) answered; the round is closed, ready to publish."""
    rd = world.agency("MOF-RD", type="department", province="Bangkok")
    cd = world.agency("MOF-CD", type="department", province="Bangkok")
    cmi = world.agency("PROV-CMI", type="province", province="Chiang Mai")
    bkk = world.agency("LAO-BKK", type="local", province="Bangkok", name_en="Bangkok Metropolis")
    cnx = world.agency("LAO-CNX", type="local", province="Chiang Mai")
    everyone = [rd, cd, cmi, bkk, cnx]
    reviewer = world.user("reviewer@example.go.th", role="reviewer")
    admin = world.user("admin@example.go.th", role="admin")
    for user in (reviewer, admin):
        user.language = "en"  # the tests read English text, whatever the catalogue
    round_ = world.round(agencies=everyone, name="Round 2569")
    for n, agency in enumerate(everyone):
        coordinator = world.user(f"{agency.code.lower()}@example.go.th", agency=agency)
        # LAO-CNX has not submitted: the reminder list's one local administration.
        status = "draft" if agency is cnx else "accepted"
        fill(world.response(round_, agency), coordinator, 0.3 + n / 10, status=status)
    rounds.move(round_, "closed")
    db.session.commit()
    return SimpleNamespace(round=round_, rd=rd, cmi=cmi, bkk=bkk, cnx=cnx, admin=admin)


def text_of(reply) -> str:  # type: ignore[no-untyped-def]
    assert reply.status_code == 200
    html = reply.get_data(as_text=True)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def read_csv(reply) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    assert reply.status_code == 200
    assert reply.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(reply.get_data(as_text=True).lstrip("\ufeff"))))


def link(html: str, label: str) -> str:
    """The address of the link whose text is ``label``."""
    found = re.search(r'href="([^"]+)"[^>]*>\s*' + re.escape(label) + r"\s*</a>", html)
    assert found, label
    return found.group(1).replace("&amp;", "&")


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


# -- the final publication while disputes are still accepted ---------------------------------


def test_publishing_while_disputes_are_accepted_warns_that_the_window_ends_early(
    scene, client, auth
):
    last = today() + dt.timedelta(days=5)
    rounds.move(scene.round, "preliminary", disputes_close_on=last)
    db.session.commit()
    auth.login("admin@example.go.th")
    url = f"/central/rounds/{scene.round.id}/move/published"
    page = text_of(client.get(url))
    assert "The dispute window is still open." in page
    assert f"until the end of {thai.format_date(last, 'en')}" in page
    assert "ends the window early" in page
    # The admin decides: the final results can still be published.
    published = text_of(client.post(url, follow_redirects=True))
    assert "The results are published." in published
    assert db.session.get(Round, scene.round.id).status == "published"


def test_the_warning_names_the_last_day_in_the_buddhist_era_in_thai(scene, client, auth):
    last = today() + dt.timedelta(days=3)
    rounds.move(scene.round, "preliminary", disputes_close_on=last)
    scene.admin.language = "th"
    db.session.commit()
    auth.login("admin@example.go.th")
    html = client.get(f"/central/rounds/{scene.round.id}/move/published").get_data(as_text=True)
    assert 'data-warning="disputes-open"' in html
    assert thai.format_date(last, "th") in html  # "29 พ.ย. 2569"
    assert str(thai.be_year(last.year)) in thai.format_date(last, "th")


def test_the_window_is_still_open_on_its_last_day(scene, client, auth):
    """The last day counts whole, in Bangkok: publishing on it still ends the window early."""
    rounds.move(scene.round, "preliminary", disputes_close_on=today())
    db.session.commit()
    auth.login("admin@example.go.th")
    page = text_of(client.get(f"/central/rounds/{scene.round.id}/move/published"))
    assert "The dispute window is still open." in page


def test_no_warning_once_the_window_has_closed_or_when_there_was_none(scene, client, auth):
    auth.login("admin@example.go.th")
    url = f"/central/rounds/{scene.round.id}/move/published"
    # Published straight from closed: no window (the page says it skips it).
    page = text_of(client.get(url))
    assert "This skips the dispute window." in page
    assert "The dispute window is still open." not in page
    rounds.move(scene.round, "preliminary")
    scene.round.disputes_close_on = today() - dt.timedelta(days=1)  # it ended yesterday
    db.session.commit()
    page = text_of(client.get(url))
    assert "The dispute window is still open." not in page


# -- a published round counts its agencies as its results do ----------------------------------


def rates(html: str) -> dict[str, str]:
    """The round page's response rate by agency type: type → "answered/invited"."""
    table = html.split("Response rate by agency type")[1].split("</table>")[0]
    rows = re.findall(r">([^<]+)</a></td>\s*<td[^>]*>([^<]+)</td>\s*<td[^>]*>([^<]+)</td>", table)
    return {kind: f"{answered}/{invited}" for kind, invited, answered in rows}


def monitor_codes(html: str) -> list[str]:
    table = html.split("Progress of the invited agencies")[1]
    return re.findall(r'<td class="font-monospace small text-nowrap">([^<]+)</td>', table)


@pytest.mark.parametrize("status", ["preliminary", "published"])
def test_a_published_rounds_page_counts_agencies_by_the_records_its_results_keep(
    scene, client, auth, status
):
    """LAO-BKK, a local administration when the results came out, is a province since:
    the round's page counts it where its dashboards do, the round under way where it is."""
    rounds.move(scene.round, status)
    db.session.commit()
    agencies.update_agency(scene.bkk, type="province", province="Chiang Mai")
    db.session.commit()
    kept = reports.load(scene.round).agencies
    assert kept.loc["LAO-BKK", "type"] == "local"  # what the dashboards count
    assert (kept["type"] == "local").sum() == 2
    auth.login("admin@example.go.th")
    base = f"/central/rounds/{scene.round.id}"

    html = client.get(base).get_data(as_text=True)
    assert rates(html) == {"Department": "2/2", "Province": "1/1", "Local administration": "1/2"}
    assert monitor_codes(client.get(f"{base}?type=local").get_data(as_text=True)) == [
        "LAO-BKK",
        "LAO-CNX",
    ]
    assert monitor_codes(client.get(f"{base}?type=province").get_data(as_text=True)) == ["PROV-CMI"]
    # Its province too: the filter's, the row's and the export's.
    bangkok = client.get(f"{base}?province=Bangkok").get_data(as_text=True)
    assert monitor_codes(bangkok) == ["LAO-BKK", "MOF-CD", "MOF-RD"]
    row = bangkok.split(">LAO-BKK</td>")[1].split("</tr>")[0]
    assert "Local administration" in row
    assert "Bangkok" in row
    exported = read_csv(client.get(f"{base}/responses.csv?type=local"))
    assert [(r["agency"], r["type"], r["province"]) for r in exported] == [
        ("LAO-BKK", "local", "Bangkok"),
        ("LAO-CNX", "local", "Chiang Mai"),
    ]
    # The rounds overview's rates by type are the same.
    overview = client.get("/central/rounds").get_data(as_text=True)
    by_type = overview.split('<details class="small mt-1 by-type">')[1].split("</details>")[0]
    assert 'Local administration</a> <span class="score text-nowrap">50.0% (1/2)' in by_type


def test_a_round_under_way_counts_agencies_as_the_agency_list_has_them(world, scene, client, auth):
    rounds.move(scene.round, "published")
    db.session.commit()
    agencies.update_agency(scene.bkk, type="province", province="Chiang Mai")
    db.session.commit()
    later = world.round(agencies=[scene.bkk, scene.cmi, scene.cnx], name="Round 2570")
    auth.login("admin@example.go.th")
    html = client.get(f"/central/rounds/{later.id}").get_data(as_text=True)
    assert rates(html) == {"Province": "0/2", "Local administration": "0/1"}
    assert monitor_codes(
        client.get(f"/central/rounds/{later.id}?type=province").get_data(as_text=True)
    ) == ["LAO-BKK", "PROV-CMI"]


# -- the exports hold what the page lists ------------------------------------------------------


def test_the_rounds_csv_holds_the_rounds_the_page_lists(world, scene, client, auth):
    version = scene.round.questionnaire
    next_year = world.round(version, name="Round 2570", fiscal_year=2570)
    draft = world.round(version, status="draft", name="Draft 2570", fiscal_year=2570)
    auth.login("admin@example.go.th")

    html = client.get("/central/rounds?fiscal_year=2570").get_data(as_text=True)
    assert "Round 2569" not in html
    url = link(html, "Export CSV")
    assert query_of(url) == {"fiscal_year": ["2570"]}
    rows = read_csv(client.get(url))
    assert [int(r["id"]) for r in rows] == [draft.id, next_year.id]  # the page's order

    html = client.get("/central/rounds?fiscal_year=2570&status=open").get_data(as_text=True)
    url = link(html, "Export CSV")
    assert query_of(url) == {"fiscal_year": ["2570"], "status": ["open"]}
    assert [r["name"] for r in read_csv(client.get(url))] == ["Round 2570"]

    closed = read_csv(client.get("/central/rounds.csv?status=closed"))
    assert [r["name"] for r in closed] == ["Round 2569"]
    # No filter (or one the page ignores): every round, and a link without arguments.
    html = client.get("/central/rounds?status=nonsense").get_data(as_text=True)
    assert link(html, "Export CSV") == "/central/rounds.csv"
    assert len(read_csv(client.get("/central/rounds.csv?status=nonsense"))) == 3
    every = db.session.scalars(select(Round.id)).all()
    assert sorted(int(r["id"]) for r in read_csv(client.get("/central/rounds.csv"))) == sorted(
        every
    )


def test_the_reminder_list_keeps_the_monitors_filters(world, scene, client, auth):
    rounds.move(scene.round, "open")  # reopened: agencies not yet submitted are reminded
    responses.set_status(world.response(scene.round, scene.cmi), "returned", None)
    db.session.commit()
    auth.login("admin@example.go.th")
    base = f"/central/rounds/{scene.round.id}"
    everyone = read_csv(client.get(f"{base}/responses.csv?status=pending"))
    assert [r["agency"] for r in everyone] == ["LAO-CNX", "PROV-CMI"]

    html = client.get(f"{base}?type=local&province=Chiang+Mai&q=LAO&sort=status")
    url = link(html.get_data(as_text=True), "Reminder list (CSV)")
    assert query_of(url) == {
        "type": ["local"],
        "province": ["Chiang Mai"],
        "q": ["LAO"],
        "sort": ["status"],
        "status": ["pending"],
    }
    reminders = client.get(url)
    assert "reminders" in reminders.headers["Content-Disposition"]
    rows = read_csv(reminders)
    assert [(r["agency"], r["coordinator_emails"]) for r in rows] == [
        ("LAO-CNX", "lao-cnx@example.go.th")
    ]
    # The page's own status filter is replaced, not combined: still the agencies to remind.
    html = client.get(f"{base}?province=Chiang+Mai&status=accepted")
    url = link(html.get_data(as_text=True), "Reminder list (CSV)")
    assert query_of(url) == {"province": ["Chiang Mai"], "status": ["pending"]}
    assert [r["agency"] for r in read_csv(client.get(url))] == ["LAO-CNX", "PROV-CMI"]
    # Unfiltered: every agency not yet submitted.
    html = client.get(base)
    assert query_of(link(html.get_data(as_text=True), "Reminder list (CSV)")) == {
        "status": ["pending"]
    }
    # The table's export keeps the page's own status.
    html = client.get(f"{base}?status=accepted")
    url = link(html.get_data(as_text=True), "Export this table (CSV)")
    assert query_of(url) == {"status": ["accepted"]}
    assert [r["agency"] for r in read_csv(client.get(url))] == ["LAO-BKK", "MOF-CD", "MOF-RD"]
