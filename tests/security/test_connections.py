"""Pooled database connections: reused while they live, replaced once the server closed them.

Requests do not ping the database (a round trip each); a connection the server closed —
a restart, a killed backend — is found at checkout by looking at its socket, and replaced
before the request uses it.
"""

from __future__ import annotations

import os
import time

import psycopg
import pytest
from sqlalchemy import text

from assess.extensions import db

pytestmark = [
    pytest.mark.skipif(
        not os.environ.get("ASSESS_TEST_DATABASE_URL"),
        reason="PostgreSQL only (SQLite has no connection to lose)",
    ),
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
    pytest.mark.usefixtures("app"),
]


def _backend_pid() -> int:
    pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    db.session.remove()  # back to the pool, as at the end of a request
    return int(pid)


@pytest.fixture
def postgres(database_url: str) -> str:
    return database_url.replace("postgresql+psycopg://", "postgresql://", 1)


def test_an_idle_pooled_connection_is_reused(postgres: str) -> None:
    first = _backend_pid()
    assert all(_backend_pid() == first for _ in range(5))


def test_a_connection_the_server_closed_is_replaced_before_a_request_uses_it(
    postgres: str, client
) -> None:  # type: ignore[no-untyped-def]
    first = _backend_pid()
    with psycopg.connect(postgres, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (first,)).fetchone() == (True,)
        for _ in range(100):  # the backend is gone once it left pg_stat_activity
            gone = admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (first,)
            ).fetchone()
            if gone == (0,):
                break
            time.sleep(0.02)
    # A page that reads the database answers normally, on a new connection.
    assert client.get("/login").status_code == 200
    assert client.post("/login", data={"email": "x@example.go.th", "password": "wrong password"})
    second = _backend_pid()
    assert second != first
    assert _backend_pid() == second
