"""Settings from the ``ASSESS_*`` environment variables (interfaces.md, "Configuration")."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

#: Where the JSON API lives (here, not in ``assess.api``: the security headers name its
#: reference page without importing the API and flask-smorest).
API_PREFIX = "/api/v1"

#: ``ASSESS_ENV``: "production" turns on Secure cookies and HSTS and refuses to start with
#: debug on or a missing or weak secret key (assess.security); anything else is development.
PRODUCTION = "production"
DEVELOPMENT = "development"
ENVIRONMENTS = (PRODUCTION, DEVELOPMENT)

#: Sign-in and session settings and their defaults (``ASSESS_*`` variable → config key).
SECURITY_DEFAULTS: dict[str, Any] = {
    "ENVIRONMENT": DEVELOPMENT,
    # Minutes without a request after which a session ends (the answer page keeps its
    # unsaved values and asks to sign in again).
    "SESSION_IDLE_MINUTES": 30,
    # Failed sign-ins allowed per client address (Flask-Limiter notation).
    "LOGIN_RATE_LIMIT": "20/minute;100/hour",
    # Failed sign-ins for one account name before it is locked for LOGIN_LOCKOUT_MINUTES.
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_LOCKOUT_MINUTES": 15,
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted.
    "PROXY_COUNT": 0,
}


class ConfigurationError(RuntimeError):
    """A setting is missing or wrong; the message names the variable to fix."""


def instance_path() -> Path:
    """The instance folder: database, evidence and generated files (``ASSESS_INSTANCE_PATH``)."""
    return Path(os.environ.get("ASSESS_INSTANCE_PATH", "instance")).resolve()


def secret_key(folder: Path) -> str:
    """``ASSESS_SECRET_KEY``, or a key generated once and kept in the instance folder."""
    configured = os.environ.get("ASSESS_SECRET_KEY")
    if configured:
        return configured
    path = folder / "secret_key"
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    folder.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # Written whole to a private file, then linked into place: of several processes
    # starting at once (gunicorn workers), one key wins and the others read it.
    temporary = folder / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key)
    try:
        os.link(temporary, path)
    except FileExistsError:
        key = path.read_text(encoding="ascii").strip()
    except OSError:  # a file system without hard links
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return key


def _integer(name: str, default: int, minimum: int) -> int:
    raw = (os.environ.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise ConfigurationError(f"{name}={raw!r} must be at least {minimum}")
    return value


def _switch(name: str, *, default: bool) -> bool:
    raw = (os.environ.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigurationError(f"{name}={raw!r}: use 1 (on) or 0 (off)")


def environment() -> str:
    """``ASSESS_ENV``: "production" or "development" (the default)."""
    raw = (os.environ.get("ASSESS_ENV") or DEVELOPMENT).strip().lower()
    if raw not in ENVIRONMENTS:
        raise ConfigurationError(f"ASSESS_ENV={raw!r}: use 'production' or 'development'")
    return raw


#: What ``ASSESS_DATABASE_URL`` looks like, for the messages that refuse one.
DATABASE_URL_EXAMPLE = "postgresql+psycopg://assess@db.internal/assess"

#: The PostgreSQL driver installed with assess (psycopg 3): ``postgres://`` and
#: ``postgresql://`` (the forms hosting services and libpq give) name it.
POSTGRESQL_DRIVER = "postgresql+psycopg"


def _hide_password(raw: str) -> str:
    """``raw`` with what stands between ``user:`` and ``@`` masked (messages never show it)."""
    return re.sub(r"(://[^/@:]*:)[^/@]*@", r"\1***@", raw)


def database_url(folder: Path) -> str:
    """``ASSESS_DATABASE_URL`` (default: SQLite in the instance folder), checked: a URL
    SQLAlchemy reads, of a database engine whose driver is installed. ``postgres://`` and
    ``postgresql://`` name the installed driver (``postgresql+psycopg://``)."""
    from sqlalchemy.engine import URL, make_url
    from sqlalchemy.exc import ArgumentError

    raw = (os.environ.get("ASSESS_DATABASE_URL") or "").strip()
    if not raw:
        return f"sqlite:///{folder / 'assess.db'}"
    example = f"give e.g. {DATABASE_URL_EXAMPLE} (or sqlite:////srv/assess/assess.db)"
    try:
        url: URL = make_url(raw)
    except ArgumentError:
        raise ConfigurationError(
            f"ASSESS_DATABASE_URL={_hide_password(raw)!r} is not a database URL: {example}"
        ) from None
    backend, _, driver = url.drivername.partition("+")
    mapped = backend == "postgres" or url.drivername == "postgresql"
    if mapped:
        url = url.set(drivername=f"postgresql+{driver}" if driver else POSTGRESQL_DRIVER)
    shown = url.render_as_string(hide_password=True)
    try:
        url.get_dialect().import_dbapi()
    except ArgumentError:  # NoSuchModuleError: no such engine or driver in SQLAlchemy
        raise ConfigurationError(
            f"ASSESS_DATABASE_URL={shown!r}: SQLAlchemy knows no database engine or driver "
            f"{url.drivername!r}: {example}"
        ) from None
    except ImportError as exc:
        raise ConfigurationError(
            f"ASSESS_DATABASE_URL={shown!r}: its driver is not installed ({exc}): {example}"
        ) from None
    return url.render_as_string(hide_password=False) if mapped else raw


def public_url() -> str | None:
    """``ASSESS_PUBLIC_URL``: the site's address as readers reach it, ``http(s)://host[/path]``
    (scorecards link to it: an address without its scheme would be a broken link)."""
    raw = (os.environ.get("ASSESS_PUBLIC_URL") or "").strip()
    if not raw:
        return None
    shown = _hide_password(raw)
    example = "give the site's address as readers reach it, e.g. https://assess.example.go.th"
    try:
        parts = urlsplit(raw)
        host, _ = parts.hostname, parts.port  # (a port that is not a number raises)
    except ValueError:
        parts, host = None, None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not host
        or parts.query
        or parts.fragment
    ):
        raise ConfigurationError(
            f"ASSESS_PUBLIC_URL={shown!r} is not a web address (http:// or https:// and the "
            f"host name): {example}"
        )
    if parts.username or parts.password:
        raise ConfigurationError(
            f"ASSESS_PUBLIC_URL={shown!r} holds a user name or password, which scorecards "
            f"would print: {example}"
        )
    return raw


def from_environment() -> dict[str, Any]:
    """The configuration the environment gives, with the documented defaults."""
    folder = instance_path()
    env = environment()
    defaults = SECURITY_DEFAULTS
    return {
        "INSTANCE_PATH": str(folder),
        "DATABASE_URL": database_url(folder),
        "REDIS_URL": os.environ.get("ASSESS_REDIS_URL") or None,
        # The site's address as readers reach it, printed on scorecards made outside a
        # request (command line, jobs); e.g. https://assess.example.go.th
        "PUBLIC_URL": public_url(),
        # Processes laying out PDFs in a bulk scorecard export (default: up to 2).
        "SCORECARD_PROCESSES": _integer("ASSESS_SCORECARD_PROCESSES", 0, 0) or None,
        # In production the key must be given (assess.security refuses to start without).
        "SECRET_KEY": (
            os.environ.get("ASSESS_SECRET_KEY") or None if env == PRODUCTION else secret_key(folder)
        ),
        "ENVIRONMENT": env,
        "SESSION_IDLE_MINUTES": _integer(
            "ASSESS_SESSION_IDLE_MINUTES", defaults["SESSION_IDLE_MINUTES"], 1
        ),
        "LOGIN_RATE_LIMIT": (os.environ.get("ASSESS_LOGIN_RATE_LIMIT") or "").strip()
        or defaults["LOGIN_RATE_LIMIT"],
        "LOGIN_MAX_FAILURES": _integer(
            "ASSESS_LOGIN_MAX_FAILURES", defaults["LOGIN_MAX_FAILURES"], 1
        ),
        "LOGIN_LOCKOUT_MINUTES": _integer(
            "ASSESS_LOGIN_LOCKOUT_MINUTES", defaults["LOGIN_LOCKOUT_MINUTES"], 1
        ),
        "PROXY_COUNT": _integer("ASSESS_PROXY_COUNT", defaults["PROXY_COUNT"], 0),
        # A new gunicorn worker prepares the dashboards of the rounds under way in the
        # background (gunicorn.conf.py, assess.reports.warm).
        "WARM_DASHBOARDS": _switch("ASSESS_WARM_DASHBOARDS", default=True),
    }
