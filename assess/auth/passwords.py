"""Password hashes at sign-in: equal work for unknown accounts, and upgrading old hashes.

Hashes are werkzeug's ``method$salt$hash`` strings; the method is ``PASSWORD_HASH_METHOD``
(scrypt, n=2**15, r=8, p=1 by default; the tests choose a cheaper pbkdf2).
"""

from __future__ import annotations

from flask import current_app
from werkzeug.security import DEFAULT_PBKDF2_ITERATIONS, check_password_hash, generate_password_hash

_DUMMY = "assess_dummy_password_hash"


def method() -> str:
    return str(current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"))


def _full(name: str) -> str:
    """``name`` with werkzeug's default parameters filled in (``scrypt`` → ``scrypt:32768:8:1``)."""
    parts = name.split(":")
    if parts[0] == "scrypt" and len(parts) == 1:
        return "scrypt:32768:8:1"
    if parts[0] == "pbkdf2":
        if len(parts) == 1:
            parts.append("sha256")
        if len(parts) == 2:
            parts.append(str(DEFAULT_PBKDF2_ITERATIONS))
    return ":".join(parts)


def needs_rehash(stored: str | None) -> bool:
    """Whether ``stored`` was made with another method or weaker parameters than configured."""
    if not stored or "$" not in stored:
        return False
    return _full(stored.split("$", 1)[0]) != _full(method())


def new_hash(password: str) -> str:
    return generate_password_hash(password, method=method())


def spend_time(password: str) -> None:
    """Check ``password`` against a hash of the configured method, for an unknown or inactive
    account, so the reply takes as long as for a real one (no telling accounts apart)."""
    dummy = current_app.extensions.get(_DUMMY)
    if dummy is None:
        dummy = current_app.extensions[_DUMMY] = generate_password_hash(
            "not a password", method=method()
        )
    check_password_hash(dummy, password)
