"""HTTP security headers, the Content-Security-Policy, and the production checks.

*Production* is ``ASSESS_ENV=production`` (``wsgi.py``, the gunicorn entry point, sets it
unless told otherwise). There the app refuses to start with debug on, testing mode, CSRF
protection off or a missing, known or weak secret key; session cookies are ``Secure`` and
every reply carries HSTS. Development (the default, the demo) needs no configuration.

Every page gets a strict policy: scripts only from this site (no inline scripts, no
``on*=`` handlers, no ``javascript:`` links; JSON data blocks are not scripts), no plugins,
no framing. Styles allow ``'unsafe-inline'``: Plotly sets styles on the elements it draws and
templates have a few ``style`` attributes. A reply that sets its own policy (the evidence
download's sandbox) keeps it. The API's Swagger UI page, whose template has one inline
script, gets that script's hash added to its policy.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from flask import Flask, Response, current_app, request

from assess.config import PRODUCTION, ConfigurationError

__all__ = ["CSP", "ConfigurationError", "check_configuration", "init_app", "is_production"]

#: The policy of every page (and of JSON and file replies, where it costs nothing).
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}

#: One year; not ``includeSubDomains``: other sites of the ministry's domain are not ours.
HSTS = "max-age=31536000"

#: Secret keys seen in examples and tutorials (compared without case, spaces and dashes).
KNOWN_KEYS = {
    "dev",
    "test",
    "testing",
    "secret",
    "secretkey",
    "changeme",
    "changethis",
    "default",
    "development",
    "production",
    "password",
    "yoursecretkey",
    "supersecretkey",
    "insecure",
    "none",
    "null",
}
#: Words that mark a placeholder even in a long key ("change-me-to-something-long…").
PLACEHOLDER_WORDS = ("changeme", "changethis", "replaceme", "yoursecret", "placeholder", "example")
MIN_KEY_LENGTH = 32

_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


def is_production(app: Flask | None = None) -> bool:
    """Whether ``app`` (default: the current one) runs as production."""
    app = app or current_app
    return app.config.get("ENVIRONMENT") == PRODUCTION


def weak_key_reason(key: Any) -> str | None:
    """Why ``key`` may not sign production sessions, or None when it is acceptable."""
    if not key:
        return "is not set"
    if not isinstance(key, str):
        key = key.decode("utf-8", "replace") if isinstance(key, bytes) else str(key)
    squashed = re.sub(r"[\s_\-.]", "", key).lower()
    if squashed in KNOWN_KEYS or any(word in squashed for word in PLACEHOLDER_WORDS):
        return "is a well-known placeholder value"
    if len(key) < MIN_KEY_LENGTH:
        return f"is shorter than {MIN_KEY_LENGTH} characters"
    if len(set(key)) < 10:
        return "has fewer than 10 different characters"
    return None


def check_configuration(app: Flask) -> None:
    """Settings valid in any environment; in production also refuse unsafe ones.

    Raises :class:`ConfigurationError` naming every setting to fix.
    """
    from limits import parse_many

    config = app.config
    problems: list[str] = []
    try:
        parse_many(str(config["LOGIN_RATE_LIMIT"]))
    except ValueError:
        problems.append(
            f"ASSESS_LOGIN_RATE_LIMIT={config['LOGIN_RATE_LIMIT']!r} is not a rate limit "
            "such as '20/minute;100/hour'"
        )
    for key, variable, minimum in (
        ("SESSION_IDLE_MINUTES", "ASSESS_SESSION_IDLE_MINUTES", 1),
        ("LOGIN_MAX_FAILURES", "ASSESS_LOGIN_MAX_FAILURES", 1),
        ("LOGIN_LOCKOUT_MINUTES", "ASSESS_LOGIN_LOCKOUT_MINUTES", 1),
        ("PROXY_COUNT", "ASSESS_PROXY_COUNT", 0),
    ):
        value = config.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            problems.append(f"{variable}={value!r} must be a whole number of at least {minimum}")
    if config.get("ENVIRONMENT") == PRODUCTION:
        if app.debug:
            problems.append(
                "debug mode is on (FLASK_DEBUG): the debugger runs code sent by anyone; "
                "unset FLASK_DEBUG in production"
            )
        if config.get("TESTING"):
            problems.append("TESTING is on: it is for the test suite only")
        if not config.get("WTF_CSRF_ENABLED", True):
            problems.append("WTF_CSRF_ENABLED is off: forms would accept forged requests")
        reason = weak_key_reason(config.get("SECRET_KEY"))
        if reason:
            problems.append(
                f"ASSESS_SECRET_KEY {reason}: it signs the sessions; give a random value of "
                f"at least {MIN_KEY_LENGTH} characters, e.g. the output of "
                "python -c 'import secrets; print(secrets.token_hex(32))'"
            )
    if problems:
        where = (
            "production (ASSESS_ENV=production)"
            if config.get("ENVIRONMENT") == PRODUCTION
            else "the configuration"
        )
        raise ConfigurationError(f"assess refuses to start in {where}:\n- " + "\n- ".join(problems))


def configure(app: Flask) -> None:
    """Derived settings (production cookies) and the checks; before extensions start."""
    if is_production(app):
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
        app.config["PREFERRED_URL_SCHEME"] = "https"
    check_configuration(app)
    proxies = int(app.config["PROXY_COUNT"])
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # The client's address (login rate limits) and scheme as the proxies saw them.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]


def _script_hashes(body: str) -> list[str]:
    hashes = []
    for script in _INLINE_SCRIPT.findall(body):
        digest = hashlib.sha256(script.encode("utf-8")).digest()
        hashes.append("'sha256-" + base64.b64encode(digest).decode("ascii") + "'")
    return hashes


def docs_policy(response: Response) -> str:
    """The Swagger UI page's policy: :data:`CSP` plus the hashes of its inline scripts."""
    hashes = _script_hashes(response.get_data(as_text=True))
    return CSP.replace("script-src 'self'", " ".join(["script-src 'self'", *hashes]), 1)


def init_app(app: Flask) -> None:
    """Add the headers to every reply."""
    from assess.config import API_PREFIX

    docs_path = f"{API_PREFIX}/docs"

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        for name, value in HEADERS.items():
            headers.setdefault(name, value)
        if "Content-Security-Policy" not in headers:
            if request.path == docs_path and response.mimetype == "text/html":
                headers["Content-Security-Policy"] = docs_policy(response)
            else:
                headers["Content-Security-Policy"] = CSP
        if is_production(app):
            headers.setdefault("Strict-Transport-Security", HSTS)
        if "Cache-Control" not in headers and not (request.endpoint or "").endswith("static"):
            # Pages and JSON hold an agency's data: never kept by a shared cache, and asked
            # for again rather than shown from the browser's cache (no-store would also take
            # the back button's instant page away; files that must not stay set it).
            headers["Cache-Control"] = "private, no-cache"
        return response
