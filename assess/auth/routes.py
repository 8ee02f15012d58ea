"""Views: sign in, sign out, language, profile."""

from __future__ import annotations

import math
import time
from typing import Any
from urllib.parse import urlsplit

from flask import abort, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext, refresh
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response as WerkzeugResponse

from assess.app import LANGUAGES
from assess.auth import bp, passwords, sessions, throttle
from assess.auth.forms import LanguageForm, LoginForm, PasswordForm, TokenForm
from assess.errors import wants_json
from assess.extensions import db
from assess.extensions import login as login_manager
from assess.models import utcnow
from assess.services import audit, users


def _safe_next(target: str | None) -> str | None:
    """Only local paths: an open redirect would let a phishing link borrow our login page."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def page_path() -> str | None:
    """The page to come back to after signing in: this request's address, or, for a form
    sent (a POST-only address, which the browser's GET after signing in would find 405: a
    review page's refused verify form, say), the page of ours it was sent from."""
    if request.method in ("GET", "HEAD"):
        return request.full_path.rstrip("?")
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host or not referrer.path.startswith("/"):
        return None
    return referrer.path + (f"?{referrer.query}" if referrer.query else "")


@login_manager.unauthorized_handler
def _sign_in_first() -> WerkzeugResponse:
    """Flask-Login's redirect to the sign-in page, which brings the person back to
    :func:`page_path` afterwards (``next``)."""
    return redirect(url_for("auth.login", next=page_path()))


def home_for(user: object) -> str:
    """Where a user lands after signing in."""
    return (
        url_for("review.rounds") if getattr(user, "is_central", False) else url_for("survey.home")
    )


@bp.route("/")
def index() -> WerkzeugResponse:
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return redirect(url_for("auth.login"))


def _fresh_session() -> None:
    """Start from an empty session (only the language kept): nothing from before signing in
    or out carries over, and the CSRF token changes."""
    lang = session.get("lang")
    sessions.end_current()
    session.clear()
    if lang in LANGUAGES:
        session["lang"] = lang


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | WerkzeugResponse | tuple[str, int]:
    """Sign in. Unknown e-mail, inactive account and wrong password get the same message
    (and the same hashing work); failed attempts are limited (assess.auth.throttle)."""
    form = LoginForm()
    if session.pop(sessions.ENDED_KEY, None) and request.method == "GET":
        flash(_("Your session has ended. Sign in again."), "info")
    if form.validate_on_submit():
        password = form.password.data or ""
        user = users.find_user(form.email.data or "")
        if user is None or not user.password_hash:
            passwords.spend_time(password)
            user = None
        elif not user.check_password(password) or not user.active:
            user = None
        if user is None:
            flash(_("Wrong e-mail or password."), "danger")
            return render_template("auth/login.html", form=form), 401
        _fresh_session()
        login_user(user)
        session.permanent = True
        if passwords.needs_rehash(user.password_hash):
            # An older or weaker hash: replace it while the password is at hand (the
            # epoch stays, so no session ends).
            user.password_hash = passwords.new_hash(password)
        user.last_login_at = utcnow()
        audit.record("login", user)
        db.session.commit()
        return redirect(_safe_next(request.args.get("next")) or home_for(user))
    return render_template("auth/login.html", form=form)


@bp.errorhandler(RateLimitExceeded)
def _too_many(exc: RateLimitExceeded) -> Any:
    """Over a sign-in limit: the sign-in page, 429, no password checked."""
    db.session.rollback()
    breached = throttle.current_limit()
    reset = breached.reset_at if breached is not None else time.time() + 60
    wait = max(1, math.ceil((reset - time.time()) / 60))
    message = _(
        "Too many failed sign-in attempts. Wait %(minutes)s minutes and try again.",
        minutes=wait,
    )
    if wants_json():
        return {"error": "too_many_attempts", "message": message}, 429
    flash(message, "danger")
    return render_template("auth/login.html", form=LoginForm()), 429


@bp.route("/logout", methods=["POST"])
def logout() -> WerkzeugResponse:
    """Sign out: the session's server-side record is deleted, so a copy of the cookie no
    longer works either."""
    logout_user()  # ends the record (assess.auth, user_logged_out)
    _fresh_session()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/session/keep-alive", methods=["POST"])
def keep_alive() -> Any:
    """A page's "Stay signed in" (session.js): mark the session seen now, even within the
    minute in which a normal request would not write it, and say how many seconds it has
    left before it ends for inactivity and at its maximum age. An ended session gets a JSON
    401, not the sign-in redirect: the page stays, with whatever was typed on it."""
    seen = sessions.keep_alive() if current_user.is_authenticated else None
    if seen is None:
        return jsonify(
            error="unauthenticated",
            message=_("Your session has ended. Sign in again."),
            login_url=url_for("auth.login"),
        ), 401
    db.session.commit()
    idle, age = sessions.seconds_left(seen)
    return jsonify(idle_seconds=idle, max_age_seconds=age)


@bp.app_template_global()
def session_timer() -> dict[str, Any] | None:
    """What session.js needs on a signed-in page (base.html puts it in a JSON block): the
    seconds left, when to warn, where to keep the session alive or sign in again, and its
    texts ({time} is filled in by the script)."""
    seen = sessions.current()
    if seen is None:
        return None
    idle, age = sessions.seconds_left(seen)
    idle_total = int(sessions.idle_timeout().total_seconds())
    return {
        "idle_seconds": idle,
        "max_age_seconds": age,
        # Two minutes before the end, or half the idle time when that is shorter.
        "warn_seconds": min(sessions.WARN_BEFORE, idle_total // 2),
        # Which sign-in this page belongs to (review.js: was a form sent in this session?).
        "started": seen.created_at.isoformat(),
        # Where "Sign in again" comes back to (not a refused form's POST-only address).
        "here": page_path(),
        "urls": {
            "keep_alive": url_for("auth.keep_alive"),
            "login": url_for("auth.login"),
            "logout": url_for("auth.logout"),
        },
        "messages": {
            "title": _("Your session is about to end"),
            "idle": _("Your session will end in %(time)s because of inactivity.", time="{time}"),
            "limit": _(
                "Your session will end in %(time)s: a session lasts at most %(hours)s hours "
                "from signing in. Save your work now, then sign in again.",
                time="{time}",
                hours=int(sessions.max_age().total_seconds() // 3600),
            ),
            "one_minute": _("Your session will end in 1 minute."),
            "half_minute": _("Your session will end in 30 seconds."),
            "ended_title": _("Your session has ended"),
            "ended": _(
                "Anything not yet saved is still on this page. Copy it before you leave the "
                "page, then sign in again."
            ),
            "stay": _("Stay signed in"),
            "sign_out": _("Sign out"),
            "sign_in": _("Sign in again"),
            "close": _("Close"),
        },
    }


@bp.route("/language/<code>", methods=["POST"])
def language(code: str) -> WerkzeugResponse:
    """Switch the interface language (kept on the user, or in the session)."""
    if code in LANGUAGES:
        session["lang"] = code
        if current_user.is_authenticated:
            current_user.language = code
            db.session.commit()
    return redirect(_safe_next(request.form.get("next")) or url_for("auth.index"))


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile() -> str | WerkzeugResponse:
    password_form = PasswordForm(prefix="pw")
    language_form = LanguageForm(prefix="lang", language=current_user.language)
    token_form = TokenForm(prefix="tok")
    new_token = None
    if password_form.submit.data and password_form.validate_on_submit():
        if not current_user.check_password(password_form.current.data or ""):
            password_form.current.errors = [_("That is not your current password.")]
        else:
            problems = users.check_password_strength(password_form.new.data or "")
            if problems:
                password_form.new.errors = problems
            else:
                user = current_user._get_current_object()
                user.set_password(password_form.new.data or "")
                audit.record("password", user)
                # Every session of the user ends, here and elsewhere (the epoch changed too);
                # this browser signs in again with a new session id.
                sessions.end_all(user)
                # So do its API tokens: one copied before must not outlive the new password.
                revoked = users.revoke_all_tokens(user)
                db.session.commit()
                session.pop(sessions.SESSION_KEY, None)
                login_user(user)
                flash(_("Your password has been changed."), "success")
                if revoked:
                    flash(
                        ngettext(
                            "Your API token was revoked with the old password: make a new one "
                            "where it was used.",
                            "Your %(num)d API tokens were revoked with the old password: make "
                            "new ones where they were used.",
                            revoked,
                        ),
                        "warning",
                    )
                return redirect(url_for("auth.profile"))
    elif language_form.submit.data and language_form.validate_on_submit():
        current_user.language = language_form.language.data or "th"
        session["lang"] = current_user.language
        db.session.commit()
        refresh()  # the message below in the language just chosen
        flash(_("Saved."), "success")
        return redirect(url_for("auth.profile"))
    elif token_form.submit.data and token_form.validate_on_submit():
        new_token = users.issue_token(current_user, token_form.label.data or "")
        audit.record("token.create", current_user, detail=token_form.label.data or "")
        db.session.commit()
    return render_template(
        "auth/profile.html",
        password_form=password_form,
        language_form=language_form,
        token_form=token_form,
        tokens=users.tokens_of(current_user),
        new_token=new_token,
    )


@bp.route("/profile/tokens/<int:token_id>/revoke", methods=["GET", "POST"])
@login_required
def revoke_token(token_id: int) -> WerkzeugResponse | str:
    """Revoke one of the person's API tokens, after a page that asks first (a script using
    it stops at once, and a revoked token cannot be brought back)."""
    if request.method == "GET":
        token = next((t for t in users.tokens_of(current_user) if t.id == token_id), None)
        if token is None:
            abort(404)
        return render_template("auth/revoke_token.html", token=token)
    users.revoke_token(current_user, token_id)
    audit.record("token.revoke", current_user, detail=str(token_id))
    db.session.commit()
    flash(_("The token has been revoked."), "info")
    return redirect(url_for("auth.profile"))
