"""Stored questionnaire versions: import, look up, load (cached by content hash)."""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import threading
from functools import lru_cache
from pathlib import Path

from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import select

from assess import i18n
from assess.extensions import db
from assess.models import QuestionnaireVersion, Round
from assess.questionnaires import Questionnaire, QuestionnaireError, loads
from assess.questionnaires.builtin import builtin_files
from assess.services.errors import NotFound, ServiceError


@lru_cache(maxsize=64)
def _parse(content: str, content_hash: str, source: str) -> Questionnaire:
    # Keyed by the hash too: a version whose stored text changed is parsed anew. Parsing a
    # big version takes about half a second, so every new process (gunicorn worker, command)
    # reads a pickle of it from the instance folder when one was made (see _parse_cache).
    data = content.encode("utf-8")
    path = _parse_cache(hashlib.sha256(data).hexdigest())
    if path is not None:
        try:
            found = pickle.loads(path.read_bytes())  # noqa: S301 (the app's own instance folder)
            if isinstance(found, Questionnaire):
                return found
        except Exception:  # noqa: BLE001, S110 (a missing or stale cache file is parsed anew)
            pass
    questionnaire = loads(data, source)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.tmp")
            partial.write_bytes(pickle.dumps(questionnaire, protocol=pickle.HIGHEST_PROTOCOL))
            os.replace(partial, path)
        except OSError:
            pass
    return questionnaire


@lru_cache(maxsize=1)
def _code_fingerprint() -> str:
    """A hash of the code that defines parsed questionnaires: a pickle made by other code
    is never read back."""
    import assess
    from assess import questionnaires as package

    digest = hashlib.sha256(f"{assess.__version__} {sys.version}".encode())
    for path in sorted(Path(package.__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _parse_cache(digest: str) -> Path | None:
    """Where the pickle of a parsed text (by its SHA-256) lives: the instance folder's
    ``cache/``; ``None`` outside an application."""
    if not has_app_context():
        return None
    folder = Path(current_app.instance_path) / "cache" / "questionnaires"
    return folder / f"{digest}-{_code_fingerprint()}.pickle"


@lru_cache(maxsize=16)
def _parse_bytes(data: bytes, content_hash: str, source: str) -> Questionnaire:
    return loads(data, source)


#: Parsed questionnaires by their text's hash: a caller that read a version's hash (not its
#: text, 120 kB for the built-in one) finds the parse without loading the text.
_BY_HASH: dict[str, Questionnaire] = {}
#: One parse at a time: the threads of a worker that all start at once wait for the first
#: one's parse instead of each parsing the same text.
_PARSING = threading.Lock()


def questionnaire_of(version: QuestionnaireVersion) -> Questionnaire:
    """The validated questionnaire of a stored version (parsed once per process)."""
    with _PARSING:
        questionnaire = _parse(version.content, version.content_hash, version.key)
        if len(_BY_HASH) > 64:
            _BY_HASH.clear()
        _BY_HASH[version.content_hash] = questionnaire
    return questionnaire


def parsed(content_hash: str) -> Questionnaire | None:
    """The questionnaire of the text with this hash, if this process has parsed it."""
    return _BY_HASH.get(content_hash)


def find_version(key: str) -> QuestionnaireVersion:
    """The stored version named ``CODE@VERSION``; :class:`NotFound` if there is none."""
    code, sep, version = key.partition("@")
    if not sep or not code or not version:
        raise NotFound(_("%(key)s: name a questionnaire version as CODE@VERSION", key=key))
    found = db.session.scalar(select(QuestionnaireVersion).filter_by(code=code, version=version))
    if found is None:
        raise NotFound(
            _("%(key)s: no such questionnaire version (see 'assess questionnaire list')", key=key)
        )
    return found


def import_text(data: bytes, source: str) -> tuple[QuestionnaireVersion, str]:
    """Validate and store one questionnaire file.

    Returns the stored version and what happened: ``"created"``, ``"unchanged"`` (identical
    content, a no-op) or ``"updated"`` (changed content of a version no round uses yet).
    Raises :class:`ServiceError` with every problem when the file is invalid, or when the
    content of a version already in use by a round would change.
    """
    digest = hashlib.sha256(data).hexdigest()
    try:
        questionnaire = _parse_bytes(data, digest, source)
    except QuestionnaireError as exc:
        raise ServiceError([i18n.problem(p) for p in exc.problems]) from None
    text = data.decode("utf-8-sig")
    stored = db.session.scalar(
        select(QuestionnaireVersion).filter_by(
            code=questionnaire.code, version=questionnaire.version
        )
    )
    problems = _check_supersedes(questionnaire)
    if problems:
        raise ServiceError([f"{source}: {p}" for p in problems])
    fields = {
        "title_th": questionnaire.title.get("th"),
        "title_en": questionnaire.title.get("en"),
        "content": text,
        "content_hash": digest,
        "source_name": Path(source).name,
    }
    if stored is None:
        stored = QuestionnaireVersion(
            code=questionnaire.code, version=questionnaire.version, **fields
        )
        db.session.add(stored)
        db.session.flush()
        return stored, "created"
    if stored.content_hash == digest:
        return stored, "unchanged"
    used = db.session.scalar(select(Round.id).filter_by(questionnaire_id=stored.id).limit(1))
    if used is not None:
        raise ServiceError(
            _(
                "%(file)s: %(key)s is already used by a round and its content differs from the "
                "stored one; publish the change as a new version",
                file=source,
                key=questionnaire.key,
            )
        )
    for name, value in fields.items():
        setattr(stored, name, value)
    return stored, "updated"


def _check_supersedes(questionnaire: Questionnaire) -> list[str]:
    """Dimension ``maps_from`` codes must exist in the superseded version, when it is stored."""
    if not questionnaire.supersedes:
        return []
    previous = db.session.scalar(
        select(QuestionnaireVersion).filter_by(
            code=questionnaire.code, version=questionnaire.supersedes
        )
    )
    if previous is None:
        return []
    old = questionnaire_of(previous)
    old_codes = {d.code for d in old.dimensions}
    problems = []
    for dim in questionnaire.dimensions:
        for source in dim.maps_from or ():
            if source not in old_codes:
                problems.append(
                    _(
                        "dimension %(code)s: maps_from %(source)s is not a dimension of "
                        "%(key)s (%(codes)s)",
                        code=dim.code,
                        source=repr(source),
                        key=old.key,
                        codes=", ".join(sorted(old_codes)),
                    )
                )
    return problems


def import_builtin() -> list[tuple[QuestionnaireVersion, str]]:
    """Import every built-in questionnaire file (a no-op for those already stored)."""
    return [import_text(path.read_bytes(), str(path)) for path in builtin_files()]


def versions() -> list[QuestionnaireVersion]:
    """Every stored version, by code and version."""
    return list(
        db.session.scalars(
            select(QuestionnaireVersion).order_by(
                QuestionnaireVersion.code, QuestionnaireVersion.version
            )
        )
    )


def get_version(version_id: int) -> QuestionnaireVersion:
    """A stored version by id; :class:`NotFound` otherwise."""
    found = db.session.get(QuestionnaireVersion, version_id)
    if found is None:
        raise NotFound(_("no such questionnaire version"))
    return found
