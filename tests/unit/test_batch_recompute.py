"""The set-based recomputation of a whole round gives exactly the per-response figures.

``results.recompute_round(round)`` reads the answers table with one query, parses each
distinct stored value once, scores with :func:`assess.scoring.batch.score_table` and writes
only the results that changed. Every stored figure must equal what the reference paths
give: :func:`assess.scoring.engine.score_response` per response, and the former ORM path
(``recompute_round(round, of_round(round))``), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pandas as pd
import pytest

from assess.questionnaires import load
from assess.questionnaires.answers import NA
from assess.questionnaires.builtin import builtin_path
from assess.scoring.batch import score_many, score_table
from assess.synthetic import agency_answers, synthetic_answers


def _stored(response_ids: list[int]) -> dict[tuple[int, str], tuple[Any, ...]]:
    from sqlalchemy import select

    from assess.extensions import db
    from assess.models import Response, Result

    rows = db.session.execute(
        select(
            Result.response_id,
            Result.kind,
            Result.completeness,
            Result.overall_score,
            Result.overall_level,
            Result.dimensions,
            Result.questionnaire_hash,
            Response.completeness,
        )
        .join(Response, Result.response_id == Response.id)
        .where(Result.response_id.in_(response_ids))
    ).all()
    return {(r[0], r[1]): tuple(r[2:]) for r in rows}


def _round_with_answers(world: Any, count: int = 24) -> tuple[Any, list[int]]:
    """A round of ``count`` agencies with varied answers (N/A, numbers, multi, text, some
    unanswered, one with none at all), an answer to a question the version lacks, and
    verified values (one of them removing an answer)."""
    from assess.extensions import db
    from assess.models import Answer, VerifiedAnswer
    from assess.services.questionnaires import questionnaire_of
    from assess.services.responses import stored

    agencies = [world.agency(f"AG-{i:02d}") for i in range(count)]
    round_ = world.round(agencies=agencies, status="closed")
    questionnaire = questionnaire_of(round_.questionnaire)
    rng = random.Random(8)
    ids = []
    for i, agency in enumerate(agencies):
        response = world.response(round_, agency)
        ids.append(response.id)
        if i == 0:
            continue  # never answered: scored as empty
        given = agency_answers(questionnaire, rng.random(), rng, 0.8 if i % 3 else 1.0)
        for code, value in given.items():
            db.session.add(Answer(response_id=response.id, question_code=code, value=stored(value)))
        if i == 1:
            db.session.add(Answer(response_id=response.id, question_code="gone.q", value=True))
        if i % 4 == 2:
            levels = [q for q in questionnaire.iter_questions() if q.type.value == "level"]
            for question in levels[:3]:
                lowest = min(question.options, key=lambda o: o.points).value
                db.session.add(
                    VerifiedAnswer(
                        response_id=response.id,
                        question_code=question.code,
                        value=lowest,
                        reason="ไม่พบหลักฐาน",
                    )
                )
            answered = next(c for c in given if c not in {q.code for q in levels[:3]})
            db.session.add(
                VerifiedAnswer(
                    response_id=response.id, question_code=answered, value=None, reason="ลบ"
                )
            )
    db.session.commit()
    return round_, ids


def test_recompute_round_equals_score_response_and_the_orm_path(world: Any) -> None:
    from assess.extensions import db
    from assess.models import Response
    from assess.services import results
    from assess.services.questionnaires import questionnaire_of

    round_, ids = _round_with_answers(world)
    # The reference: the former path, every response and answer loaded as ORM objects.
    results.recompute_round(round_, results.of_round(round_))
    db.session.commit()
    reference = _stored(ids)
    assert len(reference) == 2 * len(ids)
    db.session.execute(db.text("DELETE FROM result"))
    db.session.execute(db.text("UPDATE response SET completeness = '0.0'"))
    db.session.commit()

    assert results.recompute_round(round_) == len(ids)
    db.session.commit()
    assert _stored(ids) == reference

    # And each figure is score_response's, digit for digit.
    questionnaire = questionnaire_of(round_.questionnaire)
    for response_id in ids:
        response = db.session.get(Response, response_id)
        assert response is not None
        own, verified = results.answer_sets(response)
        for kind, answers in (("self", own), ("verified", verified)):
            exact = results.score_response(questionnaire, answers)
            stored = results.result_of(response, kind)
            assert stored is not None
            assert stored.overall_score == results._text(exact.overall)
            assert stored.overall_level == exact.level
            assert stored.completeness == results._text(exact.completeness, "0.1")
            assert stored.dimensions == {
                code: {"score": results._text(d.score), "level": d.level}
                for code, d in exact.dimensions.items()
            }
        assert response.completeness == results._text(
            results.score_response(questionnaire, own).completeness, "0.1"
        )
    # The verified results differ from the self-assessed ones where values were verified.
    differing = [i for i in ids if reference[(i, "self")][1:4] != reference[(i, "verified")][1:4]]
    assert differing


def test_recompute_round_writes_only_what_changed(world: Any) -> None:
    from sqlalchemy import select

    from assess.extensions import db
    from assess.models import Result, VerifiedAnswer
    from assess.services import results

    round_, ids = _round_with_answers(world, count=10)
    results.recompute_round(round_)
    db.session.commit()
    before = dict(
        db.session.execute(
            select(Result.id, Result.computed_at).where(Result.response_id.in_(ids))
        ).all()
    )
    results.recompute_round(round_)
    db.session.commit()
    same = dict(
        db.session.execute(
            select(Result.id, Result.computed_at).where(Result.response_id.in_(ids))
        ).all()
    )
    assert same == before  # nothing changed, nothing written

    row = db.session.scalars(
        select(VerifiedAnswer).where(VerifiedAnswer.value.is_not(None))
    ).first()
    assert row is not None
    # Back to the agency's own answer: only that response's verified result changes.
    db.session.delete(row)
    db.session.commit()
    results.recompute_round(round_)
    db.session.commit()
    after = {
        (r.response_id, r.kind): r.computed_at
        for r in db.session.scalars(select(Result).where(Result.response_id.in_(ids)))
    }
    moved = {key for key, at in after.items() if at != before[_id_of(key)]}
    assert moved == {(row.response_id, "verified")}


def _id_of(key: tuple[int, str]) -> int:
    from sqlalchemy import select

    from assess.extensions import db
    from assess.models import Result

    found = db.session.scalar(
        select(Result.id).where(Result.response_id == key[0], Result.kind == key[1])
    )
    assert found is not None
    return found


def test_benchmark_frame_equals_the_plain_benchmark(world: Any) -> None:
    from assess.extensions import db
    from assess.models import Agency
    from assess.scoring.benchmark import benchmark
    from assess.services import reports, results

    round_, ids = _round_with_answers(world, count=16)
    for i, agency in enumerate(db.session.scalars(db.select(Agency).order_by(Agency.code))):
        agency.type = ("department", "province", "local")[i % 3]
        agency.province = ("Nan", "Tak", "")[i % 3]
        agency.tags = [["pilot"], [], ["pilot", "revenue"]][i % 3]
    db.session.execute(db.text("UPDATE response SET status = 'accepted'"))
    results.recompute_round(round_)
    db.session.commit()
    data = reports.load(round_)
    fast = reports.benchmark_frame(data, reports.GROUPINGS)
    groups = pd.concat([data.groups(b, data.accepted) for b in reports.GROUPINGS])
    plain = benchmark(data.results("verified"), groups.reset_index(drop=True))
    pd.testing.assert_frame_equal(fast, plain)
    assert set(fast["by"]) == {"all", "type", "province", "tag"}


# -- score_table, without a database ------------------------------------------------------------


@pytest.fixture(scope="module")
def questionnaire() -> Any:
    path = builtin_path("dg-readiness", "2569")
    assert path is not None
    return load(path)


def test_score_table_equals_score_many(questionnaire: Any) -> None:
    answers = synthetic_answers(questionnaire, 60, seed=11, completeness=0.85)
    answers["AG00001"] = {code: NA for code, q in questionnaire.questions.items() if q.allow_na}
    answers["AG00002"] = {}
    ids = list(answers)
    codes = list(questionnaire.questions)
    table = np.full((len(ids), len(codes)), None, dtype=object)
    for row, agency in enumerate(ids):
        for code, value in answers[agency].items():
            table[row, codes.index(code)] = value
    fast = score_table(questionnaire, ids, table)
    reference = score_many(questionnaire, answers)
    assert fast.responses == ids
    assert all(fast.as_dict(a) == reference.as_dict(a) for a in ids)


def test_score_table_refuses_a_table_of_the_wrong_shape(questionnaire: Any) -> None:
    table = np.full((2, 3), None, dtype=object)
    with pytest.raises(ValueError, match=r"must be 2 × \d+, not 2 × 3"):
        score_table(questionnaire, ["a", "b"], table)


def test_score_many_long_frame_keeps_the_last_answer_and_names_unknown_questions(
    questionnaire: Any,
) -> None:
    code = next(c for c, q in questionnaire.questions.items() if q.type.value == "yesno")
    frame = pd.DataFrame(
        {"response": ["r1", "r1"], "question": [code, code], "value": [False, True]}
    )
    assert score_many(questionnaire, frame).as_dict("r1") == score_many(
        questionnaire, {"r1": {code: True}}
    ).as_dict("r1")
    frame.loc[1, "question"] = "no.such"
    with pytest.raises(ValueError, match="unknown question 'no.such'"):
        score_many(questionnaire, frame)


def test_a_parsed_questionnaire_is_kept_in_the_instance_folder(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pathlib import Path

    from flask import current_app

    from assess.questionnaires import loads
    from assess.services import questionnaires

    version = world.questionnaire()
    questionnaires._parse.cache_clear()
    fresh = questionnaires.questionnaire_of(version)
    folder = Path(current_app.instance_path) / "cache" / "questionnaires"
    (pickled,) = folder.glob("*.pickle")
    assert fresh == loads(version.content.encode("utf-8"), version.key)

    # A new process (here: an empty in-memory cache) reads the pickle instead of parsing.
    questionnaires._parse.cache_clear()
    with monkeypatch.context() as patch:
        patch.setattr(questionnaires, "loads", lambda *_args: pytest.fail("parsed again"))
        again = questionnaires.questionnaire_of(version)
    assert again == fresh
    assert again is not fresh

    # A damaged file is parsed anew and replaced.
    questionnaires._parse.cache_clear()
    pickled.write_bytes(b"not a pickle")
    assert questionnaires.questionnaire_of(version) == fresh
    assert pickled.read_bytes() != b"not a pickle"
    questionnaires._parse.cache_clear()


def _former_csv_bytes(columns: list[str], rows: list[list[Any]]) -> bytes:
    """csv_bytes as it was before streaming (one buffer for the whole file)."""
    import csv
    import io

    from assess.services.exports import csv_cell

    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([csv_cell(c) for c in columns])
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return buffer.getvalue().encode("utf-8")


@pytest.mark.parametrize("count", [0, 1, 4, 5, 11])
def test_streamed_csv_equals_the_former_bytes(count: int) -> None:
    from assess.services.exports import csv_bytes, csv_chunks

    columns = ["agency", "name", "=score"]
    rows = [
        [f"AG-{i}", 'กรม\nทดสอบ, "ก"' if i % 2 else "=HYPERLINK(1)", i / 3] for i in range(count)
    ]
    chunks = list(csv_chunks(columns, rows, rows_per_chunk=5))
    assert b"".join(chunks) == _former_csv_bytes(columns, rows)
    assert csv_bytes(columns, rows) == _former_csv_bytes(columns, rows)
    assert len(chunks) == max(1, -(-count // 5))  # every 5 rows, the header in the first


def test_a_round_scored_again_rewrites_its_results_in_place(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL keeps half of each result and response page free (migration 0007), so a
    round scored again writes each result's new version beside the old one, with no index
    entry (a heap-only tuple): every result update of a whole rewrite is such an update.

    (Its responses too, where PostgreSQL could reclaim their earlier versions' space, which
    waits for any older snapshot in the database: not something a test can count on.)"""
    from sqlalchemy import text

    from assess.extensions import db
    from assess.services import results

    if db.engine.dialect.name != "postgresql":
        pytest.skip("a fill factor is PostgreSQL's")
    options = dict(
        db.session.execute(
            text("SELECT relname, reloptions FROM pg_class WHERE relname IN ('result', 'response')")
        ).all()
    )
    assert options == {"result": ["fillfactor=50"], "response": ["fillfactor=50"]}

    round_, ids = _round_with_answers(world, count=60)
    # Scored first under another questionnaire (a hash of the same length), as before a
    # rule changed: scoring again changes every result.
    scored = results.stored_rows
    with monkeypatch.context() as patch:
        patch.setattr(results, "stored_rows", lambda batch, _digest: scored(batch, "0" * 64))
        results.recompute_round(round_)
    db.session.commit()
    statistics = text(
        "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = 'result'"
    )
    # The counts this process has not reported yet, then this transaction's added to them (a
    # process reports none in the middle of a transaction).
    before = db.session.execute(statistics).one()
    assert results.recompute_round(round_) == len(ids)
    after = db.session.execute(statistics).one()
    db.session.commit()
    updated, in_place = after[0] - before[0], after[1] - before[1]
    assert (updated, in_place) == (2 * len(ids), 2 * len(ids))
