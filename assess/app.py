"""The Flask application factory (``assess.create_app`` calls :func:`build_app`)."""

from __future__ import annotations

import hashlib
import os
import select
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from flask import Flask, Request, current_app, g, has_request_context, request, session
from flask_login import current_user
from jinja2 import FileSystemBytecodeCache
from jinja2.bccache import Bucket
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import Pool
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter

from assess import __version__, config, request_log, search, security

LANGUAGES = ("th", "en")


class _CompiledTemplates(FileSystemBytecodeCache):
    """The templates as Jinja compiled them, kept in the instance folder for the next
    process.

    Jinja compiles a template into Python code the first time a process loads it: the
    league table's page and the templates it extends take some 90 ms, every process (a
    gunicorn worker's first page of each kind, a command that renders a scorecard, the
    development server after each restart). The compiled code is read back in a
    millisecond. Jinja checks it against the template source's checksum (an edited template
    is compiled again); the folder is named after the code that could change what
    compiling gives (:func:`_compiler_fingerprint`). A folder that cannot be written or a
    damaged file only means compiling again.
    """

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # noqa: BLE001 (a damaged file, whatever its damage: compiled again)
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            os.makedirs(self.directory, exist_ok=True)
            super().dump_bytecode(bucket)
        except OSError:  # a read-only instance folder: compiled again next time
            pass


@lru_cache(maxsize=1)
def _compiler_fingerprint() -> str:
    """What compiled templates depend on besides their source: Jinja's compiler, the
    environment Flask and Flask-Babel set up, and the filters Jinja may apply while
    compiling (to constant arguments: assess.thai's)."""
    from assess import thai

    digest = hashlib.sha256(__version__.encode())
    for package in ("jinja2", "flask", "flask-babel"):
        digest.update(f" {package} {metadata.version(package)}".encode())
    digest.update(Path(thai.__file__).read_bytes())
    return digest.hexdigest()[:16]


def build_app(
    test_config: dict[str, Any] | None = None, *, views: bool = True, migrations: bool = True
) -> Flask:
    """Build the app: defaults from the environment, then ``test_config`` on top; the web
    pages and the API unless ``views`` is false, the migrations unless ``migrations`` is
    false (see :func:`assess.create_app`)."""
    settings = (
        config.from_environment()
        if test_config is None
        else {
            **_test_defaults(test_config),
            **test_config,
        }
    )
    app = Flask("assess", instance_path=settings["INSTANCE_PATH"], instance_relative_config=True)
    compiled = Path(app.instance_path, "cache", "templates", _compiler_fingerprint())
    app.jinja_options = {**app.jinja_options, "bytecode_cache": _CompiledTemplates(str(compiled))}
    app.url_map.converters["int"] = _DatabaseInt
    app.request_class = _Request
    app.config.update(_defaults(settings))
    app.config.update(settings)
    # Production cookies, and refuse unsafe or invalid settings before anything starts.
    security.configure(app)
    os.makedirs(app.instance_path, exist_ok=True)
    _init_extensions(app, migrations=migrations)
    if views:
        _register_blueprints(app)
    _register_template_helpers(app)
    security.init_app(app)
    request_log.init_app(app)  # the request id on replies and in the log records
    if views:
        from assess.auth import throttle

        throttle.init_app(app)  # limits on failed sign-ins (needs the registered views)
    _add_commands(app)
    return app


def _add_commands(app: Flask) -> None:
    """The ``assess`` commands on the app's own command group too, so that ``flask --app
    assess round open 3`` runs what ``assess round open 3`` runs (interfaces.md)."""
    from assess.cli import main

    for name, command in main.commands.items():
        if name not in app.cli.commands:
            app.cli.add_command(command, name)


def _defaults(settings: dict[str, Any]) -> dict[str, Any]:
    url = settings["DATABASE_URL"]
    # A pooled connection the server closed is replaced at checkout (see _still_open), not
    # pinged: a ping would cost a round trip on every request.
    engine_options: dict[str, Any] = {}
    if url.startswith("sqlite"):
        # Concurrent saves wait for the writer instead of failing at once.
        engine_options["connect_args"] = {"timeout": 15}
    return {
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
        "BABEL_DEFAULT_LOCALE": "th",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Bangkok",
        "BOOTSTRAP_SERVE_LOCAL": True,
        "MAX_CONTENT_LENGTH": 25 * 1024 * 1024,
        "EVIDENCE_MAX_BYTES": 20 * 1024 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        # A session lasts at most a working day from sign-in, and ends sooner after
        # SESSION_IDLE_MINUTES without a request (assess.auth.sessions); the answer page
        # keeps unsaved values and asks to sign in again.
        "PERMANENT_SESSION_LIFETIME": 8 * 3600,
        # The cookie is written when the session changes (sign-in, language), not re-signed
        # on every request: its lifetime counts from sign-in, as the server-side row's does.
        "SESSION_REFRESH_EACH_REQUEST": False,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # Rate limits (the API's, the sign-in's): Redis when configured, else per process.
        "RATELIMIT_STORAGE_URI": settings.get("REDIS_URL") or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        # Redis unreachable: count in the process rather than refuse every request.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        **config.SECURITY_DEFAULTS,
        "WTF_CSRF_TIME_LIMIT": None,
        "EVIDENCE_FOLDER": os.path.join(settings["INSTANCE_PATH"], "evidence"),
    }


def _init_extensions(app: Flask, *, migrations: bool = True) -> None:
    from flask_bootstrap import Bootstrap5

    from assess import auth
    from assess.extensions import babel, csrf, db, login

    db.init_app(app)
    if migrations:
        # Imported here: Flask-Migrate brings Alembic (0.2 s), which only ``assess db``, the
        # demo and the tests' database set-up use.
        from flask_migrate import Migrate

        Migrate(
            app,
            db,
            directory=os.path.join(os.path.dirname(__file__), "migrations"),
            render_as_batch=True,
        )
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: "Asia/Bangkok")
    auth.init_app(app)
    Bootstrap5(app)
    login.init_app(app)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """WAL lets readers go on while one agency saves; foreign keys are off by default. The
    search's respelling of stored Thai text (:func:`assess.search.respelled`), which SQLite
    has no regular expressions for, is given to each connection as a function."""
    module = type(dbapi_connection).__module__
    if module.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        dbapi_connection.create_function(
            search.SQLITE_FUNCTION, 1, search.respelled, deterministic=True
        )


@event.listens_for(Pool, "checkout")
def _still_open(dbapi_connection: Any, connection_record: Any, connection_proxy: Any) -> None:
    """Replace a pooled PostgreSQL connection the server has closed (a restart, a killed
    backend, an idle timeout) before a request uses it.

    Between requests a connection is idle and its server sends nothing, so its socket has
    nothing to read unless the server said goodbye or closed it: one ``select`` with no
    wait, instead of a ping's round trip to the server on every request.
    ``DisconnectionError`` makes the pool discard it and connect again. (A connection
    lost without a word, e.g. a network cut, still fails the request that uses it; the
    pool then drops it.)
    """
    fileno = getattr(dbapi_connection, "fileno", None)
    if fileno is None:
        return  # SQLite: a file, nothing to lose
    try:
        readable, _, _ = select.select([fileno()], [], [], 0)
    except Exception as exc:  # closed already (psycopg raises its own errors)
        raise DisconnectionError("the database connection is closed") from exc
    if readable:
        raise DisconnectionError("the database server closed the connection")


def select_locale() -> str:
    """Thai by default; the signed-in user's choice, else the session's, else ``?lang=``.

    Outside a request (the command line), messages are in English: operators' scripts
    read them. ``force_locale`` still chooses, e.g. for a Thai PDF made from the CLI.
    """
    if not has_request_context():
        return "en"
    wanted = request.args.get("lang")
    if wanted in LANGUAGES:
        return wanted
    if request.path.startswith("/api/"):
        return "en"  # the API speaks to machines: English unless ?lang= asks otherwise
    if current_user and current_user.is_authenticated and current_user.language in LANGUAGES:
        return str(current_user.language)
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    return "th"


class _DatabaseInt(IntegerConverter):
    """``<int:…>`` in URLs, bounded to what an id column holds: a larger number is simply
    not found (404) instead of an error from the database driver."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


#: What an integer column holds (PostgreSQL's ``integer``; SQLite's are wider).
DATABASE_INT = (-(2**31), 2**31 - 1)


def database_int(text: str) -> int:
    """``int(text)``, refused with :exc:`ValueError` beyond what an integer column holds."""
    number = int(text)
    if not DATABASE_INT[0] <= number <= DATABASE_INT[1]:
        raise ValueError(f"{text[:20]}: beyond an integer column")
    return number


class _Arguments(ImmutableMultiDict[str, str]):
    """Query arguments (and form fields) whose ``get(name, type=int)`` is bounded as
    ``<int:…>`` in URLs is (:class:`_DatabaseInt`): ``?round=99999999999999999999`` is a
    malformed number (the default) instead of an error from the database driver."""

    def get(self, key: Any, default: Any = None, type: Any = None) -> Any:  # type: ignore[override]
        return super().get(key, default, database_int if type is int else type)


class _Request(Request):
    parameter_storage_class = _Arguments


#: The keyword arguments of ``url_for`` itself, never taken from a query string (those
#: that start with ``_`` are left out whatever their name).
URL_FOR_NAMES = frozenset({"endpoint", "_anchor", "_method", "_scheme", "_external"})


def carried_args(endpoint: str) -> dict[str, str]:
    """The current request's query arguments that a link to ``endpoint`` may keep: not the
    view's own arguments (``?round_id=5`` would clash with the round's id in
    ``url_for``), nor ``url_for``'s (``?endpoint=``, ``?_external=``)."""
    own: set[str] = set()
    for rule in current_app.url_map.iter_rules(endpoint):
        own |= rule.arguments
    return {
        name: value
        for name, value in request.args.items()
        if name not in own and name not in URL_FOR_NAMES and not name.startswith("_")
    }


def _register_blueprints(app: Flask) -> None:
    from assess import api
    from assess.admin import bp as admin_bp
    from assess.auth import bp as auth_bp
    from assess.errors import init_app as init_errors
    from assess.exports import bp as exports_bp
    from assess.reports import bp as reports_bp
    from assess.reports.assets import bp as assets_bp
    from assess.review import bp as review_bp
    from assess.scorecards.routes import bp as scorecards_bp
    from assess.survey import bp as survey_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(survey_bp)
    app.register_blueprint(review_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(exports_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(assets_bp)
    app.register_blueprint(scorecards_bp)
    api.init_app(app)
    init_errors(app)


def _register_template_helpers(app: Flask) -> None:
    from flask_babel import refresh

    from assess import labels, thai

    thai.init_app(app)
    labels.init_app(app)

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {"app_version": __version__, "languages": LANGUAGES, "lang": current_language()}

    @app.before_request
    def _remember_lang() -> None:
        # Flask-Babel caches the locale on ``g``, which outlives a request when an app
        # context was already pushed (tests, scripts): choose afresh for every request.
        refresh()
        wanted = request.args.get("lang")
        if wanted in LANGUAGES:
            session["lang"] = wanted
        g.lang = select_locale()

    @app.teardown_request
    def _forget_lang(exc: BaseException | None) -> None:
        refresh()


def current_language() -> str:
    """The language of the current request ("th" or "en")."""
    lang = g.get("lang") if g else None
    return lang if lang in LANGUAGES else "th"


def _test_defaults(test_config: dict[str, Any]) -> dict[str, Any]:
    folder = test_config.get("INSTANCE_PATH") or str(config.instance_path())
    return {
        "INSTANCE_PATH": folder,
        "DATABASE_URL": f"sqlite:///{folder}/assess.db",
        "REDIS_URL": None,
        "SECRET_KEY": "test",
        "TESTING": True,
    }
