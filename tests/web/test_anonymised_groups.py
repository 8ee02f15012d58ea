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
from assess.models import Agency
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


def test_a_type_group_of_fewer_than_five_shows_no_table(published, client, auth, world):
    round_, _coordinator = published
    # D-4 becomes the one public organisation: its type group is itself alone.
    alone = db.session.scalar(select(Agency).filter_by(code="D-4"))
    alone.type = "public_org"
    coordinator = world.user("d4@example.go.th", agency=alone)
    coordinator.language = "en"
    db.session.commit()
    auth.login("d4@example.go.th")
    text = _text(client.get(f"/rounds/{round_.id}/results"))
    assert "Agencies of the same type" not in text
    assert "Same type" not in text
    assert "a peer group of fewer than 5 agencies is not shown" in text


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
