"""What a round's dates and names must be, and how the central pages say them: the dates
tied to the fiscal year, the dispute window's day, the new-round confirmation, refused
settings shown as typed, English names, the last day, CSV times and the demo's timeline."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest

from assess import thai
from assess.extensions import db
from assess.models import Round
from assess.reports import charts
from assess.review.routes import iso_local
from assess.services import reports, rounds
from assess.services.errors import ServiceError
from assess.thai import BANGKOK

REVIEWER = "r@example.go.th"


@pytest.fixture
def reviewer(client, auth, world):  # type: ignore[no-untyped-def]
    """A test client signed in as a reviewer who reads English pages."""
    user = world.user(REVIEWER, role="reviewer")
    user.language = "en"
    db.session.commit()
    auth.login(REVIEWER)
    return client


def refused(version, agency, fiscal_year: int, **dates) -> list[str]:  # type: ignore[no-untyped-def]
    """The problems of a new round of ``fiscal_year`` with ``dates`` (it must be refused)."""
    with pytest.raises(ServiceError) as caught:
        rounds.create_round(version, "รอบ", fiscal_year, agencies=[agency], **dates)
    db.session.rollback()
    return caught.value.problems


# -- the dates and the fiscal year ------------------------------------------------------------


def test_a_round_runs_during_its_fiscal_year_give_or_take_a_year(app, world):
    version, agency = world.questionnaire(), world.agency("AG-1")
    current = thai.fiscal_year(thai.today())
    rule = "runs during that year, give or take a year; check the year"
    # All within the fiscal year before.
    problems = refused(
        version,
        agency,
        current,
        opens_on=dt.date(current - 545, 10, 1),
        closes_on=dt.date(current - 544, 3, 31),
    )
    assert problems == [
        f"the round closes on {current - 544}-03-31, before fiscal year {current} begins: a "
        f"round of fiscal year {current} ({current - 544}-10-01 to {current - 543}-09-30) " + rule
    ]
    # Opened and closed more than a year after the fiscal year ended.
    problems = refused(
        version,
        agency,
        current - 1,
        opens_on=dt.date(current - 543, 10, 1),
        closes_on=dt.date(current - 542, 3, 31),
    )
    assert len(problems) == 2
    assert problems[1].startswith(
        f"{current - 542}-03-31 is more than a year after fiscal year {current - 1} ends: "
    )
    assert all(p.endswith(rule) for p in problems)
    assert refused(version, agency, current, closes_on=dt.date(2099, 3, 31))[0].startswith(
        "2099-03-31 is more than a year after fiscal year"
    )
    # The edges are taken: a year before the fiscal year begins, a year after it ends.
    first, last = thai.fiscal_year_bounds(current)
    made = rounds.create_round(
        version,
        "รอบ",
        current,
        opens_on=first.replace(year=first.year - 1),
        closes_on=last.replace(year=last.year + 1),
        agencies=[agency],
    )
    assert made.id


def test_a_new_round_belongs_to_a_fiscal_year_near_today(app, world, monkeypatch):
    version, agency = world.questionnaire(), world.agency("AG-1")
    current = thai.fiscal_year(thai.today())
    assert refused(version, agency, 2500) == [
        f"fiscal year 2500 is out of range: a new round belongs to a fiscal year from "
        f"{current - 5} to {current + 5} (this fiscal year, {current}, give or take 5 years)"
    ]
    assert refused(version, agency, current + 6)[0].startswith(
        f"fiscal year {current + 6} is out of range"
    )
    assert rounds.create_round(version, "รอบ", current + 5, agencies=[agency]).id
    # An existing round keeps its year, however far from today's it has come to be.
    kept = world.round(version, agencies=[agency], fiscal_year=current - 1)
    monkeypatch.setattr(rounds, "NEW_ROUND_YEARS", 0)
    assert rounds.update_settings(kept, opens_on=None, closes_on=thai.today(), live_preview=False)


def test_a_year_that_cannot_be_buddhist_era_is_out_of_range(app, world):
    version, agency = world.questionnaire(), world.agency("AG-1")
    current = thai.fiscal_year(thai.today())
    assert refused(version, agency, current, closes_on=dt.date(3000, 3, 31)) == [
        "3000-03-31: the year 3000 is out of range"
    ]
    assert refused(version, agency, current, closes_on=dt.date(2570, 3, 31)) == [
        "2570-03-31: 2570 is a Buddhist Era year; write dates in the Gregorian calendar "
        "(2027-03-31)"
    ]


def test_a_gregorian_fiscal_year_on_the_form_is_named_as_on_the_command_line(reviewer, world):
    version = world.questionnaire()
    world.agency("AG-1")
    reply = reviewer.post(
        "/central/rounds/new",
        data={"questionnaire": version.id, "name": "x", "fiscal_year": 2027, "invite": "all"},
    )
    assert reply.status_code == 422
    assert (
        "fiscal year 2027 is not a Buddhist Era year (e.g. 2569 for Oct 2025–Sep 2026)"
        in reply.get_data(as_text=True)
    )


# -- the dispute window -----------------------------------------------------------------------


def test_the_dispute_window_day_is_checked_like_the_round_dates(app, world):
    agency = world.agency("AG-1")
    round_ = world.round(agencies=[agency], status="closed")
    for day, problem in (
        (
            dt.date(2570, 1, 15),
            "the last day of disputes: 2570-01-15: 2570 is a Buddhist Era year; write dates "
            "in the Gregorian calendar (2027-01-15)",
        ),
        (
            dt.date(3000, 1, 15),
            "the last day of disputes: 3000-01-15: the year 3000 is out of range",
        ),
    ):
        with pytest.raises(ServiceError) as caught:
            rounds.move(round_, "preliminary", disputes_close_on=day)
        assert caught.value.problems == [problem]
    with pytest.raises(ServiceError) as caught:
        rounds.move(round_, "preliminary", disputes_close_on=dt.date(2099, 1, 31))
    assert caught.value.problems[0].startswith(
        "the last day of disputes: 2099-01-31 is more than a year after fiscal year 2569 ends"
    )
    db.session.rollback()
    assert db.session.get(Round, round_.id).status == "closed"
    rounds.move(round_, "preliminary", disputes_close_on=thai.today() + dt.timedelta(days=7))
    assert round_.status == "preliminary"


def test_the_settings_form_reads_a_buddhist_era_dispute_day(reviewer, world):
    """A web form reads a B.E. year as such (the command line refuses it: above); a year
    no round can have is still refused."""
    agency = world.agency("AG-1")
    round_ = world.round(agencies=[agency], status="preliminary")
    kept = round_.disputes_close_on
    reply = reviewer.post(
        f"/central/rounds/{round_.id}/settings",
        data={"disputes_close_on": "3000-01-15", "flag_change": 10, "flag_verified_gap": 10},
    )
    assert reply.status_code == 422
    assert "the last day of disputes: 3000-01-15: the year 3000 is out of range" in (
        reply.get_data(as_text=True)
    )
    db.session.expire_all()
    assert db.session.get(Round, round_.id).disputes_close_on == kept
    day = thai.today() + dt.timedelta(days=7)
    reply = reviewer.post(
        f"/central/rounds/{round_.id}/settings",
        data={
            "disputes_close_on": f"{day.year + 543}-{day.month:02d}-{day.day:02d}",
            "flag_change": 10,
            "flag_verified_gap": 10,
        },
    )
    assert reply.status_code == 302
    db.session.expire_all()
    assert db.session.get(Round, round_.id).disputes_close_on == day


# -- the new-round confirmation and the settings form -----------------------------------------


def new_round(client, version, **fields):  # type: ignore[no-untyped-def]
    """Post the new-round form (one invited agency) and follow to the round's page."""
    data = {
        "questionnaire": version.id,
        "name": "รอบใหม่",
        "fiscal_year": thai.fiscal_year(thai.today()),
        "invite": "codes",
        "agency_codes": "AG-1",
        **fields,
    }
    return client.post("/central/rounds/new", data=data, follow_redirects=True)


def test_the_new_round_confirmation_says_its_dates(reviewer, world):
    """A day the browser could not read (30 February) arrives empty: the confirmation says
    what was stored, so "no deadline" does not go unnoticed."""
    version = world.questionnaire()
    world.agency("AG-1")
    current = thai.fiscal_year(thai.today())
    opens, closes = dt.date(current - 544, 12, 1), dt.date(current - 543, 3, 31)
    page = new_round(
        reviewer, version, opens_on=opens.isoformat(), closes_on=closes.isoformat()
    ).get_data(as_text=True)
    assert (
        "created in draft with 1 invited agency. "
        f"Opens {thai.format_date(opens, 'en')}. Deadline {thai.format_date(closes, 'en')}."
    ) in page
    page = new_round(reviewer, version, name="รอบไม่มีกำหนด", closes_on="").get_data(as_text=True)
    assert "answers are accepted once the round is opened. No deadline." in page


def test_the_new_round_form_lets_the_browser_check_its_dates(reviewer, world):
    world.questionnaire()
    page = reviewer.get("/central/rounds/new").get_data(as_text=True)
    form = re.search(r"<form method=\"post\" class=\"card card-body\"[^>]*>", page)
    assert form is not None
    assert "novalidate" not in form.group(0)


def test_the_activity_log_says_what_a_new_round_is(reviewer, world):
    """Its entry named the round and a count only: not its questionnaire, year or dates."""
    version = world.questionnaire()
    world.agency("AG-1")
    current = thai.fiscal_year(thai.today())
    closes = dt.date(current - 543, 3, 31)
    new_round(reviewer, version, closes_on=closes.isoformat())
    page = reviewer.get("/central/activity").get_data(as_text=True)
    entry = page.split("<tbody>", 1)[1].split("Round created", 1)[1].split("</tr>", 1)[0]
    assert f'Questionnaire version:</dt> <dd class="d-inline mb-0">{version.key}</dd>' in entry
    assert f'Fiscal year:</dt> <dd class="d-inline mb-0">{current}</dd>' in entry
    assert thai.format_date(closes, "en") in entry
    assert "Opens" not in entry  # no day given, nothing said


def test_refused_settings_are_shown_again_as_typed(reviewer, world):
    agency = world.agency("AG-1")
    round_ = world.round(agencies=[agency], name_en="Before")
    reply = reviewer.post(
        f"/central/rounds/{round_.id}/settings",
        data={"name_en": "Typed name", "opens_on": "2026-02-30", "closes_on": ""},
    )
    assert reply.status_code == 422
    page = reply.get_data(as_text=True)
    assert 'value="Typed name"' in page
    assert 'value="2026-02-30"' in page
    assert '<details class="small" id="settings" open>' in page
    # The error stands under its field (Opens), not alone at the top of the page.
    assert re.search(
        r'name="opens_on"[^>]*>\s*<div class="invalid-feedback d-block">Not a valid date value',
        page,
    )
    db.session.expire_all()
    assert db.session.get(Round, round_.id).name_en == "Before"
    # A refusal of the service keeps what was typed too.
    reply = reviewer.post(
        f"/central/rounds/{round_.id}/settings",
        data={"name_en": "Typed again", "opens_on": "2026-03-01", "closes_on": "2026-02-01"},
    )
    assert reply.status_code == 422
    page = reply.get_data(as_text=True)
    assert "the round closes before it opens" in page
    assert 'value="Typed again"' in page
    assert 'value="2026-03-01"' in page
    # Its panel is open, so that what was typed is seen, not only kept.
    assert '<details class="small" id="settings" open>' in page
    assert '<details class="small" id="settings">' in reviewer.get(
        f"/central/rounds/{round_.id}"
    ).get_data(as_text=True)


# -- what the pages show ----------------------------------------------------------------------


def test_english_pages_show_the_english_round_name(reviewer, auth, world):
    agency = world.agency("AG-1")
    round_ = world.round(agencies=[agency], name="รอบภาษาไทย", name_en="English round")
    rounds_page = reviewer.get("/central/rounds").get_data(as_text=True)
    assert ">English round</a>" in rounds_page
    assert "รอบภาษาไทย" not in rounds_page
    activity = reviewer.get("/central/activity").get_data(as_text=True)
    assert ">English round</option>" in activity
    assert f'round_id={round_.id}">รอบภาษาไทย' not in activity
    assert f'/central/rounds/{round_.id}">English round</a>' in activity
    admin = world.user("admin@example.go.th", role="admin")
    admin.language = "en"
    db.session.commit()
    auth.logout()
    auth.login("admin@example.go.th")
    for url in ("/central/questionnaires", f"/central/questionnaires/{round_.questionnaire_id}"):
        page = reviewer.get(url).get_data(as_text=True)
        assert ">English round</a>" in page, url
        assert "รอบภาษาไทย" not in page, url


def test_the_last_day_says_so_on_the_central_pages(reviewer, world):
    agency = world.agency("AG-1")
    round_ = world.round(agencies=[agency], closes_on=thai.today())
    for url in ("/central/rounds", f"/central/rounds/{round_.id}"):
        page = reviewer.get(url).get_data(as_text=True)
        assert "Last day today." in page, url
        assert "0 days left" not in page, url


@pytest.mark.usefixtures("forget_cache")
def test_the_reports_compare_with_the_english_name_and_its_fiscal_year(client, auth, world):
    from tests.web.test_reports import Scene

    scene = Scene(world)
    scene.before.name_en = "Round of the year before"
    db.session.commit()
    auth.login("reviewer@example.go.th")
    page = client.get(scene.base).get_data(as_text=True)
    assert "compared with Round of the year before (Fiscal year 2568 (2024–25))" in page


# -- the comparison round ---------------------------------------------------------------------


def test_a_pilot_round_does_not_stand_in_for_the_national_round(app, world):
    version = world.questionnaire()
    agencies = [world.agency(f"AG-{n}") for n in range(1, 4)]
    national = world.round(
        version, agencies=agencies, status="published", name="ระดับชาติ", fiscal_year=2568
    )
    world.round(version, agencies=agencies[:1], status="published", name="นำร่อง", fiscal_year=2568)
    older = world.round(version, agencies=agencies, status="published", fiscal_year=2567)
    current = world.round(version, agencies=agencies, fiscal_year=2569)
    assert reports.previous_round(current) == national
    assert reports.previous_round(national) == older
    assert reports.previous_round(older) is None


# -- times ------------------------------------------------------------------------------------


def test_csv_times_are_iso_8601_with_seconds_and_offset(reviewer, world):
    moment = dt.datetime(2026, 11, 24, 5, 51, 7, tzinfo=dt.UTC)
    assert iso_local(moment) == "2026-11-24T12:51:07+07:00"
    assert iso_local(None) == ""
    world.round(agencies=[world.agency("AG-1")])
    csv = reviewer.get("/central/activity?format=csv").get_data(as_text=True)
    assert re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00", csv)


def test_the_submissions_chart_without_a_day_starts_on_bangkok_s_today(monkeypatch):
    monkeypatch.setattr(thai, "today", lambda: dt.date(2026, 12, 31))
    empty = pd.DataFrame({"day": pd.Series([], dtype=object), "count": pd.Series([], dtype=int)})
    figure = charts.submissions(empty, "en", invited=3)
    assert "2026-12-31" in figure.to_json()


# -- the demo ---------------------------------------------------------------------------------


def test_the_demo_rounds_open_before_their_answers_and_publish_after(app, world):
    from assess import demo

    world.questionnaire(key="dg-readiness@2568")
    world.questionnaire(key="dg-readiness@2569")
    for n in range(1, 9):
        world.agency(f"AG-{n}")
    reviewer = world.user("demo@example.go.th", role="reviewer")
    when = demo.calendar(thai.today())
    demo._published_round(reviewer, "ที่ประกาศผลแล้ว", when)
    demo._open_round(reviewer, "ที่เปิดอยู่", when)
    db.session.commit()
    for round_ in db.session.scalars(db.select(Round)):
        submitted = [r.submitted_at for r in round_.responses if r.submitted_at]
        assert submitted, round_.name
        assert round_.opened_at is not None
        assert round_.opened_at <= min(submitted), round_.name
        assert round_.opens_on <= thai.local(round_.opened_at).date()
        if round_.published_at:
            assert max(submitted) < round_.closed_at < round_.published_at
        assert max(submitted) <= dt.datetime.now(BANGKOK)
        # Last activity (the monitor's column) is when the answers last changed: after the
        # round opened, by the submission at the latest, never the moment of loading.
        for response in round_.responses:
            if response.status == "not_started":
                continue
            changed = response.updated_at
            assert round_.opened_at <= changed <= dt.datetime.now(BANGKOK), round_.name
            if response.submitted_at:
                assert changed <= response.submitted_at
            if round_.closed_at:
                assert changed < round_.closed_at
            assert {a.updated_at for a in response.answers} == {changed}
