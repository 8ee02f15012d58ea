"""The New round form in Chromium: an impossible date (30 February) stops the form."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from assess.extensions import db
from assess.models import Round

REVIEWER = "newround@central.go.th"

pytestmark = pytest.mark.e2e


def test_an_impossible_deadline_is_stopped_by_the_browser(app, world, person):  # type: ignore[no-untyped-def]
    """The browser sends a date it cannot read as an empty value: without its own check the
    round would be created with no deadline."""
    world.questionnaire()
    world.agency("AG-A")
    world.user(REVIEWER, role="reviewer")
    rev = person()
    page = rev.page
    rev.login(REVIEWER, lands_on="**/central/rounds")
    page.goto(rev.url("/central/rounds/new"))
    page.fill('input[name="name"]', "รอบทดสอบวันที่")
    closes = page.locator('input[name="closes_on"]')
    closes.focus()
    # 30 February 2027, typed in the field's own order: headless Chromium draws it in its
    # interface's locale (mm/dd/yyyy), whatever the page's language.
    page.keyboard.type("02302027")
    assert closes.evaluate("el => el.validity.badInput") is True
    page.locator('main form input[name="submit"]').click()
    assert page.url.endswith("/central/rounds/new")  # not submitted
    assert closes.evaluate("el => el.matches(':invalid')") is True
    assert db.session.scalar(select(func.count(Round.id))) == 0
    assert rev.problems == []
    rev.close()
