"""Invited agencies after a round is made: more invited (a new agency, one left out), those
that have not begun taken out, and a draft round made by mistake deleted."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from assess.extensions import db
from assess.models import AuditEvent, Response, Round
from assess.services import rounds
from assess.services.errors import ServiceError


def invited(round_id: int) -> list[str]:
    from assess.models import Agency

    return list(
        db.session.scalars(
            select(Agency.code)
            .join(Response, Response.agency_id == Agency.id)
            .where(Response.round_id == round_id)
            .order_by(Agency.code)
        )
    )


def problems_of(call, *args) -> list[str]:  # type: ignore[no-untyped-def]
    with pytest.raises(ServiceError) as refused:
        call(*args)
    db.session.rollback()
    return refused.value.problems


def test_more_agencies_are_invited_until_the_round_closes(app, world):
    a, b, c = world.agency("A"), world.agency("B"), world.agency("C")
    gone = world.agency("OLD", active=False)
    round_ = world.round(agencies=[a])
    assert [x.code for x in rounds.not_invited(round_)] == ["B", "C"]
    # Invited already: left as it is.
    assert rounds.invite(round_, [a, b, b]) == 1
    db.session.commit()
    assert invited(round_.id) == ["A", "B"]
    response = world.response(round_, b)
    assert (response.status, response.questionnaire_id) == ("not_started", round_.questionnaire_id)
    assert problems_of(rounds.invite, round_, [c, gone]) == [
        "agency OLD is inactive; activate it on its page first"
    ]
    assert invited(round_.id) == ["A", "B"]
    event = db.session.scalars(select(AuditEvent).filter_by(action="round.invite")).one()
    assert (event.round_id, event.new) == (round_.id, {"count": 1, "codes": ["B"]})
    rounds.move(round_, "closed")
    db.session.commit()
    assert problems_of(rounds.invite, round_, [c]) == [
        f"round {round_.id} is closed: agencies are invited or removed only before it closes"
    ]


def test_an_agency_that_has_begun_stays_in_the_round(app, world):
    from tests.conftest import fill

    a, b, c, d = (world.agency(code) for code in ("A", "B", "C", "D"))
    coordinator = world.user("a@example.go.th", agency=a)
    round_ = world.round(agencies=[a, b, c])
    fill(world.response(round_, a), coordinator, 0.5, status="draft")
    assert problems_of(rounds.uninvite, round_, [a, b, d]) == [
        f"agency D is not invited to round {round_.id}",
        "agency A has begun (draft, or answers, evidence or comments): it stays in the round",
    ]
    assert invited(round_.id) == ["A", "B", "C"]
    assert rounds.uninvite(round_, [b, c]) == 2
    db.session.commit()
    assert invited(round_.id) == ["A"]
    event = db.session.scalars(select(AuditEvent).filter_by(action="round.uninvite")).one()
    assert event.old == {"count": 2, "codes": ["B", "C"]}
    # A round keeps at least one agency.
    draft = world.round(agencies=[b], status="draft")
    assert problems_of(rounds.uninvite, draft, [b]) == ["a round keeps at least one invited agency"]


def test_the_dashboards_follow_agencies_invited_and_taken_out(app, world):
    from assess.reports import data

    agencies = [world.agency(f"A{n}") for n in range(8)]
    round_ = world.round(agencies=agencies[:6])
    assert len(data.round_results(round_)._rows) == 6
    rounds.invite(round_, agencies[6:])
    db.session.commit()
    assert len(data.round_results(round_)._rows) == 8
    rounds.uninvite(round_, agencies[:2])
    db.session.commit()
    assert len(data.round_results(round_)._rows) == 6


def test_a_draft_round_is_deleted_and_its_history_kept(app, world):
    a, b = world.agency("A"), world.agency("B")
    admin = world.user("admin@example.go.th", role="admin")
    round_ = world.round(agencies=[a, b], status="draft", name="รอบที่สร้างผิด")
    round_id = round_.id
    rounds.delete_draft(round_, admin)
    db.session.commit()
    assert db.session.get(Round, round_id) is None
    assert db.session.scalar(select(func.count()).select_from(Response)) == 0
    # The trail, append-only, keeps naming the round by its id.
    created, deleted = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert (created.action, created.round_id) == ("round.create", round_id)
    assert (deleted.action, deleted.round_id, deleted.detail) == (
        "round.delete",
        round_id,
        "รอบที่สร้างผิด",
    )
    assert deleted.old == {
        "name": "รอบที่สร้างผิด",
        "questionnaire": "dg-readiness@2569",
        "fiscal_year": 2569,
        "agencies": 2,
    }


def test_a_round_with_work_in_it_is_not_deleted(app, world):
    from assess.services import interchange

    a = world.agency("A")
    opened = world.round(agencies=[a])
    assert problems_of(rounds.delete_draft, opened) == [
        f"round {opened.id} is open: only a round in draft can be deleted"
    ]
    draft = world.round(agencies=[a], status="draft")
    interchange.import_round(draft, b'agency,mgmt.comment\nA,"imported"\n', "answers.csv")
    db.session.commit()
    assert problems_of(rounds.delete_draft, draft) == [
        f"round {draft.id} holds answers or other work of 1 agency; it cannot be deleted"
    ]
    assert db.session.get(Round, draft.id) is not None


# -- on the round page ------------------------------------------------------------------------


def test_a_reviewer_invites_a_new_agency_and_its_coordinator_sees_the_round(client, auth, world):
    a, b = world.agency("A"), world.agency("NEW-1")
    reviewer = world.user("r@example.go.th", role="reviewer")
    reviewer.language = "en"
    db.session.commit()
    world.user("new@example.go.th", agency=b)
    round_ = world.round(agencies=[a], name="Round to grow")
    auth.login("r@example.go.th")
    page = client.get(f"/central/rounds/{round_.id}").get_data(as_text=True)
    assert "Invite or remove agencies" in page
    assert "Every active agency not invited yet (1)</label>" in page
    # Unknown codes: nothing invited, the codes typed come back to correct, the panel open.
    reply = client.post(
        f"/central/rounds/{round_.id}/invitations",
        data={"agency_codes": "NEW-1, NOPE", "invite": "Invite"},
    )
    assert reply.status_code == 422
    html = reply.get_data(as_text=True)
    assert "No such agency: NOPE." in html
    assert 'id="invitations" open' in html
    assert "NEW-1, NOPE</textarea>" in html
    assert invited(round_.id) == ["A"]
    reply = client.post(
        f"/central/rounds/{round_.id}/invitations",
        data={"agency_codes": "NEW-1", "invite": "Invite"},
        follow_redirects=True,
    )
    assert "1 agency invited: its coordinators see the round now." in reply.get_data(as_text=True)
    assert invited(round_.id) == ["A", "NEW-1"]
    auth.logout()
    auth.login("new@example.go.th")
    assert "Round to grow" in client.get("/my").get_data(as_text=True)


def test_codes_as_people_paste_them(client, auth, world):
    from tests.conftest import fill

    a = world.agency("A")
    world.agency("NEW-1")
    world.agency("NEW-2")
    coordinator = world.user("a@example.go.th", agency=a)
    reviewer = world.user("r@example.go.th", role="reviewer")
    reviewer.language = "en"
    db.session.commit()
    round_ = world.round(agencies=[a])
    fill(world.response(round_, a), coordinator, 0.5, status="draft")
    auth.login("r@example.go.th")
    url = f"/central/rounds/{round_.id}/invitations"
    # Any case, semicolons as Excel's lists have them.
    reply = client.post(url, data={"agency_codes": "new-1; New-2;", "invite": "Invite"})
    assert reply.status_code == 302
    assert invited(round_.id) == ["A", "NEW-1", "NEW-2"]
    # Thousands of unknown codes (a pasted column): one refusal, ten of them named.
    pasted = "\n".join(f"NOPE{n}" for n in range(2000)) + "\n" + "X" * 5000
    reply = client.post(url, data={"agency_codes": pasted, "invite": "Invite"})
    assert reply.status_code == 422
    html = reply.get_data(as_text=True)
    named = ", ".join(f"NOPE{n}" for n in range(10))
    assert f"No such agency: {named} and 1991 more codes." in html
    assert "X" * 41 not in html.split("<textarea")[0]  # a long code is not echoed whole
    # Taking out: an unknown code and one that has begun, told at once.
    reply = client.post(url, data={"agency_codes": "A NOPE", "remove": "Remove"})
    html = reply.get_data(as_text=True)
    assert "No such agency: NOPE." in html
    assert "agency A has begun (draft, or answers, evidence or comments)" in html
    assert invited(round_.id) == ["A", "NEW-1", "NEW-2"]


def test_a_deleted_rounds_history_is_not_another_rounds(client, auth, world):
    """The embedded database gives a new round the id of a round deleted before it: the
    activity log does not put the deleted round's events under the new one."""
    a = world.agency("A")
    reviewer = world.user("r@example.go.th", role="reviewer")
    reviewer.language = "en"
    db.session.commit()
    mistake = world.round(agencies=[a], status="draft", name="The mistake")
    rounds.delete_draft(mistake, reviewer)
    db.session.commit()
    later = world.round(agencies=[a], status="draft", name="The right one")
    auth.login("r@example.go.th")
    html = client.get(f"/central/activity?round={later.id}").get_data(as_text=True)
    assert "The right one" in html
    assert "The mistake" not in html
    html = client.get("/central/activity").get_data(as_text=True)
    assert "a deleted draft round" in html
    assert "Draft round deleted" in html


def test_a_reviewer_takes_out_agencies_that_have_not_begun(client, auth, world):
    agencies = [world.agency(code) for code in ("A", "B", "C")]
    reviewer = world.user("r@example.go.th", role="reviewer")
    reviewer.language = "en"
    db.session.commit()
    round_ = world.round(agencies=agencies[:1], status="draft")
    auth.login("r@example.go.th")
    reply = client.post(
        f"/central/rounds/{round_.id}/invitations",
        data={"everyone": "y", "invite": "Invite"},
        follow_redirects=True,
    )
    assert "2 agencies invited." in reply.get_data(as_text=True)
    assert invited(round_.id) == ["A", "B", "C"]
    reply = client.post(
        f"/central/rounds/{round_.id}/invitations",
        data={"everyone": "y", "invite": "Invite"},
    )
    assert "Every active agency is invited already." in reply.get_data(as_text=True)
    reply = client.post(
        f"/central/rounds/{round_.id}/invitations",
        data={"agency_codes": "B\nC", "remove": "Remove from the round"},
        follow_redirects=True,
    )
    assert "2 agencies removed from the round." in reply.get_data(as_text=True)
    assert invited(round_.id) == ["A"]
    page = client.get("/central/activity").get_data(as_text=True)
    assert "Agencies invited" in page
    assert "Agencies removed from the round" in page
    # Closed: no panel, and a post is refused.
    rounds.move(round_, "open")
    rounds.move(round_, "closed")
    db.session.commit()
    assert "Invite or remove agencies" not in client.get(f"/central/rounds/{round_.id}").get_data(
        as_text=True
    )
    reply = client.post(
        f"/central/rounds/{round_.id}/invitations", data={"agency_codes": "B", "invite": "Invite"}
    )
    assert reply.status_code == 422
    assert "invited or removed only before it closes" in reply.get_data(as_text=True)


def test_a_reviewer_invites_the_agencies_of_a_type(client, auth, world):
    a = world.agency("A")
    world.agency("P-1", type="province")
    world.agency("P-2", type="province")
    world.agency("L-1", type="local")
    world.agency("P-OLD", type="province", active=False)
    reviewer = world.user("r@example.go.th", role="reviewer")
    reviewer.language = "en"
    db.session.commit()
    round_ = world.round(agencies=[a])
    auth.login("r@example.go.th")
    page = client.get(f"/central/rounds/{round_.id}").get_data(as_text=True)
    assert "Province (2)</label>" in page  # the inactive one not counted
    assert "Local administration (1)</label>" in page
    assert "Department (" not in page  # none left to invite
    reply = client.post(
        f"/central/rounds/{round_.id}/invitations",
        data={"agency_types": ["province"], "agency_codes": "L-1", "invite": "Invite"},
        follow_redirects=True,
    )
    assert "3 agencies invited" in reply.get_data(as_text=True)
    assert invited(round_.id) == ["A", "L-1", "P-1", "P-2"]
    # Taking out is by codes only: a type would take out more than meant.
    reply = client.post(
        f"/central/rounds/{round_.id}/invitations",
        data={"agency_types": ["province"], "remove": "Remove from the round"},
    )
    assert reply.status_code == 422
    assert "Agencies are taken out of a round by their codes only." in reply.get_data(as_text=True)
    assert invited(round_.id) == ["A", "L-1", "P-1", "P-2"]


def test_a_draft_round_is_deleted_from_its_page(client, auth, world):
    a = world.agency("A")
    admin = world.user("admin@example.go.th", role="admin")
    admin.language = "th"
    db.session.commit()
    round_ = world.round(agencies=[a], status="draft", name="รอบผิด")
    auth.login("admin@example.go.th")
    page = client.get(f"/central/rounds/{round_.id}").get_data(as_text=True)
    assert f"/central/rounds/{round_.id}/delete" in page
    confirm = client.get(f"/central/rounds/{round_.id}/delete").get_data(as_text=True)
    assert "รอบผิด" in confirm
    assert "dg-readiness@2569" in confirm
    reply = client.post(f"/central/rounds/{round_.id}/delete", follow_redirects=True)
    html = reply.get_data(as_text=True)
    assert reply.request.path == "/central/rounds"
    assert "รอบผิด" in html  # the confirmation names it
    assert db.session.get(Round, round_.id) is None
    assert client.get(f"/central/rounds/{round_.id}/delete").status_code == 404
    # An open round offers no deletion, and refuses one.
    opened = world.round(agencies=[a])
    assert f"/central/rounds/{opened.id}/delete" not in client.get(
        f"/central/rounds/{opened.id}"
    ).get_data(as_text=True)
    refused = client.get(f"/central/rounds/{opened.id}/delete").get_data(as_text=True)
    assert "ลบรอบการประเมินนี้ไม่ได้" in refused
    assert 'type="submit"' not in refused.split("<main")[1]
    reply = client.post(f"/central/rounds/{opened.id}/delete", follow_redirects=True)
    assert db.session.get(Round, opened.id) is not None
    assert "ลบได้เฉพาะรอบที่เป็นฉบับร่าง" in reply.get_data(as_text=True)
    log = client.get("/central/activity").get_data(as_text=True)
    assert "ลบรอบการประเมินฉบับร่าง" in log


def test_coordinators_cannot_change_invitations(client, auth, world):
    a = world.agency("A")
    world.user("c@example.go.th", agency=a)
    round_ = world.round(agencies=[a], status="draft")
    auth.login("c@example.go.th")
    assert client.post(f"/central/rounds/{round_.id}/invitations", data={}).status_code == 403
    assert client.post(f"/central/rounds/{round_.id}/delete").status_code == 403
    assert db.session.get(Round, round_.id) is not None
