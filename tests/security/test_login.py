"""Signing in: one message for every failure, failed attempts limited per client address and
per account name (429 with Retry-After), on memory and on Redis; scrypt hashes, and older
hashes upgraded at sign-in."""

from __future__ import annotations

import re
import uuid

import pytest

from assess.auth import passwords
from assess.extensions import db

PASSWORD = "correct horse battery"
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
pytestmark = sqlite_only  # nothing here depends on the database engine


@pytest.fixture
def user(world):  # type: ignore[no-untyped-def]
    return world.user("coord@example.go.th", agency=world.agency("AG-1"))


def attempt(client, email: str, password: str = "wrong password", addr: str = "192.0.2.1"):  # type: ignore[no-untyped-def]
    return client.post(
        "/login?lang=en",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": addr},
    )


def alert(reply) -> str:  # type: ignore[no-untyped-def]
    html = reply.get_data(as_text=True)
    start = html.index('class="alert')
    return html[start : html.index("</div>", start)]


def test_unknown_user_wrong_password_and_inactive_account_look_the_same(client, world, user):
    world.user("gone@example.go.th", agency=world.agency("AG-2")).active = False
    db.session.commit()
    replies = [
        attempt(client, "nobody@example.go.th"),
        attempt(client, user.email),
        attempt(client, "gone@example.go.th", PASSWORD),  # the right password, inactive
    ]
    assert [r.status_code for r in replies] == [401, 401, 401]
    assert "Wrong e-mail or password." in alert(replies[0])
    assert alert(replies[0]) == alert(replies[1]) == alert(replies[2])
    # The whole page is the same but for the e-mail typed in.
    emails = ["nobody@example.go.th", user.email, "gone@example.go.th"]
    pages = {r.get_data(as_text=True).replace(e, "E") for r, e in zip(replies, emails, strict=True)}
    assert len(pages) == 1


def test_an_unknown_account_costs_the_same_hashing_work(client, monkeypatch, user):
    checked: list[str] = []
    real = passwords.check_password_hash

    def spy(stored: str, password: str) -> bool:
        checked.append(stored.split("$", 1)[0])
        return real(stored, password)

    monkeypatch.setattr(passwords, "check_password_hash", spy)
    attempt(client, "nobody@example.go.th")
    assert checked == ["pbkdf2:sha256:1000"]  # a hash of the configured method was checked


def test_an_account_name_is_locked_after_repeated_failures(app, client, user):
    app.config.update(LOGIN_MAX_FAILURES=3, LOGIN_LOCKOUT_MINUTES=15)
    for _ in range(3):
        assert attempt(client, user.email).status_code == 401
    # Now even the right password is refused, without being checked, until the window ends.
    reply = attempt(client, user.email, PASSWORD)
    assert reply.status_code == 429
    assert 0 < int(reply.headers["Retry-After"]) <= 15 * 60
    assert "Too many failed sign-in attempts" in alert(reply)
    assert "Wrong e-mail or password" not in reply.get_data(as_text=True)
    assert client.get("/profile").status_code == 302  # not signed in
    # Case and spaces do not make another name.
    assert attempt(client, "  COORD@example.go.th ", PASSWORD).status_code == 429
    # Other accounts, from the same address, are not affected.
    other = app.test_client()
    assert attempt(other, "someone-else@example.go.th").status_code == 401


def test_the_lockout_does_not_tell_whether_an_account_exists(app, client, user):
    app.config.update(LOGIN_MAX_FAILURES=2)
    existing = [attempt(client, user.email, addr="192.0.2.10") for _ in range(3)]
    unknown = [attempt(client, "nobody@example.go.th", addr="192.0.2.11") for _ in range(3)]
    assert [r.status_code for r in existing] == [r.status_code for r in unknown] == [401, 401, 429]
    # The same words; the minutes left may differ by one, as the second lockout started a
    # moment later (a slow machine once crossed a minute between them: "16" against "15").
    first, second = (re.sub(r"\d+ minute", "N minute", alert(r[2])) for r in (existing, unknown))
    assert first == second
    assert "N minute" in first


def test_failed_attempts_are_limited_per_client_address(app, client, world, user):
    app.config.update(LOGIN_RATE_LIMIT="3/minute", LOGIN_MAX_FAILURES=100)
    for n in range(3):
        assert attempt(client, f"guess{n}@example.go.th").status_code == 401
    reply = attempt(client, user.email, PASSWORD)
    assert reply.status_code == 429
    assert 0 < int(reply.headers["Retry-After"]) <= 60
    # Another address is not limited.
    assert attempt(client, user.email, PASSWORD, addr="198.51.100.7").status_code == 302


def test_only_the_sign_in_pages_run_the_limiter(app, client, user):
    """Each limiter's hooks run for its own blueprint's requests alone, before that
    blueprint's other hooks (no other request pays for them); the limits still hold."""
    from assess.auth.throttle import EXTENSION

    ours = app.extensions[EXTENSION]
    limiters = app.extensions["limiter"]
    assert ours in limiters
    assert len(limiters) == 2  # the sign-in pages' and the API's

    def of_limiter(hook, limiter):
        return getattr(hook, "__self__", None) is limiter or limiter in getattr(hook, "args", ())

    for hooks in (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs):
        assert not any(of_limiter(hook, each) for hook in hooks.get(None, ()) for each in limiters)
        assert of_limiter(hooks["auth"][0], ours)
        (api,) = limiters - {ours}
        assert of_limiter(hooks["api"][0], api)
    app.config.update(LOGIN_RATE_LIMIT="2/minute", LOGIN_MAX_FAILURES=100)
    for n in range(2):
        assert attempt(client, f"guess{n}@example.go.th").status_code == 401
    assert attempt(client, user.email, PASSWORD).status_code == 429


def test_successful_sign_ins_do_not_count(app, client, user):
    """A whole office behind one address signs in at the start of the day."""
    app.config.update(LOGIN_RATE_LIMIT="2/minute")
    for _ in range(5):
        assert attempt(client, user.email, PASSWORD).status_code == 302
        client.post("/logout")
    # The sign-in page itself (GET) is not limited either.
    for _ in range(5):
        assert client.get("/login").status_code == 200


def test_behind_a_proxy_the_forwarded_address_counts(app_factory, user):
    """With ASSESS_PROXY_COUNT the client's address comes from X-Forwarded-For; without,
    the header is ignored, so forging it gets around nothing."""
    for proxies, limited in ((1, False), (0, True)):
        app = app_factory(PROXY_COUNT=proxies, LOGIN_RATE_LIMIT="2/minute")
        client = app.test_client()
        for n in range(2):
            reply = client.post(
                "/login",
                data={"email": f"guess{n}@example.go.th", "password": "x"},
                headers={"X-Forwarded-For": "203.0.113.1"},
            )
            assert reply.status_code == 401
        reply = client.post(
            "/login",
            data={"email": user.email, "password": PASSWORD},
            headers={"X-Forwarded-For": "203.0.113.2"},
        )
        assert reply.status_code == (429 if limited else 302), proxies


@pytest.fixture
def app_factory(app):  # type: ignore[no-untyped-def]
    """More apps on the same database and instance folder, with settings on top."""
    from assess import create_app

    def make(**settings):  # type: ignore[no-untyped-def]
        return create_app(
            {
                "INSTANCE_PATH": app.config["INSTANCE_PATH"],
                "DATABASE_URL": app.config["DATABASE_URL"],
                "WTF_CSRF_ENABLED": False,
                "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                **settings,
            }
        )

    return make


def test_the_lockout_on_redis(app_factory, user):
    redis = pytest.importorskip("redis")
    server = redis.Redis.from_url("redis://127.0.0.1:6379/15")
    try:
        server.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    prefix = f"assess-test-{uuid.uuid4().hex}"
    settings = {
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15",
        "RATELIMIT_KEY_PREFIX": prefix,
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": False,
        "LOGIN_MAX_FAILURES": 2,
    }
    try:
        first = app_factory(**settings).test_client()
        for _ in range(2):
            assert attempt(first, user.email).status_code == 401
        assert server.keys(f"*{prefix}*")  # the counts are in Redis ...
        # ... so another process (a second app) sees the lockout.
        second = app_factory(**settings).test_client()
        reply = attempt(second, user.email, PASSWORD)
        assert reply.status_code == 429
        assert int(reply.headers["Retry-After"]) > 0
    finally:
        keys = server.keys(f"*{prefix}*")
        if keys:
            server.delete(*keys)
        server.close()


def test_new_passwords_are_hashed_with_scrypt(app, world):
    app.config["PASSWORD_HASH_METHOD"] = "scrypt"  # the default (the tests use a cheaper one)
    user = world.user("new@example.go.th", agency=world.agency("AG-9"))
    assert user.password_hash.startswith("scrypt:32768:8:1$")
    assert user.check_password(PASSWORD)
    assert not user.check_password("wrong")


def test_signing_in_upgrades_an_older_hash(app, client, user):
    assert user.password_hash.startswith("pbkdf2:sha256:1000$")
    epoch = user.session_epoch
    app.config["PASSWORD_HASH_METHOD"] = "scrypt"
    assert attempt(client, user.email, PASSWORD).status_code == 302
    db.session.expire_all()
    assert user.password_hash.startswith("scrypt:32768:8:1$")
    assert user.session_epoch == epoch  # no session ended by the upgrade
    assert client.get("/profile").status_code == 200
    client.post("/logout")
    assert attempt(client, user.email, PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("stored", "configured", "expected"),
    [
        ("pbkdf2:sha256:1000$s$h", "scrypt", True),
        ("scrypt:32768:8:1$s$h", "scrypt", False),
        ("scrypt:16384:8:1$s$h", "scrypt", True),
        ("scrypt:32768:8:1$s$h", "scrypt:32768:8:1", False),
        ("pbkdf2:sha256:1000$s$h", "pbkdf2:sha256:1000", False),
        ("pbkdf2:sha256:1000$s$h", "pbkdf2:sha256", True),
        ("", "scrypt", False),
    ],
)
def test_needs_rehash(app, stored, configured, expected):
    app.config["PASSWORD_HASH_METHOD"] = configured
    assert passwords.needs_rehash(stored) is expected
