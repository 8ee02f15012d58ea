"""The round page's settings form: dates (the deadline) and the live preview."""

from __future__ import annotations

import datetime as dt

from assess.extensions import db
from assess.models import Round


def test_reviewer_extends_the_deadline_from_the_round_page(client, auth, world):
    agency = world.agency("AG-1")
    reviewer = world.user("r@example.go.th", role="reviewer")
    reviewer.language = "en"
    db.session.commit()
    round_ = world.round(agencies=[agency], closes_on=dt.date(2026, 1, 31))
    auth.login("r@example.go.th")
    page = client.get(f"/central/rounds/{round_.id}")
    assert b"Change dates and settings" in page.data
    reply = client.post(
        f"/central/rounds/{round_.id}/settings",
        data={"opens_on": "", "closes_on": "2027-02-28", "live_preview": "y"},
        follow_redirects=True,
    )
    assert b"Settings saved." in reply.data
    stored = db.session.get(Round, round_.id)
    db.session.refresh(stored)
    assert stored.closes_on == dt.date(2027, 2, 28)
    assert stored.live_preview
    reply = client.post(
        f"/central/rounds/{round_.id}/settings",
        data={"opens_on": "2027-03-01", "closes_on": "2027-02-28"},
        follow_redirects=True,
    )
    assert b"closes before it opens" in reply.data
    db.session.refresh(stored)
    assert stored.opens_on is None


def test_activity_log_shows_round_and_register_events(client, auth, world):
    agency = world.agency("AG-1")
    reviewer = world.user("r@example.go.th", role="reviewer")
    reviewer.language = "en"
    db.session.commit()
    round_ = world.round(agencies=[agency], name="Round for the log")
    auth.login("r@example.go.th")
    client.post(
        f"/central/rounds/{round_.id}/settings",
        data={"closes_on": "2027-02-28"},
    )
    page = client.get("/central/activity")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Round settings changed" in text
    assert "Round opened" in text
    assert "Signed in" in text
    assert "Round for the log" in text
    csv = client.get("/central/activity?format=csv&action=round.settings").get_data(as_text=True)
    assert "round.settings" in csv
    assert "2027-02-28" in csv
    assert "round.open" not in csv
    coordinator = world.user("c@example.go.th", agency=agency)
    assert coordinator
    auth.logout()
    auth.login("c@example.go.th")
    assert client.get("/central/activity").status_code == 403
