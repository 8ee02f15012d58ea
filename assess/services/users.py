"""Users and API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets

from flask_babel import gettext as _
from sqlalchemy import select

from assess import i18n
from assess.extensions import db
from assess.labels import ROLE
from assess.models import COORDINATOR, ROLES, Agency, ApiToken, User, utcnow
from assess.services.errors import NotFound, ServiceError

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 10


def check_password_strength(password: str) -> list[str]:
    """Problems with a new password (empty when it is acceptable)."""
    problems = []
    if len(password) < MIN_PASSWORD:
        problems.append(_("the password must have at least %(n)s characters", n=MIN_PASSWORD))
    if password.strip() != password:
        problems.append(_("the password must not start or end with spaces"))
    return problems


def create_user(
    email: str,
    role: str,
    *,
    agency: Agency | None = None,
    password: str | None = None,
    name: str = "",
    language: str = "th",
) -> User:
    """Create a user; coordinators belong to exactly one agency, others to none."""
    email = email.strip().lower()
    problems = []
    if not EMAIL.match(email):
        problems.append(_("%(email)s is not an e-mail address", email=repr(email)))
    if role not in ROLES:
        problems.append(
            _("role %(role)s is not one of %(roles)s", role=repr(role), roles=", ".join(ROLES))
        )
    if role == COORDINATOR and agency is None:
        problems.append(_("a coordinator needs an agency (--agency CODE)"))
    if role != COORDINATOR and agency is not None:
        problems.append(
            _(
                "a %(role)s belongs to the central office, not to an agency",
                role=i18n.word(role, ROLE),
            )
        )
    if password is not None:
        problems.extend(check_password_strength(password))
    if db.session.scalar(select(User.id).filter_by(email=email)) is not None:
        problems.append(_("a user with e-mail %(email)s already exists", email=email))
    if problems:
        raise ServiceError(problems)
    user = User(email=email, role=role, agency=agency, name=name, language=language)
    if password is not None:
        user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def find_user(email: str) -> User | None:
    """The user with this e-mail (case-insensitive), if any."""
    return db.session.scalar(select(User).filter_by(email=email.strip().lower()))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(user: User, label: str = "") -> str:
    """A new API token for ``user``; only its hash is stored, so show it once."""
    token = "as_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, token_hash=_digest(token), label=label))
    return token


def user_for_token(token: str) -> User | None:
    """The active user a bearer token belongs to, or ``None``."""
    row = db.session.scalar(select(ApiToken).filter_by(token_hash=_digest(token), revoked=False))
    if row is None or not row.user.active:
        return None
    row.last_used_at = utcnow()
    return row.user


def tokens_of(user: User) -> list[ApiToken]:
    """The user's tokens that are not revoked, newest first."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .filter_by(user_id=user.id, revoked=False)
            .order_by(ApiToken.created_at.desc())
        )
    )


def revoke_token(user: User, token_id: int) -> None:
    """Revoke one of the user's tokens."""
    row = db.session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        # Another user's token is as unknown as a missing one (404, nothing revoked).
        raise NotFound(_("no such token"))
    row.revoked = True
