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
    assert refused.value.problems == [
        "2024-01-01 is more than a year before fiscal year 2570 begins (2026-10-01 to "
        "2027-09-30): check the year",
        "2024-03-31 is more than a year before fiscal year 2570 begins (2026-10-01 to "
        "2027-09-30): check the year",
    ]
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
