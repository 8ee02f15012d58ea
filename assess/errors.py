"""Error pages and JSON errors: clear 403/404/500 pages; refused operations explained."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from assess.extensions import db
from assess.services.errors import ServiceError


def wants_json() -> bool:
    """API calls and the pages' own fetches get JSON errors; browsers get pages."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" or request.headers.get("X-Requested-With") == "fetch"


def init_app(app: Flask) -> None:
    """Register the handlers."""

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
            return jsonify(error=exc.name, details=exc.description), code
        return render_template("errors/error.html", code=code, reason=None), code

    @app.errorhandler(500)
    def _server_error(exc: Exception) -> Any:
        db.session.rollback()
        if wants_json():
            return jsonify(error="Internal Server Error", details=None), 500
        return render_template("errors/error.html", code=500, reason=None), 500
