"""The dashboards' cache of a round's tables: brought up to date by reading again only the
responses that changed (``services.reports.refresh``), and never stale.

After every kind of change a round sees — a save, a submission, a review, a verified value,
a status moved by an import, an agency invited, a response removed — the refreshed tables
must equal a fresh load, cell for cell.
"""

from __future__ import annotations

import datetime as dt
import json

import msgspec
import numpy as np
import pandas as pd
import pytest

from assess.extensions import db
from assess.models import Response, Result
from assess.reports import data as cache
from assess.services import reports, responses
from tests.conftest import fill

#: Each test's database is new, with the same ids: nothing cached by an earlier test.
pytestmark = pytest.mark.usefixtures("forget_cache")


@pytest.fixture
def scene(world):  # type: ignore[no-untyped-def]
    """An open round: one response accepted, one submitted, one draft, one not started."""
    agencies = [
        world.agency("DEP-A", name_en="Alpha", province="Bangkok", tags=["pilot"]),
        world.agency("DEP-B", name_en="Bravo", province="Bangkok"),
        world.agency("PROV-C", name_en="Charlie", type="province", province="Chiang Mai"),
        world.agency("LAO-D", name_en="Delta", type="local", province="Chiang Mai"),
    ]
    reviewer = world.user("reviewer@example.go.th", role="reviewer")
    round_ = world.round(agencies=agencies)
    fill(world.response(round_, agencies[0]), reviewer, 0.8)
    fill(world.response(round_, agencies[1]), reviewer, 0.5, status="submitted")
    fill(world.response(round_, agencies[2]), reviewer, 0.3, status="draft")
    return round_, agencies, reviewer


def assert_same(refreshed: reports.RoundResults, fresh: reports.RoundResults) -> None:
    """Every table a caller reads is the same, and so is what tells changes apart."""
    pd.testing.assert_frame_equal(refreshed.agencies, fresh.agencies)
    for kind in ("verified", "self"):
        pd.testing.assert_frame_equal(getattr(refreshed, kind), getattr(fresh, kind))
        for accepted_only in (True, False):
            pd.testing.assert_frame_equal(
                refreshed.wide(kind, accepted_only=accepted_only),
                fresh.wide(kind, accepted_only=accepted_only),
            )
            pd.testing.assert_frame_equal(
                refreshed.levels(kind, accepted_only=accepted_only),
                fresh.levels(kind, accepted_only=accepted_only),
            )
    assert refreshed._marks == fresh._marks
    assert refreshed._stored.keys() == fresh._stored.keys()
    for kind, block in fresh._stored.items():
        got = refreshed._stored[kind]
        for name in ("codes", "response_ids", "scores", "levels"):
            np.testing.assert_array_equal(getattr(got, name), getattr(block, name))


def driver_reads(monkeypatch) -> list[str]:  # type: ignore[no-untyped-def]
    """The statements the tables' plain reads run (``reports._driver_rows``), from now on."""
    read: list[str] = []
    real = reports._driver_rows

    def reading(statement, **options):  # type: ignore[no-untyped-def]
        read.append(str(statement))
        return real(statement, **options)

    monkeypatch.setattr(reports, "_driver_rows", reading)
    return read


def verify_far_below(response, reviewer, questionnaire) -> None:  # type: ignore[no-untyped-def]
    """Verify every level and choice question of the first dimension of ``response`` at its
    lowest option (no evidence for what the agency claimed): its results change."""
    for question in questionnaire.dimensions[0].questions:
        if question.type.value in ("level", "choice"):
            lowest = min(question.options, key=lambda o: o.points).value
            responses.verify(response, reviewer, question.code, lowest, "no evidence")


def test_refresh_after_every_kind_of_change_equals_a_fresh_load(scene, world):
    round_, agencies, reviewer = scene
    held = reports.load(round_)
    assert reports.refresh(held, round_) is held  # nothing changed: nothing read again

    def step(*, accepted_kept: bool = False, agencies_kept: bool = True) -> reports.RoundResults:
        """Refresh what is held, check it against a fresh load, and hold it. The tables of
        the accepted responses are kept when (and only when) none of them changed; what is
        made of agency records, while none came, went or changed."""
        nonlocal held
        db.session.commit()
        for kind in ("verified", "self"):  # made before: kept, or made again
            for accepted_only in (True, False):
                held.wide(kind, accepted_only=accepted_only)
                held.levels(kind, accepted_only=accepted_only)
        refreshed = reports.refresh(held, round_)
        assert refreshed is not held
        assert (refreshed.accepted_state is held.accepted_state) is accepted_kept
        assert (refreshed.agency_state is held.agency_state) is agencies_kept
        assert (refreshed.wide() is held.wide()) is accepted_kept
        assert refreshed.wide(accepted_only=False) is not held.wide(accepted_only=False)
        assert_same(refreshed, reports.load(round_))
        held = refreshed
        return refreshed

    draft = world.response(round_, agencies[2])
    code = next(iter(draft.answers)).question_code
    responses.save_answers(draft, {code: None}, revision=draft.revision, actor=reviewer)
    step(accepted_kept=True)  # a draft saved: no accepted response changed

    submitted = world.response(round_, agencies[1])
    responses.review(submitted, reviewer, "accept")
    assert "DEP-B" in step().accepted

    accepted = world.response(round_, agencies[0])
    before = held.wide().loc["DEP-A", "overall"]
    verify_far_below(accepted, reviewer, held.questionnaire)
    assert step().wide().loc["DEP-A", "overall"] != before

    # An import moves a status without a timestamp.
    db.session.get(Response, accepted.id).status = "returned"
    assert "DEP-A" not in step().accepted

    # A new agency is invited and answers.
    late = world.agency("DEP-E", name_en="Echo")
    db.session.add(Response(round=round_, agency=late, questionnaire=round_.questionnaire))
    db.session.commit()
    fill(world.response(round_, late), reviewer, 0.6)
    assert "DEP-E" in step(agencies_kept=False).accepted

    # A response is removed from the round.
    db.session.delete(world.response(round_, agencies[3]))
    assert "LAO-D" not in step(accepted_kept=True, agencies_kept=False).agencies.index


def test_a_dashboard_keeps_what_the_accepted_responses_alone_make(scene, world):
    """A draft saved: the dashboard keeps the accepted responses' tables, flags and
    levels (equal to a fresh dashboard's); once an accepted response changes, it makes them
    again."""
    round_, agencies, reviewer = scene

    def board(data: reports.RoundResults) -> cache.Dashboard:
        return cache.Dashboard(data=data, before=None, previous=None, round_id=round_.id)

    def derived(dashboard: cache.Dashboard) -> tuple[object, ...]:
        return (
            dashboard.verified,
            dashboard.own,
            dashboard.levels,
            dashboard.flag_kinds(0, 0),
            dashboard.flags(0, 0),
            dashboard.options("en"),
        )

    accepted = world.response(round_, agencies[0])
    verify_far_below(accepted, reviewer, reports.load(round_).questionnaire)
    db.session.commit()
    held = reports.load(round_)
    first = board(held)
    made = derived(first)
    draft = world.response(round_, agencies[2])
    code = next(iter(draft.answers)).question_code
    responses.save_answers(draft, {code: None}, revision=draft.revision, actor=reviewer)
    db.session.commit()
    second = board(reports.refresh(held, round_)).keeping(first)
    assert all(a is b for a, b in zip(derived(second), made, strict=True))
    assert second.data.agencies is not first.data.agencies  # made again, the same records
    fresh = derived(board(reports.load(round_)))
    for kept, new in zip(derived(second), fresh, strict=True):
        if isinstance(kept, pd.DataFrame):
            pd.testing.assert_frame_equal(kept, new)
        else:
            assert kept == new
    assert second.flag_kinds(0, 0) == {"DEP-A": {"verified_gap"}}

    # A submitted response accepted: made again.
    responses.review(world.response(round_, agencies[1]), reviewer, "accept")
    db.session.commit()
    third = board(reports.refresh(second.data, round_)).keeping(second)
    assert "verified" not in third.__dict__
    assert third.verified is not second.verified
    pd.testing.assert_frame_equal(third.verified, board(reports.load(round_)).verified)
    assert "DEP-B" in third.verified.index

    # A verified value of an accepted response: results only, the agency table stands.
    options = third.options("en")
    question = next(
        q for q in held.questionnaire.dimensions[1].questions if q.type.value in ("level", "choice")
    )
    lowest = min(question.options, key=lambda o: o.points).value
    responses.verify(world.response(round_, agencies[1]), reviewer, question.code, lowest, "seen")
    db.session.commit()
    fourth = board(reports.refresh(third.data, round_)).keeping(third)
    assert fourth.data.agencies is third.data.agencies
    assert fourth.options("en") is options
    assert "verified" not in fourth.__dict__
    pd.testing.assert_frame_equal(fourth.verified, board(reports.load(round_)).verified)

    # An agency renamed and moved to a new type, then its draft saved: its record is read
    # again with the response, and the choices and names are made again.
    agencies[2].name_en = "Charlie Renamed"
    agencies[2].type = "local"
    draft = world.response(round_, agencies[2])
    code = next(iter(draft.answers)).question_code
    responses.save_answers(draft, {code: None}, revision=draft.revision, actor=reviewer)
    db.session.commit()
    fifth = board(reports.refresh(fourth.data, round_)).keeping(fourth)
    assert fifth.data.accepted_state is fourth.data.accepted_state
    assert fifth.data.agency_state is not fourth.data.agency_state
    assert fifth.verified is fourth.verified
    assert fifth.options("en") == board(reports.load(round_)).options("en")
    assert fifth.options("en").types == ["department", "local"]
    assert fifth.names("en")["PROV-C"] == "Charlie Renamed"


def test_refresh_with_the_records_reads_edited_agencies_again(scene, world, monkeypatch):
    """Agency records edited (which the responses' marks cannot show): ``records`` reads
    every agency row again, not the round's results, except those of a response whose
    agency took another code. After each edit, alone or with a save, the tables equal a
    fresh load; what is made of the records alone is kept only while none changed."""
    round_, agencies, reviewer = scene
    held = reports.load(round_)
    read = driver_reads(monkeypatch)
    loads = []
    real_load = reports.load
    monkeypatch.setattr(reports, "load", lambda r: loads.append(r.id) or real_load(r))

    def results_read() -> list[str]:
        return [statement for statement in read if "FROM result" in statement]

    # Nothing changed: the same tables.
    assert reports.refresh(held, round_, records=True) is held

    def step(*, results: str = "none", records_kept: bool = False) -> None:
        """Refresh with the records, check against a fresh load, and hold the outcome;
        ``results``: which results must have been read again ("none", "some" responses',
        or "all" of them: more than a quarter of this round of four changed)."""
        nonlocal held
        db.session.commit()
        read.clear()
        refreshed = reports.refresh(held, round_, records=True)
        assert (refreshed.agency_state is held.agency_state) is records_kept
        assert bool(results_read()) is (results != "none")
        some = all("result.response_id IN" in statement for statement in results_read())
        assert some is (results != "all")
        assert_same(refreshed, real_load(round_))
        held = refreshed

    agencies[2].name_en = "Charlie Renamed"
    step()
    assert held.agencies.loc["PROV-C", "name_en"] == "Charlie Renamed"

    agencies[0].tags = ["pilot", "east"]
    agencies[1].type = "province"
    agencies[0].parent = agencies[1]
    step()
    assert held.agencies.loc["DEP-A", "parent"] == "DEP-B"
    assert held.groups("type").query("agency == 'DEP-B'")["group"].tolist() == ["province"]

    # A draft saved, its agency's record not edited: only that response is read again.
    draft = world.response(round_, agencies[2])
    code = next(iter(draft.answers)).question_code
    responses.save_answers(draft, {code: None}, revision=draft.revision, actor=reviewer)
    step(results="some", records_kept=True)

    # An agency takes another code: its results are placed by code, so they are read again.
    agencies[0].code = "DEP-Z"
    step(results="some")
    assert "DEP-Z" in held.accepted
    assert "DEP-A" not in held.agencies.index
    assert held.wide().loc["DEP-Z", "overall"] == real_load(round_).wide().loc["DEP-Z", "overall"]

    assert loads == []
    # Two agencies trade their codes: two of four responses moved, more than a quarter, so
    # the round is loaded again.
    agencies[0].code, agencies[1].code = "DEP-TMP", "DEP-Z"
    db.session.commit()
    agencies[0].code = "DEP-B"
    step(results="all")
    assert loads == [round_.id]


def test_refresh_loads_again_when_much_changed(scene, world, monkeypatch):
    round_, agencies, reviewer = scene
    held = reports.load(round_)
    loads = []
    monkeypatch.setattr(reports, "load", lambda r: loads.append(r) or held)
    world.response(round_, agencies[1]).completeness = "0.1"
    db.session.commit()
    reports.refresh(held, round_)  # one of four changed: read again that one
    assert loads == []
    for agency in agencies[1:3]:
        world.response(round_, agency).completeness = "0.2"
    db.session.commit()
    reports.refresh(held, round_)  # more than a quarter: the whole round
    assert loads == [round_]


def test_a_write_stamped_before_the_latest_but_committed_after_it_is_seen(scene, world):
    """Two saves: the one stamped earlier commits later. The latest time does not move, the
    signature must."""
    round_, agencies, _ = scene
    early, late = (world.response(round_, a) for a in agencies[:2])
    now = dt.datetime(2026, 11, 21, 10, 0, tzinfo=dt.UTC)
    late.updated_at = now
    early.updated_at = now - dt.timedelta(hours=1)
    db.session.commit()
    seen = cache.signature(round_)
    early.updated_at = now - dt.timedelta(minutes=1)  # still before the latest
    early.completeness = "0.99"
    db.session.commit()
    assert cache.signature(round_) != seen

    result = db.session.query(Result).filter_by(response_id=late.id, kind="self").one()
    other = db.session.query(Result).filter_by(response_id=early.id, kind="self").one()
    result.computed_at = now
    other.computed_at = now - dt.timedelta(hours=1)
    db.session.commit()
    seen = cache.signature(round_)
    other.computed_at = now - dt.timedelta(seconds=1)
    db.session.commit()
    assert cache.signature(round_) != seen


def test_the_dashboards_read_again_only_what_changed(scene, world, client, auth, monkeypatch):
    round_, agencies, reviewer = scene
    reviewer.language = "en"
    db.session.commit()
    auth.login("reviewer@example.go.th")
    url = f"/central/rounds/{round_.id}/results"
    assert client.get(url).status_code == 200
    loads = []
    real = reports.load
    monkeypatch.setattr(reports, "load", lambda r: loads.append(r.id) or real(r))
    responses.review(world.response(round_, agencies[1]), reviewer, "accept")
    db.session.commit()
    html = client.get(url).get_data(as_text=True)
    assert 'data-figure="accepted">2<' in html
    assert loads == []  # brought up to date, not loaded again


def test_a_change_is_caught_up_without_reading_every_result(scene, world, monkeypatch):
    """A review, a verified value: the cache brings the round's tables up to date from the
    responses' marks alone (the count of each response's result writes, moved on by the
    database, tells whose results changed); only those responses' results are read again,
    never every result of the round."""
    round_, agencies, reviewer = scene
    held = cache.round_results(round_)
    read = driver_reads(monkeypatch)

    def results_read() -> list[str]:
        return [statement for statement in read if "FROM result" in statement]

    responses.review(world.response(round_, agencies[1]), reviewer, "accept")
    db.session.commit()
    reviewed = cache.round_results(round_)
    assert reviewed is not held
    assert read  # the responses' marks were read …
    assert all("result.response_id IN" in statement for statement in results_read())  # … and
    # the results of the reviewed response at most
    assert "DEP-B" in reviewed.accepted
    assert_same(reviewed, reports.load(round_))

    read.clear()
    accepted = world.response(round_, agencies[0])
    before = reviewed.wide().loc["DEP-A", "overall"]
    verify_far_below(accepted, reviewer, held.questionnaire)
    db.session.commit()
    verified = cache.round_results(round_)
    assert results_read()
    assert all("result.response_id IN" in statement for statement in results_read())
    assert verified.wide().loc["DEP-A", "overall"] != before
    assert_same(verified, reports.load(round_))


def test_every_write_of_a_result_moves_its_response_on(scene, world):
    """The database counts the writes of each response's results (migration 0006's
    triggers), whoever writes them: the ORM, one statement over many rows, a recomputation
    of the whole round, a deletion, an insertion. The round's signature moves with them."""
    from sqlalchemy import delete, select, update

    from assess.services import results

    round_, agencies, _ = scene
    ids = {agency.code: world.response(round_, agency).id for agency in agencies}
    results.recompute_all(round_)  # every response has its results, LAO-D's unstarted too
    db.session.commit()

    def versions() -> dict[str, int]:
        found = dict(db.session.execute(select(Response.id, Response.results_version)).all())
        return {code: found[response_id] for code, response_id in ids.items()}

    def moved_on(change) -> set[str]:  # type: ignore[no-untyped-def]
        before, signature = versions(), cache.signature(round_)
        change()
        db.session.commit()
        after = versions()
        assert all(after[code] >= before[code] for code in ids)  # never back
        moved = {code for code in ids if after[code] != before[code]}
        assert (cache.signature(round_) != signature) == bool(moved)
        return moved

    def one_by_the_orm() -> None:
        result = db.session.scalars(
            select(Result).where(Result.response_id == ids["DEP-B"], Result.kind == "self")
        ).one()
        result.overall_score = "1.00"

    assert moved_on(one_by_the_orm) == {"DEP-B"}
    assert moved_on(
        lambda: db.session.execute(
            update(Result)
            .where(Result.response_id.in_([ids["DEP-A"], ids["PROV-C"]]))
            .values(computed_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
        )
    ) == {"DEP-A", "PROV-C"}
    # Scored again: only DEP-B's figures were wrong, so only its results are written.
    assert moved_on(lambda: results.recompute_all(round_)) == {"DEP-B"}
    assert moved_on(lambda: results.recompute_all(round_)) == set()  # nothing to write
    assert moved_on(
        lambda: db.session.execute(delete(Result).where(Result.response_id == ids["PROV-C"]))
    ) == {"PROV-C"}
    assert moved_on(lambda: results.recompute_all(round_)) == {"PROV-C"}  # inserted again
    assert moved_on(lambda: None) == set()


def test_a_writer_of_results_waits_for_a_save_of_their_response(app, scene, world):
    """Writing a result also updates its response (the count above), and a save locks its
    response (the revision claim) before it writes its results. Every other writer of
    results therefore locks the responses first: one that took a result first would wait
    for the save's response while the save waited for its result, a deadlock that
    PostgreSQL ends by failing one of them. Here a reviewer records verified values while a
    save of the same response is between its claim and its results: the reviewer waits,
    and both commit."""
    import threading
    import time

    from sqlalchemy import text

    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite takes one writer at a time: no row locks")
    round_, agencies, reviewer = scene
    response_id, reviewer_id = world.response(round_, agencies[0]).id, reviewer.id
    questionnaire = reports.load(round_).questionnaire
    db.session.commit()
    failures: list[BaseException] = []

    def review() -> None:
        with app.app_context():
            try:
                verify_far_below(
                    db.session.get(Response, response_id),
                    db.session.get(type(reviewer), reviewer_id),
                    questionnaire,
                )
                db.session.commit()
            except BaseException as exc:  # noqa: BLE001 (reported below)
                failures.append(exc)
            finally:
                db.session.remove()

    def waiting(watch) -> bool:  # type: ignore[no-untyped-def]
        return bool(
            watch.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"
                )
            )
        )

    reviewer_thread = threading.Thread(target=review)
    with db.engine.connect() as save, db.engine.connect() as watch:
        watch = watch.execution_options(isolation_level="AUTOCOMMIT")
        claim = "UPDATE response SET revision = revision + 1 WHERE id = :id"
        save.execute(text(claim), {"id": response_id})
        reviewer_thread.start()
        deadline = time.monotonic() + 10
        while not waiting(watch) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert waiting(watch)  # the reviewer waits on the save's lock …
        save.execute(text("SET LOCAL lock_timeout = '5s'"))
        save.execute(
            text("UPDATE result SET computed_at = now() WHERE response_id = :id"),
            {"id": response_id},
        )  # … and the save's results are free to write: no deadlock
        save.commit()
    reviewer_thread.join(10)
    assert not reviewer_thread.is_alive()
    assert failures == []
    db.session.expire_all()
    assert db.session.get(Response, response_id).verified


def test_a_round_scored_again_keeps_the_results_a_save_wrote_meanwhile(scene, world, monkeypatch):
    """The whole round is scored again (an import of many responses into an open round)
    while a coordinator's save commits: the results that save wrote were scored on its
    newer answers and stand; the round's other stale results are written."""
    from sqlalchemy import select, text, update

    from assess.services import results

    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite takes one writer at a time: a save cannot commit meanwhile")
    round_, agencies, _ = scene
    saved, other = (world.response(round_, agency).id for agency in agencies[1:3])
    results.recompute_all(round_)
    db.session.execute(
        update(Result).where(Result.response_id.in_([saved, other])).values(overall_score="0.01")
    )
    db.session.commit()
    read = results.answer_tables

    def save_meanwhile(*args, **kwargs):  # type: ignore[no-untyped-def]
        found = read(*args, **kwargs)
        with db.engine.connect() as save:  # another worker's save, after the round was read
            save.execute(
                text("UPDATE result SET overall_score = '42.00' WHERE response_id = :id"),
                {"id": saved},
            )
            save.commit()
        return found

    monkeypatch.setattr(results, "answer_tables", save_meanwhile)
    results.recompute_all(round_)
    db.session.commit()
    scores = dict(
        db.session.execute(
            select(Result.response_id, Result.overall_score).where(Result.kind == "self")
        ).all()
    )
    assert scores[saved] == "42.00"  # the save's results stand
    assert scores[other] not in ("0.01", "42.00")  # the stale one was scored again
    assert_same(reports.refresh(reports.load(round_), round_), reports.load(round_))


def test_a_round_scored_again_reads_all_results_but_keeps_the_agency_rows(
    scene, world, monkeypatch
):
    """A scoring rule changed: every result is written again, no response moved. The
    results are read again (equal to a fresh load), the agency table is kept as it was."""
    round_, agencies, reviewer = scene
    held = reports.load(round_)
    before = held.wide()  # the accepted responses' tables, made before the change
    loads = []
    real = reports.load
    monkeypatch.setattr(reports, "load", lambda r: loads.append(r) or real(r))
    accepted = world.response(round_, agencies[0])
    verify_far_below(accepted, reviewer, held.questionnaire)
    db.session.commit()
    later = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    for result in db.session.query(Result):
        result.computed_at = later  # as a recomputation of the whole round writes them
    db.session.commit()
    refreshed = reports.refresh(held, round_)
    assert loads == []
    assert refreshed.agencies is held.agencies
    assert refreshed.accepted_state is not held.accepted_state
    assert refreshed.wide().loc["DEP-A", "overall"] != before.loc["DEP-A", "overall"]
    assert_same(refreshed, real(round_))


def test_stored_scores_are_read_as_float_reads_their_decimal_strings():
    """Stored scores, overall and of each dimension, read "12.34" as float("12.34"), for
    every score with two decimals; dimensions the questionnaire does not have are skipped."""
    decimals = [f"{i // 100}.{i % 100:02d}" for i in range(10_001)]
    texts = [
        f'{{"a": {{"score": "{text}", "level": "3"}}, "old": {{"score": "1.00"}}}}'
        for text in decimals
    ]
    blocks = reports._blocks(
        [(i, "verified", decimals[i], "1", text) for i, text in enumerate(texts)]
        + [(10_001, "verified", None, None, None),
           (10_002, "verified", "5.00", "2", '{"a": null}')],
        {i: f"A{i:05d}" for i in range(10_003)},
        ["a", "b"],
        ["1", "2", "3"],
    )  # fmt: skip
    block = blocks["verified"]
    assert block.scores[:10_001, 1].tolist() == [float(text) for text in decimals]
    assert block.scores[:10_001, 0].tolist() == [float(text) for text in decimals]  # overall
    assert np.isnan(block.scores[:, 2]).all()  # "b": never stored
    assert block.levels[0].tolist() == ["1", "3", None]
    assert np.isnan(block.scores[10_001]).all()
    assert block.scores[10_002, 0] == 5.0
    assert np.isnan(block.scores[10_002, 1])
    assert block.levels[10_002].tolist() == ["2", None, None]


def test_stored_levels_the_questionnaire_does_not_have_are_read_as_stored():
    """A stored level code outside the questionnaire's levels (one kind of a round, the
    other not) is read as it is, not refused; the rest of the kind alike."""
    blocks = reports._blocks(
        [(1, "verified", "50.00", "3", '{"a": {"score": "50.00", "level": "3"}}'),
         (2, "verified", "60.00", "9", '{"a": {"score": "60.00", "level": "old"}}'),
         (1, "self", "70.00", "4", '{"a": {"score": "70.00", "level": "4"}}')],
        {1: "A1", 2: "A2"},
        ["a"],
        ["1", "2", "3", "4", "5"],
    )  # fmt: skip
    assert blocks["verified"].levels.tolist() == [["3", "3"], ["9", "old"]]
    assert blocks["verified"].scores.tolist() == [[50.0, 50.0], [60.0, 60.0]]
    assert blocks["self"].levels.tolist() == [["4", "4"]]
    empty = reports._blocks([], {}, ["a"], ["1"])
    assert empty["self"].scores.shape == (0, 2)


def test_the_driver_reads_give_what_sqlalchemy_gives(scene, world):
    """The big reads of plain values skip SQLAlchemy's result objects: the same rows, of the
    same types, on either database (positional or named parameters, an IN list)."""
    from sqlalchemy import select

    round_, agencies, _ = scene
    ids = [world.response(round_, agency).id for agency in agencies[:2]]
    statements = [
        reports._result_query(round_.id),
        reports._result_query(round_.id, ids),
        select(reports._RESPONSE_MARK).where(Response.round_id == round_.id),
    ]
    for statement in statements:
        expected = [tuple(row) for row in db.session.execute(statement)]
        got = reports._driver_rows(statement)
        assert got == expected
        assert [tuple(map(type, row)) for row in got] == [tuple(map(type, row)) for row in expected]
    assert len(reports._driver_rows(statements[1])) == 4  # both kinds of both responses


def test_a_snapshot_gives_back_the_tables_it_was_made_of(scene, world):
    """The bytes a round's tables are kept as (for a process that has none) give back equal
    tables; bytes that are not a snapshot of this round's questionnaire give nothing."""
    round_, agencies, reviewer = scene
    verify_far_below(
        world.response(round_, agencies[0]), reviewer, reports.load(round_).questionnaire
    )
    db.session.commit()
    fresh = reports.load(round_)
    blob = reports.snapshot(fresh)
    restored = reports.restore(blob, round_)
    assert restored is not None
    assert_same(restored, fresh)
    assert restored._rows == fresh._rows
    # Each level code one object, as a load makes them (not one string per cell).
    levels = restored._stored["verified"].levels
    assert len({id(level) for level in levels.flat if level is not None}) <= len(
        {level for level in levels.flat if level is not None}
    )
    assert restored.agencies["updated_at"].dt.tz is not None

    layout = msgspec.msgpack.decode(blob)
    assert reports.restore(b"not a snapshot", round_) is None
    assert (
        reports.restore(msgspec.msgpack.encode([*layout[:1], "another", *layout[2:]]), round_)
        is None
    )
    assert reports.restore(msgspec.msgpack.encode([layout[0] + 1, *layout[1:]]), round_) is None
    # A row of the wrong shape, or arrays that do not match the rows, are refused.
    assert (
        reports.restore(msgspec.msgpack.encode([*layout[:3], [["X"]], *layout[4:]]), round_) is None
    )
    verified = layout[5]["verified"]
    short = {**layout[5], "verified": [verified[0], verified[1][:-8], *verified[2:]]}
    assert reports.restore(msgspec.msgpack.encode([*layout[:5], short]), round_) is None
    beyond = {**layout[5], "verified": [*verified[:3], [], verified[4]]}
    assert reports.restore(msgspec.msgpack.encode([*layout[:5], beyond]), round_) is None
    odd = {**layout[5], "verified": [*verified[:4], verified[4][:-1]]}
    assert reports.restore(msgspec.msgpack.encode([*layout[:5], odd]), round_) is None


@pytest.fixture
def snapshots(app, monkeypatch):  # type: ignore[no-untyped-def]
    """Snapshots kept for rounds of any size (they are kept on PostgreSQL alone)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("round snapshots are kept on PostgreSQL")
    monkeypatch.setattr(cache, "SNAPSHOT_FROM", 1)


def kept_snapshot(round_):  # type: ignore[no-untyped-def]
    from assess.models import RoundSnapshot

    db.session.expire_all()
    return db.session.get(RoundSnapshot, round_.id)


def test_a_process_with_nothing_starts_from_the_rounds_snapshot(
    scene, world, snapshots, monkeypatch
):
    """A process that holds no tables of a round reads its snapshot and catches up on what
    changed since, instead of loading the round; a change of agency records (which the
    snapshot's marks cannot show) has it read the round's agency rows again."""
    round_, agencies, reviewer = scene
    first = cache.round_results(round_)
    made = kept_snapshot(round_)
    assert made is not None
    assert made.data
    assert json.loads(made.made_for) == cache._texts(first.made_for)

    loads = []
    real = reports.load
    monkeypatch.setattr(reports, "load", lambda r: loads.append(r.id) or real(r))
    cache.clear()  # a new process
    again = cache.round_results(round_)
    assert loads == []
    assert_same(again, real(round_))
    assert kept_snapshot(round_).made_at == made.made_at  # the same state: not written again

    responses.review(world.response(round_, agencies[1]), reviewer, "accept")
    verify_far_below(world.response(round_, agencies[0]), reviewer, first.questionnaire)
    db.session.commit()
    cache.clear()
    caught_up = cache.round_results(round_)
    assert loads == []
    assert "DEP-B" in caught_up.accepted
    assert_same(caught_up, real(round_))
    assert json.loads(kept_snapshot(round_).made_for) == cache._texts(cache.signature(round_))

    # Agency records edited since the snapshot: its agency rows are read again, not the
    # round, and a snapshot of the new records is kept.
    agencies[2].name_en = "Charlie Renamed"
    db.session.commit()
    cache.clear()
    renamed = cache.round_results(round_)
    assert loads == []
    assert renamed.agencies.loc["PROV-C", "name_en"] == "Charlie Renamed"
    assert_same(renamed, real(round_))
    assert kept_snapshot(round_).agencies == str(cache.agency_fingerprint(round_.id))
    cache.clear()
    assert cache.round_results(round_).agencies.loc["PROV-C", "name_en"] == "Charlie Renamed"
    assert loads == []


def test_a_snapshot_that_does_not_read_back_is_loaded_over(scene, world, snapshots, monkeypatch):
    """A damaged snapshot is no error: the round is loaded, and a good snapshot kept."""
    from sqlalchemy import update

    from assess.models import RoundSnapshot

    round_, _, _ = scene
    cache.round_results(round_)
    db.session.execute(update(RoundSnapshot).values(data=b"\x93damaged"))
    db.session.commit()
    cache.clear()
    loads = []
    real = reports.load
    monkeypatch.setattr(reports, "load", lambda r: loads.append(r.id) or real(r))
    assert_same(cache.round_results(round_), real(round_))
    assert loads == [round_.id]
    assert reports.restore(kept_snapshot(round_).data, round_) is not None


def test_a_small_round_keeps_no_snapshot(scene, world, monkeypatch):
    round_, _, _ = scene
    monkeypatch.setattr(cache, "SNAPSHOT_FROM", 5)  # the round has 4 responses
    cache.round_results(round_)
    assert kept_snapshot(round_) is None


def test_a_snapshot_that_cannot_be_written_at_once_is_left(scene, world, snapshots, caplog):
    """Another transaction holds the snapshot's row: the process does not wait for it (one
    second at most), and shows the round all the same."""
    from sqlalchemy import text

    round_, _, _ = scene
    cache.round_results(round_)
    cache.clear()
    saved = world.response(round_, scene[1][1])
    saved.completeness, saved.updated_at = "0.4", dt.datetime.now(dt.UTC)  # a new state
    db.session.commit()
    with db.engine.connect() as other:
        other.execute(
            text("SELECT 1 FROM round_snapshot WHERE round_id = :id FOR UPDATE"), {"id": round_.id}
        )
        with caplog.at_level("WARNING", logger="assess.reports.data"):
            data = cache.round_results(round_)
        other.rollback()
    assert_same(data, reports.load(round_))
    assert "no snapshot of its tables kept" in caplog.text
