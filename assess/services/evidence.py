"""Evidence: files (stored outside the web root under random names) and URLs."""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import zipfile
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlparse

from flask_babel import gettext as _
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from assess.extensions import db
from assess.models import Evidence, Response, User
from assess.questionnaires.model import Evidence as EvidencePolicy
from assess.services import audit, locks, responses
from assess.services.errors import NotFound, ServiceError, WrongState

#: Allowed extensions and the content types we serve them back with.
TYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".ppt": "application/vnd.ms-powerpoint",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".odp": "application/vnd.oasis.opendocument.presentation",
    ".csv": "text/csv",
    ".txt": "text/plain",
}
#: What a file of each family must start with: a renamed executable is refused.
_MAGIC = {
    ".pdf": (b"%PDF-",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".gif": (b"GIF87a", b"GIF89a"),
    ".webp": (b"RIFF",),
    ".docx": (b"PK\x03\x04",),
    ".xlsx": (b"PK\x03\x04",),
    ".pptx": (b"PK\x03\x04",),
    ".odt": (b"PK\x03\x04",),
    ".ods": (b"PK\x03\x04",),
    ".odp": (b"PK\x03\x04",),
    ".doc": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),
    ".xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),
    ".ppt": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),
}
#: What an Office Open XML file (a ZIP) must hold besides ``[Content_Types].xml``.
_OOXML_PART = {".docx": "word/", ".xlsx": "xl/", ".pptx": "ppt/"}
#: The ``mimetype`` member an OpenDocument file (a ZIP) starts with.
_ODF_MIMETYPE = {ext: TYPES[ext].encode("ascii") for ext in (".odt", ".ods", ".odp")}
#: Text files (.csv, .txt) must not be markup a browser would run, nor a binary file.
_TEXT = (".csv", ".txt")
_MARKUP = re.compile(rb"^\s*<(?:!doctype|html|head|body|script|svg|\?xml|iframe|object)\b", re.I)
#: Characters a file name keeps out: controls (line breaks could split a header) and the
#: separators of folders.
_NAME_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\\u202a-\u202e\u2066-\u2069]")
MAX_PER_QUESTION = 20


def _check_question(response: Response, code: str) -> None:
    question = responses.question_of(response, code)
    if question.evidence is EvidencePolicy.NONE:
        raise ServiceError(_("question %(code)s: this question takes no evidence", code=code))
    if sum(1 for e in response.evidence if e.question_code == code) >= MAX_PER_QUESTION:
        raise ServiceError(
            _(
                "question %(code)s: at most %(n)s evidence items per question",
                code=code,
                n=MAX_PER_QUESTION,
            )
        )


def _check_editable(response: Response, actor: User) -> None:
    if actor.role == "coordinator" and actor.agency_id != response.agency_id:
        raise NotFound(_("no such response"))
    # Checked on the response as it is now, and kept so to the commit: evidence removed
    # while the response is submitted would leave it submitted without its evidence.
    locks.hold(response)
    why = responses.blocked(response)
    if why is not None:
        raise WrongState(responses.refusal("evidence", response, why))


def add_file(
    response: Response,
    actor: User,
    code: str,
    filename: str,
    stream: BinaryIO,
    *,
    folder: str | os.PathLike[str],
    max_bytes: int,
) -> Evidence:
    """Store an uploaded file for question ``code`` (type, content and size checked)."""
    _check_editable(response, actor)
    _check_question(response, code)
    name = safe_name(filename)
    ext = Path(name).suffix.lower()
    if not name:
        raise ServiceError(_("question %(code)s: the file has no name", code=code))
    if not ext:  # ".pdf" alone is a name without one, as on every system
        raise ServiceError(
            _(
                "question %(code)s: %(name)s: the file's name has no type such as .pdf; "
                "rename it (PDF, images, office documents: %(types)s)",
                code=code,
                name=repr(filename.strip()),
                types=", ".join(sorted(TYPES)),
            )
        )
    if ext not in TYPES:
        raise ServiceError(
            _(
                "question %(code)s: %(name)s: files of type %(type)s are not accepted "
                "(PDF, images, office documents: %(types)s)",
                code=code,
                name=name,
                type=ext,
                types=", ".join(sorted(TYPES)),
            )
        )
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ServiceError(
            _(
                "question %(code)s: %(name)s is larger than %(mb)s MB",
                code=code,
                name=name,
                mb=max(1, max_bytes // (1024 * 1024)),
            )
        )
    if not data:
        raise ServiceError(_("question %(code)s: %(name)s is empty", code=code, name=name))
    if not content_matches(ext, data):
        raise ServiceError(
            _(
                "question %(code)s: %(name)s is not really a %(type)s file",
                code=code,
                name=name,
                type=ext[1:].upper(),
            )
        )
    stored_name = secrets.token_hex(16)
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    path = target / stored_name
    # Exclusive create: a random name never overwrites anything.
    with open(path, "xb") as handle:
        handle.write(data)
    _written(path)
    item = Evidence(
        question_code=code,
        filename=name[:255],
        stored_name=stored_name,
        content_type=TYPES[ext],
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by_id=actor.id,
    )
    response.evidence.append(item)
    _touch(response, actor)
    audit.record("evidence.add", actor, response=response, question=code, new=name)
    return item


def safe_name(filename: str | None) -> str:
    """The name an upload is kept and offered under: its last part (either kind of folder
    separator), without control or bidirectional-override characters, at most 255
    characters with the extension kept."""
    name = re.split(r"[/\\\\]", filename or "")[-1]
    name = " ".join(_NAME_UNSAFE.sub(" ", name).split()).strip(" .")
    if len(name) > 255:
        stem, ext = os.path.splitext(name)
        name = stem[: 255 - len(ext)] + ext if len(ext) < 20 else name[:255]
    return name


def content_matches(ext: str, data: bytes) -> bool:
    """Whether a file's content is what its extension says (checked for every type)."""
    magic = _MAGIC.get(ext)
    if magic is not None and not data.startswith(magic):
        return False
    if ext == ".webp":
        return data[8:12] == b"WEBP"
    if ext in _OOXML_PART or ext in _ODF_MIMETYPE:
        return _zip_matches(ext, data)
    if ext in _TEXT:
        return _is_text(data)
    return magic is not None


def _zip_matches(ext: str, data: bytes) -> bool:
    """An office document: a readable ZIP with the parts of its kind."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if ext in _OOXML_PART:
                return "[Content_Types].xml" in names and any(
                    n.startswith(_OOXML_PART[ext]) for n in names
                )
            info = archive.getinfo("mimetype")
            return info.file_size < 200 and archive.read(info).strip() == _ODF_MIMETYPE[ext]
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, NotImplementedError):
        return False


def _is_text(data: bytes) -> bool:
    """Text (UTF-8, UTF-16 with its mark, or Thai TIS-620), not markup nor a binary file."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            return False
        data = text.encode("utf-8")
    elif b"\x00" in data:
        return False
    else:
        try:
            data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                data.decode("cp874")
            except UnicodeDecodeError:
                return False
    return _MARKUP.match(data.removeprefix(b"\xef\xbb\xbf")) is None


def add_url(response: Response, actor: User, code: str, url: str) -> Evidence:
    """Attach a link (http or https) as evidence for question ``code``."""
    _check_editable(response, actor)
    _check_question(response, code)
    url = url.strip()
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or len(url) > 2000:
        raise ServiceError(
            _(
                "question %(code)s: %(url)s is not a web address (http:// or https://)",
                code=code,
                url=repr(url),
            )
        )
    item = Evidence(question_code=code, url=url, uploaded_by_id=actor.id)
    response.evidence.append(item)
    _touch(response, actor)
    audit.record("evidence.add", actor, response=response, question=code, new=url)
    return item


def remove(
    response: Response, actor: User, evidence_id: int, *, folder: str | os.PathLike[str]
) -> Path | None:
    """Detach an evidence item; returns its file, for the caller to delete after commit."""
    _check_editable(response, actor)
    item = next((e for e in response.evidence if e.id == evidence_id), None)
    if item is None:
        raise NotFound(_("no such evidence"))
    response.evidence.remove(item)
    _touch(response, actor)
    audit.record(
        "evidence.remove", actor, response=response, question=item.question_code, old=item.label
    )
    # The file goes only once the row is gone for good: a stray file is harmless, a row
    # pointing at a deleted file is not.
    return Path(folder) / item.stored_name if item.stored_name else None


#: The files written in a session's transaction (``Session.info``): kept when it commits,
#: deleted when it ends otherwise, so that a refused upload leaves no file without its row.
_NEW_FILES = "assess.evidence.new_files"


def _written(path: Path) -> None:
    db.session.info.setdefault(_NEW_FILES, []).append(path)


@event.listens_for(Session, "after_commit")
def _keep_files(session: Session) -> None:
    session.info.pop(_NEW_FILES, None)


@event.listens_for(Session, "after_transaction_end")
def _drop_files(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the whole transaction ended, and not by a commit
        for path in session.info.pop(_NEW_FILES, ()):
            path.unlink(missing_ok=True)


def path_of(item: Evidence, folder: str | os.PathLike[str]) -> Path:
    """Where an evidence file lives on disk."""
    if not item.stored_name:
        raise NotFound(_("this evidence is a link, not a file"))
    return Path(folder) / item.stored_name


def _touch(response: Response, actor: User) -> None:
    from assess.models import utcnow

    response.updated_at = utcnow()
    if response.status == "not_started":
        responses.set_status(response, "draft", actor)
