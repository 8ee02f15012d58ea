"""Views: sign in, sign out, language, profile."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response as WerkzeugResponse

from assess.app import LANGUAGES
from assess.auth import bp
from assess.auth.forms import LanguageForm, LoginForm, PasswordForm, TokenForm
from assess.extensions import db
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


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | WerkzeugResponse:
    form = LoginForm()
    if form.validate_on_submit():
        user = users.find_user(form.email.data or "")
        if user is None or not user.active or not user.check_password(form.password.data or ""):
            flash(_("Wrong e-mail or password."), "danger")
            return render_template("auth/login.html", form=form), 401
        login_user(user)
        session.permanent = True
        user.last_login_at = utcnow()
        audit.record("login", user)
        db.session.commit()
        return redirect(_safe_next(request.args.get("next")) or home_for(user))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout() -> WerkzeugResponse:
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


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
                current_user.set_password(password_form.new.data or "")
                audit.record("password", current_user)
                db.session.commit()
                # The epoch changed: sign in again in this browser with the new session id.
                login_user(current_user)
                flash(_("Your password has been changed."), "success")
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


@bp.route("/profile/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int) -> WerkzeugResponse:
    users.revoke_token(current_user, token_id)
    audit.record("token.revoke", current_user, detail=str(token_id))
    db.session.commit()
    flash(_("The token has been revoked."), "info")
    return redirect(url_for("auth.profile"))
