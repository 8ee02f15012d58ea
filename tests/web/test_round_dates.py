"""A round's dates against its fiscal year, and no opening a round whose deadline passed."""

from __future__ import annotations

import datetime as dt

import pytest

from assess.extensions import db
from assess.models import Round
from assess.services import rounds
from assess.services.errors import ServiceError
from assess.thai import BANGKOK


def test_dates_long_before_the_fiscal_year_are_a_mistyped_year(app, world):
    version = world.questionnaire()
    agency = world.agency("AG-1")
    with pytest.raises(ServiceError) as refused:
        rounds.create_round(
            version,
            "ปี 2570",
            2570,
            opens_on=dt.date(2024, 1, 1),
            closes_on=dt.date(2024, 3, 31),
            agencies=[agency],
        )
    db.session.rollback()
    rule = (
        "is more than a year before fiscal year 2570 begins: a round of fiscal year 2570 "
        "(2026-10-01 to 2027-09-30) runs during that year, give or take a year; check the year"
    )
    assert refused.value.problems == [f"2024-01-01 {rule}", f"2024-03-31 {rule}"]
    # Prepared before its year, or answered once the year has ended: taken as they are.
    made = rounds.create_round(
        version,
        "ปี 2570",
        2570,
        opens_on=dt.date(2026, 3, 1),
        closes_on=dt.date(2027, 12, 15),
        agencies=[agency],
    )
    assert made.id


def test_a_round_whose_deadline_passed_is_not_opened(client, auth, world):
    agency = world.agency("AG-1")
    reviewer = world.user("r@example.go.th", role="reviewer")
    reviewer.language = "en"
    today = dt.datetime.now(BANGKOK).date()
    round_ = world.round(
        agencies=[agency],
        status="draft",
        fiscal_year=2570,
        opens_on=today - dt.timedelta(days=40),
        closes_on=today - dt.timedelta(days=1),
    )
    auth.login("r@example.go.th")
    page = client.get(f"/central/rounds/{round_.id}/move/open").get_data(as_text=True)
    late = f"round {round_.id} closes on {(today - dt.timedelta(days=1)).isoformat()}, which has passed"
    assert late in page
    assert "disabled>Open the round<" in page.replace("\n", "")
    reply = client.post(f"/central/rounds/{round_.id}/move/open", follow_redirects=True)
    assert late in reply.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Round, round_.id).status == "draft"
    # The deadline moved on: it opens.
    rounds.update_settings(
        round_, opens_on=today, closes_on=today + dt.timedelta(days=30), live_preview=False
    )
    db.session.commit()
    client.post(f"/central/rounds/{round_.id}/move/open")
    db.session.expire_all()
    assert db.session.get(Round, round_.id).status == "open"


def test_a_round_has_an_english_name_for_english_pages(client, auth, world):
    """Thai pages show the round's Thai name, English pages its English one (or the Thai
    one when it has none); the API gives both."""
    agency = world.agency("AG-1")
    reviewer = world.user("r@example.go.th", role="reviewer")
    reviewer.language = "en"
    db.session.commit()
    auth.login("r@example.go.th")
    version = world.questionnaire()
    reply = client.post(
        "/central/rounds/new",
        data={
            "questionnaire": version.id,
            "name": "การประเมินปี 2570",
            "name_en": "Assessment 2570",
            "fiscal_year": 2570,
            "invite": "codes",
            "agency_codes": "AG-1",
        },
    )
    assert reply.status_code == 302, reply.get_data(as_text=True)[:2000]
    made = db.session.scalars(db.select(Round).filter_by(name="การประเมินปี 2570")).one()
    assert made.name_en == "Assessment 2570"
    page = client.get(f"/central/rounds/{made.id}").get_data(as_text=True)
    assert "<title>Assessment 2570" in page
    assert "การประเมินปี 2570" not in page
    reviewer.language = "th"
    db.session.commit()
    page = client.get(f"/central/rounds/{made.id}?lang=th").get_data(as_text=True)
    assert "<title>การประเมินปี 2570" in page
    # The settings form changes it; an empty one shows the Thai name on English pages.
    reply = client.post(
        f"/central/rounds/{made.id}/settings",
        data={"name_en": "", "opens_on": "", "closes_on": ""},
    )
    assert reply.status_code == 302
    db.session.refresh(made)
    assert made.name_en == ""
    assert made.title("en") == "การประเมินปี 2570"
    del agency


def test_the_api_gives_both_names_of_a_round(app, world):
    from assess.services import users

    agency = world.agency("AG-1")
    round_ = world.round(agencies=[agency], name="รอบทดสอบ", name_en="Test round")
    reviewer = world.user("api@example.go.th", role="reviewer")
    token = users.issue_token(reviewer, "test")
    db.session.commit()
    listed = (
        app.test_client()
        .get("/api/v1/rounds", headers={"Authorization": f"Bearer {token}"})
        .get_json()
    )
    mine = next(r for r in listed if r["id"] == round_.id)
    assert (mine["name"], mine["name_en"]) == ("รอบทดสอบ", "Test round")


def test_a_published_round_may_still_be_given_its_english_name(client, auth, world):
    agency = world.agency("AG-1")
    reviewer = world.user("r@example.go.th", role="reviewer")
    reviewer.language = "en"
    round_ = world.round(agencies=[agency], status="published", name="รอบที่ประกาศผลแล้ว")
    auth.login("r@example.go.th")
    page = client.get(f"/central/rounds/{round_.id}").get_data(as_text=True)
    assert f'action="/central/rounds/{round_.id}/name"' in page
    assert "Change dates and settings" not in page  # the rest is final
    reply = client.post(f"/central/rounds/{round_.id}/name", data={"name_en": " Published round "})
    assert reply.status_code == 302
    db.session.refresh(round_)
    assert (round_.name_en, round_.status) == ("Published round", "published")
    assert "<title>Published round" in client.get(f"/central/rounds/{round_.id}").get_data(
        as_text=True
    )
    refused = client.post(f"/central/rounds/{round_.id}/name", data={"name_en": "x" * 201})
    assert refused.status_code == 302
    db.session.refresh(round_)
    assert round_.name_en == "Published round"
