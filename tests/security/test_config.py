"""Configuration: development needs none; production (ASSESS_ENV=production, the default of
wsgi.py) refuses to start with debug on or a missing, known or weak secret key, and turns on
Secure cookies; invalid settings are refused with the variable named."""

from __future__ import annotations

import importlib.util
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from assess import config, create_app
from assess.config import ConfigurationError
from assess.security import weak_key_reason

ROOT = Path(__file__).resolve().parents[2]
STRONG = "5b0e7c1d9a8f6e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d"
ENV_VARS = [
    "ASSESS_ENV",
    "ASSESS_SECRET_KEY",
    "ASSESS_SESSION_IDLE_MINUTES",
    "ASSESS_LOGIN_RATE_LIMIT",
    "ASSESS_LOGIN_MAX_FAILURES",
    "ASSESS_LOGIN_LOCKOUT_MINUTES",
    "ASSESS_PROXY_COUNT",
    "ASSESS_REDIS_URL",
    "ASSESS_DATABASE_URL",
    "ASSESS_PUBLIC_URL",
    "ASSESS_SCORECARD_PROCESSES",
    "ASSESS_WARM_DASHBOARDS",
    "FLASK_DEBUG",
]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """A clean environment with an empty instance folder."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ASSESS_INSTANCE_PATH", str(tmp_path / "instance"))
    return monkeypatch


def production(tmp_path: Path, **settings: object):  # type: ignore[no-untyped-def]
    return create_app(
        {
            "INSTANCE_PATH": str(tmp_path),
            "ENVIRONMENT": "production",
            "TESTING": False,
            "SECRET_KEY": STRONG,
            **settings,
        }
    )


def test_development_needs_no_configuration(env, tmp_path):
    settings = config.from_environment()
    assert settings["ENVIRONMENT"] == "development"
    key_file = tmp_path / "instance" / "secret_key"
    assert settings["SECRET_KEY"] == key_file.read_text()
    assert len(settings["SECRET_KEY"]) == 64
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert config.from_environment()["SECRET_KEY"] == settings["SECRET_KEY"]  # kept
    assert list(key_file.parent.glob(".secret_key.*")) == []  # no temporary left behind
    app = create_app()
    assert not app.config["SESSION_COOKIE_SECURE"]
    assert app.config["SESSION_IDLE_MINUTES"] == 30
    assert app.config["LOGIN_MAX_FAILURES"] == 5
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"


def test_settings_from_the_environment(env):
    env.setenv("ASSESS_SESSION_IDLE_MINUTES", "45")
    env.setenv("ASSESS_LOGIN_RATE_LIMIT", "10/minute")
    env.setenv("ASSESS_LOGIN_MAX_FAILURES", "8")
    env.setenv("ASSESS_LOGIN_LOCKOUT_MINUTES", "30")
    env.setenv("ASSESS_PROXY_COUNT", "1")
    env.setenv("ASSESS_REDIS_URL", "redis://127.0.0.1:6379/3")
    app = create_app()
    assert app.config["SESSION_IDLE_MINUTES"] == 45
    assert app.config["LOGIN_RATE_LIMIT"] == "10/minute"
    assert app.config["LOGIN_MAX_FAILURES"] == 8
    assert app.config["LOGIN_LOCKOUT_MINUTES"] == 30
    assert app.config["PROXY_COUNT"] == 1
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/3"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ASSESS_ENV", "prod", "ASSESS_ENV='prod': use 'production' or 'development'"),
        ("ASSESS_SESSION_IDLE_MINUTES", "half an hour", "ASSESS_SESSION_IDLE_MINUTES="),
        ("ASSESS_SESSION_IDLE_MINUTES", "0", "must be at least 1"),
        ("ASSESS_LOGIN_MAX_FAILURES", "-1", "ASSESS_LOGIN_MAX_FAILURES='-1' must be at least 1"),
        ("ASSESS_LOGIN_RATE_LIMIT", "lots", "ASSESS_LOGIN_RATE_LIMIT='lots' is not a rate limit"),
        ("ASSESS_PROXY_COUNT", "yes", "ASSESS_PROXY_COUNT='yes' is not a whole number"),
    ],
)
def test_invalid_settings_are_refused_by_name(env, name, value, message):
    env.setenv(name, value)
    with pytest.raises(ConfigurationError) as caught:
        create_app()
    assert message in str(caught.value)


def test_production_refuses_to_start_without_a_secret_key(env):
    env.setenv("ASSESS_ENV", "production")
    with pytest.raises(ConfigurationError) as caught:
        create_app()
    message = str(caught.value)
    assert "production (ASSESS_ENV=production)" in message
    assert "ASSESS_SECRET_KEY is not set" in message
    # Nothing is generated in its place.
    assert not (Path(os.environ["ASSESS_INSTANCE_PATH"]) / "secret_key").exists()


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("dev", "well-known"),
        ("test", "well-known"),
        ("change-me", "well-known"),
        ("Change Me", "well-known"),
        ("secret-key", "well-known"),
        ("please-change-me-to-a-long-random-value-0123456789", "well-known"),
        ("this is an example of a key that is long enough", "well-known"),
        ("k3y-but-only-24-chars-xx", "shorter than 32"),
        ("ab" * 20, "fewer than 10 different"),
    ],
)
def test_production_refuses_weak_secret_keys(tmp_path, key, reason):
    assert reason in (weak_key_reason(key) or "")
    with pytest.raises(ConfigurationError, match=f"ASSESS_SECRET_KEY .*{reason}"):
        production(tmp_path, SECRET_KEY=key)


@pytest.mark.parametrize(
    "key",
    [STRONG, "x7Qp2Lk9Vb4Nm1Zt8Rw5Yc3Hj6Fd0Sg-_aBcDeFgHiJk", os.urandom(32).hex()],
    # Fixed ids: a random one differs between pytest-xdist workers, which then refuse to run.
    ids=["strong", "mixed", "urandom"],
)
def test_random_keys_are_accepted(key):
    assert weak_key_reason(key) is None


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"DEBUG": True}, "debug mode is on (FLASK_DEBUG)"),
        ({"TESTING": True}, "TESTING is on"),
        ({"WTF_CSRF_ENABLED": False}, "WTF_CSRF_ENABLED is off"),
    ],
)
def test_production_refuses_debug_testing_and_csrf_off(tmp_path, settings, named):
    with pytest.raises(ConfigurationError) as caught:
        production(tmp_path, **settings)
    assert named in str(caught.value)


def test_production_lists_every_problem_at_once(tmp_path):
    with pytest.raises(ConfigurationError) as caught:
        production(tmp_path, DEBUG=True, SECRET_KEY="dev")
    assert "FLASK_DEBUG" in str(caught.value)
    assert "ASSESS_SECRET_KEY" in str(caught.value)


def test_production_sets_secure_cookies(tmp_path, world_free_db):
    app = production(tmp_path, DATABASE_URL=world_free_db)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    reply = app.test_client().get("/login", base_url="https://assess.test")
    cookie = next(c for c in reply.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


@pytest.fixture
def world_free_db(sqlite_database_url: str) -> str:
    return sqlite_database_url


def run(code: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """Run a command from the repository root with a clean ``ASSESS_*`` environment."""
    clean = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    return subprocess.run(
        code, cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=120
    )


def test_wsgi_runs_as_production_and_refuses_a_missing_key(tmp_path):
    done = run([sys.executable, "-c", "import wsgi"], ASSESS_INSTANCE_PATH=str(tmp_path))
    assert done.returncode != 0
    assert "ASSESS_SECRET_KEY is not set" in done.stderr
    done = run(
        [sys.executable, "-c", "import wsgi"],
        ASSESS_INSTANCE_PATH=str(tmp_path),
        ASSESS_SECRET_KEY=STRONG,
        FLASK_DEBUG="1",
    )
    assert done.returncode != 0
    assert "debug mode is on (FLASK_DEBUG)" in done.stderr


def test_gunicorn_accepts_a_proper_production_configuration(tmp_path, sqlite_database_url):
    gunicorn = Path(sys.executable).parent / "gunicorn"
    if not gunicorn.exists():
        pytest.skip("gunicorn is not installed")
    done = run(
        [str(gunicorn), "--check-config", "wsgi:app"],
        ASSESS_INSTANCE_PATH=str(tmp_path),
        ASSESS_DATABASE_URL=sqlite_database_url,  # migrated (`assess db upgrade`)
        ASSESS_SECRET_KEY=STRONG,
    )
    assert done.returncode == 0, done.stderr


def test_wsgi_can_be_told_it_is_a_local_trial(tmp_path, sqlite_database_url):
    done = run(
        [sys.executable, "-c", "import wsgi; print(wsgi.app.config['ENVIRONMENT'])"],
        ASSESS_INSTANCE_PATH=str(tmp_path),
        ASSESS_DATABASE_URL=sqlite_database_url,
        ASSESS_ENV="development",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "development"


def test_scorecard_processes_is_a_whole_number_named_when_wrong(env):
    """It was ``int()``: ``ValueError: invalid literal for int()``, naming no variable."""
    env.setenv("ASSESS_SCORECARD_PROCESSES", "two")
    with pytest.raises(ConfigurationError, match="ASSESS_SCORECARD_PROCESSES='two' is not a whole"):
        config.from_environment()
    env.setenv("ASSESS_SCORECARD_PROCESSES", "-1")
    with pytest.raises(ConfigurationError, match="ASSESS_SCORECARD_PROCESSES='-1' must be at"):
        config.from_environment()
    for raw, value in (("3", 3), ("0", None), ("", None)):
        env.setenv("ASSESS_SCORECARD_PROCESSES", raw)
        assert config.from_environment()["SCORECARD_PROCESSES"] == value


def test_postgres_urls_name_the_installed_driver(env):
    """``postgres://`` (what hosting services and libpq give) had SQLAlchemy look for a
    "postgres" dialect: NoSuchModuleError at every start."""
    for given, meant in (
        ("postgres://assess:pw@db.internal:5432/assess", "postgresql+psycopg://assess:pw@db.internal:5432/assess"),
        ("postgresql://assess@db.internal/assess", "postgresql+psycopg://assess@db.internal/assess"),
        ("postgres+psycopg://assess@db.internal/assess", "postgresql+psycopg://assess@db.internal/assess"),
        ("postgresql+psycopg://assess@db.internal/assess", "postgresql+psycopg://assess@db.internal/assess"),
        ("sqlite:////srv/assess/assess.db", "sqlite:////srv/assess/assess.db"),
    ):  # fmt: skip
        env.setenv("ASSESS_DATABASE_URL", given)
        assert config.from_environment()["DATABASE_URL"] == meant, given
    env.setenv("ASSESS_DATABASE_URL", "postgres://nobody@127.0.0.1:1/assess")
    app = create_app()  # (no connection is made before a query)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://nobody@127.0.0.1:1/assess"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("nonsense", "ASSESS_DATABASE_URL='nonsense' is not a database URL: give e.g. postgresql+psycopg://"),
        ("oracle+nodriver://u:secret@h/d", "SQLAlchemy knows no database engine or driver 'oracle+nodriver'"),
        ("mysql+mysqldb://u:secret@h/d", "its driver is not installed"),
    ],
)  # fmt: skip
def test_a_database_url_that_cannot_be_used_is_refused_by_name(env, value, message):
    if value.startswith("mysql") and importlib.util.find_spec("MySQLdb") is not None:
        pytest.skip("MySQLdb is installed here")
    env.setenv("ASSESS_DATABASE_URL", value)
    with pytest.raises(ConfigurationError) as caught:
        create_app()
    assert message in str(caught.value)
    assert "secret" not in str(caught.value)  # the password is never shown


def test_public_url_must_be_a_web_address(env):
    """Without its scheme the scorecards' link was relative: broken on paper."""
    for wrong in (
        "assess.example.go.th",
        "assess.example.go.th/assess",
        "ftp://assess.example.go.th",
        "https://",
        "https://assess.example.go.th/verify?code=1",
        "https://assess.example.go.th:port",
    ):
        env.setenv("ASSESS_PUBLIC_URL", wrong)
        with pytest.raises(ConfigurationError) as caught:
            create_app()
        assert f"ASSESS_PUBLIC_URL={wrong!r} is not a web address" in str(caught.value)
        assert "e.g. https://assess.example.go.th" in str(caught.value)
    env.setenv("ASSESS_PUBLIC_URL", "https://editor:secret@assess.example.go.th")
    with pytest.raises(ConfigurationError, match="holds a user name or password") as caught:
        create_app()
    assert "secret" not in str(caught.value)
    for right in ("https://assess.example.go.th", "http://10.0.0.5:8000/assess/"):
        env.setenv("ASSESS_PUBLIC_URL", right)
        assert config.from_environment()["PUBLIC_URL"] == right
