"""The warning before a session ends (session.js, WCAG 2.2.1) and the review page's drafts
(review.js), in a real browser.

The browser's clock is Playwright's (``page.clock``): the tests move it on by the half hour
of the idle timeout instead of waiting for it; the server keeps its real clock, and a test
that needs the session really ended on the server ages its record in the database.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from assess.extensions import db
from assess.models import UserSession, utcnow
from assess.services import responses
from tests.conftest import fill

pytestmark = pytest.mark.e2e

REVIEWER = "reviewer@central.go.th"
COMMENT = "Please attach the signed digital action plan; the draft is not enough."
REASON = "The evidence shows 40 % of the core processes, not 60 %."
NUMBER_QUESTION = "mgmt.process_digital"


@pytest.fixture
def review_page(world):  # type: ignore[no-untyped-def]
    """A submitted response awaiting review, and a reviewer reading English: its page."""
    agency = world.agency("AG-A")
    coordinator = world.user("coordinator@ag-a.go.th", agency=agency)
    reviewer = world.user(REVIEWER, role="reviewer")
    reviewer.language = "en"
    db.session.commit()
    round_ = world.round(agencies=[agency])
    fill(responses.get_response(round_, agency), coordinator, 0.6, status="submitted")
    return f"/central/rounds/{round_.id}/responses/AG-A"


def end_sessions_on_the_server() -> None:
    """The reviewer's session last seen 31 minutes ago: the next request finds it ended."""
    for row in db.session.scalars(db.select(UserSession)):
        row.last_seen_at = utcnow() - dt.timedelta(minutes=31)
    db.session.commit()


def last_seen() -> dt.datetime:
    db.session.expire_all()
    return max(row.last_seen_at for row in db.session.scalars(db.select(UserSession)))


def dialog_open(page) -> bool:  # type: ignore[no-untyped-def]
    return bool(page.locator("dialog.session-dialog[open]").count())


def focus_in_dialog(page) -> bool:  # type: ignore[no-untyped-def]
    return bool(page.evaluate("() => !!document.activeElement.closest('dialog[open]')"))


def seconds_left(sentence: str) -> int:
    """The seconds in "Your session will end in 1:39 because of inactivity."."""
    found = re.search(r"in (\d+):(\d\d) ", sentence)
    assert found, sentence
    return int(found[1]) * 60 + int(found[2])


def test_the_warning_and_staying_signed_in(person, review_page):  # type: ignore[no-untyped-def]
    rev = person()
    page = rev.page
    rev.login(REVIEWER, lands_on="**/central/rounds")
    page.clock.install()
    rev.goto(review_page)
    page.fill("#review-comment", COMMENT)
    dialog = page.get_by_role("alertdialog")
    assert not dialog_open(page)

    # Two minutes before the half hour: the dialog, named and described, focus inside.
    page.clock.fast_forward("28:05")
    dialog.wait_for()
    assert dialog.get_attribute("aria-modal") == "true"
    assert page.get_by_role("alertdialog", name="Your session is about to end").is_visible()
    text = page.locator("#session-dialog-text")
    assert re.fullmatch(
        r"Your session will end in 1:5\d because of inactivity\.", text.inner_text()
    ), text.inner_text()
    assert dialog.get_attribute("aria-describedby") == "session-dialog-text"
    stay = dialog.get_by_role("button", name="Stay signed in")
    assert page.evaluate("() => document.activeElement.dataset.action") == "stay"
    assert dialog.get_by_role("button", name="Sign out").is_visible()
    # The page behind is inert: Tab and Shift+Tab go round the dialog's two buttons.
    for key, action in (("Tab", "sign-out"), ("Tab", "stay"), ("Shift+Tab", "sign-out")):
        page.keyboard.press(key)
        assert focus_in_dialog(page)
        assert page.evaluate("() => document.activeElement.dataset.action") == action
    page.keyboard.press("Shift+Tab")
    rev.check_page()
    rev.shot("session-warning")
    # The countdown runs; screen readers hear of it only at one minute and at 30 seconds.
    live = dialog.locator('[aria-live="assertive"]')
    assert live.inner_text() == ""
    page.clock.fast_forward("00:05")
    left = seconds_left(text.inner_text())
    assert 60 < left < 115  # (the accessibility check took real seconds, on a busy machine)
    assert live.inner_text() == ""
    # The page's time stands still but for the jumps: the announcements come at their time.
    page.clock.pause_at(page.evaluate("() => Date.now()") / 1000 + 1)  # (seconds)
    page.clock.fast_forward(f"00:{left - 56:02}")  # (one second went into the pause)
    assert live.inner_text() == "Your session will end in 1 minute."
    page.clock.fast_forward("00:30")
    assert live.inner_text() == "Your session will end in 30 seconds."
    page.clock.resume()  # (axe-core and the keep-alive need time to run)

    # "Stay signed in": the keep-alive writes the session at once; the dialog closes and the
    # focus goes back where it was.
    page.locator("#review-comment").focus()  # (where it was when the dialog opened)
    before = last_seen()
    with page.expect_response("**/session/keep-alive") as reply:
        stay.click()
    assert reply.value.status == 200
    dialog.wait_for(state="hidden")
    assert page.evaluate("() => document.activeElement.id") == "review-comment"
    assert last_seen() > before

    # The full half hour again, counted from the keep-alive: no dialog 27 minutes on.
    page.clock.fast_forward("27:00")
    assert not dialog_open(page)
    # Escape also stays signed in.
    page.clock.fast_forward("01:30")
    dialog.wait_for()
    with page.expect_response("**/session/keep-alive"):
        page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    assert page.input_value("#review-comment") == COMMENT

    # Still signed in on the next page.
    rev.goto(review_page)
    assert page.url.endswith(review_page)
    assert page.locator("#review-form").count() == 1
    assert rev.problems == []


def test_the_session_ends_without_leaving_the_page(person, review_page):  # type: ignore[no-untyped-def]
    rev = person()
    page = rev.page
    rev.login(REVIEWER, lands_on="**/central/rounds")
    page.clock.install()
    rev.goto(review_page)
    page.fill("#review-comment", COMMENT)
    page.locator('details.review-tool:has([id="c-mgmt.leadership"]) summary').click()
    page.fill('[id="c-mgmt.leadership"]', "A comment on one question.")

    # The half hour passes (on the server too): the dialog says so, and nothing else happens.
    end_sessions_on_the_server()
    page.clock.fast_forward("30:05")
    dialog = page.get_by_role("alertdialog", name="Your session has ended")
    dialog.wait_for()
    sign_in = dialog.get_by_role("link", name="Sign in again")
    assert sign_in.get_attribute("href") == "/login?next=" + review_page.replace("/", "%2F")
    assert page.evaluate("() => document.activeElement.dataset.action") == "sign-in"
    assert dialog.get_by_role("button", name="Stay signed in").is_hidden()
    rev.check_page()
    rev.shot("session-ended")
    page.clock.fast_forward("05:00")
    assert page.url.endswith(review_page)  # never navigates by itself
    assert page.input_value("#review-comment") == COMMENT

    # Closed, the page is there to copy from; sending the decision now would only reach the
    # sign-in page, so the dialog comes back instead.
    dialog.get_by_role("button", name="Close").click()
    dialog.wait_for(state="hidden")
    page.locator('#review-form button[name=action][value="return"]').click()
    dialog.wait_for()
    assert page.url.endswith(review_page)

    # Signing in again comes back to the page, with what was typed.
    sign_in.click()
    page.wait_for_url("**/login?next=*")
    page.fill("input[name=email]", REVIEWER)
    page.fill("input[name=password]", "correct horse battery")
    page.locator("main form [type=submit]").click()
    page.wait_for_url(f"**{review_page}")
    assert page.input_value("#review-comment") == COMMENT
    assert page.input_value('[id="c-mgmt.leadership"]') == "A comment on one question."
    assert page.locator('[id="c-mgmt.leadership"]').is_visible()  # its details opened
    assert rev.problems == []


def test_a_refused_keep_alive_and_signing_out(person, review_page):  # type: ignore[no-untyped-def]
    rev = person()
    page = rev.page
    rev.login(REVIEWER, lands_on="**/central/rounds")
    page.clock.install()
    rev.goto(review_page)
    page.clock.fast_forward("28:05")
    dialog = page.get_by_role("alertdialog")
    dialog.wait_for()
    # Ended on the server meanwhile (signed out elsewhere, say): the keep-alive's 401 ends it
    # here too.
    end_sessions_on_the_server()
    dialog.get_by_role("button", name="Stay signed in").click()
    page.get_by_role("alertdialog", name="Your session has ended").wait_for()
    assert page.url.endswith(review_page)

    # "Sign out" posts the navigation bar's sign-out form.
    rev.login(REVIEWER, lands_on="**/central/rounds")
    rev.goto(review_page)
    page.clock.fast_forward("28:05")
    dialog.wait_for()
    dialog.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
    assert page.locator(".alert-info").is_visible()  # "You have signed out." (in Thai now)
    assert rev.problems == []


def test_activity_in_another_tab_keeps_this_one_going(person, review_page):  # type: ignore[no-untyped-def]
    rev = person()
    page = rev.page
    rev.login(REVIEWER, lands_on="**/central/rounds")
    page.clock.install()
    rev.goto(review_page)
    page.clock.fast_forward("20:00")
    other = rev.context.new_page()
    other.goto(rev.url("/central/rounds"))  # a request 20 minutes on, in another tab
    # 29 minutes after the first page loaded: it would have warned a minute ago.
    page.clock.fast_forward("09:00")
    page.wait_for_timeout(200)
    assert not dialog_open(page)
    # ... and warns two minutes before the end counted from the other tab's request.
    page.clock.fast_forward("19:10")
    page.get_by_role("alertdialog").wait_for()
    other.close()
    assert rev.problems == []


def test_the_review_page_keeps_what_is_typed(person, review_page):  # type: ignore[no-untyped-def]
    rev = person()
    page = rev.page
    rev.login(REVIEWER, lands_on="**/central/rounds")
    rev.goto(review_page)
    page.fill("#review-comment", COMMENT)
    tool = page.locator(f'details.review-tool:has(form.verify-form [id="v-{NUMBER_QUESTION}"])')
    tool.locator("summary").click()
    page.fill(f'[id="v-{NUMBER_QUESTION}"]', "40")
    page.fill(f'[id="r-{NUMBER_QUESTION}"]', REASON)

    # Loaded again (as after signing in again): everything typed comes back.
    page.reload()
    assert page.input_value("#review-comment") == COMMENT
    assert page.input_value(f'[id="v-{NUMBER_QUESTION}"]') == "40"
    assert page.input_value(f'[id="r-{NUMBER_QUESTION}"]') == REASON
    assert page.locator(f'[id="r-{NUMBER_QUESTION}"]').is_visible()  # its details opened

    # The verified value saved: its form's drafts are done with; the decision's comment stays.
    tool.locator("[type=submit]").click()
    page.wait_for_url(f"**{review_page}#q-{NUMBER_QUESTION}")
    page.locator(".alert-success").wait_for()
    page.reload()
    assert page.input_value(f'[id="r-{NUMBER_QUESTION}"]') == ""
    assert page.input_value(f'[id="v-{NUMBER_QUESTION}"]') == "40"  # the value saved
    assert page.input_value("#review-comment") == COMMENT

    # The decision sent: nothing comes back.
    page.locator('#review-form button[name=action][value="return"]').click()
    page.locator("h1 .status-badge.status-returned").wait_for()
    page.reload()
    assert page.locator("#review-comment").count() == 0 or page.input_value("#review-comment") == ""
    keys = page.evaluate("() => Object.keys(sessionStorage)")
    assert [k for k in keys if k.startswith("assess-draft:")] == []
    assert rev.problems == []


def test_signing_in_again_from_a_refused_form_comes_back_to_its_page(person, review_page):  # type: ignore[no-untyped-def]
    """A refused verify form is shown at its POST-only address: "Sign in again" must come back
    to the review page it was sent from (a GET of the form's address would be a 405)."""
    rev = person()
    page = rev.page
    rev.login(REVIEWER, lands_on="**/central/rounds")
    page.clock.install()
    rev.goto(review_page)
    tool = page.locator(f'[id="q-{NUMBER_QUESTION}"] details.review-tool:has(form.verify-form)')
    tool.locator("summary").click()
    page.fill(f'[id="v-{NUMBER_QUESTION}"]', "lots")  # not a number: refused
    page.fill(f'[id="r-{NUMBER_QUESTION}"]', REASON)
    tool.locator("[type=submit]").click()
    page.wait_for_url(f"**/verify#q-{NUMBER_QUESTION}")

    end_sessions_on_the_server()
    page.clock.fast_forward("30:05")
    dialog = page.get_by_role("alertdialog", name="Your session has ended")
    dialog.wait_for()
    dialog.get_by_role("link", name="Sign in again").click()
    page.wait_for_url("**/login?next=*")
    page.fill("input[name=email]", REVIEWER)
    page.fill("input[name=password]", "correct horse battery")
    page.locator("main form [type=submit]").click()
    page.wait_for_url(f"**{review_page}")
    assert page.locator("#review-form").count() == 1
    assert page.input_value(f'[id="r-{NUMBER_QUESTION}"]') == REASON  # the draft came back
    assert rev.problems == []
