"""A round's results keep the agency records they came out with: an agency edited after the
results are out (another type, parent, province, tags or name) moves the rounds under way,
not the groups, ranks, medians and names of a published round (migration 0011)."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import select

from assess.extensions import db
from assess.models import Agency, ResponseAgency, Round
from assess.services import agencies, evidence, reports, responses, results, rounds
from assess.services.agency_results import RoundContext
from assess.services.questionnaires import questionnaire_of
from assess.synthetic import agency_answers


def accepted(world, round_, agency, reviewer, seed: int) -> None:  # type: ignore[no-untyped-def]
    """The agency's response answered, submitted and accepted."""
    coordinator = world.user(f"{agency.code.lower()}@example.go.th", agency=agency)
    response = world.response(round_, agency)
    questionnaire = questionnaire_of(round_.questionnaire)
    answers = agency_answers(questionnaire, 0.3 + seed / 10, random.Random(seed), 1.0)  # noqa: S311
    raw = {code: responses.stored(value) for code, value in answers.items()}
    responses.save_answers(response, raw, revision=response.revision, actor=coordinator)
    for code in results.score(response).missing_evidence:
        evidence.add_url(response, coordinator, code, "https://example.go.th/evidence.pdf")
    responses.submit(response, coordinator)
    responses.review(response, reviewer, "accept")
    db.session.commit()


@pytest.fixture
def scene(world):  # type: ignore[no-untyped-def]
    ministry = world.agency("MIN-A", type="ministry", name_en="Ministry A")
    other = world.agency("MIN-B", type="ministry", name_en="Ministry B")
    departments = [
        world.agency(f"DEP-{n}", parent_id=ministry.id, province="Bangkok", tags=["pilot"])
        for n in range(1, 5)
    ]
    reviewer = world.user("reviewer@example.go.th", role="reviewer")
    version = world.questionnaire()
    round_ = world.round(version, agencies=departments, status="open", name="Round 2569")
    for seed, agency in enumerate(departments):
        accepted(world, round_, agency, reviewer, seed)
    return round_, departments, other


def edit(agency, other) -> None:  # type: ignore[no-untyped-def]
    agencies.update_agency(
        agency,
        type="province",
        parent_id=other.id,
        province="Chiang Mai",
        tags=["moved"],
        name_en="Renamed",
    )
    db.session.commit()


def record(round_, code: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    row = reports.load(round_).agencies.loc[code]
    fields = ("name_en", "type", "parent", "parent_name_en", "province", "tags")
    return {name: row[name] for name in fields}


def department_sizes(round_) -> set[int]:  # type: ignore[no-untyped-def]
    frame = reports.benchmark_frame(reports.load(round_), "type")
    return set(frame[frame["group"] == "department"]["n"])


def test_a_published_round_keeps_its_agencies_records(scene, world):
    round_, departments, other = scene
    rounds.move(round_, "closed")
    rounds.move(round_, "published")
    db.session.commit()
    before = record(round_, "DEP-1")
    assert before["type"] == "department"
    assert before["parent"] == "MIN-A"
    assert department_sizes(round_) == {4}
    edit(departments[0], other)
    # The published round: the record its results came out with.
    assert record(round_, "DEP-1") == before
    assert department_sizes(round_) == {4}
    context = RoundContext(round_, peers_visible=True)
    result = context.agency(world.response(round_, departments[1]))
    peer = result.overall.peer("type")
    assert peer is not None
    assert (peer.group, peer.n) == ("department", 4)
    # A round under way shows the agency as it is now.
    later = world.round(round_.questionnaire, agencies=departments, status="open", name="Next")
    now = record(later, "DEP-1")
    assert now == {
        "name_en": "Renamed",
        "type": "province",
        "parent": "MIN-B",
        "parent_name_en": "Ministry B",
        "province": "Chiang Mai",
        "tags": ["moved"],
    }


def test_preliminary_results_keep_the_records_the_final_ones_show(scene):
    round_, departments, other = scene
    rounds.move(round_, "closed")
    rounds.move(round_, "preliminary")
    db.session.commit()
    before = record(round_, "DEP-1")
    edit(departments[0], other)
    assert record(round_, "DEP-1") == before  # the preliminary results' groups stand
    rounds.move(round_, "published")
    db.session.commit()
    assert record(round_, "DEP-1") == before  # and are the final results' groups
    kept = db.session.scalars(select(ResponseAgency)).all()
    assert len(kept) == 4


def test_a_closed_round_follows_the_agency_list(scene):
    """Before its results are out, a round's groups are the agency list's."""
    round_, departments, other = scene
    rounds.move(round_, "closed")
    db.session.commit()
    edit(departments[0], other)
    assert record(round_, "DEP-1")["type"] == "province"
    assert department_sizes(round_) == {3}
    assert db.session.scalars(select(ResponseAgency)).all() == []


def test_the_upgrade_keeps_the_records_of_rounds_already_out(scene, app):
    """Migration 0011: rounds published before it keep their agencies' records as they are
    at the upgrade; rounds under way keep none."""
    from flask_migrate import downgrade, upgrade

    round_, departments, other = scene
    rounds.move(round_, "closed")
    rounds.move(round_, "published")
    db.session.commit()
    agency_id, other_id, round_id = departments[0].id, other.id, round_.id
    db.session.remove()
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the schema is moved back and forth on the test's own SQLite file")
    downgrade(revision="0010")
    upgrade()
    kept = db.session.scalars(select(ResponseAgency)).all()
    assert len(kept) == 4
    assert {row.type for row in kept} == {"department"}
    assert {row.parent_code for row in kept} == {"MIN-A"}
    assert all(row.tags == ["pilot"] for row in kept)
    edit(db.session.get(Agency, agency_id), db.session.get(Agency, other_id))
    assert record(db.session.get(Round, round_id), "DEP-1")["type"] == "department"
