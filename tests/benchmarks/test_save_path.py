"""The autosave path the benchmarks measure: fast, and the same as the slow way.

- A save re-scores only the dimensions of the answers it changed (when no ``show_if``
  can have moved), taking the other dimensions from the stored result: every figure it
  stores and returns equals a full scoring of the stored answers.
- ``benchmarks/load.py``'s check of acknowledged saves against the database finds a lost
  save, a change stored twice and a value stored differently.
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

import pytest
from sqlalchemy import event, text, update

from assess.extensions import db
from assess.models import Answer, Response, utcnow
from assess.scoring import engine
from assess.services import responses, results
from assess.services.questionnaires import questionnaire_of
from assess.synthetic import agency_answers

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import load  # noqa: E402

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
BACKENDS = ["sqlite", *(["postgresql"] if os.environ.get("ASSESS_TEST_DATABASE_URL") else [])]


@pytest.fixture
def scene(world):  # type: ignore[no-untyped-def]
    agency = world.agency("AG-1")
    coordinator = world.user("c@example.go.th", agency=agency)
    round_ = world.round(agencies=[agency])
    return world.response(round_, agency), coordinator


def _text(value):  # type: ignore[no-untyped-def]
    return results._text(value)


@sqlite_only
def test_a_save_stores_and_returns_what_a_full_scoring_gives(scene, monkeypatch):
    response, coordinator = scene
    questionnaire = questionnaire_of(response.questionnaire)
    rng = random.Random(5)
    pools: dict[str, list] = {}
    for maturity in (0.05, 0.35, 0.65, 0.95):
        for code, value in agency_answers(questionnaire, maturity, rng).items():
            pools.setdefault(code, []).append(responses.stored(value))
    codes = sorted(pools)
    full = []
    real = engine.score_response

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        full.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(results, "score_response", counted)
    # Every third save changes a question some show_if refers to (shows or hides others).
    sources = sorted(questionnaire.show_if_refs & set(codes))
    assert sources
    for step in range(80):
        code = rng.choice(sources if step % 3 == 2 else codes)
        value = None if step % 9 == 8 else rng.choice(pools[code])
        saved = responses.save_answers(
            response, {code: value}, revision=response.revision, actor=coordinator
        )
        db.session.commit()
        expected = real(
            questionnaire,
            results.answer_sets(response)[0],
            evidence=results.evidence_codes(response),
        )
        assert saved.overall == expected.overall, (step, code)
        assert saved.level == expected.level
        assert saved.completeness == expected.completeness
        assert saved.missing == expected.missing
        assert saved.missing_evidence == expected.missing_evidence
        assert {c: (d.score, d.level) for c, d in saved.dimensions.items()} == {
            c: (d.score, d.level) for c, d in expected.dimensions.items()
        }
        for kind in ("self", "verified"):
            row = results.result_of(response, kind)
            assert row.overall_score == _text(expected.overall)
            assert row.overall_level == expected.level
            assert row.dimensions == {
                c: {"score": _text(d.score), "level": d.level}
                for c, d in expected.dimensions.items()
            }
        assert response.completeness == results._text(expected.completeness, "0.1")
    # Only the first save (of a response never scored) scored the whole response; every
    # other one scored the dimensions it changed (and those where it showed or hid a question).
    assert len(full) == 1, len(full)


@sqlite_only
def test_a_save_after_a_verified_value_scores_in_full(scene, world):
    response, coordinator = scene
    reviewer = world.user("r@example.go.th", role="reviewer")
    responses.save_answers(
        response, {"people.headcount": 120}, revision=response.revision, actor=coordinator
    )
    responses.verify(response, reviewer, "people.headcount", 80, "the register says 80")
    db.session.commit()
    responses.save_answers(
        response, {"people.digital_staff": 10}, revision=response.revision, actor=coordinator
    )
    db.session.commit()
    own, checked = results.answer_sets(response)
    questionnaire = questionnaire_of(response.questionnaire)
    verified = engine.score_response(questionnaire, checked)
    assert results.result_of(response, "verified").dimensions == {
        c: {"score": _text(d.score), "level": d.level} for c, d in verified.dimensions.items()
    }


def _attempt(response_id: int, chain: int, code: str, value, revision: int, outcome: str):  # type: ignore[no-untyped-def]
    return load.Attempt(
        0, response_id, chain, code, value, revision, outcome,
        200 if outcome == "ok" else 0, revision + 1 if outcome == "ok" else None, 0.0, 0.0,
    )  # fmt: skip


@sqlite_only
def test_the_load_check_finds_lost_duplicated_and_changed_saves(scene, database_url):
    response, coordinator = scene
    run = load.Run()
    saves = [("people.headcount", 100), ("people.digital_staff", 7), ("people.headcount", 101)]
    for chain, (code, value) in enumerate(saves):
        revision = response.revision
        if chain == 1:  # a reply that never came, then its resend found it stored (stale)
            run.attempts.append(_attempt(response.id, chain, code, value, revision, "unknown"))
        responses.save_answers(response, {code: value}, revision=revision, actor=coordinator)
        db.session.commit()
        if chain != 1:
            run.attempts.append(_attempt(response.id, chain, code, value, revision, "ok"))
    response_id = response.id

    found = load.verify(database_url, run)
    assert (found["lost"], found["duplicated"], found["mismatched"]) == (0, 0, 0), found
    assert found["acknowledged"] == 2
    assert found["unknown_kept"] == 1

    # An acknowledged save the database does not have.
    run.attempts.append(_attempt(response_id, 9, "people.headcount", 555, 3, "ok"))
    assert load.verify(database_url, run)["lost"] == 1
    run.attempts.pop()

    # A stored value that is not the last one saved.
    db.session.execute(
        update(Answer)
        .where(Answer.response_id == response_id, Answer.question_code == "people.headcount")
        .values(value=99)
    )
    db.session.commit()
    assert load.verify(database_url, run)["mismatched"] == 1

    # A revision taken twice (a save stored without its event, or twice).
    db.session.execute(
        update(Response).where(Response.id == response_id).values(revision=Response.revision + 1)
    )
    db.session.commit()
    assert load.verify(database_url, run)["duplicated"] >= 1


@sqlite_only
def test_a_save_that_hides_a_question_of_another_dimension_rescores_that_one(
    world, examples, tmp_path
):
    source = (examples / "worked-example.yaml").read_text(encoding="utf-8")
    # id.ndid (dimension id) shown by an answer of dimension pay.
    assert 'show_if: "id.login >= 1"' in source
    path = tmp_path / "crossed.yaml"
    path.write_text(source.replace('show_if: "id.login >= 1"', 'show_if: "pay.share >= 30"'))
    version = world.questionnaire(path)
    agency = world.agency("AG-1")
    coordinator = world.user("c@example.go.th", agency=agency)
    round_ = world.round(version, agencies=[agency])
    response = world.response(round_, agency)
    questionnaire = questionnaire_of(response.questionnaire)
    steps = [
        {"id.login": 2},
        {"pay.share": 50},
        {"id.ndid": "yes"},
        {"pay.share": 10},  # hides id.ndid: dimension id moves
        {"pay.share": 95},  # shows it again
        {"pay.share": None},
    ]
    for change in steps:
        saved = responses.save_answers(
            response, change, revision=response.revision, actor=coordinator
        )
        db.session.commit()
        expected = engine.score_response(questionnaire, results.answer_sets(response)[0])
        assert {c: (d.score, d.level) for c, d in saved.dimensions.items()} == {
            c: (d.score, d.level) for c, d in expected.dimensions.items()
        }, change
        assert (saved.overall, saved.level) == (expected.overall, expected.level)
        assert results.result_of(response, "self").dimensions["id"] == {
            "score": _text(expected.dimensions["id"].score),
            "level": expected.dimensions["id"].level,
        }


@sqlite_only
def test_answers_loaded_before_a_save_read_the_saved_values(scene):
    response, coordinator = scene
    responses.save_answers(
        response,
        {"people.headcount": 100, "people.digital_staff": 5},
        revision=response.revision,
        actor=coordinator,
    )
    assert responses.current_json(response) == {"people.headcount": 100, "people.digital_staff": 5}
    # The collection is loaded now (and its rows held, as a caller may); the next save
    # changes one row and removes another.
    held = list(response.answers)
    responses.save_answers(
        response,
        {"people.headcount": 120, "people.digital_staff": None, "service.service_count": 3},
        revision=response.revision,
        actor=coordinator,
    )
    assert responses.current_json(response) == {"people.headcount": 120, "service.service_count": 3}
    assert len(held) == 2
    db.session.commit()
    db.session.expire_all()
    assert responses.current_json(response) == {"people.headcount": 120, "service.service_count": 3}


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_a_save_without_a_revision_takes_the_next_one_and_stores_the_full_figures(scene):
    response, coordinator = scene
    questionnaire = questionnaire_of(response.questionnaire)
    for step, change in enumerate(({"people.trained_share": 40}, {"people.trained_share": 90})):
        before = response.revision
        saved = responses.save_answers(response, change, revision=None, actor=coordinator)
        db.session.commit()
        assert response.revision == before + 1, step
        expected = engine.score_response(questionnaire, results.answer_sets(response)[0])
        assert saved.overall == expected.overall
        assert results.result_of(response, "self").overall_score == _text(expected.overall)
        assert response.completeness == results._text(expected.completeness, "0.1")


# -- the save's writes in one pipeline (PostgreSQL) ---------------------------------------------

postgresql_only = pytest.mark.skipif(
    not os.environ.get("ASSESS_TEST_DATABASE_URL"), reason="needs PostgreSQL"
)
on_postgresql = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def _written(response_id: int) -> dict[str, list[tuple]]:  # type: ignore[type-arg]
    """What the database holds of a response's saves, as stored (JSON as its text, so that
    JSON ``null`` and SQL NULL differ); times, ids and who wrote it left out."""
    queries = {
        "response": "SELECT revision, status, completeness FROM response WHERE id = :r",
        "answers": "SELECT question_code, CAST(value AS TEXT) FROM answer WHERE response_id = :r "
        "ORDER BY question_code",
        "events": "SELECT action, question_code, CAST(old AS TEXT), CAST(new AS TEXT), detail FROM audit_event "
        "WHERE response_id = :r AND action = 'answer' ORDER BY id",
        "results": "SELECT kind, completeness, overall_score, overall_level, CAST(dimensions AS TEXT), "
        "questionnaire_hash FROM result WHERE response_id = :r ORDER BY kind",
    }
    db.session.expire_all()
    return {
        name: [tuple(row) for row in db.session.execute(text(sql), {"r": response_id})]
        for name, sql in queries.items()
    }


def _the_same_saves(world, code: str) -> dict[str, list[tuple]]:  # type: ignore[no-untyped-def,type-arg]
    """The same saves on a new response; what they left in the database."""
    agency = world.agency(code)
    coordinator = world.user(f"{code.lower()}@example.go.th", agency=agency)
    response = world.response(world.round(agencies=[agency]), agency)
    for change in (
        {"people.headcount": 100, "mgmt.leadership": 2},  # first answers: inserted, old null
        {"people.headcount": 120},  # updated
        {"people.trained_share": 55, "mgmt.leadership": None},  # one added, one removed
        {"mgmt.pmqa_level": {"na": True}},  # not applicable: a JSON object
    ):
        responses.save_answers(response, change, revision=response.revision, actor=coordinator)
        db.session.commit()
    return _written(response.id)


@postgresql_only
@on_postgresql
def test_pipelined_writes_store_exactly_what_writes_one_by_one_store(world, monkeypatch):
    from assess.services import writes

    pipelined = _the_same_saves(world, "AG-P")
    monkeypatch.setattr(writes, "pipelined", lambda connection: False)
    one_by_one = _the_same_saves(world, "AG-S")
    assert pipelined == one_by_one
    assert pipelined["response"] == [(4, "draft", pipelined["response"][0][2])]
    assert [e[1:4] for e in pipelined["events"]][:3] == [
        ("people.headcount", "null", "100"),  # JSON null, not SQL NULL
        ("mgmt.leadership", "null", "2"),
        ("people.headcount", "100", "120"),
    ]
    assert len(pipelined["events"]) == 6
    assert {kind for kind, *_ in pipelined["results"]} == {"self", "verified"}


@postgresql_only
@on_postgresql
def test_a_pipelined_save_that_loses_the_revision_writes_nothing(scene, monkeypatch):
    """Another tab's save commits between this save's read and its claim: the claim changes
    no row, and what the pipeline sent after it (here the insert of an answer the other tab
    has just inserted, which the unique constraint refuses) is rolled back with it.

    The save's lock (assess.services.locks) keeps other tabs out from its read to its
    commit; without it (as on SQLite), the claim is what catches them: tested here."""
    from assess.services import locks

    response, coordinator = scene
    revision = response.revision
    read_state = results.read_state
    monkeypatch.setattr(locks, "hold_for_save", lambda response: None)

    def other_tab_saves_after_the_read(response_id: int) -> results.SaveState:
        state = read_state(response_id)
        with db.engine.connect() as other:
            other.execute(
                text("UPDATE response SET revision = revision + 1 WHERE id = :r"),
                {"r": response_id},
            )
            other.execute(
                text(
                    "INSERT INTO answer (response_id, question_code, value, updated_at) "
                    "VALUES (:r, 'people.headcount', '7', now())"
                ),
                {"r": response_id},
            )
            other.commit()
        return state

    monkeypatch.setattr(results, "read_state", other_tab_saves_after_the_read)
    with pytest.raises(responses.StaleRevision) as stale:
        responses.save_answers(
            response, {"people.headcount": 100}, revision=revision, actor=coordinator
        )
    monkeypatch.undo()
    assert stale.value.current == revision + 1
    assert stale.value.answers == {"people.headcount": 7}
    written = _written(response.id)
    assert written["answers"] == [("people.headcount", "7")]
    assert written["events"] == []
    assert written["response"][0][0] == revision + 1


@postgresql_only
@on_postgresql
def test_a_save_whose_revision_moved_before_its_lock_writes_nothing(scene, monkeypatch):
    """Another tab's save commits after this request read the response, before its save
    took the response's row: the save, once holding it, sees the new revision and refuses
    with the other tab's values before it reads or writes anything else."""
    from assess.services import locks

    response, coordinator = scene
    revision = response.revision
    hold_for_save = locks.hold_for_save

    def other_tab_saves_first(held):  # type: ignore[no-untyped-def]
        with db.engine.connect() as other:
            other.execute(
                text("UPDATE response SET revision = revision + 1 WHERE id = :r"),
                {"r": held.id},
            )
            other.execute(
                text(
                    "INSERT INTO answer (response_id, question_code, value, updated_at) "
                    "VALUES (:r, 'people.headcount', '7', now())"
                ),
                {"r": held.id},
            )
            other.commit()
        return hold_for_save(held)

    monkeypatch.setattr(locks, "hold_for_save", other_tab_saves_first)
    with pytest.raises(responses.StaleRevision) as stale:
        responses.save_answers(
            response, {"people.headcount": 100}, revision=revision, actor=coordinator
        )
    monkeypatch.undo()
    db.session.rollback()
    assert stale.value.current == revision + 1
    assert stale.value.answers == {"people.headcount": 7}
    written = _written(response.id)
    assert written["answers"] == [("people.headcount", "7")]
    assert written["events"] == []


def _claim_then_insert(response, coordinator, expected: int) -> list:  # type: ignore[no-untyped-def,type-arg]
    """A save's writes: the revision claim (expecting ``expected``), then the insert of
    an answer to ``people.headcount``."""
    now = utcnow()
    return [
        responses._claim_write(response, expected, now, "1.0"),
        (
            responses._INSERT_ANSWER,
            {
                "a_response_id": response.id,
                "a_code": "people.headcount",
                "a_value": 5,
                "a_at": now,
                "a_by": coordinator.id,
            },
        ),
    ]


@postgresql_only
@on_postgresql
def test_a_pipelined_write_that_fails_after_the_claim_raises_and_writes_nothing(scene):
    from sqlalchemy.exc import IntegrityError

    from assess.services import writes

    response, coordinator = scene
    responses.save_answers(response, {"people.headcount": 100}, revision=0, actor=coordinator)
    db.session.commit()
    before = _written(response.id)
    # The claim succeeds; inserting an answer the response has already is refused by the
    # unique constraint.
    found = _claim_then_insert(response, coordinator, response.revision)
    with pytest.raises(IntegrityError, match="answer"):
        writes.run(db.session.connection(), found)
    db.session.rollback()
    assert _written(response.id) == before
    # The connection is still good for the next request.
    assert db.session.execute(text("SELECT 1")).scalar() == 1


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_writes_after_a_claim_that_changed_no_row_do_not_count(scene):
    """One by one (SQLite), they are not run; in a pipeline they were, and the rollback the
    caller does undoes them: either way, after it, nothing of them is left."""
    from assess.services import writes

    response, coordinator = scene
    before = _written(response.id)
    found = _claim_then_insert(response, coordinator, response.revision + 5)  # not its revision
    sent: list[str] = []

    def seen(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        sent.append(statement.split(None, 1)[0])

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        assert writes.run(db.session.connection(), found) == 0
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert sent == (
        ["UPDATE", "INSERT"] if writes.pipelined(db.session.connection()) else ["UPDATE"]
    )
    db.session.rollback()
    assert _written(response.id) == before


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_the_state_a_save_reads_holds_every_stored_value_as_stored(scene, world):
    """The answers and the verified values come as one JSON object each (the database's
    own aggregate): every kind of value reads back as the answer page stores it."""
    response, coordinator = scene
    reviewer = world.user("r@example.go.th", role="reviewer")
    empty = results.read_state(response.id)
    assert (empty.answers, empty.verified, empty.evidence, empty.results) == ({}, {}, set(), {})
    responses.save_answers(
        response,
        {
            "mgmt.customer_voice": ["survey", "social_media"],
            "mgmt.pmqa_level": {"na": True},
            "mgmt.satisfaction": 87.5,
            "mgmt.satisfaction_method": 'สำรวจออนไลน์ "ThaID" 1,200 ราย\n(ต.ค.–ธ.ค.)',
            "mgmt.awards": True,
            "people.headcount": 120,
        },
        revision=response.revision,
        actor=coordinator,
    )
    responses.verify(response, reviewer, "people.headcount", 80, "the register says 80")
    db.session.commit()
    state = results.read_state(response.id)
    assert state.answers == responses.current_json(response)
    assert state.answers["mgmt.satisfaction_method"].startswith('สำรวจออนไลน์ "ThaID"')
    assert state.answers["mgmt.pmqa_level"] == {"na": True}
    assert state.verified == {"people.headcount": 80}
    assert set(state.results) == {"self", "verified"}


@postgresql_only
@on_postgresql
def test_a_pipelined_save_whose_connection_dies_fails_without_claiming_staleness(
    scene, monkeypatch
):
    """The database connection is lost between the save's read and its writes (a restart,
    a killed backend): the save fails as a database error (the answer page keeps the value
    and sends it again), not as a stale revision (which would replace the value typed with
    the stored one); nothing is written, and the next save goes through."""
    from sqlalchemy.exc import OperationalError

    response, coordinator = scene
    revision = response.revision
    read_state = results.read_state

    def connection_dies_after_the_read(response_id: int) -> results.SaveState:
        state = read_state(response_id)
        pid = db.session.connection().connection.driver_connection.info.backend_pid
        with db.engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        return state

    monkeypatch.setattr(results, "read_state", connection_dies_after_the_read)
    with pytest.raises(OperationalError):
        responses.save_answers(
            response, {"people.headcount": 100}, revision=revision, actor=coordinator
        )
    monkeypatch.undo()
    db.session.rollback()
    assert _written(response.id)["answers"] == []
    responses.save_answers(
        response, {"people.headcount": 100}, revision=revision, actor=coordinator
    )
    db.session.commit()
    assert _written(response.id)["answers"] == [("people.headcount", "100")]
