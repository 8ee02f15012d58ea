"""The reviewer's journey in a real browser, in Thai: from opening a round to its final
publication, with a dispute on the way.

A reviewer opens a draft round; three agencies answer and submit (through the services, as
their coordinators would in their own browsers — the coordinator's journey is
``test_journeys.py``); the reviewer follows the submissions on the round's monitor, records a
verified value on one response and accepts it, returns another with a comment, accepts the
third, closes the round and publishes preliminary results. The first agency's coordinator
disputes the verified question from its results page; the reviewer upholds the dispute and
publishes the final results, which the coordinator then sees.

Every step is photographed into ``test-artifacts/journeys/reviewer/NN-<step>.png`` and checked
with axe-core (WCAG 2.1 AA: no serious or critical violation), for its ``lang`` and title.
Elements are found by ids, names, values and ``data-`` attributes, never by their words.
"""

from __future__ import annotations

import datetime as dt

import pytest

from assess import thai
from assess.extensions import db
from assess.models import Dispute
from assess.services import responses
from tests.e2e.conftest import Journey
from tests.e2e.helpers import complete_the_rest, fresh

pytestmark = pytest.mark.e2e

REVIEWER = "reviewer@central.go.th"
COORDINATOR = "coordinator@dga-a.go.th"
VERIFY_REASON = "หลักฐานแสดงเพียงรายงานรายไตรมาสที่จัดทำด้วยมือ ยังไม่มีแดชบอร์ดที่ผู้บริหารใช้ติดตาม"
GENERAL_COMMENT = "กรุณาทบทวนหลักฐานของมิติสถาปัตยกรรมองค์กร"
RETURN_COMMENT = "โปรดแนบแผนปฏิบัติการดิจิทัลที่ผู้บริหารลงนามแล้ว"
EXPLANATION = "หน่วยงานเปิดใช้แดชบอร์ดติดตามตัวชี้วัดตั้งแต่ ม.ค. 2568 ดูหลักฐานที่แนบไว้ในข้อนี้"
DECISION = "ตรวจสอบหลักฐานเพิ่มเติมแล้ว แดชบอร์ดใช้งานจริง ยืนตามคำตอบของหน่วยงาน"
QUESTION = "mgmt.kpi_dashboard"


def test_reviewer_opens_reviews_publishes_with_a_dispute(app, world, person):  # type: ignore[no-untyped-def]
    journey = Journey("reviewer")
    version = world.questionnaire(key="dg-readiness@2569")
    agencies = [
        world.agency("AG-A", name_th="กรมพัฒนาบริการดิจิทัล", name_en="Department of Digital Services"),
        world.agency("AG-B", name_th="กรมส่งเสริมข้อมูลเปิด", name_en="Department of Open Data"),
        world.agency("AG-C", name_th="กรมบริการประชาชน", name_en="Department of Citizen Services"),
    ]
    coordinators = [world.user(COORDINATOR, agency=agencies[0])] + [
        world.user(f"coordinator@{a.code.lower()}.go.th", agency=a) for a in agencies[1:]
    ]
    world.user(REVIEWER, role="reviewer")
    today = dt.datetime.now(thai.BANGKOK).date()
    round_ = world.round(
        version,
        agencies=agencies,
        status="draft",
        name="การประเมินความพร้อมรัฐบาลดิจิทัล ปีงบประมาณ พ.ศ. 2569",
        closes_on=today + dt.timedelta(days=30),
    )
    rid = round_.id
    monitor = f"/central/rounds/{rid}"

    rev = person()
    page = rev.page
    # -- 1. the reviewer signs in on the rounds overview and opens the draft round
    rev.login(REVIEWER, lands_on="**/central/rounds")
    journey.step(rev, "rounds")
    page.locator(f'a[href="{monitor}"]').first.click()
    page.wait_for_url(f"**{monitor}")
    assert page.locator('h1 [data-round-status="draft"]').count() == 1
    journey.step(rev, "round-draft")

    def move(target: str, step: str) -> None:
        """Follow the round's action to ``target``, confirm it, come back to the monitor."""
        page.locator(f'a[href="{monitor}/move/{target}"]').click()
        page.wait_for_url(f"**{monitor}/move/{target}")
        journey.step(rev, step)
        page.locator("main form [type=submit]").click()
        page.wait_for_url(f"**{monitor}")
        assert fresh(round_).status == target
        assert page.locator(f'h1 [data-round-status="{target}"]').count() == 1
        assert page.locator(".alert-success").count() >= 1

    move("open", "confirm-open")
    journey.step(rev, "round-open")

    # -- 2. the three agencies answer everything and submit (each from its own browser)
    for agency, coordinator in zip(agencies, coordinators, strict=True):
        response = responses.get_response(round_, agency)
        complete_the_rest(response, coordinator)
        responses.submit(fresh(response), coordinator)
    db.session.commit()

    # -- 3. the monitor lists the submissions; filtered to "submitted" it shows all three
    page.select_option("#f-status", "submitted")
    page.locator("#f-status").evaluate("select => select.form.requestSubmit()")
    page.wait_for_url("**status=submitted**")
    rows = page.locator("tbody tr:has(.status-badge.status-submitted)")
    assert rows.count() == 3
    journey.step(rev, "submissions")

    def open_response(code: str) -> None:
        # The row's link carries the monitor's filters, for "next awaiting review".
        link = page.locator(
            f'a[href="{monitor}/responses/{code}"], a[href^="{monitor}/responses/{code}?"]'
        )
        link.first.click()
        page.wait_for_url(f"**{monitor}/responses/{code}*")

    # -- 4. the first response: a verified value with its reason, then accepted
    open_response("AG-A")
    journey.step(rev, "response")
    item = page.locator(f'[id="q-{QUESTION}"]')
    tool = item.locator("details.review-tool:has(form.verify-form)")
    tool.locator("summary").click()
    page.select_option(f'[id="v-{QUESTION}"]', "periodic")
    page.fill(f'[id="r-{QUESTION}"]', VERIFY_REASON)
    tool.locator("[type=submit]").click()
    page.wait_for_load_state()
    item = page.locator(f'[id="q-{QUESTION}"]')
    assert item.get_by_text(VERIFY_REASON).first.is_visible()
    # The verified overall score now differs from the self-assessed one.
    self_overall = page.locator('[data-kind="self-overall"] .score').inner_text()
    verified_overall = page.locator('[data-kind="verified-overall"] .score').inner_text()
    assert self_overall != verified_overall
    journey.step(rev, "verified-value")
    page.locator('#review-form button[name=action][value="accept"]').click()
    page.locator("h1 .status-badge.status-accepted").wait_for()
    journey.step(rev, "accepted")

    # -- 5. the second response: returned with a comment on one question
    rev.goto(monitor)
    open_response("AG-B")
    page.locator('details.review-tool:has([id="c-ea.plan_approved"]) summary').click()
    page.fill('[id="c-ea.plan_approved"]', RETURN_COMMENT)
    page.fill("#review-comment", GENERAL_COMMENT)
    # A verified value tried meanwhile (refused: no reason) loads the page again: what was
    # typed for the return is still there.
    tool = page.locator(f'[id="q-{QUESTION}"] details.review-tool:has(form.verify-form)')
    tool.locator("summary").click()
    tool.locator("[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(f'[id="q-{QUESTION}"] .verify-form .text-danger').count() == 1
    assert page.input_value('[id="c-ea.plan_approved"]') == RETURN_COMMENT
    assert page.locator('[id="c-ea.plan_approved"]').is_visible()  # its details opened
    assert page.input_value("#review-comment") == GENERAL_COMMENT
    page.locator('#review-form button[name=action][value="return"]').click()
    page.locator("h1 .status-badge.status-returned").wait_for()
    # (The heading is there before the rest of the page on a busy machine: wait for them.)
    page.locator(".comment-box", has_text=RETURN_COMMENT).wait_for()
    page.locator(".comment-history", has_text=GENERAL_COMMENT).wait_for()
    # Sent: the comment boxes are empty again, not refilled from the draft.
    page.reload()
    assert page.locator("#review-comment").count() == 0 or page.input_value("#review-comment") == ""
    journey.step(rev, "returned")

    # -- 6. the third response: accepted as it is
    rev.goto(f"{monitor}/responses/AG-C")
    page.locator('#review-form button[name=action][value="accept"]').click()
    page.locator("h1 .status-badge.status-accepted").wait_for()

    # -- 7. close the round, publish preliminary results (the dispute window: a week)
    rev.goto(monitor)
    move("closed", "confirm-close")
    move("preliminary", "confirm-preliminary")
    journey.step(rev, "round-preliminary")

    # -- 8. the first agency's coordinator disputes the verified question
    coord = person()
    cpage = coord.page
    coord.login(COORDINATOR, lands_on="**/my")
    journey.step(coord, "coordinator-my-rounds")
    cpage.locator(f'.round-card[data-round="{rid}"] a[href="/rounds/{rid}/results"]').click()
    cpage.wait_for_url(f"**/rounds/{rid}/results")
    cpage.wait_for_selector("html[data-charts-drawn='1']", state="attached", timeout=30_000)
    journey.step(coord, "coordinator-preliminary-results")
    cpage.locator(f'#verified a[href*="question={QUESTION}"]').click()
    cpage.wait_for_url("**/disputes/new?question=*")
    journey.step(coord, "coordinator-dispute-form")
    cpage.fill("#explanation", EXPLANATION)
    cpage.locator("main form [type=submit]").click()
    cpage.wait_for_url(f"**/rounds/{rid}/results*")
    disputes = cpage.locator("#disputes")
    assert disputes.get_by_text(EXPLANATION).is_visible()
    journey.step(coord, "coordinator-dispute-sent")

    # -- 9. the reviewer upholds the dispute, then publishes the final results
    rev.goto(monitor)
    page.locator(f'a[href^="{monitor}/disputes"]').first.click()
    page.wait_for_url(f"**{monitor}/disputes*")
    dispute = db.session.query(Dispute).one()
    card = page.locator(f"#dispute-{dispute.id}")
    assert card.get_by_text(EXPLANATION).is_visible()
    journey.step(rev, "disputes")
    card.locator(f"#up-{dispute.id}").check()
    card.locator(f"#note-{dispute.id}").fill(DECISION)
    card.locator("[type=submit]").click()
    page.wait_for_url(f"**#dispute-{dispute.id}")
    assert fresh(dispute).status == "upheld"
    journey.step(rev, "dispute-upheld")
    rev.goto(monitor)
    move("published", "confirm-publish")
    journey.step(rev, "round-published")

    # -- 10. the coordinator sees the final results: the dispute upheld, with the reason
    coord.goto(f"/rounds/{rid}/results")
    cpage.wait_for_selector("html[data-charts-drawn='1']", state="attached", timeout=30_000)
    assert cpage.locator("#disputes").get_by_text(DECISION).is_visible()
    assert cpage.locator('#disputes [data-dispute-status="upheld"]').count() == 1
    assert cpage.locator("#groups-title").count() == 1  # peers appear with the final results
    journey.step(coord, "coordinator-final-results")

    assert len(journey.steps) >= 18
    for someone in (rev, coord):
        assert someone.problems == [], "\n".join(someone.problems)


def test_the_reviewer_sees_evidence_pictures_and_opens_pdfs(app, world, person):  # type: ignore[no-untyped-def]
    """pages.md: a response's answers with evidence previews, in Chromium: the picture is
    drawn beside its answer (the page's and the file's policies allow it), the PDF opens."""
    import io

    from assess.services import evidence
    from tests.web.test_review import PNG

    agency = world.agency("AG-A")
    coordinator = world.user(COORDINATOR, agency=agency)
    world.user(REVIEWER, role="reviewer")
    round_ = world.round(agencies=[agency])
    response = responses.get_response(round_, agency)
    folder = app.config["EVIDENCE_FOLDER"]
    limit = app.config["EVIDENCE_MAX_BYTES"]
    for name, data in (("screen.png", PNG), ("plan.pdf", b"%PDF-1.4\n%%EOF\n")):
        evidence.add_file(
            response, coordinator, "mgmt.leadership", name, io.BytesIO(data), folder=folder,
            max_bytes=limit,
        )  # fmt: skip
    db.session.commit()
    rev = person()
    page = rev.page
    rev.login(REVIEWER, lands_on="**/central/rounds")
    rev.goto(f"/central/rounds/{round_.id}/responses/AG-A")
    picture = page.locator('[id="q-mgmt.leadership"] .evidence-preview img')
    picture.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=picture.element_handle()
    )
    link = page.locator('[id="q-mgmt.leadership"] a[data-kind="pdf"]')
    reply = page.request.get(rev.url(link.get_attribute("href") or ""))
    assert reply.status == 200
    assert reply.headers["content-disposition"].startswith("inline")
    assert reply.headers["content-type"] == "application/pdf"
    rev.check_page()
