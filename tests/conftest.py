"""Shared fixtures: where the shared contracts and examples live, and questionnaire builders."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: The shared contracts and examples sit beside the checkout (``../shared``).
SHARED = Path(os.environ.get("ASSESS_SHARED", ROOT.parent / "shared"))
EXAMPLES = SHARED / "examples"


def assess_executable() -> str:
    """The installed ``assess`` console script of this interpreter's environment."""
    beside = Path(sys.executable).parent / "assess"
    if beside.exists():
        return str(beside)
    found = shutil.which("assess")
    if found is None:
        pytest.fail("the assess console script is not installed (pip install -e .)")
    return found


@pytest.fixture(scope="session")
def examples() -> Path:
    """The folder of the worked example (../shared/examples)."""
    if not (EXAMPLES / "worked-example.yaml").exists():
        pytest.fail(f"the shared examples are missing at {EXAMPLES}")
    return EXAMPLES


# -- the application on a real database ------------------------------------------------------
#
# Every test that touches the database runs on SQLite and, when ASSESS_TEST_DATABASE_URL
# names a PostgreSQL database, on PostgreSQL too (the ``backend`` parameter). The schema is
# made once per backend by the real migrations; each test then starts from empty tables:
# on SQLite a copy of the migrated file, on PostgreSQL every row deleted and every sequence
# restarted (with triggers off, since the audit trail refuses deletion by design).

POSTGRES_URL = os.environ.get("ASSESS_TEST_DATABASE_URL")
BACKENDS = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]


def _migrate(url: str, folder: Path) -> None:
    from flask_migrate import upgrade

    from assess import create_app

    app = create_app({"INSTANCE_PATH": str(folder), "DATABASE_URL": url})
    with app.app_context():
        upgrade()
        from assess.extensions import db

        db.engine.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("template")
    _migrate(f"sqlite:///{folder / 'assess.db'}", folder)
    return folder / "assess.db"


def _worker_database(url: str) -> str:
    """The PostgreSQL database of this test process.

    Under pytest-xdist (``-n``) every worker gets a database of its own beside the one
    named (``test_gw0``, ``test_gw1``, …, created when missing), so workers never truncate
    each other's tables.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    import sqlalchemy as sa

    base = sa.engine.make_url(url)
    name = f"{base.database}_{worker}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        found = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not found:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def _postgres_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_EmptyTables]:
    assert POSTGRES_URL
    import sqlalchemy as sa

    url = _worker_database(POSTGRES_URL)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    _migrate(url, tmp_path_factory.mktemp("pg"))
    empty = _EmptyTables(url)
    yield empty
    empty.engine.dispose()


class _EmptyTables:
    """Empties a migrated PostgreSQL database between tests, as a new one would be.

    ``DELETE`` from every table and every sequence restarted, in one transaction with
    triggers off (the audit trail refuses deletion by design, and foreign keys are checked
    by triggers): about 6 ms for a test's few rows, where ``TRUNCATE … RESTART IDENTITY``
    took 60–160 ms (it gives every table new files). Statement and engine are made once.
    """

    def __init__(self, url: str) -> None:
        import sqlalchemy as sa

        self.url = url
        self.engine = sa.create_engine(url, pool_pre_ping=True)
        with self.engine.connect() as conn:
            tables = conn.scalars(
                sa.text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version' ORDER BY tablename"
                )
            ).all()
            sequences = conn.scalars(
                sa.text(
                    "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' "
                    "ORDER BY sequencename"
                )
            ).all()
        # The names come from the catalogue of the tests' own database.
        self.statement = " ".join(
            [
                "SET LOCAL session_replication_role = replica;",
                *(f'DELETE FROM "{table}";' for table in tables),  # noqa: S608
                *(f'ALTER SEQUENCE "{sequence}" RESTART;' for sequence in sequences),
            ]
        )

    def __call__(self) -> str:
        """Empty the tables; the database's URL."""
        with self.engine.begin() as conn:
            conn.exec_driver_sql(self.statement)
        return self.url


def sqlite_copy(template: Path, folder: Path) -> str:
    """A fresh, migrated SQLite database in ``folder`` (a copy of the session's template),
    as its URL."""
    shutil.copy(template, folder / "assess.db")
    return f"sqlite:///{folder / 'assess.db'}"


def closing_iterables(app):  # type: ignore[no-untyped-def]
    """``app`` with each response's iterable closed as soon as it has been sent.

    Werkzeug's server closes it only after reading what the client sent beyond its
    request; a browser that resets the connection then (as Chromium does with a font it
    already has) leaves a static file open, and its ResourceWarning fails whichever test
    the garbage collector happens to be in."""

    def application(environ, start_response):  # type: ignore[no-untyped-def]
        iterable = app(environ, start_response)
        try:
            yield from iterable
        finally:
            if hasattr(iterable, "close"):
                iterable.close()

    return application


@contextlib.contextmanager
def serving(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """``app`` served on 127.0.0.1 (a free port) from a thread, for a real browser: the
    base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, closing_iterables(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


def make_app(folder: Path, url: str, **settings: object):  # type: ignore[no-untyped-def]
    """The application in testing mode (CSRF off, a fast password hash) on ``url``, with
    its instance in ``folder``; ``settings`` add to or override that."""
    from assess import create_app

    return create_app(
        {
            "INSTANCE_PATH": str(folder),
            "DATABASE_URL": url,
            "WTF_CSRF_ENABLED": False,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            **settings,
        }
    )


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated database for one test, on each configured backend."""
    if request.param == "sqlite":
        return sqlite_copy(request.getfixturevalue("_sqlite_template"), tmp_path)
    return request.getfixturevalue("_postgres_schema")()


@pytest.fixture
def sqlite_database_url(_sqlite_template: Path, tmp_path: Path) -> str:
    """An empty, migrated SQLite database, for modules whose tests do not depend on the
    database engine (they override ``database_url`` with it)."""
    return sqlite_copy(_sqlite_template, tmp_path)


@pytest.fixture
def forget_cache() -> Iterator[None]:
    """Forget the rounds the process's caches hold (dashboards, results pages), before and
    after: each test's database is new, with the same ids."""
    from assess.reports import data as cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def app(database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The application in testing mode on an empty database, inside an app context."""
    from assess.extensions import db

    app = make_app(tmp_path, database_url, SERVER_NAME="assess.test")
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def runner(app):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


def fill(response, actor, maturity: float, status: str = "accepted", extra=None) -> None:  # type: ignore[no-untyped-def]
    """Answer a response plausibly at ``maturity`` (0…1; plus ``extra`` raw answers), set
    its status (no review needed) and score it."""
    import random

    from assess.extensions import db
    from assess.services import responses, results
    from assess.services.questionnaires import questionnaire_of
    from assess.synthetic import agency_answers

    questionnaire = questionnaire_of(response.questionnaire)
    answers = agency_answers(questionnaire, maturity, random.Random(int(maturity * 100)), 1.0)
    raw = {code: responses.stored(value) for code, value in answers.items()}
    raw.update(extra or {})
    responses.save_answers(response, raw, revision=response.revision, actor=actor)
    if status != "draft":
        responses.set_status(response, status, None)
    results.recompute(response)
    db.session.commit()


class World:
    """Factories for the objects of a test (Indico-style: callables with overrides)."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.app = app

    def agency(self, code: str = "AG-1", **fields):  # type: ignore[no-untyped-def]
        from assess.extensions import db
        from assess.models import Agency

        fields.setdefault("name_th", f"หน่วยงาน {code}")
        fields.setdefault("name_en", f"Agency {code}")
        fields.setdefault("type", "department")
        agency = Agency(code=code, tags=fields.pop("tags", []), **fields)
        db.session.add(agency)
        db.session.commit()
        return agency

    def user(
        self,
        email: str,
        role: str = "coordinator",
        agency=None,
        password: str = "correct horse battery",
    ):  # type: ignore[no-untyped-def]
        from assess.extensions import db
        from assess.services import users

        user = users.create_user(email, role, agency=agency, password=password)
        db.session.commit()
        return user

    def questionnaire(self, path: Path | None = None, key: str = "dg-readiness@2569"):  # type: ignore[no-untyped-def]
        from assess.extensions import db
        from assess.questionnaires.builtin import builtin_path
        from assess.services import questionnaires

        if path is None:
            code, _, version = key.partition("@")
            path = builtin_path(code, version)
            assert path is not None
        version_row, _ = questionnaires.import_text(path.read_bytes(), str(path))
        db.session.commit()
        return version_row

    def round(self, version=None, agencies=None, status: str = "open", **fields):  # type: ignore[no-untyped-def]
        from assess.extensions import db
        from assess.services import rounds

        version = version or self.questionnaire()
        fields.setdefault("name", "Round under test")
        fields.setdefault("fiscal_year", 2569)
        round_ = rounds.create_round(version, agencies=agencies, **fields)
        for target in {
            "draft": [],
            "open": ["open"],
            "closed": ["open", "closed"],
            "preliminary": ["open", "closed", "preliminary"],
            "published": ["open", "closed", "published"],
        }[status]:
            rounds.move(round_, target)
        db.session.commit()
        return round_

    def response(self, round_, agency):  # type: ignore[no-untyped-def]
        from assess.services import responses

        return responses.get_response(round_, agency)

    def invite(self, round_, agency):  # type: ignore[no-untyped-def]
        """Invite one more agency to a round (of any status): its response, not started."""
        from assess.extensions import db
        from assess.models import Response

        response = Response(
            round_id=round_.id, agency_id=agency.id, questionnaire_id=round_.questionnaire_id
        )
        db.session.add(response)
        db.session.commit()
        return response


@pytest.fixture
def world(app) -> World:  # type: ignore[no-untyped-def]
    return World(app)


class AuthActions:
    """Sign in and out through the real login form (flaskr's helper)."""

    def __init__(self, client) -> None:  # type: ignore[no-untyped-def]
        self._client = client

    def login(self, email: str, password: str = "correct horse battery"):  # type: ignore[no-untyped-def]
        return self._client.post("/login", data={"email": email, "password": password})

    def logout(self):  # type: ignore[no-untyped-def]
        return self._client.post("/logout")


@pytest.fixture
def auth(client) -> AuthActions:  # type: ignore[no-untyped-def]
    return AuthActions(client)
