"""An anonymised round: peer groups of fewer than five agencies are left out for the
coordinators, on the results page, in the scorecard and through the API, since a group's
median and best beside one's own score would tell who scored what (who is in a province or
under a parent agency is public)."""

from __future__ import annotations

import io
import json
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from assess.extensions import db
from assess.models import Agency, User
from assess.services import rounds, users
from assess.services.agency_results import MIN_ANONYMOUS_GROUP
from tests.conftest import fill


@pytest.fixture
def published(world):  # type: ignore[no-untyped-def]
    """Five departments (a type group of five) in two provinces: two in Nan, three in
    Chiang Mai; the round published with peers anonymised."""
    assert MIN_ANONYMOUS_GROUP == 5
    agencies = [
        world.agency(f"D-{i}", name_en=f"Department {i}", province="Nan" if i < 2 else "Chiang Mai")
        for i in range(5)
    ]
    coordinator = world.user("d0@example.go.th", agency=agencies[0])
    coordinator.language = "en"
    reviewer = world.user("r@example.go.th", role="reviewer")
    reviewer.language = "en"
    round_ = world.round(agencies=agencies, name="Round")
    for i, agency in enumerate(agencies):
        fill(world.response(round_, agency), reviewer, 0.3 + 0.1 * i)
    rounds.move(round_, "closed")
    rounds.move(round_, "published")
    round_.anonymise_peers = True
    db.session.commit()
    return round_, coordinator


def _text(reply) -> str:  # type: ignore[no-untyped-def]
    assert reply.status_code == 200
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", reply.get_data(as_text=True)))


def test_the_results_page_leaves_small_groups_out(published, client, auth):
    round_, _coordinator = published
    auth.login("d0@example.go.th")
    text = _text(client.get(f"/rounds/{round_.id}/results"))
    assert "Same type: Department" in text  # five agencies: shown
    assert "Same province" not in text  # two in Nan: left out
    assert "a peer group of fewer than 5 agencies is not shown" in text
    assert "Agency 2" in text  # the anonymised table of its type (five)
    assert "Department 1" not in text
    # The central office sees every group.
    auth.logout()
    auth.login("r@example.go.th")
    central = _text(client.get(f"/central/rounds/{round_.id}/responses/D-0/results"))
    assert "Same province: Nan" in central


def test_a_type_group_of_fewer_than_five_shows_no_table(client, auth, world):
    """D-4, the one public organisation of its round: its type group is itself alone."""
    agencies = [world.agency(f"D-{i}", name_en=f"Department {i}") for i in range(4)]
    alone = world.agency("D-4", name_en="Public organisation", type="public_org")
    coordinator = world.user("d4@example.go.th", agency=alone)
    coordinator.language = "en"
    reviewer = world.user("r@example.go.th", role="reviewer")
    round_ = world.round(agencies=[*agencies, alone], name="Round")
    for i, agency in enumerate([*agencies, alone]):
        fill(world.response(round_, agency), reviewer, 0.3 + 0.1 * i)
    rounds.move(round_, "closed")
    rounds.move(round_, "published")
    round_.anonymise_peers = True
    db.session.commit()
    auth.login("d4@example.go.th")
    text = _text(client.get(f"/rounds/{round_.id}/results"))
    assert "Agencies of the same type" not in text
    assert "Same type" not in text
    assert "a peer group of fewer than 5 agencies is not shown" in text


def test_a_published_round_shows_the_agency_as_its_results_came_out(published, client, auth):
    """An agency edited after publication (another type, name and parent): its results
    page and scorecard show it as the round's groups do, not as the register has it now."""
    round_, _coordinator = published
    agency = db.session.scalar(select(Agency).filter_by(code="D-0"))
    parent = Agency(code="MIN-X", name_th="กระทรวงใหม่", name_en="New Ministry", tags=[])
    db.session.add(parent)
    db.session.flush()
    agency.type = "public_org"
    agency.name_en = "Renamed Department"
    agency.parent_id = parent.id
    db.session.commit()
    auth.login("d0@example.go.th")
    page = client.get(f"/rounds/{round_.id}/results").get_data(as_text=True)
    # The page itself (the header names the signed-in user's agency as it is now).
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.split("<main", 1)[1]))
    assert "Department 0" in text
    assert "Renamed Department" not in text
    assert "New Ministry" not in text
    assert "Same type: Department" in text
    reply = client.get(f"/rounds/{round_.id}/responses/D-0/scorecard.pdf?lang=en")
    record = json.loads(next(iter(PdfReader(io.BytesIO(reply.data)).attachments.values()))[0])
    assert record["agency"] == {
        "code": "D-0",
        "name_th": record["agency"]["name_th"],
        "name_en": "Department 0",
        "type": "department",
    }


def test_the_scorecard_leaves_small_groups_out(published, client, auth):
    round_, _coordinator = published
    auth.login("d0@example.go.th")
    reply = client.get(f"/rounds/{round_.id}/responses/D-0/scorecard.pdf?lang=en")
    assert reply.status_code == 200
    record = json.loads(next(iter(PdfReader(io.BytesIO(reply.data)).attachments.values()))[0])
    groups = {(p["by"], p["n"]) for p in record["overall"]["peers"]}
    assert groups == {("all", 5), ("type", 5)}


def test_the_api_benchmark_leaves_small_groups_out(published, client):
    round_, coordinator = published
    token = users.issue_token(coordinator, "test")
    db.session.commit()

    def rows(by: str) -> list[dict]:
        reply = client.get(
            f"/api/v1/rounds/{round_.id}/benchmark?by={by}",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert reply.status_code == 200
        return reply.get_json()

    assert rows("province") == []  # Nan (2) and Chiang Mai (3): both too small
    by_type = rows("type")
    assert by_type
    assert {row["n"] for row in by_type} == {5}


# -- a scorecard is the same whoever makes it ---------------------------------------------------


def _attachment(pdf: bytes) -> dict:  # type: ignore[type-arg]
    """A scorecard's JSON attachment, without the time it was made."""
    record = json.loads(next(iter(PdfReader(io.BytesIO(pdf)).attachments.values()))[0])
    del record["scorecard"]["generated_at"]
    return record


def test_every_scorecard_of_an_anonymised_round_leaves_small_groups_out(
    published, client, auth, runner, tmp_path
):
    """The central office's scorecard (web, API, ``assess scorecard``, the bulk archive) is
    the coordinator's: the province groups of two and three are left out for everyone, so
    that one verification code stands for one content."""
    import zipfile

    from assess.scorecards import bulk

    round_, _coordinator = published
    path = f"/rounds/{round_.id}/responses/D-0/scorecard.pdf?lang=en"
    auth.login("d0@example.go.th")
    own = _attachment(client.get(path).data)
    auth.logout()
    assert {(p["by"], p["n"]) for p in own["overall"]["peers"]} == {("all", 5), ("type", 5)}
    made = {}
    auth.login("r@example.go.th")
    made["web"] = _attachment(client.get(path).data)
    # The central office's results page still shows every group.
    central = _text(client.get(f"/central/rounds/{round_.id}/responses/D-0/results"))
    assert "Same province: Nan" in central
    auth.logout()
    reviewer = db.session.scalar(select(User).filter_by(email="r@example.go.th"))
    token = users.issue_token(reviewer, "test")
    db.session.commit()
    reply = client.get("/api/v1" + path, headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 200
    made["api"] = _attachment(reply.data)
    out = tmp_path / "card.pdf"
    done = runner.invoke(args=["scorecard", str(round_.id), "D-0", "-o", str(out), "--lang", "en"])
    assert done.exit_code == 0, done.output
    made["cli"] = _attachment(out.read_bytes())
    archive = tmp_path / "all.zip"
    bulk.export(round_, archive, lang="en")
    with zipfile.ZipFile(archive) as files:
        made["bulk"] = _attachment(files.read("scorecard-2569-D-0-en.pdf"))
    for caller, record in made.items():
        assert record == own, caller
    # With anonymisation off the central office sees every group again (as before).
    round_.anonymise_peers = False
    db.session.commit()
    auth.login("r@example.go.th")
    groups = {p["by"] for p in _attachment(client.get(path).data)["overall"]["peers"]}
    assert "province" in groups


# -- a small group's scores are not given beside its type ---------------------------------------


@pytest.fixture
def fees(world):  # type: ignore[no-untyped-def]
    """Round 2568, published with peers anonymised; its e-payment dimension (epay) applies
    only to agencies that collect fees. Six departments, of which D-0, D-1 and D-2 collect
    fees (a group of three on epay); five public organisations, all collecting fees; one
    ministry that does (its type, a group of one, is not disclosed)."""
    reviewer = world.user("r@example.go.th", role="reviewer")
    agencies = [world.agency(f"D-{i}", name_en=f"Department {i}") for i in range(6)]
    agencies += [world.agency(f"P-{i}", type="public_org") for i in range(5)]
    agencies.append(world.agency("M-0", type="ministry"))
    round_ = world.round(
        world.questionnaire(key="dg-readiness@2568"), agencies=agencies, fiscal_year=2568
    )
    for i, agency in enumerate(agencies):
        collects = agency.code not in ("D-3", "D-4", "D-5")
        extra = {"epay.collects_fees": collects}
        fill(world.response(round_, agency), reviewer, 0.3 + 0.05 * i, extra=extra)
    rounds.move(round_, "closed")
    rounds.move(round_, "published")
    round_.anonymise_peers = True
    db.session.commit()
    return round_


SMALL = ("D-0", "D-1", "D-2")
EVERYONE = [*(f"D-{i}" for i in range(6)), *(f"P-{i}" for i in range(5)), "M-0"]


def _agency(code: str) -> Agency:
    found = db.session.scalar(select(Agency).filter_by(code=code))
    assert found is not None
    return found


def test_the_api_gives_no_score_of_a_small_group_beside_its_type(fees, app, client, world):
    """By type the benchmark leaves the three departments' epay group out; their epay
    scores under their ids (whose type the benchmark by type and the package tell) would
    give it back: null in scores, no row in the benchmark by all. The caller's own stay."""
    from assess.services.exports import anonymous_ids

    ids = anonymous_ids(fees, EVERYONE, app.config["SECRET_KEY"])
    reviewer = db.session.scalar(select(User).filter_by(email="r@example.go.th"))
    base = f"/api/v1/rounds/{fees.id}"

    def get(tail: str, user) -> list[dict]:  # type: ignore[no-untyped-def]
        token = users.issue_token(user, "test")
        db.session.commit()
        reply = client.get(base + tail, headers={"Authorization": f"Bearer {token}"})
        assert reply.status_code == 200, reply.get_json()
        return reply.get_json()

    central = {r["agency"]: r for r in get("/scores", reviewer)}
    assert all(central[code]["dimensions"]["epay"]["score"] is not None for code in SMALL)
    org = world.user("p0@example.go.th", agency=_agency("P-0"))
    scores = {r["agency"]: r for r in get("/scores", org)}
    for code in SMALL:
        record = scores[ids[code]]
        assert record["dimensions"]["epay"] == {"score": None, "level": None}, code
        # Every other measure is given, as the central office has it.
        assert record["overall"] == central[code]["overall"]
        assert record["dimensions"]["mgmt"] == central[code]["dimensions"]["mgmt"]
    for code in ("P-1", "M-0"):  # groups of five, and a type not disclosed: given
        assert scores[ids[code]]["dimensions"]["epay"] == central[code]["dimensions"]["epay"]
    epay = [r for r in get("/benchmark?by=all", org) if r["measure"] == "epay"]
    others = {ids[c] for c in ("P-1", "P-2", "P-3", "P-4", "M-0")}
    assert {r["agency"] for r in epay} == {"P-0", *others}  # its own under its code
    assert all(r["n"] == 9 for r in epay)
    assert not [
        r
        for r in get("/benchmark?by=type", org)
        if r["group"] == "department" and r["measure"] == "epay"
    ]
    # A department that collects fees sees its own score, not the other two.
    mine = world.user("d0@example.go.th", agency=_agency("D-0"))
    scores = {r["agency"]: r for r in get("/scores", mine)}
    assert scores["D-0"]["dimensions"]["epay"] == central["D-0"]["dimensions"]["epay"]
    assert scores[ids["D-1"]]["dimensions"]["epay"] == {"score": None, "level": None}
    epay = {r["agency"] for r in get("/benchmark?by=all", mine) if r["measure"] == "epay"}
    assert "D-0" in epay
    assert ids["D-1"] not in epay


def test_the_package_gives_no_score_of_a_small_group_beside_its_type(fees, app, tmp_path):
    """The audit's reproduction: scores.csv and benchmark.csv beside agencies.csv gave the
    three departments' epay scores, which benchmark.csv leaves out by type. Empty cells now,
    and the package still valid."""
    import csv

    import frictionless

    from assess.services import exports

    exports.datapackage(fees, tmp_path)
    report = frictionless.validate(str(tmp_path / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])

    def read(name: str) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO((tmp_path / name).read_text("utf-8"))))

    types = {row["code"]: row["type"] for row in read("agencies.csv")}
    assert sorted(types.values()) == [""] + ["department"] * 6 + ["public_org"] * 5
    scores = {row["agency"]: row for row in read("scores.csv")}
    department = [code for code, kind in types.items() if kind == "department"]
    # Rebuilding the group from scores.csv and agencies.csv gives nothing now.
    assert [scores[code]["epay_score"] for code in department] == [""] * 6
    assert [scores[code]["epay_level"] for code in department] == [""] * 6
    assert all(scores[code]["mgmt_score"] for code in department)
    organisations = [code for code, kind in types.items() if kind == "public_org"]
    assert all(scores[code]["epay_score"] for code in organisations)
    ministry = next(code for code, kind in types.items() if kind == "")
    assert scores[ministry]["epay_score"]
    # Nor from benchmark.csv by all.
    rows = [r for r in read("benchmark.csv") if r["measure"] == "epay"]
    assert {r["agency"] for r in rows} == {*organisations, ministry}
    descriptor = json.loads((tmp_path / "datapackage.json").read_text("utf-8"))
    assert "left empty in scores" in descriptor["description"]


def test_a_measure_scored_by_fewer_than_five_in_all_is_withheld_for_everyone(fees, monkeypatch):
    """Everyone is in ``all``: a measure too few agencies are scored on is withheld for all
    of them, whatever their type (here with a threshold of ten: nine on epay)."""
    from assess.services import exports, reports

    data = reports.load(fees)
    withheld = exports.withheld_scores(data)
    # Every department (three of them have no epay score anyway), no other agency.
    assert withheld == {f"D-{i}": frozenset({"epay"}) for i in range(6)}
    monkeypatch.setattr(exports, "MIN_ANONYMOUS_GROUP", 10)
    withheld = exports.withheld_scores(data)
    assert set(withheld) == set(EVERYONE)
    assert set().union(*withheld.values()) == {"epay"}
