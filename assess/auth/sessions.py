"""Server-side records of signed-in browsers.

The session cookie is signed but kept by the browser, so on its own it stays valid until it
expires, even after signing out (a copied cookie would still work). Each sign-in therefore
puts a random id in the session and keeps its SHA-256 in ``user_session``; a session counts
only while its row exists:

- signing out deletes the row (a copy of the cookie no longer works);
- a password change deletes the user's other rows (and bumps ``User.session_epoch``, which
  also ends sessions when an administrator sets the password);
- a row not seen for ``SESSION_IDLE_MINUTES``, or older than ``PERMANENT_SESSION_LIFETIME``,
  has ended: the next request is anonymous (the answer page's autosave gets a JSON 401 and
  keeps the values until the person signs in again).

``last_seen_at`` is written at most once a minute per session, except by the keep-alive
(:func:`keep_alive`, a page's "Stay signed in"), which always writes it. Every reply to a
signed-in request tells the page's script (session.js) how long the session has left before
it ends for inactivity (:data:`IDLE_HEADER`), so its warning stays in step with the server.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from flask import current_app, g, session
from sqlalchemy import bindparam, delete, or_, select, update

from assess.extensions import db
from assess.models import User, UserSession, utcnow

#: The session key holding this browser's random id.
SESSION_KEY = "sid"
#: The session key telling the sign-in page why the last session ended.
ENDED_KEY = "session_ended"
#: How stale ``last_seen_at`` may get before a request writes it again.
TOUCH_EVERY = dt.timedelta(seconds=60)
#: Where this request's live session is kept (on ``g``, a :class:`Seen`): the keep-alive
#: writes it, the reply's :data:`IDLE_HEADER` is counted from it.
ROW_KEY = "assess_session_seen"
#: The reply header giving the seconds before the session ends for inactivity.
IDLE_HEADER = "X-Session-Idle-Seconds"
#: How many seconds before a session ends its pages warn (session.js; at most half the idle
#: time).
WARN_BEFORE = 120


@dataclass
class Seen:
    """The times of this request's session row, kept as plain values: a view's commit or
    rollback expires the row itself, and reading it again would cost a query."""

    id: int
    created_at: dt.datetime
    last_seen_at: dt.datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def idle_timeout() -> dt.timedelta:
    return dt.timedelta(minutes=int(current_app.config["SESSION_IDLE_MINUTES"]))


def max_age() -> dt.timedelta:
    return current_app.permanent_session_lifetime


def start(user: User) -> None:
    """Record a new signed-in browser for ``user`` and put its id in the session.

    Runs on every ``login_user`` (Flask-Login's ``user_logged_in`` signal), so any sign-in,
    including the one after a password change, gets a fresh id. Also deletes ended rows.
    """
    end_current(commit=False)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(
        UserSession(user_id=user.id, token_hash=_digest(token), created_at=now, last_seen_at=now)
    )
    purge(now)
    db.session.commit()
    session[SESSION_KEY] = token


def end_current(*, commit: bool = True) -> None:
    """Forget this browser's session row (signing out)."""
    token = session.pop(SESSION_KEY, None)
    g.pop(ROW_KEY, None)
    if isinstance(token, str):
        db.session.execute(delete(UserSession).where(UserSession.token_hash == _digest(token)))
        if commit:
            db.session.commit()


def end_all(user: User) -> int:
    """End every session of ``user`` (a password change; the caller signs this browser in
    again). Returns how many ended; the caller commits."""
    result = db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    return int(getattr(result, "rowcount", 0) or 0)


def purge(now: dt.datetime | None = None) -> None:
    """Delete the rows of ended sessions (idle too long or too old)."""
    now = now or utcnow()
    db.session.execute(
        delete(UserSession).where(
            or_(
                UserSession.last_seen_at < now - idle_timeout(),
                UserSession.created_at < now - max_age(),
            )
        )
    )


def count(user: User) -> int:
    """How many live session rows ``user`` has (the profile page)."""
    rows = db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)).all()
    now = utcnow()
    return sum(1 for row in rows if _alive(row, now))


def _alive(row: UserSession, now: dt.datetime) -> bool:
    return now - row.last_seen_at <= idle_timeout() and now - row.created_at <= max_age()


def check(user_id: int) -> bool:
    """Whether this request's session is a live row of ``user_id``; mark it seen.

    An ended row is deleted and the sign-in page is told why. The changes are left for the
    caller to commit (``assess.auth`` does at the start of the request).
    """
    return load(user_id) is not None


#: The query of :func:`load`, built once.
_USER_AND_SESSION = (
    select(User, UserSession)
    .join(UserSession, UserSession.user_id == User.id)
    .where(User.id == bindparam("user_id"), UserSession.token_hash == bindparam("token_hash"))
)


def load(user_id: int) -> User | None:
    """The user whose live session row this request's session names, marked seen; else
    ``None`` (as :func:`check`). The user and the row come in one query: every signed-in
    request asks."""
    token = session.get(SESSION_KEY)
    if not isinstance(token, str):
        return None
    found = db.session.execute(
        _USER_AND_SESSION, {"user_id": user_id, "token_hash": _digest(token)}
    ).first()
    if found is None:
        session.pop(SESSION_KEY, None)
        return None
    user, row = found
    if not _alive_and_seen(row):
        return None
    return user


def _alive_and_seen(row: UserSession) -> bool:
    """Whether ``row`` has not ended (an ended one is deleted); mark it seen."""
    now = utcnow()
    if not _alive(row, now):
        db.session.delete(row)
        session.pop(SESSION_KEY, None)
        session[ENDED_KEY] = "idle"
        return False
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    setattr(g, ROW_KEY, Seen(row.id, row.created_at, row.last_seen_at))
    return True


def current() -> Seen | None:
    """This request's live session (found by :func:`load`), if any."""
    seen: Seen | None = g.get(ROW_KEY)
    return seen


def keep_alive() -> Seen | None:
    """Mark this request's session seen now, even within :data:`TOUCH_EVERY` (a page's
    "Stay signed in" must give the whole idle time back). The caller commits."""
    seen = current()
    if seen is not None:
        seen.last_seen_at = utcnow()
        db.session.execute(
            update(UserSession)
            .where(UserSession.id == seen.id)
            .values(last_seen_at=seen.last_seen_at)
        )
    return seen


def seconds_left(seen: Seen) -> tuple[int, int]:
    """Whole seconds before the session ends: for inactivity, and at its maximum age
    (which no activity extends)."""
    now = utcnow()
    idle = seen.last_seen_at + idle_timeout() - now
    age = seen.created_at + max_age() - now
    return max(0, int(idle.total_seconds())), max(0, int(age.total_seconds()))
