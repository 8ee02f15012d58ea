"""Whole journeys in a real browser, in Thai (the default language).

The coordinator's journey, from the first sign-in to the resubmission: sign in, answer a
dimension with autosave (rubric cards, check boxes, numbers, yes/no, a conditional
question, an evidence file), find everything again after a reload, submit, be returned by
the reviewer with a comment on one question, see that comment beside the question, change
the answer, submit again — and the reviewer accepts it. Every step is photographed into
``test-artifacts/journeys/coordinator/NN-<step>.png`` and checked with axe-core (WCAG 2.1
AA: no serious or critical violation), for its ``lang`` and its title.

Elements are found by stable attributes (ids such as ``q-CODE``, input names and values,
``data-`` attributes), never by the words on the page, so the tests hold whatever the
Thai catalogue says; where a label matters it is compared with the app's own translation.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from assess import labels, thai
from assess.services import responses
from tests.e2e.conftest import Journey
from tests.e2e.helpers import complete_the_rest, fresh, minimal_pdf, thai_label

pytestmark = pytest.mark.e2e

COORDINATOR = "coordinator@dga-a.go.th"
REVIEWER = "reviewer@central.go.th"
COMMENT = "โปรดแนบหนังสือรับรองผลการประเมิน PMQA ฉบับที่ลงนามแล้ว"
METHOD = "สำรวจออนไลน์ 1 ต.ค. 2567 – 30 ก.ย. 2568 ผู้ตอบ 412 ราย ผ่านแบบฟอร์มบนเว็บไซต์"
OBSTACLES = "ขาดบุคลากรด้านข้อมูล และต้องการงบประมาณสำหรับเชื่อมโยงระบบกับหน่วยงานอื่น"
PDF_NAME = "หนังสือรับรอง-PMQA.pdf"
THAI = re.compile(r"[\u0e01-\u0e5b]")


def test_coordinator_journey_answer_submit_returned_resubmit(  # type: ignore[no-untyped-def]
    app, world, person, tmp_path
):
    journey = Journey("coordinator")
    # -- the data: the built-in questionnaire, two agencies, a coordinator, a reviewer, a round
    version = world.questionnaire(key="dg-readiness@2569")
    agency_a = world.agency(
        "AG-A",
        name_th="กรมพัฒนาบริการดิจิทัล",
        name_en="Department of Digital Services",
        province="กรุงเทพมหานคร",
    )
    agency_b = world.agency(
        "AG-B",
        name_th="สำนักงานจังหวัดเชียงใหม่",
        name_en="Chiang Mai Provincial Office",
        type="province",
        province="เชียงใหม่",
    )
    coordinator = world.user(COORDINATOR, agency=agency_a)
    world.user(REVIEWER, role="reviewer")
    today = dt.datetime.now(thai.BANGKOK).date()
    round_ = world.round(
        version,
        agencies=[agency_a, agency_b],
        name="การประเมินความพร้อมรัฐบาลดิจิทัล ปีงบประมาณ พ.ศ. 2569",
        closes_on=today + dt.timedelta(days=30),
        live_preview=True,
    )
    response = responses.get_response(round_, agency_a)
    rid = round_.id

    # -- 1. the coordinator signs in, lands on "My rounds" and opens the round
    coord = person()
    page = coord.page
    page.goto(coord.url("/login"))
    assert page.locator("html").get_attribute("lang") == "th"
    journey.step(coord, "login")
    coord.login(COORDINATOR, lands_on="**/my")
    card = page.locator(f'.round-card[data-round="{rid}"]')
    assert card.locator(".status-badge.status-not_started").is_visible()
    journey.step(coord, "my-rounds")
    card.locator(f'a[href="/rounds/{rid}/answer"]').click()
    # The round opens on the first dimension with something missing (the first one, here),
    # at its own address, so that a reload stays on it.
    page.wait_for_url(f"**/rounds/{rid}/answer/mgmt")
    first = page.locator(".dim-nav .nav-link.active")
    assert first.get_attribute("href") == f"/rounds/{rid}/answer/mgmt"

    def q(code: str):  # type: ignore[no-untyped-def]
        return page.locator(f'[id="q-{code}"]')

    def saved(code: str) -> None:
        """Wait until the question's autosave reports the saved state."""
        q(code).locator('[data-role="state"].saved').wait_for()

    def choose(code: str, index: int) -> None:
        """Click the label of option ``index`` (1-based), as a person clicks a card."""
        page.locator(f'label[for="i-{code}-{index}"]').click()
        saved(code)

    def type_in(code: str, text: str) -> None:
        field = page.locator(f'[id="i-{code}"]')
        field.fill(text)
        field.press("Tab")
        saved(code)

    # -- 2. the whole first dimension, each answer autosaved
    choose("mgmt.leadership", 4)  # a level: rubric card "data-driven steering" (3)
    assert q("mgmt.leadership").locator(".rubric .form-check:has(input:checked)").count() == 1
    choose("mgmt.strategy", 3)  # level 2
    page.check('[id="i-mgmt.customer_voice-1"]')  # multi: survey …
    saved("mgmt.customer_voice")
    page.check('[id="i-mgmt.customer_voice-5"]')  # … and analytics
    saved("mgmt.customer_voice")
    choose("mgmt.kpi_dashboard", 3)  # choice: dashboard
    type_in("mgmt.process_digital", "45")  # number
    choose("mgmt.e_document", 2)  # choice: internal
    choose("mgmt.pmqa_level", 3)  # choice with evidence required: basic

    # The evidence file: chosen in the file input, uploaded at once, listed under the question.
    pdf = tmp_path / PDF_NAME
    pdf.write_bytes(minimal_pdf())
    page.set_input_files('[id="file-mgmt.pmqa_level"]', str(pdf))
    q("mgmt.pmqa_level").locator('[data-role="evidence-list"] a', has_text=PDF_NAME).wait_for()

    # The conditional question appears once the question it depends on is answered.
    method = q("mgmt.satisfaction_method")
    assert method.is_hidden()
    type_in("mgmt.satisfaction", "87.5")
    method.wait_for(state="visible")
    type_in("mgmt.satisfaction_method", METHOD)

    page.locator('label[for="i-mgmt.awards-yes"]').click()  # yes/no
    saved("mgmt.awards")
    type_in("mgmt.comment", OBSTACLES)

    expected = {
        "mgmt.leadership": 3,
        "mgmt.strategy": 2,
        "mgmt.customer_voice": ["survey", "analytics"],
        "mgmt.kpi_dashboard": "dashboard",
        "mgmt.process_digital": 45,
        "mgmt.e_document": "internal",
        "mgmt.pmqa_level": "basic",
        "mgmt.satisfaction": 87.5,
        "mgmt.satisfaction_method": METHOD,
        "mgmt.awards": True,
        "mgmt.comment": OBSTACLES,
    }
    assert responses.current_json(fresh(response)) == expected
    assert [(e.question_code, e.filename) for e in response.evidence] == [
        ("mgmt.pmqa_level", PDF_NAME)
    ]
    assert page.locator('[data-ring="mgmt"]').get_attribute("data-label") == "100%"
    assert page.locator("#response-status .status-badge.status-draft").is_visible()

    # -- 3. after a reload every value is still there, the condition holds, the file is listed
    page.reload()
    checked = {
        "mgmt.leadership": [4],
        "mgmt.strategy": [3],
        "mgmt.customer_voice": [1, 5],
        "mgmt.kpi_dashboard": [3],
        "mgmt.e_document": [2],
        "mgmt.pmqa_level": [3],
    }
    for code, indexes in checked.items():
        boxes = q(code).locator("input[data-json]")
        ticked = [i + 1 for i in range(boxes.count()) if boxes.nth(i).is_checked()]
        assert ticked == indexes, code
    assert page.locator('[id="i-mgmt.awards-yes"]').is_checked()
    assert not page.locator('[id="i-mgmt.awards-no"]').is_checked()
    assert page.locator('[id="i-mgmt.process_digital"]').input_value() == "45"
    assert page.locator('[id="i-mgmt.satisfaction"]').input_value() == "87.5"
    assert method.is_visible()
    assert page.locator('[id="i-mgmt.satisfaction_method"]').input_value() == METHOD
    assert page.locator('[id="i-mgmt.comment"]').input_value() == OBSTACLES
    assert q("mgmt.pmqa_level").locator('[data-role="evidence-list"] a').all_inner_texts() == [
        PDF_NAME
    ]
    assert page.locator("#restore-banner").is_hidden()  # nothing was left unsaved
    journey.step(coord, "answer-page")

    # -- 4. the rest of the questionnaire arrives from elsewhere; then submit in the browser
    complete_the_rest(fresh(response), coordinator, skip="mgmt")
    page.reload()
    assert page.locator("#completeness [role=progressbar]").get_attribute("aria-valuenow") == (
        "100.0"
    )
    assert page.locator('[data-role="missing-count"]').inner_text() == "0"
    page.locator(f'a[href="/rounds/{rid}/submit"]').first.click()
    page.wait_for_url(f"**/rounds/{rid}/submit")
    assert page.locator("#missing").count() == 0  # nothing is listed as missing
    journey.step(coord, "submit")
    submit_form = page.locator("form:has(#confirm)")
    submit_form.locator("#confirm").check()
    submit_form.locator("[type=submit]").click()
    page.wait_for_url("**/my")
    submitted = thai_label(app, labels.RESPONSE_STATUS["submitted"])
    assert THAI.search(submitted)  # the Thai catalogue's word, not the English msgid
    assert card.locator(".status-badge.status-submitted").inner_text().strip() == submitted
    assert fresh(response).status == "submitted"

    # -- 5. the reviewer opens the monitor and the response, comments one question, returns it
    rev = person()
    rpage = rev.page
    rev.login(REVIEWER, lands_on="**/central/rounds")
    journey.step(rev, "reviewer-rounds")
    rpage.locator(f'a[href="/central/rounds/{rid}"]').first.click()
    rpage.wait_for_url(f"**/central/rounds/{rid}")
    row = rpage.locator("tbody tr", has=rpage.locator(f'a[href$="/responses/{agency_a.code}"]'))
    assert row.locator(".status-badge.status-submitted").is_visible()
    journey.step(rev, "reviewer-round-monitor")
    row.locator(f'a[href="/central/rounds/{rid}/responses/{agency_a.code}"]').click()
    rpage.wait_for_url(f"**/central/rounds/{rid}/responses/{agency_a.code}")
    item = rpage.locator('[id="q-mgmt.pmqa_level"]')
    assert item.locator(".evidence-list a", has_text=PDF_NAME).is_visible()
    tool = item.locator("details.review-tool", has=rpage.locator("textarea[name^=qcomment-]"))
    tool.locator("summary").click()
    rpage.fill('[id="c-mgmt.pmqa_level"]', COMMENT)
    journey.step(rev, "reviewer-comment")
    rpage.locator('#review-form button[type=submit][name=action][value="return"]').click()
    rpage.locator("h1 .status-badge.status-returned").wait_for()
    item.locator(
        ".comment-box", has_text=COMMENT
    ).wait_for()  # (below the heading: it may come later)
    journey.step(rev, "reviewer-returned")
    rpage.locator(f'a[href="/central/rounds/{rid}/responses/{agency_a.code}/audit"]').click()
    rpage.wait_for_url("**/audit")
    assert rpage.locator("tbody tr").count() > 5
    journey.step(rev, "reviewer-audit-trail")
    stored = fresh(response)
    assert stored.status == "returned"
    assert [(c.question_code, c.body) for c in stored.comments] == [("mgmt.pmqa_level", COMMENT)]

    # -- 6. the coordinator reloads: returned, and the comment sits in the question's card
    page.reload()
    returned = thai_label(app, labels.RESPONSE_STATUS["returned"])
    assert THAI.search(returned)
    assert card.locator(".status-badge.status-returned").inner_text().strip() == returned
    card.locator(f'a[href="/rounds/{rid}/answer"]').click()
    page.wait_for_url(f"**/rounds/{rid}/answer/mgmt")  # nothing missing: the first dimension
    assert page.locator("#response-status .status-badge.status-returned").is_visible()
    # The comments listed at the top link to their questions.
    page.locator(f'#comments a[href="/rounds/{rid}/answer/mgmt#q-mgmt.pmqa_level"]').click()
    page.wait_for_url(f"**/rounds/{rid}/answer/mgmt#q-mgmt.pmqa_level")
    commented = q("mgmt.pmqa_level")
    assert "has-comment" in (commented.get_attribute("class") or "")
    assert commented.locator(".comment-box", has_text=COMMENT).is_visible()
    assert page.locator("#comments", has_text=COMMENT).is_visible()
    assert page.locator(".question-card.has-comment").count() == 1
    assert page.locator('[id="i-mgmt.pmqa_level-3"]').is_checked()  # still editable, kept
    assert page.locator('[id="i-mgmt.pmqa_level-3"]').is_enabled()
    journey.step(coord, "returned-answer-page")

    # -- 7. the coordinator corrects the answer (the signed certificate says "Advance") and
    #       submits again from the summary
    choose("mgmt.pmqa_level", 4)
    assert responses.current_json(fresh(response))["mgmt.pmqa_level"] == "advance"
    page.locator(f'a[href="/rounds/{rid}/submit"]').first.click()
    page.wait_for_url(f"**/rounds/{rid}/submit")
    assert page.locator("#missing").count() == 0
    journey.step(coord, "resubmit")
    submit_form = page.locator("form:has(#confirm)")
    submit_form.locator("#confirm").check()
    submit_form.locator("[type=submit]").click()
    page.wait_for_url("**/my")
    assert card.locator(".status-badge.status-submitted").inner_text().strip() == submitted
    journey.step(coord, "resubmitted")
    assert fresh(response).status == "submitted"

    # -- 8. the reviewer sees the new answer and accepts the response
    rpage.goto(rev.url(f"/central/rounds/{rid}/responses/{agency_a.code}"))
    assert rpage.locator("h1 .status-badge.status-submitted").is_visible()
    rpage.locator('#review-form button[type=submit][name=action][value="accept"]').click()
    rpage.locator("h1 .status-badge.status-accepted").wait_for()
    journey.step(rev, "reviewer-accepted")
    page.reload()
    assert card.locator(".status-badge.status-accepted").is_visible()
    journey.step(coord, "accepted")
    assert fresh(response).status == "accepted"

    # No script error, no server error, no accessibility violation, and every page
    # photographed drew its Thai in Sarabun.
    for someone in (coord, rev):
        assert someone.problems == [], "\n".join(someone.problems)
