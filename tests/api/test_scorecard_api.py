"""GET /api/v1/rounds/{round}/responses/{agency}/scorecard.pdf: one test per status code."""

from __future__ import annotations

import io
import json

from pypdf import PdfReader

from assess.extensions import db
from assess.services import rounds
from tests.api.conftest import ApiScene
from tests.conftest import fill


def _results(api: ApiScene, status: str) -> None:
    """A's and B's responses answered and accepted; the round moved to ``status``."""
    fill(api.response_a, api.coordinator_a, 0.6)
    fill(api.response_b, api.coordinator_b, 0.4)
    rounds.move(api.round, "closed")
    if status != "closed":
        rounds.move(api.round, status)
    db.session.commit()


def test_coordinator_gets_its_own_once_published(api: ApiScene):
    _results(api, "published")
    reply = api.call("GET", api.url("AG-A", "/scorecard.pdf"), api.token_a)
    assert reply.status_code == 200
    assert reply.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(reply.data))
    assert reader.trailer["/Root"]["/Lang"] == "th"  # Thai unless ?lang=en
    record = json.loads(next(iter(reader.attachments.values()))[0])
    assert record["agency"]["code"] == "AG-A"
    assert record["overall"]["peers"]


def test_english_on_request(api: ApiScene):
    _results(api, "published")
    reply = api.call("GET", api.url("AG-A", "/scorecard.pdf?lang=en"), api.token_a)
    assert PdfReader(io.BytesIO(reply.data)).trailer["/Root"]["/Lang"] == "en"


def test_preliminary_results_without_peers(api: ApiScene):
    _results(api, "preliminary")
    reply = api.call("GET", api.url("AG-A", "/scorecard.pdf"), api.token_a)
    assert reply.status_code == 200
    record = json.loads(next(iter(PdfReader(io.BytesIO(reply.data)).attachments.values()))[0])
    assert "peers" not in record["overall"]


def test_409_before_the_results_are_out(api: ApiScene):
    reply = api.call("GET", api.url("AG-A", "/scorecard.pdf"), api.token_a)
    assert reply.status_code == 409
    assert reply.get_json()["error"] == "no scorecard yet"
    assert api.call("GET", api.url("AG-A", "/scorecard.pdf"), api.token_r).status_code == 409


def test_central_office_once_closed(api: ApiScene):
    _results(api, "closed")
    assert api.call("GET", api.url("AG-A", "/scorecard.pdf"), api.token_a).status_code == 409
    reply = api.call("GET", api.url("AG-B", "/scorecard.pdf"), api.token_r)
    assert reply.status_code == 200


def test_404_for_another_agency_and_unknowns(api: ApiScene):
    _results(api, "published")
    assert api.call("GET", api.url("AG-B", "/scorecard.pdf"), api.token_a).status_code == 404
    assert api.call("GET", api.url("NOPE", "/scorecard.pdf"), api.token_r).status_code == 404
    unknown = api.url("AG-A", "/scorecard.pdf", round_id=99999)
    assert api.call("GET", unknown, api.token_r).status_code == 404


def test_400_for_an_unknown_language(api: ApiScene):
    _results(api, "published")
    reply = api.call("GET", api.url("AG-A", "/scorecard.pdf?lang=fr"), api.token_a)
    assert reply.status_code == 400
    assert "lang" in json.dumps(reply.get_json()["details"])


def test_401_without_a_token(api: ApiScene):
    assert api.call("GET", api.url("AG-A", "/scorecard.pdf"), None).status_code == 401


def test_documented_as_a_pdf(api: ApiScene):
    spec = api.client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/rounds/{round_id}/responses/{agency_code}/scorecard.pdf"]
    content = operation["get"]["responses"]["200"]["content"]
    assert content["application/pdf"]["schema"] == {"type": "string", "format": "binary"}
    assert {p["name"] for p in operation["get"]["parameters"]} >= {"lang"}


def test_409_for_a_response_never_started(api: ApiScene, world):
    quiet = world.agency("AG-N", name_en="Never Started Office")
    world.invite(api.round, quiet)
    db.session.commit()
    _results(api, "published")
    reply = api.call("GET", api.url("AG-N", "/scorecard.pdf"), api.token_r)
    assert reply.status_code == 409
    assert reply.get_json()["error"] == "no scorecard"
    assert "never started" in reply.get_json()["details"]
