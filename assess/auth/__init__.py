"""Signing in and out, the language switch, the profile page; who may do what."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Flask, Response, abort, g, request, session
from flask_login import current_user, login_required, user_logged_in, user_logged_out

from assess.auth import sessions
from assess.extensions import db, login
from assess.models import User

bp = Blueprint("auth", __name__)

F = TypeVar("F", bound=Callable[..., Any])


def init_app(app: Flask) -> None:
    """Configure Flask-Login: where to sign in, and how a session names its user."""
    login.login_view = "auth.login"
    login.login_message = None  # the login page explains itself
    login.session_protection = "basic"
    # Registered before the app's other hooks, so it runs first: the session's row is
    # checked (and marked seen) and that is committed before a view changes anything.
    app.before_request(_check_session)
    app.after_request(_tell_idle_seconds)


def _is_asset() -> bool:
    return (request.endpoint or "").rpartition(".")[2] == "static"


def _check_session() -> None:
    # Flask-Login keeps the user on ``g``, which outlives a request when an app context
    # was already pushed (tests, scripts): every request finds its user from its own session.
    g.pop("_login_user", None)
    g.pop(sessions.ROW_KEY, None)
    if "_user_id" not in session:
        return  # anonymous: nothing to look up
    if _is_asset():
        return  # a page's assets do not keep its session alive (nor write it, in parallel)
    current_user._get_current_object()  # runs load_user
    if db.session.dirty or db.session.deleted:
        db.session.commit()


def _tell_idle_seconds(response: Response) -> Response:
    """A signed-in reply says how long the session has left before it ends for inactivity:
    the page's script (session.js) counts its warning from it, not from its own guess (the
    server writes ``last_seen_at`` at most once a minute)."""
    seen = sessions.current()
    if seen is not None and not _is_asset():
        idle, _ = sessions.seconds_left(seen)
        response.headers[sessions.IDLE_HEADER] = str(idle)
    return response


#: Flask-Login's keys of a signed-in session.
_LOGIN_KEYS = ("_user_id", "_fresh", "_id")


@login.user_loader
def load_user(user_id: str) -> User | None:
    """The user of a session: an active user, the same password epoch (a password change
    ends older sessions) and a live server-side record (signing out ends it)."""
    ident, _, epoch = user_id.partition(":")
    try:
        user = sessions.load(int(ident))  # the user with its session row, in one query
    except ValueError:
        user = None
    if user is None or not user.active or str(user.session_epoch) != epoch:
        for key in _LOGIN_KEYS:
            session.pop(key, None)
        g.pop(sessions.ROW_KEY, None)  # not this request's session after all
        return None
    return user


@user_logged_in.connect
def _started(sender: Flask, user: User, **extra: Any) -> None:
    sessions.start(user)


@user_logged_out.connect
def _ended(sender: Flask, user: User | None, **extra: Any) -> None:
    sessions.end_current()


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
