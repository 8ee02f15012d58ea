"""Publication in two steps: preliminary results, disputes and their decisions, the final
publication, and the agency's results page (what a coordinator sees, and when)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from assess.extensions import db
from assess.models import AuditEvent, Dispute
from assess.services import disputes, responses, results, rounds
from assess.services.errors import InvalidAnswers, NotAllowed, ServiceError, WrongState
from assess.services.questionnaires import questionnaire_of
from assess.thai import today
from tests.conftest import fill


class Scene:
    """Three departments and a province answered; the round is closed, ready to publish."""

    def __init__(self, world) -> None:  # type: ignore[no-untyped-def]
        self.world = world
        self.a = world.agency("AG-A", name_en="Alpha Department")
        self.b = world.agency("AG-B", name_en="Bravo Department", name_th="กรมบราโว")
        self.c = world.agency("AG-C", name_en="Charlie Department")
        self.p = world.agency("AG-P", name_en="Papa Province", type="province")
        self.coordinator = world.user("a@example.go.th", agency=self.a)
        self.coordinator_b = world.user("b@example.go.th", agency=self.b)
        self.reviewer = world.user("r@example.go.th", role="reviewer")
        self.round = world.round(agencies=[self.a, self.b, self.c, self.p])
        self.response = world.response(self.round, self.a)
        fill(self.response, self.coordinator, 0.45)
        fill(world.response(self.round, self.b), self.coordinator_b, 0.8)
        self.coordinator_p = world.user("p@example.go.th", agency=self.p)
        fill(world.response(self.round, self.c), world.user("c@example.go.th", agency=self.c), 0.6)
        fill(world.response(self.round, self.p), self.coordinator_p, 0.3, status="draft")
        rounds.move(self.round, "closed")
        db.session.commit()
        questionnaire = questionnaire_of(self.round.questionnaire)
        self.question = next(
            q
            for q in questionnaire.iter_questions()
            if q.type.value == "yesno" and q.is_scored and q.show_if is None
        )

    def preliminary(self, close_on: dt.date | None = None) -> None:
        rounds.move(self.round, "preliminary", self.reviewer, disputes_close_on=close_on)
        db.session.commit()


@pytest.fixture
def scene(world) -> Scene:  # type: ignore[no-untyped-def]
    return Scene(world)


def test_preliminary_opens_a_dispute_window_of_two_weeks_by_default(scene):
    scene.preliminary()
    assert scene.round.status == "preliminary"
    assert scene.round.disputes_close_on == today() + dt.timedelta(days=rounds.DISPUTE_DAYS)
    assert rounds.disputes_open(scene.round)
    assert rounds.results_visible(scene.round)
    event = db.session.scalars(db.select(AuditEvent).filter_by(action="round.preliminary")).one()
    assert event.new["disputes_close_on"] == scene.round.disputes_close_on.isoformat()


def test_the_window_closes_at_the_end_of_its_last_day_in_bangkok(scene):
    scene.preliminary(dt.date(2026, 12, 4))
    bangkok = dt.timezone(dt.timedelta(hours=7))
    assert rounds.disputes_open(scene.round, dt.datetime(2026, 12, 4, 23, 59, tzinfo=bangkok))
    assert not rounds.disputes_open(scene.round, dt.datetime(2026, 12, 5, 0, 0, tzinfo=bangkok))


def test_a_window_that_closes_in_the_past_is_refused(scene):
    with pytest.raises(ServiceError, match="before today"):
        scene.preliminary(today() - dt.timedelta(days=1))
    assert scene.round.status == "closed"


def test_preliminary_only_from_closed(world):
    round_ = world.round(agencies=[world.agency("AG-1")], status="open")
    with pytest.raises(WrongState, match="preliminary"):
        rounds.move(round_, "preliminary")


def test_closed_can_still_be_published_in_one_step(scene):
    rounds.move(scene.round, "published")
    assert scene.round.status == "published"


def test_dispute_then_uphold_sets_the_verified_value_and_rescores(scene):
    scene.preliminary()
    code = scene.question.code
    own = next(a.value for a in scene.response.answers if a.question_code == code)
    # The reviewer corrected the agency's answer; the agency disputes, asking for its own.
    responses.verify(scene.response, scene.reviewer, code, not own, "no evidence of it")
    db.session.commit()
    corrected = results.result_of(scene.response, "verified").overall_score
    dispute = disputes.raise_dispute(
        scene.response, scene.coordinator, code, "The evidence is on page 4 of our plan."
    )
    db.session.commit()
    assert dispute.status == "open"
    assert rounds.open_disputes(scene.round) == 1
    with pytest.raises(WrongState, match="undecided"):
        rounds.move(scene.round, "published")

    disputes.decide(dispute, scene.reviewer, uphold=True, note="Page 4 shows it.")
    db.session.commit()
    assert dispute.status == "upheld"
    assert dispute.decided_by_id == scene.reviewer.id
    assert not [v for v in scene.response.verified if v.question_code == code]
    restored = results.result_of(scene.response, "verified")
    assert restored.overall_score == results.result_of(scene.response, "self").overall_score
    assert restored.overall_score != corrected
    actions = [e.action for e in db.session.scalars(db.select(AuditEvent))]
    assert {"dispute.raise", "dispute.uphold", "verify"} <= set(actions)
    rounds.move(scene.round, "published")
    assert scene.round.status == "published"


def test_upholding_a_proposed_value_makes_it_the_verified_value(scene):
    scene.preliminary()
    code = scene.question.code
    own = next(a.value for a in scene.response.answers if a.question_code == code)
    dispute = disputes.raise_dispute(
        scene.response, scene.coordinator, code, "We answered wrongly.", proposed=not own
    )
    disputes.decide(dispute, scene.reviewer, uphold=True, note="Accepted on the evidence.")
    db.session.commit()
    verified = next(v for v in scene.response.verified if v.question_code == code)
    assert verified.value is (not own)
    assert "dispute" in verified.reason


def test_rejecting_changes_no_score(scene):
    scene.preliminary()
    before = results.result_of(scene.response, "verified").overall_score
    dispute = disputes.raise_dispute(
        scene.response, scene.coordinator, scene.question.code, "Please look again.", True
    )
    disputes.decide(dispute, scene.reviewer, uphold=False, note="The evidence does not show it.")
    db.session.commit()
    assert dispute.status == "rejected"
    assert results.result_of(scene.response, "verified").overall_score == before
    assert not scene.response.verified
    with pytest.raises(WrongState, match="already decided"):
        disputes.decide(dispute, scene.reviewer, uphold=True, note="changed my mind")


@pytest.mark.parametrize(
    ("explanation", "proposed", "match"),
    [
        ("", None, "explain"),
        ("   ", None, "explain"),
        ("x" * 4001, None, "too long"),
        ("Wrong", "not a yes/no value", ""),
    ],
)
def test_bad_disputes_name_the_question_and_save_nothing(scene, explanation, proposed, match):
    scene.preliminary()
    code = scene.question.code
    with pytest.raises(InvalidAnswers) as caught:
        disputes.raise_dispute(scene.response, scene.coordinator, code, explanation, proposed)
    assert code in caught.value.details
    assert match in str(caught.value.details[code])
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(Dispute.id))) == 0


def test_who_and_when_may_dispute(scene, world):
    code = scene.question.code
    with pytest.raises(WrongState, match="not open"):  # round still closed
        disputes.raise_dispute(scene.response, scene.coordinator, code, "why")
    scene.preliminary()
    with pytest.raises(NotAllowed):  # another agency's coordinator
        disputes.raise_dispute(scene.response, scene.coordinator_b, code, "why")
    with pytest.raises(NotAllowed):  # the central office does not dispute
        disputes.raise_dispute(scene.response, scene.reviewer, code, "why")
    draft = world.response(scene.round, scene.p)
    with pytest.raises(WrongState, match="accepted"):
        disputes.raise_dispute(draft, scene.coordinator_p, code, "why")
    with pytest.raises(ServiceError):  # no such question
        disputes.raise_dispute(scene.response, scene.coordinator, "no.such", "why")
    disputes.raise_dispute(scene.response, scene.coordinator, code, "why")
    with pytest.raises(WrongState, match="already has a dispute"):
        disputes.raise_dispute(scene.response, scene.coordinator, code, "why again")
    dispute = scene.response.disputes[0]
    with pytest.raises(NotAllowed):
        disputes.decide(dispute, scene.coordinator, uphold=True, note="self-service")
    with pytest.raises(ServiceError, match="reason"):
        disputes.decide(dispute, scene.reviewer, uphold=True, note=" ")
    scene.round.disputes_close_on = today() - dt.timedelta(days=1)
    with pytest.raises(WrongState, match="not open"):
        disputes.raise_dispute(scene.response, scene.coordinator, "mgmt.km", "late")
    # Decisions go on after the window has closed.
    disputes.decide(dispute, scene.reviewer, uphold=False, note="no")
    assert dispute.status == "rejected"


def test_settings_of_results_are_saved_and_audited(scene):
    assert rounds.update_settings(
        scene.round,
        opens_on=scene.round.opens_on,
        closes_on=scene.round.closes_on,
        live_preview=False,
        anonymise_peers=True,
        flag_change=20,
        flag_verified_gap=5,
    )
    assert (scene.round.anonymise_peers, scene.round.flag_change) == (True, 20)
    assert scene.round.flag_verified_gap == 5
    with pytest.raises(ServiceError, match="between 1 and 100"):
        rounds.update_settings(
            scene.round,
            opens_on=None,
            closes_on=None,
            live_preview=False,
            flag_change=0,
        )
    with pytest.raises(ServiceError, match="preliminary"):
        rounds.update_settings(
            scene.round,
            opens_on=scene.round.opens_on,
            closes_on=scene.round.closes_on,
            live_preview=False,
            disputes_close_on=today(),
        )


# -- pages -------------------------------------------------------------------------------------


def _text(reply) -> str:  # type: ignore[no-untyped-def]
    html = reply.get_data(as_text=True)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def english(*people) -> None:  # type: ignore[no-untyped-def]
    for person in people:
        person.language = "en"
    db.session.commit()


def test_results_are_hidden_until_preliminary(scene, client, auth):
    english(scene.coordinator)
    auth.login("a@example.go.th")
    assert client.get(f"/rounds/{scene.round.id}/results").status_code == 404
    home = _text(client.get("/my"))
    assert "View results" not in home


def test_preliminary_page_shows_own_results_but_no_peers(scene, client, auth):
    scene.preliminary()
    english(scene.coordinator)
    auth.login("a@example.go.th")
    assert "View results" in _text(client.get("/my"))
    reply = client.get(f"/rounds/{scene.round.id}/results")
    assert reply.status_code == 200
    text = _text(reply)
    score = results.result_of(scene.response, "verified").overall_score
    assert score in text
    assert "Preliminary results." in text
    assert "Comparisons with other agencies appear after the final publication." in text
    assert "Rank in peer group" not in text
    assert "Bravo Department" not in text
    assert "What would lift each level" in text
    assert "Dispute the result of a question" in text


def test_agencies_not_accepted_are_told_what_their_page_shows(scene, client, auth):
    """A draft when the results came out: its self-assessment as it stood, said so, with no
    invitation to dispute; an agency that never started: no results at all."""
    scene.preliminary()
    quiet = scene.world.agency("AG-Q", name_en="Quiet Office")
    scene.world.invite(scene.round, quiet)
    quiet_user = scene.world.user("q@example.go.th", agency=quiet)
    english(scene.coordinator_p, quiet_user)
    auth.login("p@example.go.th")
    home = _text(client.get("/my"))
    assert (
        "Not accepted before the results were published (status: Draft): not compared with "
        "other agencies."
    ) in home
    assert "View results" in home
    text = _text(client.get(f"/rounds/{scene.round.id}/results"))
    assert "This response was not submitted (status: Draft, " in text
    assert "the scores below are its self-assessment as it stood, not results of the round" in text
    assert "dispute the question" not in text
    auth.logout()
    auth.login("q@example.go.th")
    home = _text(client.get("/my"))
    assert "Not answered in this round: no results." in home
    assert "View results" not in home
    reply = client.get(f"/rounds/{scene.round.id}/results")
    assert reply.status_code == 404
    assert "AG-Q never started its response to this round: it has no results." in _text(reply)


def test_published_page_shows_peers_with_names_or_anonymised(scene, client, auth):
    rounds.move(scene.round, "published")
    db.session.commit()
    english(scene.coordinator)
    auth.login("a@example.go.th")
    text = _text(client.get(f"/rounds/{scene.round.id}/results"))
    assert "Rank in peer group" in text
    assert "Bravo Department" in text
    assert "Charlie Department" in text
    assert "Papa Province" not in text  # another type, and not accepted
    assert "Dispute the result" not in text
    scene.round.anonymise_peers = True
    db.session.commit()
    text = _text(client.get(f"/rounds/{scene.round.id}/results"))
    assert "Bravo Department" not in text
    assert "Charlie Department" not in text
    assert "Alpha Department" in text  # its own name stays
    # Three departments: too few to show anonymised (their scores would tell who is who).
    assert "Agency 1" not in text
    assert "a peer group of fewer than 5 agencies is not shown" in text


def test_dispute_journey_through_the_pages(scene, client, auth):
    scene.preliminary()
    english(scene.coordinator, scene.reviewer)
    code = scene.question.code
    own = next(a.value for a in scene.response.answers if a.question_code == code)
    auth.login("a@example.go.th")
    form = client.get(f"/rounds/{scene.round.id}/disputes/new?question={code}")
    assert form.status_code == 200
    assert scene.question.text.get("en") in _text(form)
    refused = client.post(
        f"/rounds/{scene.round.id}/disputes/new",
        data={"question": code, "explanation": "", f"ans-{code}": "yes" if own else "no"},
    )
    assert refused.status_code == 422
    assert "explain why" in _text(refused)
    sent = client.post(
        f"/rounds/{scene.round.id}/disputes/new",
        data={
            "question": code,
            "explanation": "Our portal went live in March.",
            f"ans-{code}": "no" if own else "yes",
        },
        follow_redirects=True,
    )
    assert "was sent to the central office" in _text(sent)
    dispute = db.session.scalars(db.select(Dispute)).one()
    assert dispute.proposed is (not own)
    auth.logout()

    auth.login("r@example.go.th")
    page = _text(client.get(f"/central/rounds/{scene.round.id}/disputes"))
    assert "Our portal went live in March." in page
    assert "Alpha Department" in page or "หน่วยงาน AG-A" in page
    blocked = client.post(f"/central/rounds/{scene.round.id}/move/published", follow_redirects=True)
    assert "undecided disputes" in _text(blocked)
    # A refused decision (a note too long for the page's own limit) keeps what was typed.
    refused = client.post(
        f"/central/rounds/{scene.round.id}/disputes/{dispute.id}",
        data={"decision": "reject", "note": "ยาว" * 1400},
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "ยาว" * 1400 + "</textarea>" in html
    assert f'id="rej-{dispute.id}" value="reject" checked' in html
    db.session.refresh(dispute)
    assert dispute.status == "open"
    decided = client.post(
        f"/central/rounds/{scene.round.id}/disputes/{dispute.id}",
        data={"decision": "uphold", "note": "The launch notice proves it."},
        follow_redirects=True,
    )
    assert f"Dispute {dispute.id} upheld" in _text(decided)
    db.session.refresh(dispute)
    assert dispute.status == "upheld"
    verified = next(v for v in scene.response.verified if v.question_code == code)
    assert verified.value is (not own)
    published = client.post(
        f"/central/rounds/{scene.round.id}/move/published", follow_redirects=True
    )
    assert "The results are published." in _text(published)
    auth.logout()

    auth.login("a@example.go.th")
    text = _text(client.get(f"/rounds/{scene.round.id}/results"))
    assert "Upheld" in text
    assert "The launch notice proves it." in text


def test_preliminary_move_page_takes_the_last_day(scene, client, auth):
    english(scene.reviewer)
    auth.login("r@example.go.th")
    page = client.get(f"/central/rounds/{scene.round.id}/move/preliminary")
    assert page.status_code == 200
    assert "dispute" in _text(page).lower()
    last = today() + dt.timedelta(days=5)
    client.post(
        f"/central/rounds/{scene.round.id}/move/preliminary",
        data={"disputes_close_on": last.isoformat()},
    )
    db.session.refresh(scene.round)
    assert scene.round.status == "preliminary"
    assert scene.round.disputes_close_on == last


def test_an_emptied_last_day_is_asked_for_again_not_replaced(scene, client, auth):
    """The page offers a last day; a reviewer who clears it published with a default they
    never saw. Nothing moves, and the page that asks for the day comes back."""
    english(scene.reviewer)
    auth.login("r@example.go.th")
    url = f"/central/rounds/{scene.round.id}/move/preliminary"
    reply = client.post(url, data={"disputes_close_on": ""})
    assert reply.status_code == 302
    assert reply.headers["Location"].endswith(url)
    db.session.refresh(scene.round)
    assert scene.round.status == "closed"
    assert scene.round.disputes_close_on is None
    page = _text(client.get(url))
    assert "Give the last day agencies may dispute the results." in page
    # A day that is no date is asked for again on the same page, too.
    reply = client.post(url, data={"disputes_close_on": "31/02/2570"})
    assert reply.headers["Location"].endswith(url)
    db.session.refresh(scene.round)
    assert scene.round.status == "closed"


def test_the_central_office_sees_any_agency_results_page(scene, client, auth):
    english(scene.reviewer)
    auth.login("r@example.go.th")
    reply = client.get(f"/central/rounds/{scene.round.id}/responses/AG-B/results")
    assert reply.status_code == 200
    text = _text(reply)
    assert "Bravo Department" in text
    assert "Rank in peer group" in text


def test_the_province_peer_group_is_named_in_the_readers_language(scene, client, auth):
    """Peers by province: the group is the province's Thai name on a Thai page."""
    for agency in (scene.a, scene.b, scene.c):
        agency.province = "Chiang Mai"
    rounds.move(scene.round, "published")
    scene.coordinator.language = "th"
    db.session.commit()
    auth.login("a@example.go.th")
    text = _text(client.get(f"/rounds/{scene.round.id}/results"))
    assert "จังหวัดเดียวกัน: เชียงใหม่" in text
    assert "Chiang Mai" not in text
    english(scene.coordinator)
    assert "Same province: Chiang Mai" in _text(client.get(f"/rounds/{scene.round.id}/results"))


def test_two_disputes_of_one_question_at_once_open_one(scene):
    """The database holds one undecided dispute per question (migration 0009): a second
    request that passed the service's check a moment after the first is refused as the
    check would have refused it, and a decided dispute leaves room for a new one."""
    from sqlalchemy import func, insert, select

    scene.preliminary()
    code = scene.question.code
    assert scene.response.disputes == []  # what the second request read, before the first
    db.session.execute(  # the first request's dispute, written meanwhile
        insert(Dispute).values(
            response_id=scene.response.id, question_code=code, explanation="first", status="open"
        )
    )
    with pytest.raises(WrongState, match="already has a dispute"):
        disputes.raise_dispute(scene.response, scene.coordinator, code, "second")
    count = select(func.count()).select_from(Dispute).filter_by(question_code=code)
    assert db.session.scalar(count) == 1
    first = db.session.scalar(select(Dispute).filter_by(question_code=code))
    disputes.decide(first, scene.reviewer, uphold=False, note="no")
    disputes.raise_dispute(scene.response, scene.coordinator, code, "again, with evidence")
    db.session.commit()
    assert db.session.scalar(count) == 2
