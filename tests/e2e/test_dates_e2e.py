"""Date fields on Thai pages say which day they hold with its Buddhist Era year; a B.E. year
typed into one is read as such, and the field says which day that is."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from assess import thai
from assess.extensions import db
from assess.models import Round
from tests.e2e.helpers import thai_label

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
    # English pages leave the browser's own display alone: nothing said of a Gregorian day.
    reviewer.language = "en"
    db.session.commit()
    page.goto(rev.url("/central/rounds/new?lang=en"))
    page.locator('input[name="closes_on"]').fill("2027-03-31")
    assert page.locator("#closes_on-be").text_content() == ""
    rev.close()


def test_a_buddhist_era_year_typed_into_a_date_field_is_read_as_such(app, world, person):  # type: ignore[no-untyped-def]
    """A Thai reader types the year as the pages write it (2569): the field says which day
    that means, and the round is saved with that day."""
    world.questionnaire()
    world.agency("AG-A")
    reviewer = world.user(REVIEWER, role="reviewer")
    fiscal_year = thai.fiscal_year(thai.today())
    last = thai.fiscal_year_bounds(fiscal_year)[1]  # 30 September
    rev = person()
    page = rev.page
    rev.login(REVIEWER, lands_on="**/central/rounds")
    page.goto(rev.url("/central/rounds/new"))
    page.fill('input[name="name"]', "รอบวันที่พุทธศักราช")
    page.fill('input[name="fiscal_year"]', str(fiscal_year))
    closes = page.locator('input[name="closes_on"]')
    closes.focus()
    # Typed in the field's own order: headless Chromium draws it mm/dd/yyyy.
    page.keyboard.type(f"{last.month:02d}{last.day:02d}{last.year + 543}")
    assert closes.input_value() == f"{last.year + 543}-{last.month:02d}-{last.day:02d}"
    said = thai_label(app, _l("means %(date)s")) % {"date": thai.format_date(last, "th")}
    assert page.locator("#closes_on-be").text_content() == said  # "หมายถึง 30 ก.ย. 2569"
    rev.check_page()
    page.locator('main form input[name="submit"]').click()
    page.wait_for_url("**/central/rounds/*")
    made = db.session.scalars(select(Round).filter_by(name="รอบวันที่พุทธศักราช")).one()
    assert made.closes_on == last
    assert thai.format_date(last, "th") in page.locator("main").inner_text()
    # The same on an English page: "means 30 Sep 2026".
    reviewer.language = "en"
    db.session.commit()
    page.goto(rev.url("/central/rounds/new?lang=en"))
    page.locator('input[name="closes_on"]').fill(f"{last.year + 543}-09-30")
    assert page.locator("#closes_on-be").text_content() == f"means 30 Sep {last.year}"
    assert rev.problems == []
    rev.close()
