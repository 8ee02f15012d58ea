"""The keep-alive behind a page's "Stay signed in" (session.js), the seconds-left header of
signed-in replies and the data a signed-in page gives session.js."""

from __future__ import annotations

import datetime as dt
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from assess.auth import sessions
from assess.auth.routes import page_path
from assess.extensions import db
from assess.models import utcnow
from tests.security.test_sessions import PASSWORD, age, committed, rows

KEEP_ALIVE = "/session/keep-alive"
FETCH = {"X-Requested-With": "fetch", "Accept": "application/json"}


@pytest.fixture
def user(world):  # type: ignore[no-untyped-def]
    user = world.user("reviewer@example.go.th", role="reviewer")
    user.language = "en"
    db.session.commit()
    return user


def sign_in(client, user) -> None:  # type: ignore[no-untyped-def]
    reply = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert reply.status_code == 302


def test_the_keep_alive_marks_the_session_seen_even_within_the_minute(client, user):
    sign_in(client, user)
    # Seen 40 s ago: a normal request would not write last_seen_at again (at most once a
    # minute), but tells the page how long is left, counted from that time.
    age(user.id, seen=dt.timedelta(seconds=40), created=dt.timedelta(hours=1))
    before = rows(user.id)[0].last_seen_at  # (a value: the row object is read again later)
    page = client.get("/profile")
    assert page.status_code == 200
    assert 1750 <= int(page.headers[sessions.IDLE_HEADER]) <= 1760
    assert committed(user.id) == [(before,)]

    reply = client.post(KEEP_ALIVE, headers=FETCH)
    assert reply.status_code == 200
    body = reply.get_json()
    assert 1795 <= body["idle_seconds"] <= 1800  # the whole idle time (30 minutes) again
    assert 7 * 3600 - 5 <= body["max_age_seconds"] <= 7 * 3600  # 8 hours from sign-in
    assert 1795 <= int(reply.headers[sessions.IDLE_HEADER]) <= 1800
    [(seen,)] = committed(user.id)  # written and committed
    assert utcnow() - seen < dt.timedelta(seconds=5)
    assert seen > before


def test_the_keep_alive_does_not_extend_the_maximum_age(client, user):
    sign_in(client, user)
    age(user.id, seen=dt.timedelta(minutes=10), created=dt.timedelta(hours=7, minutes=59))
    body = client.post(KEEP_ALIVE, headers=FETCH).get_json()
    assert 55 <= body["max_age_seconds"] <= 60
    assert body["idle_seconds"] >= 1795


def test_anonymous_gets_a_json_401_not_the_sign_in_redirect(client):
    for headers in (FETCH, {}):  # even without asking for JSON: it is a script's URL
        reply = client.post(KEEP_ALIVE, headers=headers)
        assert reply.status_code == 401
        assert reply.get_json()["error"] == "unauthenticated"
        assert reply.get_json()["login_url"].endswith("/login")
        assert sessions.IDLE_HEADER not in reply.headers


def test_an_ended_session_gets_a_json_401(client, user):
    sign_in(client, user)
    age(user.id, seen=dt.timedelta(minutes=31))
    reply = client.post(KEEP_ALIVE, headers=FETCH)
    assert reply.status_code == 401
    assert reply.get_json()["error"] == "unauthenticated"
    assert rows(user.id) == []  # it did not come back
    # The sign-in page says why the session ended.
    assert "Your session has ended" in client.get("/login?lang=en").get_data(as_text=True)


def test_a_signed_out_session_gets_a_json_401(client, user):
    sign_in(client, user)
    client.post("/logout")
    assert client.post(KEEP_ALIVE, headers=FETCH).status_code == 401


def test_the_keep_alive_needs_the_csrf_token(app, client, user):
    sign_in(client, user)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        page = client.get("/profile").get_data(as_text=True)
        token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
        assert token is not None
        refused = client.post(KEEP_ALIVE, headers=FETCH)
        assert refused.status_code == 400
        assert refused.get_json()["error"] == "csrf"
        age(user.id, seen=dt.timedelta(seconds=30))
        before = rows(user.id)[0].last_seen_at
        reply = client.post(KEEP_ALIVE, headers={**FETCH, "X-CSRFToken": token.group(1)})
        assert reply.status_code == 200
        assert committed(user.id)[0][0] > before
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def session_data(html: str) -> dict | None:  # type: ignore[type-arg]
    found = re.search(r'<script type="application/json" id="session-data">(.*?)</script>', html)
    return json.loads(found.group(1)) if found else None


def test_a_signed_in_page_gives_session_js_its_data(client, user):
    sign_in(client, user)
    age(user.id, seen=dt.timedelta(seconds=20), created=dt.timedelta(hours=2))
    html = client.get("/profile").get_data(as_text=True)
    assert "js/session.js" in html
    data = session_data(html)
    assert data is not None
    assert 1775 <= data["idle_seconds"] <= 1780  # counted from the last write
    assert 6 * 3600 - 5 <= data["max_age_seconds"] <= 6 * 3600
    assert data["warn_seconds"] == 120
    assert data["urls"] == {"keep_alive": KEEP_ALIVE, "login": "/login", "logout": "/logout"}
    assert data["started"]  # which sign-in the page belongs to
    assert data["messages"]["stay"] == "Stay signed in"
    assert data["messages"]["idle"] == "Your session will end in {time} because of inactivity."
    assert "8 hours" in data["messages"]["limit"]
    # The same sign-in on the next page; a new one after signing in again.
    assert session_data(client.get("/profile").get_data(as_text=True))["started"] == data["started"]  # type: ignore[index]
    sign_in(client, user)
    assert session_data(client.get("/profile").get_data(as_text=True))["started"] != data["started"]  # type: ignore[index]


def test_a_short_idle_time_warns_at_half_of_it(app, client, user):
    app.config["SESSION_IDLE_MINUTES"] = 3
    sign_in(client, user)
    data = session_data(client.get("/profile").get_data(as_text=True))
    assert data is not None
    assert data["warn_seconds"] == 90


def test_pages_without_a_session_have_no_timer(client, user):
    html = client.get("/login").get_data(as_text=True)
    assert "session.js" not in html
    assert session_data(html) is None
    sign_in(client, user)
    static = client.get("/static/css/assess.css")
    assert sessions.IDLE_HEADER not in static.headers  # assets do not keep a session alive
    static.close()


# -- signing in again comes back to a page, never to a POST-only address ---------------------

VERIFY = "/central/rounds/1/responses/AG-1/verify"  # POST only: a refused form is shown there
REVIEW_PAGE = "/central/rounds/1/responses/AG-1?dimension=mgmt"


def next_of(reply) -> str | None:  # type: ignore[no-untyped-def]
    """Where the sign-in page will send the person back to."""
    assert reply.status_code == 302
    location = urlsplit(reply.headers["Location"])
    assert location.path == "/login"
    return parse_qs(location.query).get("next", [None])[0]


def ours(app, path: str) -> str:  # type: ignore[no-untyped-def]
    return f"http://{app.config['SERVER_NAME']}{path}"


def test_a_page_asked_for_without_a_session_comes_back_after_signing_in(client):
    assert next_of(client.get(REVIEW_PAGE)) == REVIEW_PAGE
    assert next_of(client.get("/central/rounds")) == "/central/rounds"


def test_a_form_sent_after_the_session_ended_comes_back_to_the_page_it_was_sent_from(app, client):
    # Flask-Login's own redirect named the form's address, which answers a GET with 405.
    reply = client.post(VERIFY, headers={"Referer": ours(app, REVIEW_PAGE)})
    assert next_of(reply) == REVIEW_PAGE
    # Sent from another site, or with no Referer: no way back but the home page.
    assert next_of(client.post(VERIFY, headers={"Referer": "https://evil.example/x"})) is None
    assert next_of(client.post(VERIFY)) is None


def test_a_page_shown_in_answer_to_a_form_names_the_page_it_was_sent_from(app):
    """What session.js's "Sign in again" comes back to (``here``)."""
    with app.test_request_context(REVIEW_PAGE):
        assert page_path() == REVIEW_PAGE
    with app.test_request_context(
        VERIFY, method="POST", headers={"Referer": ours(app, REVIEW_PAGE)}
    ):
        assert page_path() == REVIEW_PAGE
