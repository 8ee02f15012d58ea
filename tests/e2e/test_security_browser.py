"""In real Chromium: an idle-expired session keeps the answers typed meanwhile and saves them
after signing in again; the pages (and the API reference) run under the strict
Content-Security-Policy without a violation, and a violation would be seen."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from assess.extensions import db
from assess.models import UserSession, utcnow
from assess.services import responses
from tests.e2e.conftest import is_csp

pytestmark = pytest.mark.e2e

SAVED = re.compile(r"^Saved \d\d:\d\d$")
PASSWORD = "correct horse battery"

#: Collects the page's securitypolicyviolation events (installed before any page script).
WATCH_CSP = """window.__csp = [];
document.addEventListener("securitypolicyviolation",
    e => window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline")));"""


def watched(chromium):  # type: ignore[no-untyped-def]
    """A new context and page that record CSP violations and page errors in ``problems``."""
    context = chromium.new_context(locale="en-US")
    context.set_default_timeout(10_000)
    context.add_init_script(WATCH_CSP)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda m: problems.append(m.text) if is_csp(m) else None)
    return context, page, problems


def violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    return list(page.evaluate("window.__csp || []"))


def sign_in(page, base: str, email: str, lands_on: str = "**/my") -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login?lang=en")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url(lands_on)


def stored(response) -> dict:  # type: ignore[no-untyped-def]
    db.session.expire_all()
    return responses.current_json(response)


def test_an_idle_session_keeps_the_answers_until_signing_in_again(world, live, browser):  # noqa: F811
    agency = world.agency("AG-1")
    user = world.user("coord@example.go.th", agency=agency)
    user.language = "en"
    db.session.commit()
    round_ = world.round(agencies=[agency])
    response = responses.get_response(round_, agency)
    context, page, problems = watched(browser)
    sign_in(page, live, user.email)
    page.goto(f"{live}/rounds/{round_.id}/answer/service")
    field = '[id="i-service.service_count"]'
    state = page.locator('[id="q-service.service_count"] [data-role="state"]')
    page.fill(field, "7")
    page.press(field, "Tab")
    state.filter(has_text=SAVED).wait_for()
    assert stored(response)["service.service_count"] == 7

    # Away from the desk longer than the idle timeout: the server ends the session.
    for row in db.session.scalars(db.select(UserSession)):
        row.last_seen_at = utcnow() - dt.timedelta(minutes=31)
    db.session.commit()
    page.fill(field, "12")
    page.press(field, "Tab")
    page.locator("#session-banner").wait_for(state="visible")
    assert stored(response)["service.service_count"] == 7  # not saved ...
    kept = page.evaluate("Object.assign({}, window.localStorage)")
    assert any("service.service_count" in value for value in kept.values())  # ... but kept
    assert page.input_value(field) == "12"

    # Signing in again in another tab, then retrying, saves what was typed.
    other = context.new_page()
    sign_in(other, live, user.email)
    other.close()
    page.locator("#session-banner [data-action=retry]").click()
    state.filter(has_text=SAVED).wait_for()
    assert stored(response)["service.service_count"] == 12
    assert page.evaluate("Object.keys(window.localStorage).length") == 0
    assert violations(page) == []
    assert problems == []
    context.close()


def test_pages_run_under_the_content_security_policy(world, live, browser):  # noqa: F811
    agency = world.agency("AG-1")
    user = world.user("coord@example.go.th", agency=agency)
    user.language = "en"
    db.session.commit()
    round_ = world.round(agencies=[agency])
    context, page, problems = watched(browser)

    page.goto(f"{live}/login?lang=en")
    assert (
        "script-src 'self'"
        in (page.context.request.get(f"{live}/login").headers)["content-security-policy"]
    )
    sign_in(page, live, user.email)
    page.goto(f"{live}/rounds/{round_.id}/answer/service")
    page.locator("#survey-data").wait_for(state="attached")
    # survey.js ran (it fills the progress ring), under the policy.
    page.locator('[data-ring="service"][data-label]').wait_for(state="attached")
    assert violations(page) == []

    # The API reference (Swagger UI): its inline script is allowed by hash, nothing else.
    page.goto(f"{live}/api/v1/docs")
    page.locator(".swagger-ui .title").first.wait_for()
    assert "assess JSON API" in page.locator(".swagger-ui .title").first.inner_text()
    assert violations(page) == []

    assert problems == []

    # And a violation would be seen: an injected inline script is blocked and reported.
    page.evaluate(
        """() => { const s = document.createElement("script");
                   s.textContent = "window.__ran = true"; document.body.appendChild(s); }"""
    )
    page.wait_for_function("window.__csp.length > 0")
    assert page.evaluate("window.__ran === undefined")
    assert violations(page)[0].startswith("script-src")
    assert any("Content Security Policy" in p for p in problems)
    context.close()
