"""The JSON API ``/api/v1`` (interfaces.md, "JSON API").

Bearer tokens (``assess user token``, the profile page) authenticate every call; the
OpenAPI document is generated from the code by flask-smorest and served, with a Swagger UI
reference page whose assets come from the ``swagger-ui-bundle`` package (nothing from a CDN).
Each app gets its own rate limiter (per token; ``memory://`` or ``ASSESS_REDIS_URL``).
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint as PlainBlueprint
from flask import Flask, current_app, request
from flask_limiter.util import get_remote_address
from flask_smorest import Api

from assess.api.schemas import ErrorSchema
from assess.app import LANGUAGES
from assess.config import API_PREFIX


class AssessApi(Api):  # type: ignore[misc]
    """flask-smorest's Api with the errors of this app (``{"error", "details"}``)."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        # assess.errors and the API blueprint turn errors into {"error", "details"}; the
        # default handler of flask-smorest would replace the web app's error pages.
        return None


#: The query parameter every endpoint takes (the scorecard's own ``lang`` also chooses the
#: PDF's language).
LANG_PARAMETER = {
    "name": "lang",
    "in": "query",
    "required": False,
    "description": "The language of the messages: th or en (English by default)",
    "schema": {"type": "string", "enum": list(LANGUAGES)},
}


def rate_key() -> str:
    """Rate limits count per token (its hash: the token itself is never kept), else per address."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return "token:" + hashlib.sha256(token.strip().encode("utf-8")).hexdigest()
    return "addr:" + (get_remote_address() or "")


def _settings(app: Flask) -> dict[str, Any]:
    import swagger_ui_bundle

    del swagger_ui_bundle  # imported only to fail early when the assets are missing
    return {
        "API_TITLE": "assess JSON API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": API_PREFIX,
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        "OPENAPI_SWAGGER_UI_URL": f"{API_PREFIX}/docs/assets/",
        "API_SPEC_OPTIONS": {
            "info": {
                "description": "Read and answer responses, review them, and read scores "
                "and benchmarks. Authenticate with `Authorization: Bearer <token>` (from "
                "`assess user token` or the profile page). Scorecards are PDF/A-3b "
                "files with the scores attached as JSON."
            },
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearerAuth": []}],
        },
        # The API's own size limit (the web app allows evidence uploads up to 25 MB).
        "API_MAX_CONTENT_LENGTH": 1024 * 1024,
        "API_RATE_LIMIT": "600/minute",
        "RATELIMIT_STORAGE_URI": app.config.get("REDIS_URL") or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        # Redis unreachable: count in the process rather than refuse every call.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    }


def init_app(app: Flask) -> None:
    """Register the API, its OpenAPI document and reference page, and its rate limits."""
    import swagger_ui_bundle

    from assess.api.routes import bp
    from assess.auth.throttle import confined
    from assess.extensions import csrf

    for key, value in _settings(app).items():
        app.config.setdefault(key, value)
    api = AssessApi(app)
    csrf.exempt(bp)
    # Every endpoint takes ?lang= for the language of its messages (assess.api.routes).
    api.register_blueprint(bp, parameters=[LANG_PARAMETER])
    # Swagger UI's scripts and styles, served from the installed package.
    assets = PlainBlueprint(
        "api_assets",
        __name__,
        static_folder=swagger_ui_bundle.swagger_ui_path,
        static_url_path=f"{API_PREFIX}/docs/assets",
    )
    app.register_blueprint(assets)
    # Its hooks run for the API's requests alone (assess.auth.throttle.confined).
    limiter = confined(app, bp.name, key_func=rate_key)
    limiter.limit(lambda: str(current_app.config["API_RATE_LIMIT"]), key_func=rate_key)(bp)
    app.extensions["assess_api"] = api
