"""Changes that race: each is made on what holds when it writes, not on what its request
read (assess.services.locks). Another connection commits between a request's reads and its
writes, as a second tab, a second reviewer or the round's move does."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from assess.extensions import db
from assess.models import AuditEvent, Response, User
from assess.services import evidence, locks, responses, results, rounds
from assess.services.errors import ServiceError, StaleRevision, WrongState
from assess.services.questionnaires import questionnaire_of
from tests.web.test_workflow import complete


@pytest.fixture
def setup(world):
    agency = world.agency("AG-1")
    coordinator = world.user("c@example.go.th", agency=agency)
    reviewer = world.user("r@example.go.th", role="reviewer")
    round_ = world.round(agencies=[agency])
    response = world.response(round_, agency)
    return round_, response, coordinator, reviewer


def meanwhile(database_url: str, sql: str, **params: object) -> None:
    """Another connection changes the database and commits."""
    other = sa.create_engine(database_url)
    try:
        with other.begin() as connection:
            connection.execute(sa.text(sql), params)
    finally:
        other.dispose()


def postgresql_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite takes one writer at a time and this request's reads are its own")


def events(kind: str) -> int:
    return db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == kind)) or 0


def test_a_save_after_the_response_was_submitted_meanwhile_is_refused(setup, database_url):
    _, response, coordinator, _ = setup
    responses.save_answers(response, {"mgmt.leadership": 3}, revision=0, actor=coordinator)
    db.session.commit()
    assert response.status == "draft"  # what this request saw
    meanwhile(
        database_url, "UPDATE response SET status = 'submitted' WHERE id = :id", id=response.id
    )
    with pytest.raises(WrongState, match="submitted"):
        responses.save_answers(response, {"mgmt.leadership": 1}, revision=1, actor=coordinator)
    db.session.rollback()
    db.session.expire_all()
    assert responses.current_json(response) == {"mgmt.leadership": 3}
    assert response.revision == 1


def test_a_save_after_the_round_closed_meanwhile_is_refused(setup, database_url):
    round_, response, coordinator, _ = setup
    responses.save_answers(response, {"mgmt.leadership": 3}, revision=0, actor=coordinator)
    db.session.commit()
    assert response.round.status == "open"  # what this request saw
    meanwhile(database_url, "UPDATE round SET status = 'closed' WHERE id = :id", id=round_.id)
    with pytest.raises(WrongState, match="closed"):
        responses.save_answers(response, {"mgmt.leadership": 1}, revision=1, actor=coordinator)
    db.session.rollback()
    db.session.expire_all()
    assert responses.current_json(response) == {"mgmt.leadership": 3}
    assert events("answer") == 1


def test_a_save_that_changes_nothing_keeps_the_revision(setup):
    _, response, coordinator, _ = setup
    responses.save_answers(response, {"mgmt.leadership": 3}, revision=0, actor=coordinator)
    db.session.commit()
    responses.save_answers(response, {"mgmt.leadership": 3}, revision=1, actor=coordinator)
    db.session.commit()
    db.session.expire_all()
    assert response.revision == 1  # another tab at revision 1 may still save
    assert events("answer") == 1


def test_a_submission_scores_the_answers_as_they_are_when_it_submits(setup, database_url):
    _, response, coordinator, _ = setup
    complete(response, coordinator)
    assert response.answers  # this request read them, complete
    # Another tab clears a required answer and commits, as a save does.
    meanwhile(
        database_url,
        "DELETE FROM answer WHERE response_id = :id AND question_code = 'mgmt.leadership'",
        id=response.id,
    )
    meanwhile(
        database_url, "UPDATE response SET revision = revision + 1 WHERE id = :id", id=response.id
    )
    with pytest.raises(ServiceError) as caught:
        responses.submit(response, coordinator)
    # PostgreSQL scores what holds (incomplete); SQLite sees the revision moved.
    assert caught.value.status in (409, 422)
    db.session.rollback()
    db.session.expire_all()
    assert response.status == "draft"


def test_two_reviewers_verified_values_are_both_scored(setup, database_url):
    _, response, coordinator, reviewer = setup
    complete(response, coordinator)
    responses.submit(response, coordinator)
    db.session.commit()
    assert response.verified == []  # what this request saw
    # Another reviewer records a verified value of another question and commits.
    meanwhile(
        database_url,
        "INSERT INTO verified_answer (response_id, question_code, value, reason, verified_at) "
        "VALUES (:id, 'mgmt.process_digital', '0', 'checked', CURRENT_TIMESTAMP)",
        id=response.id,
    )
    responses.verify(response, reviewer, "mgmt.leadership", 1, "The plan was not approved.")
    db.session.commit()
    db.session.expire_all()
    assert {v.question_code for v in response.verified} == {
        "mgmt.leadership",
        "mgmt.process_digital",
    }
    stored = {r.kind: r.overall_score for r in response.results}
    # Scored with both verified values: what a full scoring of what is stored gives.
    results.recompute(response)
    assert {r.kind: r.overall_score for r in response.results} == stored


def test_a_verified_value_of_the_same_question_meanwhile_is_updated_not_a_500(setup, database_url):
    _, response, coordinator, reviewer = setup
    complete(response, coordinator)
    db.session.commit()
    assert response.verified == []
    meanwhile(
        database_url,
        "INSERT INTO verified_answer (response_id, question_code, value, reason, verified_at) "
        "VALUES (:id, 'mgmt.leadership', '2', 'first', CURRENT_TIMESTAMP)",
        id=response.id,
    )
    try:
        responses.verify(response, reviewer, "mgmt.leadership", 1, "second")
        db.session.commit()
    except WrongState:  # SQLite: the second is told to reload
        assert not database_url.startswith("postgresql")
        db.session.rollback()
    db.session.expire_all()
    assert len(response.verified) == 1


def test_a_verified_value_after_the_publication_meanwhile_is_refused(setup, database_url):
    postgresql_only(database_url)
    round_, response, coordinator, reviewer = setup
    complete(response, coordinator)
    db.session.commit()
    assert response.round.status == "open"
    meanwhile(database_url, "UPDATE round SET status = 'published' WHERE id = :id", id=round_.id)
    with pytest.raises(WrongState, match="published"):
        responses.verify(response, reviewer, "mgmt.leadership", 1, "late")
    db.session.rollback()
    db.session.expire_all()
    assert response.verified == []


def test_a_round_moved_meanwhile_is_not_moved_twice(setup, database_url):
    round_, _, _, reviewer = setup
    rounds.move(round_, "closed", reviewer)
    db.session.commit()
    assert round_.status == "closed"  # what this request saw
    meanwhile(database_url, "UPDATE round SET status = 'published' WHERE id = :id", id=round_.id)
    with pytest.raises(WrongState):
        rounds.move(round_, "published", reviewer)
    db.session.rollback()
    with pytest.raises(WrongState):
        rounds.move(round_, "open", reviewer)  # a published round never opens again
    db.session.rollback()
    assert events("round.published") == 0


def test_evidence_removed_after_the_submission_meanwhile_is_refused(setup, database_url):
    postgresql_only(database_url)
    _, response, coordinator, _ = setup
    questionnaire = questionnaire_of(response.questionnaire)
    code = next(q.code for q in questionnaire.iter_questions() if q.evidence.value != "none")
    item = evidence.add_url(response, coordinator, code, "https://example.go.th/plan")
    db.session.commit()
    assert response.status == "draft"
    meanwhile(
        database_url, "UPDATE response SET status = 'submitted' WHERE id = :id", id=response.id
    )
    with pytest.raises(WrongState):
        evidence.remove(response, coordinator, item.id, folder="/nonexistent")
    db.session.rollback()
    db.session.expire_all()
    assert [e.id for e in response.evidence] == [item.id]


def test_an_upload_whose_transaction_ends_without_a_commit_leaves_no_file(app, setup):
    _, response, coordinator, _ = setup
    questionnaire = questionnaire_of(response.questionnaire)
    code = next(q.code for q in questionnaire.iter_questions() if q.evidence.value != "none")
    folder = Path(app.config["EVIDENCE_FOLDER"])

    def upload() -> Path:
        item = evidence.add_file(
            response,
            coordinator,
            code,
            "plan.pdf",
            io.BytesIO(b"%PDF-1.4 plan"),
            folder=folder,
            max_bytes=app.config["EVIDENCE_MAX_BYTES"],
        )
        return folder / item.stored_name

    refused = upload()
    assert refused.exists()
    db.session.rollback()  # as when a later step of the request is refused
    assert not refused.exists()
    kept = upload()
    db.session.commit()
    assert kept.exists()
    db.session.rollback()  # a later transaction's end does not touch it
    assert kept.exists()


def test_a_save_waits_for_the_rounds_move_under_way_then_sees_it(app, setup, database_url):
    postgresql_only(database_url)
    round_, response, coordinator, _ = setup
    responses.save_answers(response, {"mgmt.leadership": 3}, revision=0, actor=coordinator)
    db.session.commit()
    ids = (response.id, coordinator.id)
    other = sa.create_engine(database_url)
    connection = other.connect()
    move = connection.begin()  # the round's move, not committed yet
    connection.execute(sa.select(sa.func.pg_advisory_xact_lock(locks.ROUND, round_.id)))
    connection.execute(
        sa.text("UPDATE round SET status = 'closed' WHERE id = :id"), {"id": round_.id}
    )
    outcome: dict[str, str] = {}

    def save() -> None:
        with app.app_context():
            try:
                found = db.session.get(Response, ids[0])
                actor = db.session.get(User, ids[1])
                assert found is not None
                assert actor is not None
                responses.save_answers(found, {"mgmt.leadership": 1}, revision=1, actor=actor)
                db.session.commit()
                outcome["saved"] = "yes"
            except (WrongState, StaleRevision) as exc:
                db.session.rollback()
                outcome["refused"] = str(exc)
            finally:
                db.session.remove()

    thread = threading.Thread(target=save)
    thread.start()
    thread.join(0.5)
    waited = thread.is_alive()
    move.commit()
    connection.close()
    other.dispose()
    thread.join(30)
    assert waited, outcome  # the save waited for the move to end
    assert "closed" in outcome.get("refused", ""), outcome
    db.session.expire_all()
    assert responses.current_json(response) == {"mgmt.leadership": 3}


def test_evidence_for_a_response_another_tab_started_meanwhile_is_attached(setup, database_url):
    postgresql_only(database_url)
    _, response, coordinator, _ = setup
    questionnaire = questionnaire_of(response.questionnaire)
    code = next(q.code for q in questionnaire.iter_questions() if q.evidence.value != "none")
    assert response.status == "not_started"  # what this request saw
    # Another tab's first save starts the response and commits.
    meanwhile(database_url, "UPDATE response SET status = 'draft' WHERE id = :id", id=response.id)
    evidence.add_url(response, coordinator, code, "https://example.go.th/plan")
    db.session.commit()
    db.session.expire_all()
    assert response.status == "draft"
    assert [e.url for e in response.evidence] == ["https://example.go.th/plan"]
