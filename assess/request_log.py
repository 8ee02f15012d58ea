"""Every request has an id, sent back as ``X-Request-Id`` and carried by its log records.

The id is the incoming ``X-Request-Id`` when that is a short safe token (a proxy's, e.g.
nginx's ``$request_id``: the proxy's log and the app's then meet), else a new random one.
The 500 page shows it as the reference a person quotes to the central office; gunicorn's
access log writes it (gunicorn.conf.py), so that one request can be followed from the
access log to the app's log.

Each log record made while a request is handled carries ``request_id``, ``user_id`` (the
signed-in user's, or the API token's user's) and ``client`` (the client's address, as the
trusted proxies gave it: ``ASSESS_PROXY_COUNT``), and ``request_context``, those three as
text; the handler Flask gives the app's logger shows them. No header, cookie, form field or
password is read into a record.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
from typing import Any

from flask import Flask, Response, g, has_request_context, request

HEADER = "X-Request-Id"
#: An incoming id is kept when it is 1-64 ASCII letters, digits, ".", "_" or "-" (nothing
#: that could break a log line or a page), starting with a letter or digit.
SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_ENVIRON_KEY = "assess.request_id"
#: The format of the handler Flask gives the app's logger (Flask's own, with the request).
FORMAT = "[%(asctime)s] %(levelname)s in %(module)s%(request_context)s: %(message)s"

_installed = threading.Lock()
_factory_installed = False


def request_id() -> str | None:
    """The current request's id (``None`` outside a request): made once per request."""
    if not has_request_context():
        return None
    environ = request.environ
    found: str | None = environ.get(_ENVIRON_KEY)
    if found is None:
        given = request.headers.get(HEADER, "")
        found = given if SAFE_ID.fullmatch(given) else secrets.token_hex(8)
        environ[_ENVIRON_KEY] = found
    return found


def user_id() -> int | None:
    """The id of the request's user, when one is signed in (or named by an API token) and
    already loaded: never a query of its own (a log record may be made after a rollback)."""
    from sqlalchemy import inspect

    user = g.get("api_user") or g.get("_login_user")
    if user is None:
        return None
    state = inspect(user, raiseerr=False)
    identity = getattr(state, "identity", None)
    return int(identity[0]) if identity else None


def context() -> dict[str, Any]:
    """The request's fields of a log record (all ``None`` outside a request)."""
    if not has_request_context():
        return {"request_id": None, "user_id": None, "client": None, "request_context": ""}
    ident, user, client = request_id(), user_id(), request.remote_addr
    text = f" [request={ident} user={user if user is not None else '-'} client={client or '-'}]"
    return {"request_id": ident, "user_id": user, "client": client, "request_context": text}


class RequestFormatter(logging.Formatter):
    """A formatter for records with or without the request's fields (:data:`FORMAT`)."""

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_context"):
            setattr(record, "request_context", "")  # noqa: B010 (not a LogRecord field)
        return super().format(record)


def _install_record_factory() -> None:
    """Give every log record of the process the request's fields (once per process; the
    factory found is kept and called first)."""
    global _factory_installed
    if _factory_installed:
        return
    made = logging.getLogRecordFactory()

    def record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        found = made(*args, **kwargs)
        try:
            fields = context()
        except Exception:  # noqa: BLE001 (logging must never fail for want of its context)
            fields = {"request_id": None, "user_id": None, "client": None, "request_context": ""}
        for name, value in fields.items():
            setattr(found, name, value)
        return found

    logging.setLogRecordFactory(record)
    _factory_installed = True


def init_app(app: Flask) -> None:
    """The request id on every reply; the request's fields in the log records; the
    handler Flask gives the app's logger (when nothing else handles its records: not
    gunicorn's or pytest's, which are left alone) shows them."""
    from flask.logging import default_handler

    with _installed:
        _install_record_factory()
        if not isinstance(default_handler.formatter, RequestFormatter):
            default_handler.setFormatter(RequestFormatter(FORMAT))

    @app.after_request
    def _send_request_id(response: Response) -> Response:
        ident = request_id()
        if ident:
            response.headers[HEADER] = ident
        return response
