"""Who may download a scorecard and when; the verification page; the central office's
bulk export as a background job on the embedded queue."""

from __future__ import annotations

import io
import time
import zipfile

import pytest
from sqlalchemy import select

from assess import jobs
from assess.extensions import db
from assess.models import Job, User
from assess.scorecards import codes
from tests.scorecards.conftest import Scene


def _url(scene: Scene, agency: str = "AG-A", lang: str | None = None) -> str:
    tail = f"?lang={lang}" if lang else ""
    return f"/rounds/{scene.round.id}/responses/{agency}/scorecard.pdf{tail}"


def test_anonymous_visitors_are_sent_to_sign_in(client, scene):
    reply = client.get(_url(scene))
    assert reply.status_code == 302
    assert "/login" in reply.headers["Location"]


def test_a_coordinator_waits_for_the_results(client, auth, scene):
    auth.login("a@example.go.th")
    assert client.get(_url(scene)).status_code == 404  # closed: not out yet
    scene.publish("preliminary")
    reply = client.get(_url(scene))
    assert reply.status_code == 200
    assert reply.mimetype == "application/pdf"
    assert 'filename="scorecard-2569-AG-A-th.pdf"' in reply.headers["Content-Disposition"]
    assert reply.headers["Cache-Control"] == "private, no-store"


def test_a_coordinator_never_gets_another_agencys(client, auth, scene):
    scene.publish()
    auth.login("a@example.go.th")
    assert client.get(_url(scene, "AG-B")).status_code == 404
    assert client.get(_url(scene, "NO-SUCH")).status_code == 404
    assert client.get(_url(scene, lang="en")).status_code == 200


def test_the_central_office_gets_any_once_closed(client, auth, scene, world):
    auth.login("r@example.go.th")
    reply = client.get(_url(scene, "AG-B", "en"))
    assert reply.status_code == 200
    assert reply.headers["Content-Disposition"].endswith('scorecard-2569-AG-B-en.pdf"')
    still_open = world.round(agencies=[scene.a], name="Open round")
    # The central office is told why there is none (an agency's coordinator is not).
    db.session.scalar(select(User).where(User.email == "r@example.go.th")).language = "en"
    db.session.commit()
    reply = client.get(f"/rounds/{still_open.id}/responses/AG-A/scorecard.pdf")
    assert reply.status_code == 409
    assert f"Round {still_open.id} is open: its scorecards come once it is closed." in text(reply)
    reply = client.get(f"/rounds/{still_open.id}/responses/AG-B/scorecard.pdf")
    assert reply.status_code == 404
    assert f"agency AG-B is not invited to round {still_open.id}" in text(reply)
    reply = client.get(_url(scene, "NO-SUCH"))
    assert (reply.status_code, "Agency NO-SUCH: no such agency." in text(reply)) == (404, True)
    reply = client.get("/rounds/9999/responses/AG-A/scorecard.pdf")
    assert (reply.status_code, "round 9999: no such round" in text(reply)) == (404, True)


def text(reply) -> str:  # type: ignore[no-untyped-def]
    return reply.get_data(as_text=True)


def test_verification_page(client, scene):
    scene.publish()
    from flask import current_app

    code = codes.verification_code(scene.response, current_app.config["SECRET_KEY"])
    assert code.startswith(f"{scene.round.id}:AG-A:")
    reply = client.get("/scorecards/verify", query_string={"code": code})
    assert reply.status_code == 200
    page = reply.get_data(as_text=True)
    assert "กรมสรรพากร" in page
    assert "alert-success" in page
    # Spaces, line breaks and lower case from copying the code are forgiven.
    prefix, mac = code.rsplit(":", 1)
    messy = f" {prefix}:\n{mac.lower().replace('-', ' - ')} "
    assert "alert-success" in client.get("/scorecards/verify", query_string={"code": messy}).text
    # A wrong MAC, another agency, an unknown round: the same answer, nothing named.
    wrong = (
        prefix
        + ":"
        + ("AAAA-AAAA-AAAA-AAAA" if mac != "AAAA-AAAA-AAAA-AAAA" else "BBBB-BBBB-BBBB-BBBB")
    )
    for other in (
        wrong,
        code.replace(":AG-A:", ":AG-B:"),
        code.replace(f"{scene.round.id}:", "999:", 1),
    ):
        page = client.get("/scorecards/verify", query_string={"code": other}).text
        assert "alert-danger" in page
        assert "กรมสรรพากร" not in page
    page = client.get("/scorecards/verify", query_string={"code": "nonsense"}).text
    assert "alert-warning" in page


def test_a_code_typed_in_lower_case_or_with_lookalike_digits_still_matches(client, scene):
    """A reader copies the agency code in lower case, or types 0 for O, 1 for I, 8 for B
    (base32 has none of those digits): the code is mended, never turned into another."""
    scene.publish()
    from flask import current_app

    code = codes.verification_code(scene.response, current_app.config["SECRET_KEY"])
    round_id, agency, mac = code.split(":")
    typed = f"{round_id}:{agency.lower()}:{mac.replace('-', '').lower()}"
    lookalike = mac.translate(str.maketrans({"O": "0", "I": "1", "B": "8"}))
    assert lookalike != mac  # the test's secret gives a code with one of those letters
    for other in (typed, f"{round_id}:{agency}:{lookalike}"):
        page = client.get("/scorecards/verify", query_string={"code": other}).text
        assert "alert-success" in page, other
        # What the code vouches for, and what it does not (in Thai, the default).
        assert "รหัสนี้รับรองเฉพาะคะแนนและระดับของหน่วยงานเอง" in page
    assert codes.check(typed, current_app.config["SECRET_KEY"]) is scene.response
    assert not set("018") & set(codes.parse(code)[2])  # the alphabet has no lookalikes


def test_a_code_stops_matching_when_a_score_changes(scene):
    from flask import current_app

    secret = current_app.config["SECRET_KEY"]
    code = codes.verification_code(scene.response, secret)
    assert codes.check(code, secret) is scene.response
    assert codes.check(code, "another secret") is None
    from assess.services import responses

    responses.verify(scene.response, scene.reviewer, scene.question.code, True, "evidence found")
    db.session.commit()
    assert codes.check(code, secret) is None
    assert codes.verification_code(scene.response, secret) != code


# -- the bulk export, embedded queue (no server) ---------------------------------------------------


def _wait(job_id: int, seconds: float = 120) -> Job:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.expire_all()
        job = db.session.get(Job, job_id)
        if job.status in ("done", "failed"):
            return job
        time.sleep(0.2)
    pytest.fail(f"job {job_id} did not finish in {seconds} s")


@pytest.fixture
def embedded(app):  # type: ignore[no-untyped-def]
    """The app's job queue, its consumer thread stopped at the end."""
    app.config["SCORECARD_PROCESSES"] = 1
    queue = jobs.init_app(app)
    assert queue.embedded
    assert not queue.redis
    yield queue
    queue.stop()


def test_bulk_export_on_the_embedded_queue(client, auth, scene, embedded):
    auth.login("r@example.go.th")
    status = f"/central/rounds/{scene.round.id}/scorecards/status"
    assert client.get(status).get_json() == {"job": None}
    reply = client.post(
        f"/central/rounds/{scene.round.id}/scorecards",
        data={"lang": "en"},
        headers={"Accept": "application/json"},
    )
    assert reply.status_code == 202
    job = _wait(reply.get_json()["job"])
    assert job.status == "done", job.error
    state = client.get(status).get_json()
    assert state["status"] == "done"
    assert state["done"] == state["total"] == 5
    download = client.get(state["download_url"])
    assert download.status_code == 200
    assert download.mimetype == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(download.data)).namelist()
    assert sorted(names) == [f"scorecard-2569-AG-{c}-en.pdf" for c in "ABCPX"]
    download.close()


def test_bulk_export_is_the_central_offices(client, auth, scene):
    auth.login("a@example.go.th")
    assert client.post(f"/central/rounds/{scene.round.id}/scorecards").status_code == 403
    assert client.get(f"/central/rounds/{scene.round.id}/scorecards/status").status_code == 403
    auth.logout()
    auth.login("r@example.go.th")
    assert client.get("/central/scorecards/12345.zip").status_code == 404


def test_the_round_page_include_shows_the_button(app, client, auth, scene):
    from flask import render_template_string

    auth.login("r@example.go.th")
    with app.test_request_context():
        from flask_login import login_user

        login_user(scene.reviewer)
        html = render_template_string(
            '{% include "scorecards/_bulk.html" %}', round=scene.round, lang="en"
        )
    assert "scorecards-bulk" in html
    assert f"/central/rounds/{scene.round.id}/scorecards" in html
    assert "d-none" in html  # no job yet: no progress bar


def test_a_response_never_started_has_no_scorecard(client, auth, scene, world):
    """No scores, no scorecard: a clear 404, and neither page offers one (as the bulk
    export leaves it out)."""
    quiet = world.agency("AG-N", name_en="Never Started Office")
    response = world.invite(scene.round, quiet)
    db.session.commit()
    assert response.status == "not_started"
    assert not response.results
    auth.login("r@example.go.th")
    reply = client.get(_url(scene, "AG-N", "en"))
    assert reply.status_code == 404
    html = reply.get_data(as_text=True)
    assert "AG-N never started its response to this round" in html
    # A download refused changes nothing: the page does not say "Not done … nothing was
    # changed", as it does for a form it refuses.
    assert "Not available" in html
    assert "It cannot be shown or downloaded" in html
    assert "Not done" not in html
    assert "Nothing was changed" not in html
    review = client.get(f"/central/rounds/{scene.round.id}/responses/AG-N").get_data(as_text=True)
    assert "scorecard.pdf" not in review
    page = client.get(f"/central/rounds/{scene.round.id}/responses/AG-N/results")
    assert page.status_code == 404
    assert "AG-N ไม่ได้เริ่มตอบแบบประเมินของรอบนี้ จึงไม่มีผลการประเมิน" in page.get_data(as_text=True)
    assert "/responses/AG-N/results" not in review
    # Scoring the whole round gives it zeros: still nothing to show as its results.
    from assess.scorecards.bulk import responses_of
    from assess.services import results

    results.recompute_round(scene.round)
    db.session.commit()
    db.session.refresh(response)
    assert response.results
    assert client.get(_url(scene, "AG-N", "en")).status_code == 404
    assert "AG-N" not in [r.agency.code for r in responses_of(scene.round)]
    # An agency that answered still has its scorecard, and the links to it.
    review = client.get(f"/central/rounds/{scene.round.id}/responses/AG-B").get_data(as_text=True)
    assert "/responses/AG-B/scorecard.pdf" in review
