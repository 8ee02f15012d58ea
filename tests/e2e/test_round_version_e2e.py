"""The new-round page warns, as the fields change, when the chosen questionnaire's version
names another fiscal year than the round's; the round is still created."""

from __future__ import annotations

from flask_babel import force_locale
from sqlalchemy import select

from assess import thai
from assess.extensions import db
from assess.models import Round
from assess.review.routes import _version_warning

REVIEWER = "version@central.go.th"


def test_the_version_warning_follows_the_fields(app, world, person):  # type: ignore[no-untyped-def]
    old = world.questionnaire(key="dg-readiness@2568")
    world.questionnaire()  # 2569, the newest: the page's first choice
    world.agency("AG-A")
    world.user(REVIEWER, role="reviewer")
    current = thai.fiscal_year(thai.today())

    def said(version: str, year: int) -> str:
        with app.test_request_context(), force_locale("th"):
            return _version_warning(version, year)

    rev = person()
    page = rev.page
    rev.login(REVIEWER, lands_on="**/central/rounds")
    page.goto(rev.url("/central/rounds/new"))
    warning = page.locator("#version-year-warning")
    year = page.locator('input[name="fiscal_year"]')
    assert year.input_value() == str(current)
    if current != 2569:  # this year's round on the 2569 questionnaire: warned as it opens
        assert warning.is_visible()
        assert warning.text_content() == said("2569", current)
    year.fill("2569")
    assert warning.is_hidden()
    page.select_option('select[name="questionnaire"]', str(old.id))
    assert warning.is_visible()
    assert warning.text_content() == said("2568", 2569)
    rev.check_page()
    # A warning, not an error: the round of 2569 on the 2568 questionnaire is created.
    page.fill('input[name="name"]', "รอบใช้แบบประเมินปีก่อน")
    page.locator('main form input[name="submit"]').click()
    page.wait_for_url("**/central/rounds/*")
    made = db.session.scalars(select(Round).filter_by(name="รอบใช้แบบประเมินปีก่อน")).one()
    assert (made.fiscal_year, made.questionnaire.version) == (2569, "2568")
    assert rev.problems == []
    rev.close()
