"""Stored questionnaire versions: import, look up, load (cached by content hash)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import pickle
import re
import sys
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import select

from assess import i18n
from assess.extensions import db
from assess.models import QuestionnaireVersion, Round, utcnow
from assess.questionnaires import Questionnaire, QuestionnaireError, loads
from assess.questionnaires.builtin import builtin_files
from assess.questionnaires.loader import content_hash as text_hash
from assess.services.errors import NotFound, ServiceError

#: ``QuestionnaireVersion.source_name`` holds this many characters.
SOURCE_NAME_LENGTH = 300


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


class Imported(tuple[QuestionnaireVersion, str]):
    """What :func:`import_text` did: the pair ``(version, what)`` (so ``version, what =
    import_text(…)`` reads it), and :attr:`notes` on what it kept that may be a mistake,
    ``FILE: message`` each, for the page or the command line to show as warnings."""

    notes: list[str]

    def __new__(
        cls, version: QuestionnaireVersion, what: str, notes: Iterable[str] = ()
    ) -> Imported:
        imported = super().__new__(cls, (version, what))
        imported.notes = list(notes)
        return imported

    @property
    def version(self) -> QuestionnaireVersion:
        return self[0]

    @property
    def what(self) -> str:
        return self[1]


def import_text(data: bytes, source: str) -> Imported:
    """Validate and store one questionnaire file.

    Returns the stored version and what happened: ``"created"``, ``"unchanged"`` (identical
    content, a no-op) or ``"updated"`` (changed content of a version no round uses yet),
    with notes (:class:`Imported`): a file whose ``supersedes`` names a version that is not
    stored is kept (that version may come later, and is checked then), with a note saying
    that years cannot be compared until it does.
    Raises :class:`ServiceError` with every problem when the file is invalid, when its
    ``maps_from`` names codes the version it supersedes lacks, when a stored version that
    supersedes it names codes it lacks, or when the content of a version already in use by
    a round would change.

    The content is the file's text (a leading UTF-8 byte order mark is not kept) and its
    hash is the SHA-256 of that text as UTF-8, so that the file downloaded back has the
    hash shown and is the same content; for a file without a byte order mark, that is the
    hash of its bytes.
    """
    digest = text_hash(data)
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
    # The same text is the same content, whatever hash an earlier build stored for it (one
    # that hashed a byte order mark too).
    notes = _supersedes_notes(questionnaire, source)
    if stored is not None and (stored.content_hash == digest or stored.content == text):
        return Imported(stored, "unchanged", notes)
    problems = _check_supersedes(questionnaire, source) + _check_superseded_by(
        questionnaire, source
    )
    if problems:
        raise ServiceError(problems)
    fields = {
        "title_th": questionnaire.title.get("th"),
        "title_en": questionnaire.title.get("en"),
        "content": text,
        "content_hash": digest,
        "source_name": Path(source).name[:SOURCE_NAME_LENGTH],
    }
    if stored is None:
        stored = QuestionnaireVersion(
            code=questionnaire.code, version=questionnaire.version, **fields
        )
        db.session.add(stored)
        db.session.flush()
        return Imported(stored, "created", notes)
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
    stored.imported_at = utcnow()
    return Imported(stored, "updated", notes)


def _supersedes_notes(questionnaire: Questionnaire, source: str) -> list[str]:
    """``FILE: …`` when the file's ``supersedes`` names a version that is not stored (a
    typo, or a version still to import): no trend compares the two years until it is."""
    if not questionnaire.supersedes:
        return []
    previous = db.session.scalar(
        select(QuestionnaireVersion.id).filter_by(
            code=questionnaire.code, version=questionnaire.supersedes
        )
    )
    if previous is not None:
        return []
    return [
        _(
            "%(file)s: supersedes %(key)s, which is not stored: year-over-year comparison "
            "needs that version; check the version, or import it",
            file=source,
            key=f"{questionnaire.code}@{questionnaire.supersedes}",
        )
    ]


def _unknown_maps_from_message(dimension: str, code: str, old: Questionnaire) -> str:
    return str(
        _(
            "dimension %(code)s: maps_from %(source)s is not a dimension of %(key)s (%(codes)s)",
            code=repr(dimension),
            source=repr(code),
            key=old.key,
            codes=", ".join(sorted(d.code for d in old.dimensions)),
        )
    )


def _check_supersedes(questionnaire: Questionnaire, source: str) -> list[str]:
    """``FILE:LINE: …`` for each dimension ``maps_from`` code of the file that is not a
    dimension of the version it supersedes, when that version is stored."""
    if not questionnaire.supersedes:
        return []
    previous = db.session.scalar(
        select(QuestionnaireVersion).filter_by(
            code=questionnaire.code, version=questionnaire.supersedes
        )
    )
    if previous is None:
        return []  # checked when it is imported (_check_superseded_by)
    old = questionnaire_of(previous)
    problems = []
    for dimension, codes in questionnaire.unknown_maps_from(old):
        dim = questionnaire.dimension(dimension)
        for code in codes:
            where = _where(source, dim.maps_from_line(code))
            problems.append(f"{where}: {_unknown_maps_from_message(dimension, code, old)}")
    return problems


def _check_superseded_by(questionnaire: Questionnaire, source: str) -> list[str]:
    """The same check from the other side: for each stored version that names this one in
    ``supersedes`` (imported first), each of its ``maps_from`` codes that is not a
    dimension of this file, as ``FILE: OTHER (ITS FILE:LINE): …``."""
    others = db.session.scalars(
        select(QuestionnaireVersion)
        .filter_by(code=questionnaire.code)
        .where(QuestionnaireVersion.version != questionnaire.version)
        .order_by(QuestionnaireVersion.version)
    )
    problems = []
    for other in others:
        newer = questionnaire_of(other)
        if newer.supersedes != questionnaire.version:
            continue
        for dimension, codes in newer.unknown_maps_from(questionnaire):
            dim = newer.dimension(dimension)
            for code in codes:
                problems.append(
                    f"{source}: "
                    + _(
                        "%(other)s (%(where)s), which supersedes this version: %(problem)s",
                        other=other.key,
                        where=_where(other.source_name or other.key, dim.maps_from_line(code)),
                        problem=_unknown_maps_from_message(dimension, code, questionnaire),
                    )
                )
    return problems


def _where(file: str, line: int) -> str:
    """``FILE:LINE``, or ``FILE`` when the line is not known."""
    return f"{file}:{line}" if line > 0 else file


def import_builtin() -> list[Imported]:
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


#: A run of digits of any script (Thai ๐–๙ too): ``int()`` reads each.
_DIGITS = re.compile(r"(\d+)")


def version_sort_key(version: str) -> tuple[tuple[tuple[int, int, str], ...], str]:
    """Orders versions as people read them: runs of digits by their value ("2570" after
    "2569", "2570.10" after "2570.9", "๒๕๗๐" as 2570), the text between them as text, and
    a version that continues another after it ("2570.2" after "2570")."""
    parts: list[tuple[int, int, str]] = []
    for index, part in enumerate(_DIGITS.split(version)):
        if index % 2:
            parts.append((1, int(part), ""))
        elif part:
            parts.append((0, 0, part.casefold()))
    return tuple(parts), version  # the text as written last: "02569" and "2569" differ


def newest_first(found: Sequence[QuestionnaireVersion]) -> list[QuestionnaireVersion]:
    """``found`` with the newest version of the newest questionnaire first: questionnaires
    (codes) by their latest import, the latest first; each one's versions by
    :func:`version_sort_key`, the highest first. A new round offers them in this order."""
    latest: dict[str, dt.datetime] = {}
    for version in found:
        latest[version.code] = max(
            version.imported_at, latest.get(version.code, version.imported_at)
        )
    codes = sorted(latest, key=lambda code: latest[code], reverse=True)
    rank = {code: place for place, code in enumerate(codes)}
    by_version = sorted(found, key=lambda v: version_sort_key(v.version), reverse=True)
    return sorted(by_version, key=lambda v: rank[v.code])


def get_version(version_id: int) -> QuestionnaireVersion:
    """A stored version by id; :class:`NotFound` otherwise."""
    found = db.session.get(QuestionnaireVersion, version_id)
    if found is None:
        raise NotFound(_("no such questionnaire version"))
    return found


def is_json(version: QuestionnaireVersion) -> bool:
    """True when the stored file is JSON (which is valid YAML too, and imported as such)."""
    if not version.content.lstrip().startswith("{"):
        return False
    try:
        json.loads(version.content)
    except ValueError:
        return False
    return True


def source_download(version: QuestionnaireVersion) -> tuple[str, str]:
    """The ``Content-Disposition`` header and media type of a stored version's file, named
    ``CODE-VERSION.yaml`` (``.json`` for a JSON file).

    A version is any text: the header's plain ``filename`` keeps only ASCII letters, digits,
    ``.``, ``-`` and ``_`` (Thai and other digits as ASCII digits, anything else as ``_``),
    and ``filename*`` (RFC 6266) gives the name as written, percent-encoded UTF-8.
    """
    json_file = is_json(version)
    name = f"{version.code}-{version.version}.{'json' if json_file else 'yaml'}"
    fallback = "".join(_ascii_name_char(c) for c in name)
    disposition = f'attachment; filename="{fallback}"'
    if fallback != name:
        disposition += f"; filename*=UTF-8''{quote(name, safe='')}"
    return disposition, "application/json" if json_file else "application/yaml"


def _ascii_name_char(char: str) -> str:
    if char.isascii() and (char.isalnum() or char in ".-_"):
        return char
    digit = unicodedata.decimal(char, None)
    return "_" if digit is None else str(digit)
