"""Signing in and out, the language switch, the profile page; who may do what."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Flask, abort
from flask_login import current_user, login_required

from assess.extensions import db, login
from assess.models import User

bp = Blueprint("auth", __name__)

F = TypeVar("F", bound=Callable[..., Any])


def init_app(app: Flask) -> None:
    """Configure Flask-Login: where to sign in, and how a session names its user."""
    login.login_view = "auth.login"
    login.login_message = None  # the login page explains itself
    login.session_protection = "basic"


@login.user_loader
def load_user(user_id: str) -> User | None:
    """The user of a session; the epoch ends sessions made before a password change."""
    ident, _, epoch = user_id.partition(":")
    try:
        user = db.session.get(User, int(ident))
    except ValueError:
        return None
    if user is None or not user.active or str(user.session_epoch) != epoch:
        return None
    return user


def central_required(view: F) -> F:
    """Reviewers and admins only (403 for coordinators)."""

    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_central:
            abort(403)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def admin_required(view: F) -> F:
    """Admins only (403 for reviewers and coordinators)."""

    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


from assess.auth import routes  # noqa: E402, F401  (registers the views on bp)
