"""Date fields on Thai pages say which day they hold with its Buddhist Era year."""

from __future__ import annotations

from assess.extensions import db

REVIEWER = "dates@central.go.th"


def test_a_date_field_echoes_its_day_in_the_buddhist_era(app, world, person):  # type: ignore[no-untyped-def]
    world.questionnaire()
    world.agency("AG-A")
    reviewer = world.user(REVIEWER, role="reviewer")
    rev = person()
    page = rev.page
    rev.login(REVIEWER, lands_on="**/central/rounds")
    page.goto(rev.url("/central/rounds/new"))
    closes = page.locator('input[name="closes_on"]')
    assert closes.get_attribute("type") == "date"
    closes.fill("2027-03-31")
    echo = page.locator("#closes_on-be")
    assert echo.text_content() == "31 มี.ค. 2570"  # as the pages write dates
    assert "closes_on-be" in (closes.get_attribute("aria-describedby") or "")
    closes.fill("")
    assert echo.text_content() == ""
    rev.check_page()
    assert rev.problems == []
    # English pages leave the browser's own display alone.
    reviewer.language = "en"
    db.session.commit()
    page.goto(rev.url("/central/rounds/new?lang=en"))
    assert page.locator(".be-date").count() == 0
    rev.close()
