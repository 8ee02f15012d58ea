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
from sqlalchemy import update

from assess.extensions import db
from assess.models import Answer, Response
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
