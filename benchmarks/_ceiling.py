"""The web stack's own ceiling, for ``saves.py``: what gunicorn can serve on this machine
when each request does nothing but the bare upsert.

Two WSGI applications, each run by the same gunicorn as the real app:

- ``plain``: a bare WSGI callable (no framework);
- ``flask``: one Flask route, with no extension, session, or ORM.

Each POST reads ``{"response_id": N, "code": "Q01", "value": …}`` and runs the bare loop's
single-row ``INSERT … ON CONFLICT … DO UPDATE`` (autocommit, prepared) on a connection of its
worker (``CEILING_CONNINFO``), then replies ``{"ok": true}``. What the real save adds on
top — signing in, the CSRF check, validation, the revision, the audit trail, re-scoring,
the reply — is the difference between these figures and the web app's.
"""

from __future__ import annotations

import json
import os
from typing import Any

import psycopg
from flask import Flask, request

UPSERT = (
    "INSERT INTO bench_upsert (response_id, question_code, value, updated_at, updated_by_id) "
    "VALUES (%s, %s, %s, now(), %s) ON CONFLICT (response_id, question_code) "
    "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, "
    "updated_by_id = excluded.updated_by_id"
)
_connection: psycopg.Connection[Any] | None = None


def _upsert(body: bytes) -> None:
    global _connection
    if _connection is None:  # one per worker, made after the fork
        _connection = psycopg.connect(os.environ["CEILING_CONNINFO"], autocommit=True)
    data = json.loads(body)
    _connection.execute(
        UPSERT,
        (data["response_id"], data["code"], json.dumps(data["value"]), data["response_id"]),
        prepare=True,
    )


def plain(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    if environ["REQUEST_METHOD"] == "POST":
        _upsert(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
    out = b'{"ok": true}'
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(out)))]
    )
    return [out]


flask = Flask(__name__)


@flask.route("/", defaults={"path": ""}, methods=["GET", "POST"])
@flask.route("/<path:path>", methods=["GET", "POST"])
def save(path: str) -> Any:
    if request.method == "POST":
        _upsert(request.get_data())
    return {"ok": True}
