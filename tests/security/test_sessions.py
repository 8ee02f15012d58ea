"""Sessions: a fresh session at sign-in, server-side records that signing out and password
changes delete (a copied cookie stops working), the idle timeout and the cookie flags."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from assess.auth import sessions
from assess.extensions import db
from assess.models import UserSession, utcnow

FETCH = {"X-Requested-With": "fetch"}
PASSWORD = "correct horse battery"


def rows(user_id: int | None = None) -> list[UserSession]:
    db.session.expire_all()
    query = select(UserSession)
    if user_id is not None:
        query = query.where(UserSession.user_id == user_id)
    return list(db.session.scalars(query))


def committed(user_id: int) -> list[tuple[dt.datetime]]:
    """The user's session rows' last-seen times as another connection sees them: what the
    request committed, not what the test's own session holds."""
    with db.engine.connect() as connection:
        query = select(UserSession.last_seen_at).where(UserSession.user_id == user_id)
        return [tuple(row) for row in connection.execute(query)]


def copy_cookie(source, target) -> None:  # type: ignore[no-untyped-def]
    """Give ``target`` the session cookie of ``source`` (a stolen or copied cookie)."""
    domain = source.application.config.get("SERVER_NAME") or "localhost"
    cookie = source.get_cookie("session", domain=domain)
    assert cookie is not None
    target.set_cookie("session", cookie.value, domain=domain)


def signed_in(client) -> bool:  # type: ignore[no-untyped-def]
    reply = client.get("/profile")
    if reply.status_code == 200:
        return True
    assert reply.status_code == 302
    assert "/login" in reply.headers["Location"]
    return False


@pytest.fixture
def user(world):  # type: ignore[no-untyped-def]
    user = world.user("coord@example.go.th", agency=world.agency("AG-1"))
    user.language = "en"
    db.session.commit()
    return user


def test_sign_in_starts_from_an_empty_session(client, user):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker before sign-in"
        session["lang"] = "en"
        session["_fresh"] = False
    assert (
        client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    )
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["lang"] == "en"  # the language chosen before signing in stays
        token = session[sessions.SESSION_KEY]
        assert session["_user_id"] == f"{user.id}:{user.session_epoch}"
    [row] = rows(user.id)
    assert row.token_hash == sessions._digest(token)
    assert token not in row.token_hash  # only the hash is stored
    # Signing in again in the same browser replaces the record (a new random id).
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    with client.session_transaction() as session:
        assert session[sessions.SESSION_KEY] != token
    assert len(rows(user.id)) == 1


def test_a_copied_cookie_stops_working_after_sign_out(app, client, user):
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    thief = app.test_client()
    copy_cookie(client, thief)
    assert signed_in(thief)  # the copy works while the session lives
    assert client.post("/logout").status_code == 302
    assert rows(user.id) == []
    assert not signed_in(client)
    assert not signed_in(thief)  # ... and not after signing out
    # The autosave behind the copied cookie gets the JSON 401 too.
    reply = thief.post("/rounds/1/answers", json={"revision": 0, "answers": {}}, headers=FETCH)
    assert reply.status_code == 401
    assert reply.get_json()["error"] == "unauthenticated"


def test_a_password_change_ends_the_other_sessions(app, client, user):
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    laptop = app.test_client()
    laptop.post("/login", data={"email": user.email, "password": PASSWORD})
    copy = app.test_client()
    copy_cookie(client, copy)
    assert signed_in(laptop)
    assert signed_in(copy)
    assert len(rows(user.id)) == 2
    with client.session_transaction() as session:
        before = session[sessions.SESSION_KEY]
    reply = client.post(
        "/profile",
        data={
            "pw-current": PASSWORD,
            "pw-new": "a brand new passphrase",
            "pw-again": "a brand new passphrase",
            "pw-submit": "1",
        },
    )
    assert reply.status_code == 302
    assert signed_in(client)  # this browser stays signed in, with a new id
    with client.session_transaction() as session:
        assert session[sessions.SESSION_KEY] != before
    assert not signed_in(laptop)
    assert not signed_in(copy)
    assert len(rows(user.id)) == 1


def test_an_admin_resetting_the_password_ends_the_users_sessions(app, client, world, user):
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    world.user("admin@example.go.th", role="admin")
    admin = app.test_client()
    admin.post("/login", data={"email": "admin@example.go.th", "password": PASSWORD})
    user.set_password("reset by the admin")
    db.session.commit()
    assert not signed_in(client)
    assert signed_in(admin)


def age(user_id: int, *, seen: dt.timedelta, created: dt.timedelta | None = None) -> None:
    """Pretend the user's session was last seen ``seen`` ago (and made ``created`` ago)."""
    now = utcnow()
    for row in rows(user_id):
        row.last_seen_at = now - seen
        row.created_at = now - (created or seen)
    db.session.commit()


def test_an_idle_session_ends_and_the_autosave_gets_a_json_401(app, client, user):
    assert app.config["SESSION_IDLE_MINUTES"] == 30
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    age(user.id, seen=dt.timedelta(minutes=31))
    reply = client.post("/rounds/1/answers", json={"revision": 0, "answers": {}}, headers=FETCH)
    assert reply.status_code == 401
    body = reply.get_json()
    assert body["error"] == "unauthenticated"
    assert body["login_url"].endswith("/login")
    assert rows(user.id) == []  # the ended record is gone
    assert committed(user.id) == []  # and that was committed
    # The sign-in page says why; signing in again works.
    page = client.get("/login?lang=en")
    assert "Your session has ended" in page.get_data(as_text=True)
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert signed_in(client)


def test_activity_keeps_a_session_alive(app, client, user):
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    age(user.id, seen=dt.timedelta(minutes=29), created=dt.timedelta(hours=2))
    assert signed_in(client)
    [row] = rows(user.id)
    assert utcnow() - row.last_seen_at < dt.timedelta(minutes=1)  # marked seen just now
    assert committed(user.id) == [(row.last_seen_at,)]  # and that was committed
    # A request soon after does not write again (at most once a minute).
    seen = row.last_seen_at
    assert signed_in(client)
    [row] = rows(user.id)
    assert row.last_seen_at == seen


def test_the_idle_timeout_is_configurable(app, client, user):
    app.config["SESSION_IDLE_MINUTES"] = 5
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    age(user.id, seen=dt.timedelta(minutes=6))
    assert not signed_in(client)


def test_a_session_ends_a_working_day_after_sign_in_even_when_active(client, user):
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    age(user.id, seen=dt.timedelta(minutes=1), created=dt.timedelta(hours=8, minutes=1))
    assert not signed_in(client)


def test_ended_records_are_deleted_at_the_next_sign_in(app, client, world, user):
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    age(user.id, seen=dt.timedelta(hours=1))
    other = world.user("other@example.go.th", agency=world.agency("AG-2"))
    app.test_client().post("/login", data={"email": other.email, "password": PASSWORD})
    assert rows(user.id) == []
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 1


def test_session_cookie_flags(client, user):
    reply = client.post("/login", data={"email": user.email, "password": PASSWORD})
    cookie = next(c for c in reply.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development over plain http (production: test_config)
    assert "remember_token" not in " ".join(reply.headers.getlist("Set-Cookie"))


def test_a_deactivated_user_is_signed_out(client, user):
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    user.active = False
    db.session.commit()
    assert not signed_in(client)


def test_the_session_cookie_is_written_at_sign_in_not_on_every_request(client, user):
    """Its lifetime counts from sign-in (as the server-side row's); requests that change
    nothing in the session do not re-sign it (an autosave every few seconds)."""
    signed = client.post("/login", data={"email": user.email, "password": PASSWORD})
    cookie = signed.headers.get("Set-Cookie", "")
    assert cookie.startswith("session=")
    assert "Expires=" in cookie
    client.get("/profile")  # the first form puts the CSRF token in the session
    for path in ("/profile", "/my", "/profile"):
        reply = client.get(path)
        assert reply.status_code == 200, path
        assert "session=" not in reply.headers.get("Set-Cookie", ""), path
    # A change to the session (the language) writes it again.
    assert "session=" in client.get("/profile?lang=th").headers.get("Set-Cookie", "")


def _api_ok(client, token: str) -> bool:  # type: ignore[no-untyped-def]
    return (
        client.get("/api/v1/rounds", headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )


def test_a_password_change_revokes_the_users_api_tokens(app, client, user):
    """A token copied before the password changed must not outlive it."""
    from assess.services import users

    token = users.issue_token(user, "integration")
    db.session.commit()
    assert _api_ok(app.test_client(), token)
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    reply = client.post(
        "/profile",
        data={
            "pw-current": PASSWORD,
            "pw-new": "a brand new passphrase",
            "pw-again": "a brand new passphrase",
            "pw-submit": "1",
        },
        follow_redirects=True,
    )
    assert "API token was revoked" in reply.get_data(as_text=True)
    assert not _api_ok(app.test_client(), token)


def test_an_admin_reset_or_a_new_role_revokes_the_users_api_tokens(app, client, world, user):
    from assess.services import users

    world.user("admin@example.go.th", role="admin")
    client.post("/login", data={"email": "admin@example.go.th", "password": PASSWORD})
    form = {"name": "Coordinator", "role": "coordinator", "agency_code": "AG-1", "language": "en"}
    kept = users.issue_token(user, "kept")
    db.session.commit()
    # A new name alone keeps the token.
    assert client.post(f"/central/users/{user.id}", data={**form, "active": "y"}).status_code == 302
    assert _api_ok(app.test_client(), kept)
    # A new password ends it.
    reply = client.post(
        f"/central/users/{user.id}",
        data={**form, "active": "y", "password": "reset by the admin 1"},
    )
    assert reply.status_code == 302
    assert not _api_ok(app.test_client(), kept)
    # So does a new role: a coordinator's token would read every agency as a reviewer's.
    promoted = users.issue_token(user, "promoted")
    db.session.commit()
    reply = client.post(
        f"/central/users/{user.id}",
        data={**form, "role": "reviewer", "agency_code": "", "active": "y"},
    )
    assert reply.status_code == 302
    assert not _api_ok(app.test_client(), promoted)


def test_deactivating_ends_sessions_and_tokens_for_good(app, client, world, user):
    """An account deactivated (someone left, a cookie or token leaked) loses its signed-in
    browsers and its API tokens; reactivating it brings neither back."""
    from assess.models import User
    from assess.services import users

    token = users.issue_token(user, "integration")
    db.session.commit()
    laptop = app.test_client()
    laptop.post("/login", data={"email": user.email, "password": PASSWORD})
    assert len(rows(user.id)) == 1
    world.user("admin@example.go.th", role="admin")
    client.post("/login", data={"email": "admin@example.go.th", "password": PASSWORD})
    form = {"name": "Coordinator", "role": "coordinator", "agency_code": "AG-1", "language": "en"}
    assert client.post(f"/central/users/{user.id}", data=form).status_code == 302  # inactive
    assert rows(user.id) == []
    # The laptop makes no request while the account is inactive; then it is reactivated.
    assert client.post(f"/central/users/{user.id}", data={**form, "active": "y"}).status_code == 302
    assert db.session.get(User, user.id).active
    assert not signed_in(laptop)
    assert not _api_ok(app.test_client(), token)
    # The activity log says what the deactivation ended.
    log = client.get("/central/activity?lang=en").get_data(as_text=True)
    assert "API tokens revoked" in log
    assert "Signed-in sessions ended" in log
    # The person can sign in again with the same password.
    again = app.test_client()
    again.post("/login", data={"email": user.email, "password": PASSWORD})
    assert signed_in(again)
