"""Users and API tokens."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from assess import i18n
from assess.auth.passwords import method as hash_method
from assess.extensions import db
from assess.labels import ROLE
from assess.models import COORDINATOR, ROLES, Agency, ApiToken, User, utcnow
from assess.services import audit
from assess.services.agencies import column_length, open_csv, text_problem
from assess.services.errors import NotFound, ServiceError

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+\Z")
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
    bad_email = text_problem("email", email, column_length(User, "email"))
    if bad_email:
        problems.append(bad_email)
    elif not EMAIL.match(email):
        problems.append(_("%(email)s is not an e-mail address", email=repr(email)))
    bad_name = text_problem("name", name, column_length(User, "name"))
    if bad_name:
        problems.append(bad_name)
    problems.extend(_role_problems(role, agency is not None, _("a coordinator needs an agency")))
    if password is not None:
        problems.extend(check_password_strength(password))
    if not bad_email and db.session.scalar(select(User.id).filter_by(email=email)) is not None:
        problems.append(_("a user with e-mail %(email)s already exists", email=email))
    if problems:
        raise ServiceError(problems)
    user = User(email=email, role=role, agency=agency, name=name, language=language)
    if password is not None:
        user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def _role_problems(role: str, agency_given: bool, no_agency: str) -> list[str]:
    """What is wrong with a new account's role and agency: a known role; a coordinator with
    an agency (``no_agency`` tells where to give one), anyone else without."""
    if role not in ROLES:
        return [_("role %(role)s is not one of %(roles)s", role=repr(role), roles=", ".join(ROLES))]
    if role == COORDINATOR and not agency_given:
        return [no_agency]
    if role != COORDINATOR and agency_given:
        return [
            _(
                "the %(role)s role belongs to the central office, not to an agency",
                role=i18n.word(role, ROLE),
            )
        ]
    return []


def find_user(email: str) -> User | None:
    """The user with this e-mail (case-insensitive), if any."""
    if "\x00" in email:  # no e-mail has one, and PostgreSQL refuses it in a query
        return None
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


def revoke_all_tokens(user: User) -> int:
    """Revoke every token of the user (a new password, a new role or agency: a token made
    before must not outlive it); how many were revoked."""
    rows = tokens_of(user)
    for row in rows:
        row.revoked = True
    return len(rows)


# -- many users at once ---------------------------------------------------------------------

#: The columns of a users file: ``email`` and ``role`` required; ``agency`` (its code) for a
#: coordinator; ``name``; ``language`` (``th`` or ``en``, Thai by default).
USER_COLUMNS = ("email", "role", "agency", "name", "language")
#: The columns of free text, checked against their column's length in the database.
USER_FREE_TEXT = ("email", "name")
USER_LANGUAGES = ("th", "en")


@dataclass(frozen=True)
class ImportedUsers:
    """What a users file did: the new users with their generated passwords (to hand over
    once), and how many rows named a user that already exists as the file says."""

    created: list[tuple[str, str]]
    unchanged: int


def import_users(
    data: bytes,
    source: str,
    *,
    progress: Callable[[int], None] | None = None,
    most: int | None = None,
    actor: User | None = None,
) -> ImportedUsers:
    """Create the users of a CSV file (:data:`USER_COLUMNS`), each with a generated
    password: the accounts of a national round's coordinators in one go (one
    ``assess user create`` a person takes about a second, 8,000 of them over two hours).

    A row whose user exists already with the same role and agency is left as it is, so a
    file can grow and be imported again; one that gives an existing user another role or
    agency is refused (roles change on the user's page, one person at a time). All or
    nothing: every problem is named ``FILE:LINE: …``. ``progress`` is told how many
    passwords are about to be hashed (scrypt, some 80 ms each, on every core at once); a
    file of more new users than ``most`` is refused before any is hashed (a web request
    waits for them). ``actor`` is who the audit trail names (``None``: the system).
    """
    table, problems = open_csv(data, source, USER_COLUMNS)
    missing = [c for c in ("email", "role") if c not in table.columns]
    if missing:
        raise ServiceError(
            _(
                "%(file)s:1: the header needs the column(s) %(columns)s; expected %(expected)s",
                file=source,
                columns=", ".join(missing),
                expected=",".join(USER_COLUMNS),
            )
        )
    agencies = {a.code: a for a in db.session.scalars(select(Agency))}
    existing = {u.email.lower(): u for u in db.session.scalars(select(User))}
    seen: dict[str, int] = {}
    new: list[tuple[str, str, Agency | None, str, str]] = []
    unchanged = 0
    for line, cells in table.rows:  # rows of empty cells left out
        where = f"{source}:{line}"
        if len(cells) > len(table.columns):
            problems.append(_("%(where)s: more cells than columns", where=where))
            continue
        # A short row leaves its last columns empty.
        cell = {k: v.strip() for k, v in zip(table.columns, cells, strict=False)}
        email = cell.get("email", "").lower()
        cell["email"] = email
        role, code = cell.get("role", ""), cell.get("agency", "")
        language = cell.get("language", "") or "th"
        found: list[str] = []
        # Text the database can hold: a cell refused here is not checked further.
        refused: set[str] = set()
        for name in USER_COLUMNS:
            limit = column_length(User, name) if name in USER_FREE_TEXT else None
            problem = text_problem(name, cell.get(name, ""), limit)
            if problem:
                refused.add(name)
                found.append(problem)
        if "email" not in refused and not EMAIL.match(email):
            found.append(_("%(email)s is not an e-mail address", email=repr(email)))
        elif "email" not in refused and email in seen:
            found.append(_("%(email)s repeats line %(line)s", email=email, line=seen[email]))
        seen.setdefault(email, line)
        if "role" not in refused:
            found += _role_problems(
                role, bool(code), _("a coordinator needs an agency (the agency column)")
            )
        if code and code not in agencies and "agency" not in refused:
            found.append(
                _("agency %(agency)s: no such agency (see 'assess agency import')", agency=code)
            )
        if language not in USER_LANGUAGES and "language" not in refused:
            found.append(
                _(
                    "language %(language)s is not one of %(languages)s",
                    language=repr(language),
                    languages=", ".join(USER_LANGUAGES),
                )
            )
        if found:
            problems.extend(f"{where}: {problem}" for problem in found)
            continue
        agency = agencies.get(code) if code else None
        user = existing.get(email)
        if user is not None:
            if user.role == role and user.agency_id == (agency.id if agency else None):
                unchanged += 1
                continue
            held = user.agency.code if user.agency is not None else "-"
            problems.append(
                _(
                    "%(where)s: a user with e-mail %(email)s already exists as %(role)s "
                    "(agency %(agency)s); change it on the user's page",
                    where=where,
                    email=email,
                    role=i18n.word(user.role, ROLE),
                    agency=held,
                )
            )
            continue
        new.append((email, role, agency, cell.get("name", ""), language))
    if problems:
        raise ServiceError(problems)
    if most is not None and len(new) > most:
        raise ServiceError(
            _(
                "%(file)s: %(count)s new users; at most %(limit)s are created at a time here "
                "(each password takes a moment to secure): split the file, or use "
                "'assess user import'",
                file=source,
                count=f"{len(new):,}",
                limit=most,
            )
        )
    passwords = [secrets.token_urlsafe(12) for _row in new]
    if progress is not None:
        progress(len(new))
    made = [
        # session_epoch 1: as set_password leaves a new user
        User(email=email, role=role, agency=agency, name=name, language=language,
             password_hash=hashed, session_epoch=1)
        for (email, role, agency, name, language), hashed in zip(
            new, _hashes(passwords), strict=True
        )
    ]  # fmt: skip
    db.session.add_all(made)
    db.session.flush()
    audit.insert(
        "user.create",
        actor,
        [
            {
                "old": None,
                "new": {"role": u.role, "agency": u.agency.code if u.agency else None},
                "detail": u.email,
            }
            for u in made
        ],
    )
    return ImportedUsers([(u.email, p) for u, p in zip(made, passwords, strict=True)], unchanged)


def _hashes(passwords: list[str]) -> list[str]:
    """Salted hashes of ``passwords`` (as :meth:`User.set_password` makes them), on every
    core: scrypt leaves Python's lock while it works."""
    method = hash_method()  # read here: the pool's threads have no app context
    if len(passwords) < 2:
        return [generate_password_hash(p, method=method) for p in passwords]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return list(pool.map(lambda p: generate_password_hash(p, method=method), passwords))
