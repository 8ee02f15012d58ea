"""The stored data: SQLAlchemy 2.0 typed models.

Only ``assess.services`` turns these rows into plain data for the scoring engine and back;
views read them, and never compute scores.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from itertools import chain
from typing import Any

from flask_babel import gettext as _
from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy import inspect as inspect_
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, Session, UOWTransaction, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from assess.extensions import db


def utcnow() -> dt.datetime:
    """The current time, timezone-aware, in UTC."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no zone, PostgreSQL does; this makes both give the same aware values.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware values")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


# Roles, round and response statuses (interfaces.md).
COORDINATOR, REVIEWER, ADMIN = "coordinator", "reviewer", "admin"
ROLES = (COORDINATOR, REVIEWER, ADMIN)

#: ``preliminary``: results shown to each agency, with a dispute window; then ``published``.
ROUND_STATUSES = ("draft", "open", "closed", "preliminary", "published")
DISPUTE_STATUSES = ("open", "upheld", "rejected")
RESPONSE_STATUSES = ("not_started", "draft", "submitted", "returned", "accepted")
EDITABLE_STATUSES = ("not_started", "draft", "returned")

AGENCY_TYPES = (
    "ministry",
    "department",
    "province",
    "local",
    "public_org",
    "state_enterprise",
    "independent",
)


class Agency(db.Model):
    """A government agency that answers rounds (a ministry, department, province, …)."""

    __tablename__ = "agency"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_th: Mapped[str] = mapped_column(String(300), default="")
    name_en: Mapped[str] = mapped_column(String(300), default="")
    type: Mapped[str] = mapped_column(String(30), default="department", index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    province: Mapped[str] = mapped_column(String(100), default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    parent: Mapped[Agency | None] = relationship(remote_side=[id])

    def name(self, lang: str = "th") -> str:
        """The agency's name in ``lang``, falling back to the other language."""
        if lang == "en":
            return self.name_en or self.name_th
        return self.name_th or self.name_en

    def __repr__(self) -> str:
        return f"<Agency {self.code}>"


class User(UserMixin, db.Model):
    """A person who signs in: a coordinator of one agency, a reviewer or an admin."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(20))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    language: Mapped[str] = mapped_column(String(5), default="th")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Bumped when the password changes, so existing sessions end (see auth.load_user).
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)

    agency: Mapped[Agency | None] = relationship()

    def set_password(self, password: str) -> None:
        """Store a salted hash of ``password`` and end every other session."""
        from flask import current_app

        # scrypt by default; the tests choose a cheaper method to stay fast.
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)
        self.session_epoch = (self.session_epoch or 0) + 1

    def check_password(self, password: str) -> bool:
        """Whether ``password`` is this user's password."""
        return bool(self.password_hash) and check_password_hash(self.password_hash or "", password)

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    def get_id(self) -> str:
        # The epoch makes a session cookie stale once the password changes.
        return f"{self.id}:{self.session_epoch}"

    @property
    def is_central(self) -> bool:
        """Reviewers and admins: the central office."""
        return self.role in (REVIEWER, ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class UserSession(db.Model):
    """One signed-in browser: the signed session cookie carries a random id whose SHA-256
    is kept here. Signing out deletes the row, so a copied cookie stops working; a row not
    seen for the idle timeout has ended (assess.auth.sessions)."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(db.Model):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship()


class QuestionnaireVersion(db.Model):
    """One stored ``CODE@VERSION``: the file's exact text and its SHA-256."""

    __tablename__ = "questionnaire_version"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(50))
    title_th: Mapped[str] = mapped_column(String(300), default="")
    title_en: Mapped[str] = mapped_column(String(300), default="")
    content: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    source_name: Mapped[str] = mapped_column(String(300), default="")
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    rounds: Mapped[list[Round]] = relationship(back_populates="questionnaire")

    @property
    def key(self) -> str:
        return f"{self.code}@{self.version}"

    def title(self, lang: str = "th") -> str:
        if lang == "en":
            return self.title_en or self.title_th
        return self.title_th or self.title_en


class Round(db.Model):
    """A yearly assessment round: one questionnaire version, dates, invited agencies."""

    __tablename__ = "round"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    #: The round's name on English pages and scorecards (empty: its Thai ``name``).
    name_en: Mapped[str] = mapped_column(String(200), default="", server_default="")
    fiscal_year: Mapped[int] = mapped_column(Integer, index=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_version.id"))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    opens_on: Mapped[dt.date | None] = mapped_column(Date)
    closes_on: Mapped[dt.date | None] = mapped_column(Date)
    live_preview: Mapped[bool] = mapped_column(Boolean, default=False)
    # Publication: the last day agencies may dispute preliminary results (Bangkok), whether
    # coordinators see other agencies' names or anonymised labels, and the dashboards' flags
    # (a change from last year larger than ``flag_change`` points; a verified score more than
    # ``flag_verified_gap`` points below the self-assessed one).
    disputes_close_on: Mapped[dt.date | None] = mapped_column(Date)
    anonymise_peers: Mapped[bool] = mapped_column(Boolean, default=False)
    flag_change: Mapped[int] = mapped_column(Integer, default=15)
    flag_verified_gap: Mapped[int] = mapped_column(Integer, default=10)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    preliminary_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    questionnaire: Mapped[QuestionnaireVersion] = relationship(back_populates="rounds")
    responses: Mapped[list[Response]] = relationship(back_populates="round")

    def title(self, lang: str) -> str:
        """The round's name in ``lang`` (the Thai name when it has no English one)."""
        return self.name_en if lang == "en" and self.name_en else self.name

    def __repr__(self) -> str:
        return f"<Round {self.id} {self.name} {self.status}>"


class Response(db.Model):
    """One agency's response to one round, pinned to the round's questionnaire version."""

    __tablename__ = "response"
    __table_args__ = (
        UniqueConstraint("round_id", "agency_id"),
        # Room to rewrite a row in place (migration 0007): every result written moves its
        # response's ``results_version`` on, a whole round's at once.
        {"postgresql_with": {"fillfactor": 50}},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_version.id"))
    status: Mapped[str] = mapped_column(String(20), default="not_started", index=True)
    # Bumped by every change to the answers; a save naming an older revision is refused.
    revision: Mapped[int] = mapped_column(Integer, default=0)
    completeness: Mapped[str] = mapped_column(String(10), default="0.0")
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Moved on by the database whenever a statement writes or deletes any of the response's
    # results (triggers of migration 0006, whatever wrote them): the dashboards tell which
    # responses' results to read again from the responses alone (assess.reports.data).
    results_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    round: Mapped[Round] = relationship(back_populates="responses")
    agency: Mapped[Agency] = relationship()
    questionnaire: Mapped[QuestionnaireVersion] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan"
    )
    verified: Mapped[list[VerifiedAnswer]] = relationship(
        back_populates="response", cascade="all, delete-orphan"
    )
    evidence: Mapped[list[Evidence]] = relationship(
        back_populates="response", cascade="all, delete-orphan", order_by="Evidence.id"
    )
    comments: Mapped[list[Comment]] = relationship(
        back_populates="response", cascade="all, delete-orphan", order_by="Comment.id"
    )
    disputes: Mapped[list[Dispute]] = relationship(
        back_populates="response", cascade="all, delete-orphan", order_by="Dispute.id"
    )
    results: Mapped[list[Result]] = relationship(
        back_populates="response", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Response round={self.round_id} agency={self.agency_id} {self.status}>"


class ResponseAgency(db.Model):
    """An agency's record as a round's results show it, kept when the results come out
    (preliminary or final) and never changed after: an agency edited later (another type,
    parent, province, tags or name) moves the rounds under way, not the groups, ranks,
    medians and names of results already out, so that a published round exported again
    gives the same files and a scorecard's verification code the same content. A response
    without one (a round not yet out) shows its agency's record as it is now."""

    __tablename__ = "response_agency"

    response_id: Mapped[int] = mapped_column(
        ForeignKey("response.id", ondelete="CASCADE"), primary_key=True
    )
    name_th: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    type: Mapped[str] = mapped_column(String(30))
    # The parent's code and names as they were ("" for none).
    parent_code: Mapped[str] = mapped_column(String(40))
    parent_name_th: Mapped[str] = mapped_column(String(300))
    parent_name_en: Mapped[str] = mapped_column(String(300))
    province: Mapped[str] = mapped_column(String(100))
    tags: Mapped[list[str]] = mapped_column(JSON)


class Answer(db.Model):
    """One answer, as its JSON interchange value (questionnaire-format.md)."""

    __tablename__ = "answer"
    __table_args__ = (UniqueConstraint("response_id", "question_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"), index=True)
    question_code: Mapped[str] = mapped_column(String(100))
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    response: Mapped[Response] = relationship(back_populates="answers")


class VerifiedAnswer(db.Model):
    """A reviewer's verified value for one question, with the reason."""

    __tablename__ = "verified_answer"
    __table_args__ = (UniqueConstraint("response_id", "question_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"), index=True)
    question_code: Mapped[str] = mapped_column(String(100))
    value: Mapped[Any] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    verified_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    response: Mapped[Response] = relationship(back_populates="verified")
    verified_by: Mapped[User | None] = relationship()


class Evidence(db.Model):
    """A file or a URL attached to one question of a response.

    Files live in the instance folder under a random name, never under the web root.
    """

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"), index=True)
    question_code: Mapped[str] = mapped_column(String(100))
    url: Mapped[str | None] = mapped_column(String(2000))
    filename: Mapped[str | None] = mapped_column(String(255))
    stored_name: Mapped[str | None] = mapped_column(String(64), unique=True)
    content_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    response: Mapped[Response] = relationship(back_populates="evidence")

    @property
    def label(self) -> str:
        return self.filename or self.url or ""


class Comment(db.Model):
    """A reviewer's comment on a response, on one question or on the whole."""

    __tablename__ = "comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"), index=True)
    question_code: Mapped[str | None] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The response revision at which the comment was made; comments of the latest return
    # are the ones the coordinator must act on.
    revision: Mapped[int] = mapped_column(Integer, default=0)

    response: Mapped[Response] = relationship(back_populates="comments")
    author: Mapped[User | None] = relationship()


class Dispute(db.Model):
    """An agency's dispute of one question of its preliminary results.

    ``proposed`` is the value the agency asks to be counted (JSON, as answers); without it
    the agency asks for its own answer back. Upholding a dispute sets the verified value,
    so the scores recompute; rejecting it changes nothing but the dispute.
    """

    __tablename__ = "dispute"
    #: One undecided dispute per question (migration 0009): two requests at once cannot
    #: both pass the service's check and open two.
    __table_args__ = (
        Index(
            "uq_dispute_open_question",
            "response_id",
            "question_code",
            unique=True,
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"), index=True)
    question_code: Mapped[str] = mapped_column(String(100))
    explanation: Mapped[str] = mapped_column(Text)
    proposed: Mapped[Any] = mapped_column(JSON, nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    raised_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    raised_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(Text, default="")

    response: Mapped[Response] = relationship(back_populates="disputes")
    raised_by: Mapped[User | None] = relationship(foreign_keys=[raised_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class AuditEvent(db.Model):
    """Who changed what and when, old → new. Append-only: database triggers refuse
    UPDATE and DELETE (see the initial migration)."""

    __tablename__ = "audit_event"
    __table_args__ = (
        # The activity log (events outside a response's trail, newest first, optionally of
        # one round) read without walking past a round's answer events, which outnumber its
        # own by far (migration 0013).
        Index(
            "ix_audit_event_activity",
            "at",
            "id",
            postgresql_where=text("response_id IS NULL"),
            sqlite_where=text("response_id IS NULL"),
        ),
        Index(
            "ix_audit_event_round_activity",
            "round_id",
            "at",
            "id",
            postgresql_where=text("response_id IS NULL"),
            sqlite_where=text("response_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    actor_label: Mapped[str] = mapped_column(String(254), default="")
    action: Mapped[str] = mapped_column(String(50))
    # No foreign key (migration 0014): the trail outlives a deleted draft round, whose
    # events keep naming it.
    round_id: Mapped[int | None] = mapped_column(Integer, index=True)
    response_id: Mapped[int | None] = mapped_column(ForeignKey("response.id"), index=True)
    question_code: Mapped[str | None] = mapped_column(String(100))
    old: Mapped[Any] = mapped_column(JSON)
    new: Mapped[Any] = mapped_column(JSON)
    detail: Mapped[str] = mapped_column(Text, default="")

    actor: Mapped[User | None] = relationship()


class Result(db.Model):
    """Stored scores of one response: ``self`` (as answered) or ``verified``.

    Scores are kept as the exact rounded decimal strings of scoring.md ("63.89"), so what
    the dashboards, PDFs and exports show is what was computed, digit for digit.
    """

    __tablename__ = "result"
    __table_args__ = (
        UniqueConstraint("response_id", "kind"),
        # Room to rewrite a row in place (migration 0007): a round scored again rewrites
        # every one of its results in one statement.
        {"postgresql_with": {"fillfactor": 50}},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    completeness: Mapped[str] = mapped_column(String(10))
    overall_score: Mapped[str | None] = mapped_column(String(10))
    overall_level: Mapped[str | None] = mapped_column(String(50))
    # {dimension code: {"score": "58.33" | null, "level": "2" | null}}
    dimensions: Mapped[dict[str, Any]] = mapped_column(JSON)
    questionnaire_hash: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    response: Mapped[Response] = relationship(back_populates="results")


JOB_STATUSES = ("queued", "running", "done", "failed", "cancelled")


class Job(db.Model):
    """A background job (e.g. every scorecard of a round in one archive) and its progress.

    The job library (huey) carries only the job's id; what the page shows — status,
    ``done`` of ``total``, the file made, the error — lives here, in the database every
    worker and web process shares.
    """

    __tablename__ = "job"
    #: One job of a kind per round queued or running at a time (migration 0012): two
    #: requests at once cannot both start one.
    __table_args__ = (
        Index(
            "uq_job_active",
            "round_id",
            "kind",
            unique=True,
            postgresql_where=text("status IN ('queued', 'running')"),
            sqlite_where=text("status IN ('queued', 'running')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("round.id"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # The job's own parameters (e.g. {"lang": "th"}).
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="queued", index=True)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    # The file made, relative to the instance folder's exports/ (never a user's path).
    file_name: Mapped[str | None] = mapped_column(String(255))
    # Why it failed, as a code (assess.jobs.ERROR, …; the details are in the log).
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The running job's heartbeat (migration 0012): written as it starts, with its progress
    # and every few seconds; silent too long, its process died (assess.jobs.settle).
    progress_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    round: Mapped[Round | None] = relationship()
    requested_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.kind} {self.status} {self.done}/{self.total}>"


class RoundSnapshot(db.Model):
    """A round's dashboard tables as a process last loaded them, for the next process that
    has none: it reads them here and catches up on what changed since (a few hundredths of
    a second) instead of loading a big round anew (see :mod:`assess.reports.data`).

    Never a source of truth: ``made_for`` (the round's signature when they were made) and
    ``agencies`` (the fingerprint of its agency records) say which state they show, and a
    snapshot that no longer fits is loaded over.
    """

    __tablename__ = "round_snapshot"

    round_id: Mapped[int] = mapped_column(
        ForeignKey("round.id", ondelete="CASCADE"), primary_key=True
    )
    made_for: Mapped[str] = mapped_column(Text)
    agencies: Mapped[str] = mapped_column(Text)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    made_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


# Text the database cannot hold is refused, with its field named, before anything is
# written: PostgreSQL refuses a NUL character in any text and text longer than its column
# (SQLite would store both, so a file that imports on one would fail on the other). A net
# under the services' own checks, which name the file and line; a refusal is a
# ServiceError, so pages, the API and the command line report it as any other.


@cache
def text_columns(kind: type) -> tuple[tuple[str, int | None, str], ...]:
    """``(attribute, length, "table.column")`` of a model's text columns."""
    mapper = inspect_(kind)
    return tuple(
        (attr.key, column.type.length, f"{column.table.name}.{column.name}")
        for attr in mapper.column_attrs
        for column in attr.columns[:1]
        if isinstance(column.type, String)
    )


def unstorable(value: str, limit: int | None, field: str) -> str | None:
    """Why ``value`` cannot be stored in ``field`` (a column of ``limit`` characters), if
    it cannot."""
    if "\x00" in value:
        return _(
            "%(field)s: the text contains a NUL character (\\0), which cannot be stored",
            field=field,
        )
    if limit is not None and len(value) > limit:
        return _(
            "%(field)s: the text has %(length)s characters; at most %(limit)s fit",
            field=field,
            length=f"{len(value):,}",
            limit=f"{limit:,}",
        )
    return None


@event.listens_for(Session, "before_flush")
def _refuse_unstorable_text(session: Session, _context: UOWTransaction, _objects: Any) -> None:
    problems = []
    for obj in chain(session.new, session.dirty):
        values = inspect_(obj).dict  # loaded values only: never a query inside a flush
        for key, limit, field in text_columns(type(obj)):
            value = values.get(key)
            if isinstance(value, str) and (problem := unstorable(value, limit, field)):
                problems.append(problem)
    if problems:
        from assess.services.errors import Unstorable

        raise Unstorable(problems)
