"""Invited agencies in Chromium, in Thai: a reviewer invites a new agency to an open round,
is refused taking out one that has begun, and deletes a draft round made by mistake."""

from __future__ import annotations

import pytest

from assess.extensions import db
from assess.models import Round
from tests.conftest import fill
from tests.e2e.conftest import Journey
from tests.web.test_round_invitations import invited as invited_codes

REVIEWER = "invite@central.go.th"

pytestmark = pytest.mark.e2e


def invited(round_id: int) -> list[str]:
    db.session.expire_all()  # the browser's server changed them
    return invited_codes(round_id)


def test_a_reviewer_changes_the_invited_agencies(app, world, person):  # type: ignore[no-untyped-def]
    began, new = world.agency("AG-A"), world.agency("AG-NEW", name_th="เทศบาลตำบลใหม่")
    coordinator = world.user("a@agency.go.th", agency=began)
    world.user(REVIEWER, role="reviewer")
    round_ = world.round(agencies=[began], name="รอบที่เปิดอยู่")
    fill(world.response(round_, began), coordinator, 0.4, status="draft")
    mistake_id = world.round(agencies=[began, new], status="draft", name="รอบที่สร้างผิด").id
    journey = Journey("round-invitations")
    rev = person()
    page = rev.page
    rev.login(REVIEWER, lands_on="**/central/rounds")

    rev.goto(f"/central/rounds/{round_.id}")
    page.locator("#invitations summary").click()
    page.get_by_label("รหัสหน่วยงาน").fill("AG-NEW, AG-A")
    journey.step(rev, "invitations-panel")
    # Taking both out: AG-A has begun, so nothing changes and the codes stay to correct.
    page.locator("#invitations").get_by_role("button", name="นำออกจากรอบการประเมิน").click()
    alerts = page.locator(".alert-danger")
    alerts.first.wait_for()
    said = " ".join(alerts.all_inner_texts())
    assert "AG-NEW ไม่ได้รับเชิญ" in said
    assert "AG-A เริ่มดำเนินการแล้ว" in said
    assert page.locator("#invitations").evaluate("el => el.open") is True
    assert page.get_by_label("รหัสหน่วยงาน").input_value() == "AG-NEW, AG-A"
    journey.step(rev, "refused")
    assert invited(round_.id) == ["AG-A"]
    page.get_by_label("รหัสหน่วยงาน").fill("AG-NEW")
    page.locator("#invitations").get_by_role("button", name="เชิญ", exact=True).click()
    flashed = page.locator(".alert-success[role=alert]")
    flashed.wait_for()
    assert "เชิญหน่วยงานเพิ่มแล้ว 1 แห่ง" in flashed.inner_text()
    assert page.locator("main table").get_by_text("เทศบาลตำบลใหม่").count() == 1  # monitored
    journey.step(rev, "invited")
    assert invited(round_.id) == ["AG-A", "AG-NEW"]

    # The draft made by mistake: its page offers deletion, behind a confirmation.
    rev.goto(f"/central/rounds/{mistake_id}")
    page.get_by_role("link", name="ลบรอบการประเมิน…").click()
    page.wait_for_url(f"**/central/rounds/{mistake_id}/delete")
    assert "รอบที่สร้างผิด" in page.locator("main").inner_text()
    journey.step(rev, "delete-confirmation")
    page.locator("main form").get_by_role("button", name="ลบรอบการประเมิน").click()
    page.wait_for_url("**/central/rounds")
    flashed = page.locator(".alert-success[role=alert]")
    assert "ลบรอบการประเมินฉบับร่าง รอบที่สร้างผิด แล้ว" in flashed.inner_text()
    journey.step(rev, "deleted")
    db.session.expire_all()
    assert db.session.get(Round, mistake_id) is None
    assert rev.problems == []
    rev.close()
