"""Error pages and JSON errors: clear 403/404/500 pages; refused operations explained."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from assess.extensions import db
from assess.questionnaires.answers import lone_surrogate
from assess.request_log import request_id
from assess.services.errors import ServiceError


def wants_json() -> bool:
    """API calls and the pages' own fetches get JSON errors; browsers get pages."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" or request.headers.get("X-Requested-With") == "fetch"


def _is_json(mimetype: str) -> bool:
    return mimetype == "application/json" or mimetype.endswith("+json")


def _urlencoded_is_utf8(data: bytes) -> bool:
    """Whether every name and value of a URL-encoded form is UTF-8 once unescaped."""
    try:
        for pair in data.split(b"&"):
            unquote_to_bytes(pair.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def check_body() -> None:
    """Refuse a page's request body that the views would misread (the API checks its own).

    A body that is not a form (the autosave's JSON, whatever its declared type) is held to
    the API's limit (``API_MAX_CONTENT_LENGTH``, 1 MB), refused with 413 before it is read
    when its length says so, else before it is parsed: the 25 MB allowed for evidence
    uploads would let a JSON body cost seconds of parsing. Forms keep the general limit
    (uploads are multipart forms).

    Werkzeug decodes forms with replacement characters: a form sent in another encoding
    (TIS-620, say) would be saved as garbage. A JSON body must be UTF-8, nested no deeper
    than the parser can go, and hold whole characters (:func:`lone_surrogate`); whether it is
    valid JSON each view says itself.
    """
    if request.method not in ("POST", "PUT", "PATCH", "DELETE") or request.path.startswith("/api/"):
        return
    mimetype = request.mimetype
    if mimetype == "multipart/form-data":
        # Werkzeug reads a multipart body it cannot parse (cut off before its closing
        # boundary: a connection lost during an upload) as an empty form; the page would
        # then say it had expired. A body that came with nothing readable in it says why.
        if (request.content_length or 0) > 0 and not request.form and not request.files:
            raise ServiceError(
                _(
                    "The form did not arrive whole (the connection may have been cut during "
                    "an upload), so nothing was saved. Go back and send it again."
                )
            )
        return
    form = mimetype == "application/x-www-form-urlencoded"
    if not form:
        json_limit = int(current_app.config["API_MAX_CONTENT_LENGTH"])
        if request.content_length is not None and request.content_length > json_limit:
            raise _too_large(json_limit)
        request.max_content_length = min(json_limit, request.max_content_length or json_limit)
    data = request.get_data(cache=True)
    limit = request.max_content_length
    if limit is not None and request.content_length is None and len(data) >= limit:
        # A chunked body (no length given) is cut off at the limit, not refused; one of a
        # given length over it was refused as it was read.
        raise _too_large(limit) if not form else RequestEntityTooLarge()
    if form:
        if not _urlencoded_is_utf8(data):
            raise ServiceError(
                _(
                    "The form was not sent as UTF-8 text, so nothing was saved. Reload the page and try again."
                )
            )
    elif _is_json(mimetype):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ServiceError(
                _("The request was not sent as UTF-8 text, so nothing was saved.")
            ) from None
        try:
            body = json.loads(text)
        except RecursionError:
            raise ServiceError(
                _("The request is nested too deeply, so nothing was saved.")
            ) from None
        except ValueError:
            return  # not JSON: the view tells what it expects
        bad = lone_surrogate(body) if "\\u" in text else None
        if bad is not None:
            raise ServiceError(
                _(
                    "The request holds the escape %(escape)s, half of a character, so nothing "
                    "was saved.",
                    escape=bad,
                )
            )


def _too_large(limit: int) -> RequestEntityTooLarge:
    return RequestEntityTooLarge(
        _(
            "The request is larger than %(size)s KB, so nothing was saved.",
            size=f"{limit // 1024:,}",
        )
    )


#: What an HTTP error means, in the reader's language, for the pages' own requests (their
#: scripts show ``message``; ``error`` stays the status's English name, for programs).
HTTP_MESSAGES = {
    400: _l("The request could not be read; nothing was saved."),
    403: _l("You do not have access to this."),
    404: _l("Not found: it may have been removed, or the address is wrong."),
    405: _l("This action is not possible here."),
    409: _l("This changed in the meantime; reload the page."),
    413: _l("The request is too large, so nothing was saved."),
    415: _l("The request is not in a form the server reads; nothing was saved."),
    429: _l("Too many requests: wait a moment and try again."),
}


def http_message(exc: HTTPException) -> str:
    """A person's explanation of ``exc``: its own description when the app gave one (already
    translated), else the meaning of its status."""
    code = exc.code or 500
    if exc.description and exc.description != type(exc).description:
        return str(exc.description)
    return str(HTTP_MESSAGES.get(code, exc.name))


def init_app(app: Flask) -> None:
    """Register the handlers."""

    # First of all: before CSRF protection parses the form (after that the raw body is gone).
    app.before_request_funcs.setdefault(None, []).insert(0, check_body)

    @app.errorhandler(ServiceError)
    def _service_error(exc: ServiceError) -> Any:
        db.session.rollback()
        if wants_json():
            return jsonify(error="; ".join(exc.problems), details=exc.details), exc.status
        return render_template(
            "errors/refused.html", problems=exc.problems, status=exc.status
        ), exc.status

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError) -> Any:
        if wants_json():
            return jsonify(error="csrf", details=exc.description), 400
        return render_template("errors/error.html", code=400, reason="csrf"), 400

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        code = exc.code or 500
        if wants_json():
            return jsonify(error=exc.name, message=http_message(exc), details=exc.description), code
        # A server's error shows the request's id: the reference to quote (it is in the logs).
        reference = request_id() if code >= 500 else None
        return render_template(
            "errors/error.html", code=code, reason=None, reference=reference
        ), code

    @app.errorhandler(500)
    def _server_error(exc: Exception) -> Any:
        db.session.rollback()
        reference = request_id()  # in the log record of the error, and in X-Request-Id
        if wants_json():
            return jsonify(error="Internal Server Error", details=None, reference=reference), 500
        return render_template("errors/error.html", code=500, reason=None, reference=reference), 500
