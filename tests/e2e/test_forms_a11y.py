"""Forms in a real browser, as a screen reader and a phone meet them.

The answer page: a value refused as it is typed (not a number, above the maximum) is tied to
its field (aria-invalid, the error's id in aria-describedby beside the hint) and said in the
question's live state with the question's code and the reason; all of it goes once the value
is fixed. Required questions are marked for assistive technology; the dimension links are
named by the dimensions; at a phone's width the save bar does not float over the questions,
and every link and button is a target of at least 24 × 24 px.

The review page: a refused verified value marks the value field (not the reason), the browser
lands on the question with the focus in that field; the title names the agency; at 320 px
the page does not scroll sideways.
"""

from __future__ import annotations

import pytest

from assess.extensions import db
from assess.services import responses
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.helpers import complete_the_rest

pytestmark = pytest.mark.e2e

COORDINATOR = "coord@example.go.th"
REVIEWER = "reviewer@central.go.th"
NUMBER = "service.service_count"  # a required whole number from 0 to 5000

#: The visible links, buttons and fold openers of <main> smaller than 24 × 24 px. A radio or
#: checkbox counts with its label (the label is its target too), a visually hidden button
#: not at all.
SMALL_TARGETS = """() => [...document.querySelectorAll(
        'main a, main button, main summary, main select, main input:not([type=radio]):not([type=checkbox])')]
    .filter(e => e.checkVisibility() && !e.classList.contains('visually-hidden'))
    .map(e => ({what: e.tagName + ' ' + (e.id || e.className || '') + ' ' + e.textContent.trim().slice(0, 30),
                box: e.getBoundingClientRect()}))
    .filter(t => t.box.width < 24 || t.box.height < 24)
    .map(t => `${t.what} (${Math.round(t.box.width)} × ${Math.round(t.box.height)})`)"""


def test_answer_page_errors_required_marks_and_phone_width(world, person):  # type: ignore[no-untyped-def]
    agency = world.agency("AG-1")
    user = world.user(COORDINATOR, agency=agency)
    user.language = "en"
    db.session.commit()
    round_ = world.round(agencies=[agency])
    response = responses.get_response(round_, agency)
    # Something to clear and something attached: their buttons and links are measured too.
    responses.save_answers(
        response, {"service.collects_fees": True}, revision=response.revision, actor=user
    )
    db.session.commit()

    coord = person()
    page = coord.page
    coord.login(COORDINATOR, lands_on="**/my")
    coord.goto(f"/rounds/{round_.id}/answer/service")
    field = page.locator(f'[id="i-{NUMBER}"]')
    error = page.locator(f'[id="q-{NUMBER}"] [data-role="error"]')
    state = page.locator(f'[id="q-{NUMBER}"] [data-role="state"]')
    assert error.get_attribute("id") == f"e-{NUMBER}"
    assert state.get_attribute("aria-live") == "polite"

    # -- required questions, as assistive technology reads them
    assert field.get_attribute("aria-required") == "true"
    # A yes/no question: a radio group named by the question, required.
    words = page.locator('[id="t-service.collects_fees"]').inner_text()
    fees = page.get_by_role("radiogroup", name=words, exact=True)
    assert fees.get_attribute("aria-required") == "true"
    assert fees.locator('[id="i-service.collects_fees-yes"]').count() == 1

    # -- not a number: tied to the field, said in the live state with the question's code
    assert field.get_attribute("aria-describedby") == f"h-{NUMBER}"
    assert field.get_attribute("aria-invalid") is None
    field.fill("twelve")
    field.press("Tab")
    error.filter(has_text="Enter a number").wait_for()
    assert field.get_attribute("aria-invalid") == "true"
    assert field.get_attribute("aria-describedby") == f"h-{NUMBER} e-{NUMBER}"
    said = state.inner_text()
    assert said.startswith("Not saved"), said
    assert NUMBER in said, said
    assert "Enter a number" in said, said
    coord.check_page()  # (the ids it names exist; aria-invalid where it is allowed)

    # -- above the maximum: the server refuses it, the same way
    field.fill("6000")
    field.press("Tab")
    error.filter(has_text="maximum").wait_for()
    assert field.get_attribute("aria-invalid") == "true"
    assert field.get_attribute("aria-describedby") == f"h-{NUMBER} e-{NUMBER}"
    state.filter(has_text=NUMBER).filter(has_text="maximum").wait_for()

    # -- fixed: saved, and the marks are gone (the hint stays)
    field.fill("12")
    field.press("Tab")
    state.filter(has_text="Saved").wait_for()
    assert field.get_attribute("aria-invalid") is None
    assert field.get_attribute("aria-describedby") == f"h-{NUMBER}"
    assert error.inner_text() == ""
    assert NUMBER not in state.inner_text()

    # -- the dimension links say the dimensions' names
    nav = page.get_by_role("navigation", name="Dimensions")
    dimension = page.locator("#dimension-title").inner_text()
    assert nav.get_by_role("link", name=dimension).count() == 1

    # -- a phone: the save bar stays below the last question, not over the questions
    page.set_viewport_size({"width": 360, "height": 740})
    bar = page.locator(".save-bar")
    assert bar.evaluate("e => getComputedStyle(e).position") == "static"
    page.evaluate("window.scrollTo(0, document.body.scrollHeight / 2)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "answer-phone-360-middle.png"))
    bar_top = bar.evaluate("e => e.getBoundingClientRect().top + window.scrollY")
    last = page.locator(".question-card:visible").last
    last_bottom = last.evaluate("e => e.getBoundingClientRect().bottom + window.scrollY")
    assert bar_top >= last_bottom
    # Targets of at least 24 × 24 px, with the folds open (missing answers, evidence).
    page.locator("#missing").evaluate("e => { e.open = true; }")
    page.locator("details.evidence-add").evaluate_all("es => es.forEach(e => { e.open = true; })")
    assert page.evaluate(SMALL_TARGETS) == []
    # A wide window keeps the save bar at hand at the bottom of the screen.
    page.set_viewport_size({"width": 1280, "height": 900})
    assert bar.evaluate("e => getComputedStyle(e).position") == "sticky"
    assert page.evaluate(SMALL_TARGETS) == []
    assert coord.problems == [], "\n".join(coord.problems)


def test_review_page_refused_value_focus_title_and_narrow_screen(world, person):  # type: ignore[no-untyped-def]
    agency = world.agency(
        "AG-1", name_th="กรมพัฒนาบริการดิจิทัล", name_en="Department of Digital Services"
    )
    coordinator = world.user(COORDINATOR, agency=agency)
    reviewer = world.user(REVIEWER, role="reviewer")
    round_ = world.round(agencies=[agency], name="การประเมิน 2569")
    # Submitted and scored, one value verified: the page's widest content (scores, Δ).
    response = responses.get_response(round_, agency)
    complete_the_rest(response, coordinator)
    responses.submit(response, coordinator)
    responses.verify(response, reviewer, "mgmt.leadership", 0, "ยังไม่มีนโยบายที่ลงนาม")
    db.session.commit()
    path = f"/central/rounds/{round_.id}/responses/AG-1"
    code = "mgmt.process_digital"  # a number from 0 to 100

    rev = person()
    page = rev.page
    rev.login(REVIEWER, lands_on="**/central/rounds")
    rev.goto(path)
    assert "กรมพัฒนาบริการดิจิทัล" in page.title()
    assert "AG-1" in page.title()

    # A value that is not a number, with a good reason: the value is wrong, not the reason.
    question = page.locator(f'[id="q-{code}"]')
    tool = question.locator("details.review-tool:has(form.verify-form)")
    tool.locator("summary").click()
    page.fill(f'[id="v-{code}"]', "lots")
    page.fill(f'[id="r-{code}"]', "ตรวจสอบจากรายงานประจำปีแล้ว")
    tool.locator("[type=submit]").click()
    page.wait_for_url(f"**/verify#q-{code}")
    value = page.locator(f'[id="v-{code}"]')
    reason = page.locator(f'[id="r-{code}"]')
    assert "is-invalid" in (value.get_attribute("class") or "")
    assert value.get_attribute("aria-invalid") == "true"
    error_id = value.get_attribute("aria-describedby")
    assert error_id
    assert page.locator(f'[id="{error_id}"]').inner_text().strip()
    assert "is-invalid" not in (reason.get_attribute("class") or "")
    assert reason.get_attribute("aria-invalid") is None
    assert page.input_value(f'[id="r-{code}"]') == "ตรวจสอบจากรายงานประจำปีแล้ว"  # kept
    # The focus is in the wrong field, on the screen (once the smooth scroll has ended), not
    # at the top of the page.
    page.wait_for_function(f"() => document.activeElement.id === 'v-{code}'")
    page.wait_for_function(
        "el => { const r = el.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }",
        arg=value.element_handle(),
    )
    rev.check_page()

    # A narrow phone (320 px): nothing wider than the screen; the scores table scrolls itself.
    page.set_viewport_size({"width": 320, "height": 800})
    rev.goto(path)
    assert page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    rev.shot("review-response-320")
    assert rev.problems == [], "\n".join(rev.problems)
