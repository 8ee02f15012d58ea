"""The answer page in a real browser: autosave, live show_if, conflicts, an ended session,
restoring values kept in the browser, invalid input, exclusive options and evidence."""

from __future__ import annotations

import json
import re

import pytest

from assess.extensions import db
from assess.services import responses
from tests.e2e.conftest import is_csp

#: The per-question state once saved ("Saved 10:42"), not "Not saved …".
SAVED = re.compile(r"^Saved \d\d:\d\d$")

pytestmark = pytest.mark.e2e


def stored(response) -> dict:  # type: ignore[no-untyped-def]
    db.session.expire_all()
    return responses.current_json(response)


def test_answer_page_in_a_browser(world, live, browser, tmp_path):  # type: ignore[no-untyped-def]
    agency = world.agency("AG-1")
    user = world.user("coord@example.go.th", agency=agency)
    user.language = "en"
    db.session.commit()
    round_ = world.round(agencies=[agency], live_preview=True)
    response = responses.get_response(round_, agency)
    base = f"{live}/rounds/{round_.id}/answer/service"

    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if is_csp(m) else None)

    def login(target) -> None:  # type: ignore[no-untyped-def]
        target.goto(f"{live}/login")
        target.fill("input[name=email]", "coord@example.go.th")
        target.fill("input[name=password]", "correct horse battery")
        target.press("input[name=password]", "Enter")
        target.wait_for_url("**/my")

    def state_of(code: str):  # type: ignore[no-untyped-def]
        return page.locator(f'[id="q-{code}"] [data-role="state"]')

    login(page)
    page.goto(base)
    pay_share = page.locator('[id="q-service.pay_share"]')
    assert pay_share.is_hidden()
    assert page.locator("#response-status").inner_text().strip() == "Not started"

    # A change saves at once; the conditional question appears; progress updates.
    page.click('label[for="i-service.collects_fees-yes"]')
    state_of("service.collects_fees").filter(has_text=SAVED).wait_for()
    assert pay_share.is_visible()
    assert stored(response) == {"service.collects_fees": True}
    assert page.locator("#response-status").inner_text().strip() == "Draft"
    assert page.locator('[data-ring="service"]').get_attribute("data-label") != "0%"
    assert page.locator('[data-preview-score="overall"]').inner_text().replace(".", "").isdigit()
    # The live badge is read as the level's name, as the server-rendered badge is.
    badge = page.locator('[data-preview-level="overall"] .level-badge')
    assert badge.locator(".visually-hidden").inner_text().startswith(("Level ", "No level"))
    assert badge.locator("[aria-hidden=true]").inner_text().strip()
    assert page.locator("#completeness .score").inner_text() != "0.0%"
    page.click('label[for="i-service.collects_fees-no"]')
    state_of("service.collects_fees").filter(has_text=SAVED).wait_for()
    pay_share.wait_for(state="hidden")

    # A chosen option can be cleared: saved as no answer, missing again, the button gone.
    fees = page.locator('[id="q-service.collects_fees"]')
    missing_fees = page.locator('[data-role="missing-list"] a[href$="#q-service.collects_fees"]')
    missing_fees.wait_for(state="detached")
    assert fees.locator('[data-action="clear"]').is_visible()
    assert not page.locator('[id="q-service.tracking"] [data-action="clear"]').is_visible()
    fees.locator('[data-action="clear"]').click()
    missing_fees.wait_for(state="attached")
    assert stored(response) == {}
    assert fees.locator("input:checked").count() == 0
    assert fees.locator('[data-action="clear"]').is_hidden()
    assert page.evaluate("document.activeElement.id") == "i-service.collects_fees-yes"
    assert page.locator("#response-status").inner_text().strip() == "Draft"
    page.click('label[for="i-service.collects_fees-no"]')
    state_of("service.collects_fees").filter(has_text=SAVED).wait_for()
    missing_fees.wait_for(state="detached")
    assert fees.locator('[data-action="clear"]').is_visible()

    # Someone else answers another question meanwhile: this page's save is not theirs to
    # settle. It goes through on the new revision, and the page shows their value.
    db.session.expire_all()
    responses.save_answers(response, {"service.counter": 3}, revision=response.revision, actor=user)
    db.session.commit()
    page.click('label[for="i-service.tracking-yes"]')
    state_of("service.tracking").filter(has_text=SAVED).wait_for()
    assert stored(response)["service.tracking"] is True
    assert stored(response)["service.counter"] == 3
    assert page.locator('[id="i-service.counter-4"]').is_checked()  # option value 3
    assert page.locator('[id="i-service.tracking-yes"]').is_checked()
    page.locator("#conflict-banner").wait_for(state="visible")  # told: a value here changed
    assert page.locator('[data-role="conflict-wrap"]').is_hidden()  # nothing to settle

    # Someone else changes the very question being answered: that is for the person to settle.
    db.session.expire_all()
    responses.save_answers(response, {"service.counter": 1}, revision=response.revision, actor=user)
    db.session.commit()
    page.click('label[for="i-service.counter-5"]')  # option value 4
    page.locator('[data-role="conflict-wrap"]').wait_for(state="visible")
    assert page.locator('[id="i-service.counter-2"]').is_checked()  # theirs, option value 1
    assert stored(response)["service.counter"] == 1
    page.click('[data-action="use-mine"]')
    state_of("service.counter").filter(has_text=SAVED).wait_for()
    assert stored(response)["service.counter"] == 4
    assert page.locator("#conflict-banner").is_hidden()

    # Invalid input is explained and not sent.
    page.fill('[id="i-service.service_count"]', "twelve")
    page.press('[id="i-service.service_count"]', "Tab")
    page.locator('[id="q-service.service_count"] [data-role="error"]').filter(
        has_text="Enter a number"
    ).wait_for()
    # A decimal comma is not dropped (1,5 was saved as 15), nor a number rounded past 15
    # digits (the browser's numbers would save 19.99999999999999999 as 20).
    for typed, words in (("1,5", "a comma may only group thousands"),
                         ("19.99999999999999999", "at most 15 digits")):  # fmt: skip
        page.fill('[id="i-service.service_count"]', typed)
        page.press('[id="i-service.service_count"]', "Tab")
        page.locator('[id="q-service.service_count"] [data-role="error"]').filter(
            has_text=words
        ).wait_for()
        assert "service.service_count" not in stored(response)

    # Leaving with a refused value on screen (never saved) asks first; staying keeps it.
    asked: list[str] = []

    def on_dialog(dialog) -> None:  # type: ignore[no-untyped-def]
        asked.append(dialog.type)
        dialog.dismiss()  # stay on the page

    page.on("dialog", on_dialog)
    page.locator('nav a.nav-link[href$="/answer/mgmt"]').first.click(no_wait_after=True)
    for _attempt in range(50):
        if asked:
            break
        page.wait_for_timeout(100)
    page.remove_listener("dialog", on_dialog)
    assert asked == ["beforeunload"]
    assert page.url.endswith("/answer/service")
    assert page.input_value('[id="i-service.service_count"]') == "19.99999999999999999"

    # The session ends: the value stays in the browser until signing in again and retrying.
    context.clear_cookies()
    page.fill('[id="i-service.service_count"]', "12")
    page.press('[id="i-service.service_count"]', "Tab")
    page.locator("#session-banner").wait_for(state="visible")
    kept = page.evaluate("Object.assign({}, window.localStorage)")
    assert any("service.service_count" in v for v in kept.values())
    assert "service.service_count" not in stored(response)
    other = context.new_page()
    login(other)
    other.close()
    page.locator("#session-banner [data-action=retry]").click()
    state_of("service.service_count").filter(has_text=SAVED).wait_for()
    assert stored(response)["service.service_count"] == 12
    assert page.locator('[id="q-service.e2e_share"]').is_visible()
    assert page.evaluate("Object.keys(window.localStorage).length") == 0
    # Thai digits, as a Thai keyboard types them, are numbers.
    page.fill('[id="i-service.service_count"]', "๑๕")
    page.press('[id="i-service.service_count"]', "Tab")
    state_of("service.service_count").filter(has_text=SAVED).wait_for()
    assert stored(response)["service.service_count"] == 15
    # A number pasted with characters nobody sees (a zero-width space, a no-break space) is
    # the number seen, not "not a number".
    page.fill('[id="i-service.service_count"]', "1\u200b6\u00a0")
    page.press('[id="i-service.service_count"]', "Tab")
    state_of("service.service_count").filter(has_text=SAVED).wait_for()
    assert stored(response)["service.service_count"] == 16

    # Values left in the browser are offered back on the next visit.
    key = f"assess-unsaved:{round_.id}:{agency.id}"
    page.evaluate(
        "([k, v]) => window.localStorage.setItem(k, v)",
        [key, json.dumps({"service.permit_days": {"v": 15, "at": 0}})],
    )
    page.reload()
    page.locator("#restore-banner").wait_for(state="visible")
    page.click('[data-action="restore"]')
    state_of("service.permit_days").filter(has_text=SAVED).wait_for()
    assert stored(response)["service.permit_days"] == 15

    # A value the server refuses (above the question's maximum) is explained and stays in
    # the browser: the next visit offers it back, with the reason again, instead of losing it.
    count_error = page.locator('[id="q-service.service_count"] [data-role="error"]')
    page.fill('[id="i-service.service_count"]', "6000")
    page.press('[id="i-service.service_count"]', "Tab")
    count_error.filter(has_text="maximum").wait_for()
    assert stored(response)["service.service_count"] == 16
    kept = page.evaluate("Object.assign({}, window.localStorage)")
    assert json.loads(kept[key])["service.service_count"]["v"] == 6000
    page.once("dialog", lambda dialog: dialog.accept())  # leave, though a value was refused
    page.reload()
    page.locator("#restore-banner").filter(has_text="6000").wait_for(state="visible")
    page.click('[data-action="restore"]')
    count_error.filter(has_text="maximum").wait_for()
    assert page.input_value('[id="i-service.service_count"]') == "6000"
    # Typing the saved value back settles it: nothing is left to offer.
    page.fill('[id="i-service.service_count"]', "16")
    page.press('[id="i-service.service_count"]', "Tab")
    page.wait_for_function(
        "key => !(localStorage.getItem(key) || '').includes('service.service_count')", arg=key
    )

    # An exclusive option unticks the others.
    page.check('[id="i-service.channels-1"]')
    state_of("service.channels").filter(has_text=SAVED).wait_for()
    page.check('[id="i-service.channels-6"]')  # "none"
    page.wait_for_function("() => !document.getElementById('i-service.channels-1').checked")
    page.wait_for_timeout(300)
    state_of("service.channels").filter(has_text=SAVED).wait_for()
    page.wait_for_function(
        "() => !document.querySelector('#q-service\\\\.channels [data-role=state]')"
        ".textContent.includes('…')"
    )
    assert stored(response)["service.channels"] == ["none"]

    # Evidence: choosing a file uploads it and lists it.
    pdf = tmp_path / "manual.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    page.set_input_files('[id="file-service.citizen_manual"]', str(pdf))
    page.locator('[id="q-service.citizen_manual"] .evidence-list').filter(
        has_text="manual.pdf"
    ).wait_for()
    db.session.expire_all()
    assert [e.filename for e in response.evidence] == ["manual.pdf"]

    assert errors == []
    context.close()


def test_without_javascript_a_phone_still_reaches_the_menu_and_the_dimensions(world, live, browser):  # type: ignore[no-untyped-def]
    """Bootstrap's collapse needs scripts: without them the phone's menu and the list of
    dimensions are shown open (nothing to unfold), and with them folded behind buttons."""
    agency = world.agency("AG-1")
    world.user("coord@example.go.th", agency=agency)
    round_ = world.round(agencies=[agency])
    answer = f"{live}/rounds/{round_.id}/answer/service"
    for scripts in (False, True):
        context = browser.new_context(
            java_script_enabled=scripts, viewport={"width": 390, "height": 844}
        )
        page = context.new_page()
        page.goto(f"{live}/login")
        page.fill("input[name=email]", "coord@example.go.th")
        page.fill("input[name=password]", "correct horse battery")
        page.press("input[name=password]", "Enter")
        page.wait_for_url("**/my")
        page.goto(answer)
        menu = page.locator('#nav a[href$="/my"]')
        dimensions = page.locator("#survey-aside .dim-nav a").first
        assert menu.first.is_visible() is not scripts
        assert dimensions.is_visible() is not scripts
        assert page.locator(".navbar-toggler").is_visible() is scripts
        assert page.locator('[data-bs-target="#survey-aside"]').is_visible() is scripts
        if scripts:
            page.locator(".navbar-toggler").click()
            menu.first.wait_for(state="visible")
        context.close()


def test_the_submit_page_tells_of_answers_this_browser_has_not_saved(world, live, browser):  # type: ignore[no-untyped-def]
    """Typed on the answer page while it could not save (offline, in another tab), an answer
    waits in this browser: the submit page says so, since only what the server holds would be
    submitted, and sends the person to the answer page, which offers to save it."""
    agency = world.agency("AG-1")
    user = world.user("coord@example.go.th", agency=agency)
    user.language = "en"
    db.session.commit()
    round_ = world.round(agencies=[agency])
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live}/login")
    page.fill("input[name=email]", "coord@example.go.th")
    page.fill("input[name=password]", "correct horse battery")
    page.press("input[name=password]", "Enter")
    page.wait_for_url("**/my")

    submit = f"{live}/rounds/{round_.id}/submit"
    page.goto(submit)
    warning = page.locator("#unsaved-here")
    assert warning.is_hidden()  # nothing waits

    # The answer page could not save one answer: survey.js kept it under its key.
    key = f"assess-unsaved:{round_.id}:{agency.id}"
    assert warning.get_attribute("data-key") == key
    kept = {"service.service_count": {"v": 12, "at": 0}}
    page.evaluate("([key, kept]) => localStorage.setItem(key, JSON.stringify(kept))", [key, kept])
    page.goto(submit)
    warning.wait_for(state="visible")
    assert "not saved yet" in warning.inner_text()
    assert warning.locator('[data-role="codes"]').inner_text() == "service.service_count"
    warning.get_by_role("link", name="Open the answer page").click()
    page.locator("#restore-banner").wait_for(state="visible")  # which offers to save it
    context.close()
