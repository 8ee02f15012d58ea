"""The JSON API /api/v1 (interfaces.md): one test per endpoint and status code."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from assess.extensions import db
from assess.models import Answer, ApiToken
from assess.services import responses, rounds, users
from tests.api.conftest import ApiScene
from tests.conftest import fill
from tests.web.test_workflow import complete

# -- authentication ------------------------------------------------------------------------------


def test_no_token_is_401_json(api: ApiScene):
    reply = api.call("GET", "/api/v1/rounds", None)
    assert reply.status_code == 401
    assert reply.get_json()["error"]
    assert "details" in reply.get_json()
    assert reply.headers["WWW-Authenticate"].startswith("Bearer")


def test_bad_token_is_401(api: ApiScene):
    assert api.call("GET", "/api/v1/rounds", "as_nonsense").status_code == 401
    reply = api.client.get("/api/v1/rounds", headers={"Authorization": "Basic abc"})
    assert reply.status_code == 401


def test_revoked_token_is_401(api: ApiScene):
    row = db.session.scalar(sa.select(ApiToken).filter_by(user_id=api.coordinator_a.id))
    users.revoke_token(api.coordinator_a, row.id)
    db.session.commit()
    assert api.call("GET", "/api/v1/rounds", api.token_a).status_code == 401


def test_a_call_records_the_tokens_last_use(api: ApiScene):
    assert api.call("GET", "/api/v1/rounds", api.token_a).status_code == 200
    db.session.expire_all()
    row = db.session.scalar(sa.select(ApiToken).filter_by(user_id=api.coordinator_a.id))
    assert row.last_used_at is not None


# -- rounds ---------------------------------------------------------------------------------------


def test_rounds_lists_what_the_caller_may_see(api: ApiScene, world):
    world.round(api.version, agencies=[api.b], name="B only")
    mine = api.call("GET", "/api/v1/rounds", api.token_a).get_json()
    assert [r["name"] for r in mine] == ["Shared"]
    assert mine[0]["questionnaire"] == "dg-readiness@2569"
    central = api.call("GET", "/api/v1/rounds", api.token_r).get_json()
    assert {r["name"] for r in central} == {"Shared", "B only"}


# -- one response -------------------------------------------------------------------------------


def test_get_response(api: ApiScene):
    reply = api.call("GET", api.url("AG-B"), api.token_b)
    assert reply.status_code == 200
    body = reply.get_json()
    assert body == {
        "agency": "AG-B",
        "round": api.round.id,
        "questionnaire": "dg-readiness@2569",
        "status": "draft",
        "revision": 1,
        "completeness": body["completeness"],
        "answers": {"mgmt.leadership": 4},
    }
    assert isinstance(body["completeness"], float)


@pytest.mark.parametrize(
    ("method", "tail", "body"),
    [
        ("GET", "", None),
        ("PATCH", "/answers", {"revision": 1, "answers": {"mgmt.leadership": 1}}),
        ("POST", "/submit", None),
        ("POST", "/review", {"action": "accept"}),
        ("PUT", "/verified/mgmt.leadership", {"value": 1, "reason": "x"}),
    ],
)
def test_another_agencys_response_is_404_and_nothing_leaks(api: ApiScene, method, tail, body):
    reply = api.call(method, api.url("AG-B", tail), api.token_a, json=body)
    assert reply.status_code == 404
    text = reply.get_data(as_text=True)
    assert "หน่วยงานบีลับ" not in text
    assert 'mgmt.leadership": 4' not in text
    assert "Agency B" not in text
    db.session.expire_all()
    assert responses.current_json(api.response_b) == {"mgmt.leadership": 4}
    assert api.response_b.status == "draft"


def test_unknown_round_agency_and_path_are_404(api: ApiScene):
    assert api.call("GET", api.url("AG-A", round_id=9999), api.token_r).status_code == 404
    assert api.call("GET", api.url("NOPE"), api.token_r).status_code == 404
    assert api.call("GET", api.url("NOPE"), api.token_a).status_code == 404
    reply = api.call("GET", "/api/v1/nothing-here", api.token_r)
    assert reply.status_code == 404
    assert reply.get_json()["error"]


def test_a_draft_round_is_invisible_to_coordinators(api: ApiScene, world):
    draft = world.round(api.version, agencies=[api.a], status="draft", name="Draft")
    assert api.call("GET", api.url(round_id=draft.id), api.token_a).status_code == 404
    assert api.call("GET", f"/api/v1/rounds/{draft.id}/scores", api.token_a).status_code == 404


# -- saving answers -----------------------------------------------------------------------------


def test_patch_answers_merges_and_bumps_the_revision(api: ApiScene):
    reply = api.call(
        "PATCH",
        api.url(tail="/answers"),
        api.token_a,
        json={"revision": 0, "answers": {"mgmt.leadership": 3, "mgmt.process_digital": 2}},
    )
    assert reply.status_code == 200, reply.get_json()
    assert reply.get_json()["revision"] == 1
    assert reply.get_json()["completeness"] > 0
    reply = api.call(
        "PATCH",
        api.url(tail="/answers"),
        api.token_a,
        json={"revision": 1, "answers": {"mgmt.leadership": None}},
    )
    assert reply.status_code == 200
    db.session.expire_all()
    assert responses.current_json(api.response_a) == {"mgmt.process_digital": 2}
    assert api.response_a.revision == 2


def test_stale_revision_is_409_and_nothing_changes(api: ApiScene):
    reply = api.call(
        "PATCH",
        api.url("AG-B", "/answers"),
        api.token_b,
        json={"revision": 0, "answers": {"mgmt.leadership": 1}},
    )
    assert reply.status_code == 409
    body = reply.get_json()
    assert body["details"] == {"revision": 1, "answers": {"mgmt.leadership": 4}}
    db.session.expire_all()
    assert responses.current_json(api.response_b) == {"mgmt.leadership": 4}
    assert api.response_b.revision == 1


def test_one_invalid_answer_is_422_per_question_and_nothing_is_saved(api: ApiScene):
    reply = api.call(
        "PATCH",
        api.url(tail="/answers"),
        api.token_a,
        json={
            "revision": 0,
            "answers": {"mgmt.leadership": 3, "mgmt.process_digital": "lots", "nope": 1},
        },
    )
    assert reply.status_code == 422
    details = reply.get_json()["details"]
    assert set(details) == {"mgmt.process_digital", "nope"}
    assert all(isinstance(v, str) and v for v in details.values())
    db.session.expire_all()
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Answer).filter_by(response_id=api.response_a.id)
        )
        == 0
    )
    assert api.response_a.revision == 0


def test_patch_in_a_closed_round_is_409(api: ApiScene):
    rounds.move(api.round, "closed")
    db.session.commit()
    reply = api.call(
        "PATCH",
        api.url(tail="/answers"),
        api.token_a,
        json={"revision": 0, "answers": {"mgmt.leadership": 3}},
    )
    assert reply.status_code == 409
    assert "closed" in reply.get_json()["error"]


def test_reviewers_do_not_change_answers(api: ApiScene):
    reply = api.call(
        "PATCH",
        api.url(tail="/answers"),
        api.token_r,
        json={"revision": 0, "answers": {"mgmt.leadership": 3}},
    )
    assert reply.status_code == 403


@pytest.mark.parametrize(
    "data",
    [
        b"{not json",
        b"[1, 2]",
        b'{"answers": {}}',
        b'{"revision": "1", "answers": {}}',
        b'{"revision": 0, "answers": []}',
        b'{"revision": 0, "answers": {}, "extra": 1}',
    ],
)
def test_malformed_body_is_400(api: ApiScene, data):
    reply = api.call(
        "PATCH", api.url(tail="/answers"), api.token_a, data=data, content_type="application/json"
    )
    assert reply.status_code == 400, reply.get_json()
    assert set(reply.get_json()) == {"error", "details"}


def test_too_large_is_413(api: ApiScene):
    body = json.dumps({"revision": 0, "answers": {"x": "a" * (1024 * 1024 + 10)}})
    reply = api.call(
        "PATCH", api.url(tail="/answers"), api.token_a, data=body, content_type="application/json"
    )
    assert reply.status_code == 413
    assert reply.get_json()["error"]


def test_a_body_of_exactly_the_limit_is_read(api: ApiScene, app):
    """413 is for a body larger than the limit; one of exactly its size is read."""
    app.config["API_MAX_CONTENT_LENGTH"] = 200
    start = '{"revision": 0, "answers": {"mgmt.leadership": 3}, "x": "'
    body = (start + "a" * (200 - len(start) - 2) + '"}').encode()
    assert len(body) == 200
    reply = api.call(
        "PATCH", api.url(tail="/answers"), api.token_a, data=body, content_type="application/json"
    )
    assert reply.status_code == 400  # read, and refused for its unknown field
    assert reply.get_json()["details"] == {"json": {"x": ["Unknown field."]}}
    reply = api.call(
        "PATCH",
        api.url(tail="/answers"),
        api.token_a,
        data=body[:-2] + b'a"}',
        content_type="application/json",
    )
    assert reply.status_code == 413


def _answers_patch(api: ApiScene, text: str):  # type: ignore[no-untyped-def]
    """PATCH the answers with a body written by hand (the JSON number as written)."""
    return api.call(
        "PATCH",
        api.url(tail="/answers"),
        api.token_a,
        data=text.encode(),
        content_type="application/json",
    )


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("1" + "0" * 400, "1.000000e+400 is too large"),
        ("12345678901234567891", "12345678901234567891 is too large"),
        ("19.99999999999999999", "19.99999999999999999 has more than 15 significant digits"),
        ("100.0000000000000001", "100.0000000000000001 has more than 15 significant digits"),
    ],
)
def test_a_number_the_store_would_change_is_422_and_nothing_is_saved(
    api: ApiScene, number: str, reason: str
):
    """Read as the decimal written (never a float that rounds 19.99999999999999999 to 20)
    and refused beyond 15 digits: stored, it would come back changed, or as infinity."""
    code = "people.headcount" if "." not in number else "mgmt.process_digital"
    reply = _answers_patch(api, f'{{"revision": 0, "answers": {{"{code}": {number}}}}}')
    assert reply.status_code == 422, reply.get_json()
    assert reason in reply.get_json()["details"][code]
    db.session.expire_all()
    assert responses.current_json(api.response_a) == {}
    assert api.response_a.revision == 0
    # The response can still be edited and read.
    assert (
        _answers_patch(api, '{"revision": 0, "answers": {"people.headcount": 1}}').status_code
        == 200
    )


def test_numbers_of_15_digits_come_back_as_written(api: ApiScene):
    body = (
        '{"revision": 0, "answers": {"people.headcount": 999999999999999,'
        ' "mgmt.process_digital": 19.9999999999999}}'
    )
    assert _answers_patch(api, body).status_code == 200
    reply = api.call("GET", api.url(), api.token_a)
    assert reply.get_data(as_text=True).count("999999999999999") == 1
    answers = json.loads(reply.get_data(as_text=True), parse_float=str)["answers"]
    assert answers == {
        "people.headcount": 999999999999999,
        "mgmt.process_digital": "19.9999999999999",
    }


@pytest.mark.parametrize(
    ("method", "tail", "token", "body"),
    [
        ("PATCH", "/answers", "a", '{"revision": 0, "answers": {"mgmt.comment": "a\\ud800b"}}'),
        ("POST", "/review", "r", '{"action": "return", "comment": "x\\uDC00"}'),
        ("PUT", "/verified/mgmt.leadership", "r", '{"value": 2, "reason": "r\\ud800"}'),
        ("PATCH", "/answers", "a", '{"revision": 0, "answers": {"\\ud800": 1}}'),
    ],
)
def test_a_lone_surrogate_escape_is_400_and_nothing_is_saved(
    api: ApiScene, method: str, tail: str, token: str, body: str
):
    """``"\\ud800"`` is valid JSON but half of a character: no UTF-8 store can hold it."""
    if token == "r":
        responses.save_answers(
            api.response_a, {"mgmt.leadership": 3}, revision=0, actor=api.coordinator_a
        )
        api.response_a.status = "submitted"
        db.session.commit()
    before = responses.current_json(api.response_a), api.response_a.revision
    reply = api.call(
        method,
        api.url(tail=tail),
        api.token_a if token == "a" else api.token_r,
        data=body.encode(),
        content_type="application/json",
    )
    assert reply.status_code == 400, reply.get_json()
    assert reply.get_json()["error"] == "malformed JSON"
    assert "half of a character" in reply.get_json()["details"]
    db.session.expire_all()
    assert (responses.current_json(api.response_a), api.response_a.revision) == before
    assert api.response_a.status == ("submitted" if token == "r" else "not_started")
    # A whole character written as its escaped pair is fine.
    if token == "a":
        pair = '{"revision": 0, "answers": {"mgmt.comment": "\\ud83d\\ude00"}}'
        assert _answers_patch(api, pair).status_code == 200


def test_too_many_requests_is_429(api: ApiScene, app):
    app.config["API_RATE_LIMIT"] = "2/minute"
    codes = [api.call("GET", "/api/v1/rounds", api.token_a).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    reply = api.call("GET", "/api/v1/rounds", api.token_a)
    assert reply.get_json()["error"]
    # Per token: another token still gets through.
    assert api.call("GET", "/api/v1/rounds", api.token_b).status_code == 200


def test_guessed_tokens_are_limited_too(api: ApiScene, app):
    """The limit is checked before the token is: a client guessing tokens from one address
    without a token, or repeating a wrong one, is refused after the limit, not told 401."""
    app.config["API_RATE_LIMIT"] = "2/minute"
    codes = [api.call("GET", "/api/v1/rounds", "not-a-token").status_code for _ in range(3)]
    assert codes == [401, 401, 429]
    codes = [api.client.get("/api/v1/rounds").status_code for _ in range(3)]
    assert codes == [401, 401, 429]


# -- submit ---------------------------------------------------------------------------------------


def test_submit_incomplete_is_422_listing_what_is_missing(api: ApiScene):
    reply = api.call("POST", api.url(tail="/submit"), api.token_a)
    assert reply.status_code == 422
    details = reply.get_json()["details"]
    assert "mgmt.leadership" in details["missing"]
    assert "missing_evidence" in details


def test_submit_complete_is_200(api: ApiScene):
    complete(api.response_a, api.coordinator_a)
    reply = api.call("POST", api.url(tail="/submit"), api.token_a)
    assert reply.status_code == 200, reply.get_json()
    assert reply.get_json()["status"] == "submitted"
    # Submitted again: wrong state.
    assert api.call("POST", api.url(tail="/submit"), api.token_a).status_code == 409


def test_reviewers_do_not_submit(api: ApiScene):
    assert api.call("POST", api.url(tail="/submit"), api.token_r).status_code == 403


# -- review and verified values -----------------------------------------------------------------


def _submitted(api: ApiScene) -> None:
    complete(api.response_a, api.coordinator_a)
    responses.submit(api.response_a, api.coordinator_a)
    db.session.commit()


def test_review_accept_and_return(api: ApiScene):
    _submitted(api)
    reply = api.call("POST", api.url(tail="/review"), api.token_r, json={"action": "accept"})
    assert reply.status_code == 200, reply.get_json()
    assert reply.get_json()["status"] == "accepted"
    reply = api.call(
        "POST",
        api.url(tail="/review"),
        api.token_r,
        json={"action": "return", "comment": "Please attach the plan."},
    )
    assert reply.status_code == 200
    assert reply.get_json()["status"] == "returned"


def test_review_of_a_draft_is_409(api: ApiScene):
    reply = api.call("POST", api.url(tail="/review"), api.token_r, json={"action": "accept"})
    assert reply.status_code == 409


def test_review_with_an_unknown_action_is_400(api: ApiScene):
    reply = api.call("POST", api.url(tail="/review"), api.token_r, json={"action": "shred"})
    assert reply.status_code == 400


def test_review_return_without_a_comment_is_refused(api: ApiScene):
    _submitted(api)
    reply = api.call("POST", api.url(tail="/review"), api.token_r, json={"action": "return"})
    assert reply.status_code == 400


def test_review_comment_on_an_unknown_question_is_422(api: ApiScene):
    _submitted(api)
    reply = api.call(
        "POST",
        api.url(tail="/review"),
        api.token_r,
        json={"action": "return", "question_comments": {"nope": "?"}},
    )
    assert reply.status_code == 422
    assert set(reply.get_json()["details"]) == {"nope"}


def test_coordinators_cannot_review_or_verify(api: ApiScene):
    _submitted(api)
    reply = api.call("POST", api.url(tail="/review"), api.token_a, json={"action": "accept"})
    assert reply.status_code == 403
    reply = api.call(
        "PUT",
        api.url(tail="/verified/mgmt.leadership"),
        api.token_a,
        json={"value": 1, "reason": "checked"},
    )
    assert reply.status_code == 403
    db.session.expire_all()
    assert api.response_a.status == "submitted"
    assert api.response_a.verified == []


def test_put_verified(api: ApiScene):
    _submitted(api)
    reply = api.call(
        "PUT",
        api.url(tail="/verified/mgmt.leadership"),
        api.token_r,
        json={"value": 1, "reason": "no signed plan"},
    )
    assert reply.status_code == 200, reply.get_json()
    assert reply.get_json() == {
        "question": "mgmt.leadership",
        "value": 1,
        "reason": "no signed plan",
    }
    db.session.expire_all()
    assert [v.value for v in api.response_a.verified] == [1]


def test_text_the_database_cannot_hold_is_422_naming_the_field(api: ApiScene):
    """A NUL character (PostgreSQL refuses it in any text) in a reason or a comment: a
    refusal that names the field, not a 500; nothing is stored."""
    _submitted(api)
    reply = api.call(
        "PUT",
        api.url(tail="/verified/mgmt.leadership"),
        api.token_r,
        json={"value": 1, "reason": "no\u0000plan"},
    )
    assert reply.status_code == 422, reply.get_json()
    assert "NUL" in reply.get_json()["error"]
    assert "reason" in reply.get_json()["error"]
    reply = api.call(
        "POST",
        api.url(tail="/review"),
        api.token_r,
        json={"action": "return", "comment": "see\u0000this"},
    )
    assert reply.status_code == 422, reply.get_json()
    assert "NUL" in reply.get_json()["error"]
    db.session.expire_all()
    assert api.response_a.status == "submitted"
    assert api.response_a.verified == []
    # A text answer loses its invisible characters instead (a paste from a word processor).
    reply = api.call(
        "PATCH",
        api.url(agency="AG-B", tail="/answers"),
        api.token_b,
        json={"revision": api.response_b.revision, "answers": {"mgmt.comment": "a\u0000b\u000bc"}},
    )
    assert reply.status_code == 200, reply.get_json()
    db.session.expire_all()
    assert responses.current_json(api.response_b)["mgmt.comment"] == "ab\nc"


def test_put_verified_invalid_value_is_422_unknown_question_404(api: ApiScene):
    _submitted(api)
    url = api.url(tail="/verified/mgmt.leadership")
    reply = api.call("PUT", url, api.token_r, json={"value": "lots", "reason": "x"})
    assert reply.status_code == 422
    assert set(reply.get_json()["details"]) == {"mgmt.leadership"}
    reply = api.call(
        "PUT", api.url(tail="/verified/nope"), api.token_r, json={"value": 1, "reason": "x"}
    )
    assert reply.status_code == 404
    assert api.call("PUT", url, api.token_r, json={"value": 1}).status_code == 400


def test_put_verified_in_a_published_round_is_409(api: ApiScene):
    _submitted(api)
    for target in ("closed", "published"):
        rounds.move(api.round, target)
    db.session.commit()
    reply = api.call(
        "PUT",
        api.url(tail="/verified/mgmt.leadership"),
        api.token_r,
        json={"value": 1, "reason": "late"},
    )
    assert reply.status_code == 409


# -- scores and benchmark -----------------------------------------------------------------------


def _accepted_round(api: ApiScene) -> None:
    for response, coordinator, maturity in (
        (api.response_a, api.coordinator_a, 0.7),
        (api.response_b, api.coordinator_b, 0.4),
    ):
        complete(response, coordinator, maturity)
        responses.submit(response, coordinator)
        responses.review(response, api.reviewer, "accept")
    db.session.commit()


def _three_more_accepted(api: ApiScene, world) -> list[str]:  # type: ignore[no-untyped-def]
    """Three more departments invited and accepted: five agencies in all, as many as an
    anonymised round needs to show a group's figures (MIN_ANONYMOUS_GROUP)."""
    codes = []
    for n in range(3):
        agency = world.agency(f"AG-X{n}", name_en=f"Extra {n}")
        fill(world.invite(api.round, agency), api.reviewer, 0.5 + n / 10)
        codes.append(agency.code)
    db.session.commit()
    return codes


def test_scores_shape_and_coordinator_visibility(api: ApiScene):
    _accepted_round(api)
    url = f"/api/v1/rounds/{api.round.id}/scores"
    central = api.call("GET", url, api.token_r).get_json()
    assert [r["agency"] for r in central] == ["AG-A", "AG-B"]
    record = central[0]
    assert set(record) == {"agency", "status", "completeness", "overall", "dimensions"}
    assert set(record["overall"]) == {"score", "level"}
    # Before publication a coordinator sees only its own agency.
    mine = api.call("GET", url, api.token_a)
    assert mine.status_code == 200
    assert [r["agency"] for r in mine.get_json()] == ["AG-A"]
    assert "AG-B" not in mine.get_data(as_text=True)
    for target in ("closed", "published"):
        rounds.move(api.round, target)
    db.session.commit()
    after = api.call("GET", url, api.token_a).get_json()
    assert [r["agency"] for r in after] == ["AG-A", "AG-B"]
    assert after == api.call("GET", url, api.token_r).get_json()


def test_after_publication_a_coordinator_sees_the_accepted_records_and_its_own(
    api: ApiScene, app, world
):
    """Another agency's draft is not a result of the round (its own page says so): after
    publication a coordinator gets the accepted responses and its own record, whether the
    round anonymises other agencies or not; the central office gets every record."""
    from assess.services.exports import anonymous_ids

    complete(api.response_a, api.coordinator_a, 0.7)
    responses.submit(api.response_a, api.coordinator_a)
    responses.review(api.response_a, api.reviewer, "accept")
    db.session.commit()
    extra = _three_more_accepted(api, world)
    fifth = world.agency("AG-X9", name_en="Extra 9")  # five accepted: anonymised scores shown
    fill(world.invite(api.round, fifth), api.reviewer, 0.45)
    extra.append(fifth.code)
    for target in ("closed", "published"):
        rounds.move(api.round, target)
    db.session.commit()
    assert api.response_b.status == "draft"
    url = f"/api/v1/rounds/{api.round.id}/scores"
    everyone = api.call("GET", url, api.token_r).get_json()
    assert [r["agency"] for r in everyone] == ["AG-A", "AG-B", *extra]
    by_code = {r["agency"]: r for r in everyone}
    seen = api.call("GET", url, api.token_a).get_json()
    assert seen == [by_code[code] for code in ("AG-A", *extra)]
    assert api.call("GET", url + "?agency=AG-B", api.token_a).status_code == 404
    # The draft's own coordinator sees its record beside the accepted ones.
    own = api.call("GET", url, api.token_b).get_json()
    assert own == [by_code[code] for code in ("AG-A", "AG-B", *extra)]
    assert api.call("GET", url + "?agency=AG-B", api.token_b).get_json() == [by_code["AG-B"]]
    # Anonymised: the same records, other agencies under their ids.
    api.round.anonymise_peers = True
    db.session.commit()
    ids = anonymous_ids(api.round, ["AG-A", *extra], app.config["SECRET_KEY"])
    seen = api.call("GET", url, api.token_b).get_json()
    assert sorted(r["agency"] for r in seen) == sorted(["AG-B", *ids.values()])


def test_scores_of_a_round_the_coordinator_is_not_in_is_404(api: ApiScene, world):
    other = world.round(api.version, agencies=[api.b], name="B only")
    reply = api.call("GET", f"/api/v1/rounds/{other.id}/scores", api.token_a)
    assert reply.status_code == 404
    assert api.call("GET", "/api/v1/rounds/9999/scores", api.token_r).status_code == 404


def test_benchmark_shape(api: ApiScene):
    _accepted_round(api)
    url = f"/api/v1/rounds/{api.round.id}/benchmark"
    rows = api.call("GET", url, api.token_r).get_json()
    from assess.scoring.benchmark import BENCHMARK_COLUMNS

    assert rows
    assert all(set(row) == set(BENCHMARK_COLUMNS) for row in rows)
    overall = [r for r in rows if r["measure"] == "overall"]
    assert {r["agency"] for r in overall} == {"AG-A", "AG-B"}
    assert all(r["by"] == "all" and r["group"] == "all" and r["n"] == 2 for r in overall)
    assert sorted(r["rank"] for r in overall) in ([1, 2], [1, 1])
    tags = api.call("GET", url + "?by=tag", api.token_r).get_json()
    assert {r["agency"] for r in tags} == {"AG-A"}
    assert {r["group"] for r in tags} == {"pilot"}
    province = api.call("GET", url + "?by=province", api.token_r).get_json()
    assert {r["group"] for r in province} == {"Chiang Mai"}
    assert api.call("GET", url + "?by=nonsense", api.token_r).status_code == 400


@pytest.mark.parametrize(
    ("tail", "unknown"),
    [
        ("/benchmark?group_by=type", ["group_by"]),  # ?by= misspelt: not all agencies instead
        ("/benchmark?by=type&limit=5", ["limit"]),
        ("/scores?kind=self", ["kind"]),  # /scores has no kinds: not verified scores instead
        ("/responses/AG-A?fields=answers&page=2", ["fields", "page"]),
        ("/responses/AG-A/scorecard.pdf?language=en", ["language"]),
    ],
)
def test_a_query_parameter_the_endpoint_does_not_take_is_400_naming_it(
    api: ApiScene, tail: str, unknown: list[str]
):
    _accepted_round(api)
    api.round.status = "published"
    db.session.commit()
    reply = api.call("GET", f"/api/v1/rounds/{api.round.id}{tail}", api.token_r)
    assert reply.status_code == 400
    assert reply.get_json()["details"] == {"query": {name: ["Unknown field."] for name in unknown}}
    # The endpoints' own parameters still work, and so does no parameter at all.
    base = f"/api/v1/rounds/{api.round.id}"
    for known in ("/benchmark?by=type", "/scores", "/responses/AG-A/scorecard.pdf?lang=en"):
        assert api.call("GET", base + known, api.token_r).status_code == 200
    assert api.call("GET", "/api/v1/rounds?x=1", api.token_r).get_json() == {
        "error": "Bad Request",
        "details": {"query": {"x": ["Unknown field."]}},
    }


def test_a_query_parameter_does_not_reveal_another_agencys_response(api: ApiScene):
    """What the caller may not see is 404 before any parameter is looked at."""
    reply = api.call("GET", api.url("AG-B", "?x=1"), api.token_a)
    assert reply.status_code == 404


def test_an_anonymised_round_shows_coordinators_other_agencies_only_as_anonymous_ids(
    api: ApiScene, app, world
):
    """As the open-data package names them. Groupings that would tell who is who (parent
    agency, province, tag) give only the agency's own rows, and a group of fewer than five
    agencies none: its median and best beside one's own score would tell the others'."""
    from assess.services.exports import anonymous_ids

    _accepted_round(api)
    extra = _three_more_accepted(api, world)
    api.round.status = "published"
    api.round.anonymise_peers = True
    db.session.commit()
    ids = anonymous_ids(api.round, ["AG-A", "AG-B", *extra], app.config["SECRET_KEY"])
    other = ids["AG-B"]
    others = {ids[code] for code in ("AG-B", *extra)}
    base = f"/api/v1/rounds/{api.round.id}"
    scores = api.call("GET", base + "/scores", api.token_a).get_json()
    assert [r["agency"] for r in scores] == sorted(["AG-A", *others])
    central = {r["agency"]: r for r in api.call("GET", base + "/scores", api.token_r).get_json()}
    assert {r["agency"]: r for r in scores}[other] == {**central["AG-B"], "agency": other}
    for by in ("all", "type"):
        rows = api.call("GET", f"{base}/benchmark?by={by}", api.token_a).get_json()
        assert {r["agency"] for r in rows} == {"AG-A", *others}, by
    for by in ("parent", "province", "tag"):
        rows = api.call("GET", f"{base}/benchmark?by={by}", api.token_a).get_json()
        whole = api.call("GET", f"{base}/benchmark?by={by}", api.token_r).get_json()
        assert rows == [r for r in whole if r["agency"] == "AG-A" and r["n"] >= 5], by
    tagged = api.call("GET", f"{base}/benchmark?by=tag", api.token_r).get_json()
    assert [r for r in tagged if r["agency"] == "AG-A"]  # AG-A alone in its tag: left out
    everyone = api.call("GET", base + "/benchmark?by=type", api.token_r).get_json()
    assert {r["agency"] for r in everyone} == {"AG-A", "AG-B", *extra}  # the central office
    api.round.anonymise_peers = False
    db.session.commit()
    scores = api.call("GET", base + "/scores", api.token_a).get_json()
    assert [r["agency"] for r in scores] == ["AG-A", "AG-B", *extra]


def test_an_anonymised_round_of_a_few_agencies_shows_only_ones_own(api: ApiScene):
    """Two agencies: the other's scores, anonymised or not, would say whose they are."""
    _accepted_round(api)
    api.round.status = "published"
    api.round.anonymise_peers = True
    db.session.commit()
    base = f"/api/v1/rounds/{api.round.id}"
    scores = api.call("GET", base + "/scores", api.token_a).get_json()
    assert [r["agency"] for r in scores] == ["AG-A"]
    for by in ("all", "type", "province", "tag"):
        assert api.call("GET", f"{base}/benchmark?by={by}", api.token_a).get_json() == [], by


def test_agency_narrows_scores_and_benchmark_to_one_agency(api: ApiScene, app, world):
    from assess.services.exports import anonymous_ids

    _accepted_round(api)
    extra = _three_more_accepted(api, world)
    base = f"/api/v1/rounds/{api.round.id}"

    def get(tail: str, token: str):  # type: ignore[no-untyped-def]
        return api.call("GET", base + tail, token)

    whole = get("/scores", api.token_r).get_json()
    assert get("/scores?agency=AG-B", api.token_r).get_json() == [whole[1]]
    missing = get("/scores?agency=AG-NOPE", api.token_r)
    assert missing.status_code == 404
    assert "AG-NOPE" in missing.get_json()["error"]
    # A coordinator before publication sees its own agency alone: another is not found.
    assert get("/scores?agency=AG-A", api.token_a).get_json() == [whole[0]]
    assert get("/scores?agency=AG-B", api.token_a).status_code == 404
    everyone = get("/benchmark?by=type", api.token_r).get_json()
    mine = get("/benchmark?by=type&agency=AG-A", api.token_r).get_json()
    assert mine
    assert mine == [r for r in everyone if r["agency"] == "AG-A"]
    assert get("/benchmark?agency=AG-NOPE", api.token_r).status_code == 404
    # Published and anonymised: another agency is asked for by the id the coordinator sees.
    api.round.status = "published"
    api.round.anonymise_peers = True
    db.session.commit()
    ids = anonymous_ids(api.round, ["AG-A", "AG-B", *extra], app.config["SECRET_KEY"])
    other = ids["AG-B"]
    rows = get(f"/benchmark?agency={other}", api.token_a).get_json()
    assert rows
    assert {r["agency"] for r in rows} == {other}
    assert [r["agency"] for r in get(f"/scores?agency={other}", api.token_a).get_json()] == [other]
    assert get("/benchmark?agency=AG-B", api.token_a).status_code == 404
    # By province the coordinator sees no other agency, under any id: not found, as above.
    hidden = get(f"/benchmark?by=province&agency={other}", api.token_a)
    assert hidden.status_code == 404
    assert other in hidden.get_json()["error"]
    # Its own rows by province: AG-A is alone in Chiang Mai, a group too small to show.
    assert get("/benchmark?by=province&agency=AG-A", api.token_a).get_json() == []
    own = get("/benchmark?by=type&agency=AG-A", api.token_a).get_json()
    assert own
    assert {r["agency"] for r in own} == {"AG-A"}
    assert get("/scores?agency=AG-B", api.token_r).get_json()[0]["agency"] == "AG-B"


def test_long_lists_are_what_their_schemas_would_dump(api: ApiScene):
    """Scores and benchmark rows skip marshmallow's dump: the JSON is the same as the
    schema's, with Thai text as it is."""
    from assess.api.schemas import BenchmarkRowSchema, ScoreSchema
    from assess.reports import data as cache
    from assess.services import reports, results

    _accepted_round(api)
    for response in (api.response_a, api.response_b):
        response.agency.province = "เชียงใหม่"
    db.session.commit()
    scores = api.call("GET", f"/api/v1/rounds/{api.round.id}/scores", api.token_r)
    assert scores.mimetype == "application/json"
    expected = ScoreSchema(many=True).dump(results.score_records(api.round))
    assert scores.get_json() == json.loads(json.dumps(expected))
    reply = api.call("GET", f"/api/v1/rounds/{api.round.id}/benchmark?by=province", api.token_r)
    rows = reports.benchmark_records(cache.round_results(api.round), "province")
    assert reply.get_json() == json.loads(json.dumps(BenchmarkRowSchema(many=True).dump(rows)))
    assert {row["group"] for row in reply.get_json()} == {"เชียงใหม่"}
    assert "เชียงใหม่".encode() in reply.data


def test_benchmark_counts_only_accepted_responses(api: ApiScene):
    _submitted(api)
    url = f"/api/v1/rounds/{api.round.id}/benchmark"
    assert api.call("GET", url, api.token_r).get_json() == []
    # The round's tables are kept between requests, and never stale: accepted, it counts.
    reply = api.call("POST", api.url(tail="/review"), api.token_r, json={"action": "accept"})
    assert reply.status_code == 200
    rows = api.call("GET", url, api.token_r).get_json()
    assert {r["agency"] for r in rows} == {"AG-A"}


def test_benchmark_for_coordinators_only_after_publication(api: ApiScene):
    _accepted_round(api)
    url = f"/api/v1/rounds/{api.round.id}/benchmark?by=type"
    assert api.call("GET", url, api.token_a).status_code == 403
    for target in ("closed", "published"):
        rounds.move(api.round, target)
    db.session.commit()
    reply = api.call("GET", url, api.token_a)
    assert reply.status_code == 200
    assert {r["group"] for r in reply.get_json()} == {"department"}


# -- the OpenAPI document and the reference page ------------------------------------------------


def test_openapi_document_is_valid_and_lists_every_route(api: ApiScene, app):
    from openapi_spec_validator import validate

    reply = api.client.get("/api/v1/openapi.json")
    assert reply.status_code == 200
    spec = reply.get_json()
    validate(spec)
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    documented = {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in ("get", "put", "post", "patch", "delete")
    }
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                routed.add((method, path))
    assert routed == documented
    # Every path documents the messages' ?lang= and every query parameter it takes.
    for path, item in spec["paths"].items():
        assert {"name": "lang", "in": "query"}.items() <= item["parameters"][0].items(), path
    query = {
        path: {p["name"] for p in item["get"].get("parameters", []) if p["in"] == "query"}
        for path, item in spec["paths"].items()
        if "get" in item
    }
    assert query["/api/v1/rounds/{round_id}/scores"] == {"agency"}
    assert query["/api/v1/rounds/{round_id}/benchmark"] == {"by", "agency"}
    expected = {
        ("GET", "/api/v1/rounds"),
        ("GET", "/api/v1/rounds/{round_id}/responses/{agency_code}"),
        ("PATCH", "/api/v1/rounds/{round_id}/responses/{agency_code}/answers"),
        ("POST", "/api/v1/rounds/{round_id}/responses/{agency_code}/submit"),
        ("POST", "/api/v1/rounds/{round_id}/responses/{agency_code}/review"),
        ("PUT", "/api/v1/rounds/{round_id}/responses/{agency_code}/verified/{question}"),
        ("GET", "/api/v1/rounds/{round_id}/scores"),
        ("GET", "/api/v1/rounds/{round_id}/benchmark"),
        ("GET", "/api/v1/rounds/{round_id}/responses/{agency_code}/scorecard.pdf"),
    }
    assert documented == expected
    patch = spec["paths"]["/api/v1/rounds/{round_id}/responses/{agency_code}/answers"]["patch"]
    assert {"200", "400", "401", "403", "404", "409", "413", "422", "429"} <= set(
        patch["responses"]
    )


def test_reference_page_is_served_locally(api: ApiScene):
    page = api.client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/api/v1/docs/assets/swagger-ui-bundle.js" in html
    assert "/api/v1/openapi.json" in html
    assert "https://" not in html
    asset = api.client.get("/api/v1/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200
    asset.close()


def test_api_errors_are_english_by_default(api: ApiScene):
    reply = api.call("GET", api.url("AG-A", round_id=9999), api.token_r)
    assert "no such round" in reply.get_json()["error"]


def test_lang_th_gives_thai_messages_on_any_endpoint(api: ApiScene):
    body = {"revision": 0, "answers": {"mgmt.process_digital": "lots"}}
    english = api.call("PATCH", api.url(tail="/answers"), api.token_a, json=body)
    thai = api.call("PATCH", api.url(tail="/answers?lang=th"), api.token_a, json=body)
    assert english.status_code == thai.status_code == 422
    reason = thai.get_json()["details"]["mgmt.process_digital"]
    assert reason != english.get_json()["details"]["mgmt.process_digital"]
    assert any("\u0e00" <= char <= "\u0e7f" for char in reason), reason
    # Beside an endpoint's own parameters too, and refused when it is not a language.
    _accepted_round(api)
    url = f"/api/v1/rounds/{api.round.id}/benchmark?by=type&lang=th"
    assert api.call("GET", url, api.token_r).status_code == 200
    wrong = api.call("GET", f"/api/v1/rounds/{api.round.id}/scores?lang=fr", api.token_r)
    assert wrong.status_code == 400
    assert wrong.get_json()["details"] == {"query": {"lang": ["Must be one of: th, en."]}}


def test_web_error_pages_stay_html(client):
    reply = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert reply.status_code == 404
    assert reply.content_type.startswith("text/html")


def test_a_coordinator_sees_no_verified_value_before_the_results_are_out(api: ApiScene):
    """A reviewer's verified value moves the agency's verified score at once, but its
    coordinator is shown it (as on the pages) only once the results are preliminary."""
    _accepted_round(api)
    url = f"/api/v1/rounds/{api.round.id}/scores"
    before = api.call("GET", url, api.token_a).get_json()[0]
    path = api.url("AG-A", "/verified/mgmt.leadership")
    reply = api.call("PUT", path, api.token_r, json={"value": 0, "reason": "no evidence"})
    assert reply.status_code == 200, reply.get_json()
    central = api.call("GET", url, api.token_r).get_json()[0]
    assert central["dimensions"]["mgmt"]["score"] < before["dimensions"]["mgmt"]["score"]
    assert api.call("GET", url, api.token_a).get_json()[0] == before  # self-assessed
    rounds.move(api.round, "closed")
    rounds.move(api.round, "preliminary", api.reviewer)
    db.session.commit()
    assert api.call("GET", url, api.token_a).get_json()[0] == central
