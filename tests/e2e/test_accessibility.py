"""Accessibility and finish in a real browser: keyboard-only answering with a visible focus,
the coordinator's pages at a phone's width, the error pages (403, 404, 500) in Thai and in
English, empty states, and axe-core (WCAG 2.1 A/AA, no serious or critical violation) on the
pages that the journeys (``test_journey*.py``) do not walk through.

Screenshots go to ``test-artifacts/journeys/<name>/NN-<step>.png`` like the journeys'.
"""

from __future__ import annotations

import datetime as dt

import pytest

from assess import thai
from assess.extensions import db
from assess.services import responses, rounds
from tests.conftest import fill
from tests.e2e.conftest import Journey
from tests.e2e.helpers import complete_the_rest, fresh, thai_label

pytestmark = pytest.mark.e2e

COORDINATOR = "coordinator@dga-a.go.th"
ADMIN = "admin@central.go.th"
PHONE = {"width": 375, "height": 812}
OVERFLOWS = "() => document.scrollingElement.scrollWidth > window.innerWidth"
METHOD = "สำรวจออนไลน์ผ่านเว็บไซต์ของหน่วยงาน ผู้ตอบ 412 ราย"

#: The focused element: a description, whether it matches a selector, and whether its focus
#: is visible (an outline, a focus shadow, or the shadow of the rubric card around it).
FOCUS = """(selector) => {
    const el = document.activeElement;
    if (!el || el === document.body) return {none: true};
    const style = getComputedStyle(el);
    const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
    const card = el.closest(".rubric .form-check");
    const shadow = style.boxShadow !== "none"
        || (card !== null && getComputedStyle(card).boxShadow !== "none");
    return {none: false, id: el.id, name: el.getAttribute("name") || "", type: el.type || "",
            tag: el.tagName, matches: selector ? el.matches(selector) : false,
            visible: outline || shadow,
            label: el.id || el.getAttribute("href") || el.getAttribute("name") || el.tagName};
}"""


class Keyboard:
    """Moves the focus with Tab (and Shift+Tab) only, noting every stop without a visible
    focus indicator."""

    def __init__(self, page) -> None:  # type: ignore[no-untyped-def]
        self.page = page
        self.unseen: list[str] = []
        self.stops = 0

    def tab_to(self, selector: str, *, backwards: bool = False, limit: int = 400) -> dict:  # type: ignore[type-arg]
        key = "Shift+Tab" if backwards else "Tab"
        for _ in range(limit):
            self.page.keyboard.press(key)
            info = self.page.evaluate(FOCUS, selector)
            if info["none"]:
                continue
            self.stops += 1
            if not info["visible"]:
                self.unseen.append(info["label"])
            if info["matches"]:
                return info  # type: ignore[no-any-return]
        pytest.fail(f"{selector} not reached with {key} in {limit} presses")

    def choose_radio(self, element_id: str) -> None:
        """Tab into the radio group, then move to the option with the arrow keys."""
        name = self.page.locator(f'[id="{element_id}"]').get_attribute("name")
        info = self.tab_to(f'input[type=radio][name="{name}"]')
        for _ in range(12):
            if info["id"] == element_id:
                break
            self.page.keyboard.press("ArrowDown")
            info = self.page.evaluate(FOCUS, None)
        assert info["id"] == element_id
        self.page.keyboard.press("Space")
        assert self.page.locator(f'[id="{element_id}"]').is_checked()


def test_keyboard_only_answer_and_submit_and_phone_width(world, person):  # type: ignore[no-untyped-def]
    journey = Journey("coordinator-phone")
    agency = world.agency(
        "AG-A", name_th="กรมพัฒนาบริการดิจิทัล", name_en="Department of Digital Services"
    )
    user = world.user(COORDINATOR, agency=agency)
    today = dt.datetime.now(thai.BANGKOK).date()
    round_ = world.round(
        agencies=[agency],
        name="การประเมินความพร้อมรัฐบาลดิจิทัล ปีงบประมาณ พ.ศ. 2569",
        closes_on=today + dt.timedelta(days=20),
        live_preview=True,
    )
    rid = round_.id
    response = responses.get_response(round_, agency)
    complete_the_rest(response, user, skip="mgmt")

    coord = person()
    page = coord.page
    # -- the coordinator's pages at 375 × 812: nothing wider than the screen
    page.set_viewport_size(PHONE)
    coord.login(COORDINATOR, lands_on="**/my")
    for path, name in (
        ("/my", "my-rounds"),
        (f"/rounds/{rid}/answer/mgmt", "answer"),
        (f"/rounds/{rid}/submit", "submit"),
        (f"/rounds/{rid}/workbook", "workbook"),
        ("/profile", "profile"),
    ):
        coord.goto(path)
        assert not page.evaluate(OVERFLOWS), path
        if name == "submit":
            # The summary's progress bars keep a readable width (the table scrolls instead).
            widths = page.locator("#summary tbody .progress").evaluate_all(
                "bars => bars.map(bar => bar.getBoundingClientRect().width)"
            )
            assert widths
            assert min(widths) >= 60, widths
        journey.step(coord, name)
    # The menu folds into a button that opens with the keyboard.
    toggler = page.locator("button.navbar-toggler")
    toggler.focus()
    page.keyboard.press("Enter")
    page.locator("#nav.show").wait_for()
    assert page.locator('#nav a[href="/my"]').is_visible()

    # -- a full-size window; the first dimension answered with the keyboard alone
    page.set_viewport_size({"width": 1280, "height": 900})
    coord.goto(f"/rounds/{rid}/answer/mgmt")
    keys = Keyboard(page)
    # The first Tab reaches the skip link, which is shown when focused and leads to <main>.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('skip-link')")
    assert page.locator(".skip-link").bounding_box()["x"] >= 0  # type: ignore[index]

    def saved(code: str) -> None:
        page.locator(f'[id="q-{code}"] [data-role="state"].saved').wait_for()

    def type_into(element_id: str, text: str, *, leave: str = "Enter") -> None:
        keys.tab_to(f'[id="{element_id}"]')
        page.keyboard.type(text)
        page.keyboard.press(leave)

    keys.choose_radio("i-mgmt.leadership-4")
    saved("mgmt.leadership")
    keys.choose_radio("i-mgmt.strategy-3")
    saved("mgmt.strategy")
    for index in (1, 5):
        keys.tab_to(f'[id="i-mgmt.customer_voice-{index}"]')
        page.keyboard.press("Space")
    saved("mgmt.customer_voice")
    keys.choose_radio("i-mgmt.kpi_dashboard-3")
    type_into("i-mgmt.process_digital", "45")
    saved("mgmt.process_digital")
    keys.choose_radio("i-mgmt.e_document-2")
    keys.choose_radio("i-mgmt.pmqa_level-3")
    saved("mgmt.pmqa_level")
    # Evidence by its web address: typed, then Enter attaches it.
    type_into("url-mgmt.pmqa_level", "https://www.dga.or.th/pmqa/certificate-2568.pdf")
    page.locator('[id="q-mgmt.pmqa_level"] [data-role="evidence-list"] a').wait_for()
    type_into("i-mgmt.satisfaction", "87.5")
    saved("mgmt.satisfaction")
    page.locator('[id="q-mgmt.satisfaction_method"]').wait_for(state="visible")
    type_into("i-mgmt.satisfaction_method", METHOD, leave="Tab")
    saved("mgmt.satisfaction_method")
    keys.choose_radio("i-mgmt.awards-yes")
    saved("mgmt.awards")
    assert page.locator('[data-role="missing-count"]').inner_text() == "0"

    # To the summary and the submission: Shift+Tab back to the link, Enter, Space, Enter.
    keys.tab_to(f'a[href="/rounds/{rid}/submit"]', backwards=True)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/rounds/{rid}/submit")
    keys.tab_to("#confirm")
    page.keyboard.press("Space")
    keys.tab_to("form:has(#confirm) [type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/my")
    assert fresh(response).status == "submitted"
    assert responses.current_json(response)["mgmt.leadership"] == 3

    assert keys.stops > 30
    assert keys.unseen == [], f"focus not visible on: {keys.unseen}"
    assert coord.problems == [], "\n".join(coord.problems)


def test_error_pages_in_thai_and_english(app, world, person):  # type: ignore[no-untyped-def]
    """403, 404 and 500: a page of the app in the reader's language, with a way on."""
    app.config["PROPAGATE_EXCEPTIONS"] = False  # the 500 handler answers, as in production

    def broken() -> str:
        raise RuntimeError("a bug, on purpose")

    app.add_url_rule("/test-only/broken", "test_broken", broken)
    from flask_babel import force_locale

    def heading(code: int, lang: str) -> str:
        from flask import render_template_string

        with app.test_request_context(), force_locale(lang):
            return render_template_string(
                {
                    403: "{{ _('You do not have access to this page') }}",
                    404: "{{ _('Page not found') }}",
                    500: "{{ _('Something went wrong on our side') }}",
                }[code]
            )

    agency = world.agency("AG-A")
    world.user(COORDINATOR, agency=agency)
    journey = Journey("errors")
    visitor = person()
    page = visitor.page

    def expect(path: str, code: int, lang: str, step: str) -> None:
        reply = visitor.goto(path)
        assert reply is not None
        assert reply.status == code, path
        assert page.locator("html").get_attribute("lang") == lang
        assert page.locator(f'[data-error="{code}"]').count() == 1
        title = page.locator("h1").inner_text()
        assert title.startswith(heading(code, lang)), (title, heading(code, lang))
        assert page.locator('a[data-action="start"]').get_attribute("href") == "/"
        journey.step(visitor, step)

    # Not signed in: a page that does not exist, with a way to sign in.
    expect("/no-such-page", 404, "th", "404-th-anonymous")
    assert page.locator('a[data-action="login"]').count() == 1
    visitor.login(COORDINATOR, lands_on="**/my")
    # A coordinator at the central office's pages: 403, signed in as whom, switch account.
    expect("/central/rounds", 403, "th", "403-th")
    assert page.locator('[data-action="switch-user"]').count() == 1
    expect("/rounds/999/answer", 404, "th", "404-th")
    # Following a link from a page of the app offers the way back to it.
    visitor.goto("/my")
    page.evaluate("location.href = '/rounds/999/results'")
    page.wait_for_url("**/rounds/999/results")
    assert page.locator('a[data-action="back"]').get_attribute("href").endswith("/my")  # type: ignore[union-attr]
    problems_before = list(visitor.problems)
    expect("/test-only/broken", 500, "th", "500-th")
    assert page.locator('a[data-action="retry"]').get_attribute("href") == "/test-only/broken?"
    # The 5xx reply itself was noted by the Person; that one is expected here.
    assert [p for p in visitor.problems if p not in problems_before] == [
        f"500 {visitor.url('/test-only/broken')}"
    ]
    visitor.problems[:] = problems_before

    # The same pages in English after one click on the language switch.
    page.locator("nav button[lang='en']").click()
    page.wait_for_selector("html[lang='en']")
    expect("/central/rounds", 403, "en", "403-en")
    expect("/no-such-page", 404, "en", "404-en")
    expect("/test-only/broken", 500, "en", "500-en")
    visitor.problems[:] = [p for p in visitor.problems if "/test-only/broken" not in p]
    assert visitor.problems == [], "\n".join(visitor.problems)


def test_remaining_pages_and_empty_states(app, world, person):  # type: ignore[no-untyped-def]
    """axe-core on the pages the journeys do not walk through (the central office's
    administration, dashboards, exports, profile, verification), and the empty states."""
    admin = world.user(ADMIN, role="admin")
    journey = Journey("central")
    someone = person()
    page = someone.page
    someone.login(ADMIN, lands_on="**/central/rounds")
    # Nothing yet: the overview says so and offers to create the first round.
    assert page.locator('[data-empty="rounds"] a[href="/central/rounds/new"]').count() == 1
    journey.step(someone, "rounds-empty")

    # A published round of four agencies (with last year's versions to compare).
    agencies = [world.agency(f"AG-{n}", province="เชียงใหม่") for n in range(1, 5)]
    coordinator = world.user(COORDINATOR, agency=agencies[0])
    round_ = world.round(agencies=agencies, name="รอบทดสอบ 2569")
    for agency, maturity in zip(agencies, (0.3, 0.5, 0.7, 0.9), strict=True):
        fill(world.response(round_, agency), admin, maturity)
    rounds.move(round_, "closed", admin)
    rounds.move(round_, "published", admin)
    db.session.commit()
    rid = round_.id
    old = world.questionnaire(key="dg-readiness@2568")
    new = round_.questionnaire

    pages = [
        ("/central/rounds/new", "round-new", 0),
        (f"/central/rounds/{rid}/results", "results-league", 0),
        (f"/central/rounds/{rid}/results/distributions", "results-distributions", 1),
        (f"/central/rounds/{rid}/results/heatmap", "results-heatmap", 1),
        (f"/central/rounds/{rid}/results/levels", "results-levels", 1),
        (f"/central/rounds/{rid}/results/progress", "results-progress", 2),
        (f"/central/rounds/{rid}/results/flags", "results-flags", 0),
        (f"/central/rounds/{rid}/exports", "exports", 0),
        (f"/central/rounds/{rid}/disputes", "disputes-empty", 0),
        (f"/central/rounds/{rid}/responses/AG-1/results", "agency-results", 1),
        ("/central/activity", "activity", 0),
        ("/central/agencies", "agencies", 0),
        ("/central/agencies?q=zzz-none", "agencies-empty", 0),
        ("/central/agencies/AG-1", "agency", 0),
        ("/central/agencies/new", "agency-new", 0),
        ("/central/users", "users", 0),
        (f"/central/users/{coordinator.id}", "user", 0),
        ("/central/users/new", "user-new", 0),
        ("/central/questionnaires", "questionnaires", 0),
        (f"/central/questionnaires/{new.id}", "questionnaire", 0),
        (f"/central/questionnaires/diff?old={old.id}&new={new.id}", "questionnaire-diff", 0),
        ("/profile", "profile", 0),
        ("/scorecards/verify", "scorecard-verify", 0),
    ]
    for path, name, charts in pages:
        reply = someone.goto(path)
        assert reply is not None
        assert reply.status == 200, path
        if charts:  # every chart of the page drawn before the check
            page.wait_for_function(
                "() => document.querySelectorAll('.results-chart').length > 0 && "
                "document.documentElement.dataset.chartsDrawn == "
                "document.querySelectorAll('.results-chart').length",
                timeout=30_000,
            )
        journey.step(someone, name)
    assert page.locator('[data-empty="agencies"]').count() == 0  # the last page is another
    someone.goto("/central/agencies?q=zzz-none")
    assert page.locator('[data-empty="agencies"]').count() == 1
    someone.goto(f"/central/rounds/{rid}/disputes")
    assert page.locator('[data-empty="disputes"]').count() == 1

    # A coordinator whose agency has no round yet is told what happens next.
    lonely = world.agency("AG-9")
    world.user("lonely@ag-9.go.th", agency=lonely)
    other = person()
    other.login("lonely@ag-9.go.th", lands_on="**/my")
    assert other.page.locator('[data-empty="my-rounds"]').count() == 1
    assert other.page.locator("h1").inner_text() == thai_label(app, _my_rounds())
    journey.step(other, "my-rounds-empty")

    for who in (someone, other):
        assert who.problems == [], "\n".join(who.problems)


def _my_rounds():  # type: ignore[no-untyped-def]
    from flask_babel import lazy_gettext

    return lazy_gettext("My rounds")


def platform_fonts(page, selector: str) -> set[str]:  # type: ignore[no-untyped-def]
    """The fonts Chromium really drew an element's text with (DevTools: CSS.getPlatformFontsForNode)."""
    session = page.context.new_cdp_session(page)
    session.send("DOM.enable")
    session.send("CSS.enable")
    root = session.send("DOM.getDocument")["root"]["nodeId"]
    node = session.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = session.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    return {font["familyName"] for font in fonts}


def test_thai_in_code_is_drawn_in_sarabun_not_boxes(world, person, tmp_path):  # type: ignore[no-untyped-def]
    """A questionnaire file's problems on the Thai page: FILE:LINE: in a monospace font,
    the Thai message in Sarabun (the monospace fonts have no Thai: boxes before)."""
    world.user("admin@example.go.th", role="admin")
    admin = person()
    admin.login("admin@example.go.th", lands_on="**/central/**")
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema: assess/questionnaire@1\ncode: X\nversion: '1'\ntitle: t\n")
    admin.goto("/central/questionnaires")
    admin.page.set_input_files("input[type=file]", str(bad))
    admin.page.locator("form[action$='/questionnaires/import'] [type=submit]").click()
    admin.page.wait_for_selector(".alert-danger code")
    assert "bad.yaml:" in admin.page.inner_text(".alert-danger code")
    admin.page.evaluate("document.fonts.ready")
    assert "Sarabun" in platform_fonts(admin.page, ".alert-danger code")
    assert not admin.problems
