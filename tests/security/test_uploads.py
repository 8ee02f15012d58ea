"""Evidence uploads: checked by content (not by name), size-limited, kept under random
names, and offered back only as attachments that a browser must not sniff or run.

Every refusal names the file and loses nothing already saved (the answers are intact, no
evidence row or stray file is left).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest
from openpyxl import Workbook
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from assess.extensions import db
from assess.models import Evidence
from assess.services import evidence, responses
from assess.services.questionnaires import questionnaire_of

FETCH = {"X-Requested-With": "fetch"}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
SAVED = "คำตอบที่บันทึกไว้แล้ว"


@pytest.fixture
def database_url(sqlite_database_url: str) -> str:
    """SQLite only: what an upload may be does not depend on the database engine."""
    return sqlite_database_url


class Scene:
    def __init__(self, app, world, auth) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.agency = world.agency("AG-1")
        self.user = world.user("coord@example.go.th", agency=self.agency)
        self.user.language = "en"
        self.reviewer = world.user("r@example.go.th", role="reviewer")
        self.round = world.round(agencies=[self.agency])
        questionnaire = questionnaire_of(self.round.questionnaire)
        self.code = next(
            q.code for q in questionnaire.iter_questions() if q.evidence.value != "none"
        )
        self.text_code = next(
            q.code for q in questionnaire.iter_questions() if q.type.value == "text"
        )
        response = responses.get_response(self.round, self.agency)
        responses.save_answers(response, {self.text_code: SAVED}, revision=0, actor=self.user)
        db.session.commit()
        self.auth = auth
        auth.login("coord@example.go.th")

    def upload(self, client, data: bytes, name: str, *, fetch: bool = True, **headers: str):  # type: ignore[no-untyped-def]
        # The body is encoded here, in memory: the test client would spool a large one to
        # a temporary file that it does not always close.
        boundary, body = encode_multipart(
            {"code": self.code, "file": FileStorage(io.BytesIO(data), filename=name)}
        )
        return client.post(
            f"/rounds/{self.round.id}/evidence",
            data=body,
            headers={**(FETCH if fetch else {}), **headers},
            content_type=f"multipart/form-data; boundary={boundary}",
        )

    def intact(self) -> None:
        """Nothing was attached and the saved answer is still there."""
        db.session.expire_all()
        response = responses.get_response(self.round, self.agency)
        assert responses.current_json(response)[self.text_code] == SAVED
        assert db.session.query(Evidence).count() == 0
        folder = Path(self.app.config["EVIDENCE_FOLDER"])
        assert not folder.exists() or not any(folder.iterdir())


@pytest.fixture
def scene(app, world, auth) -> Scene:  # type: ignore[no-untyped-def]
    return Scene(app, world, auth)


# -- real files of each accepted type, made here ------------------------------------------------


def _zip(members: dict[str, bytes], first: str | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        if first is not None:
            archive.writestr(first, members.pop(first), compress_type=zipfile.ZIP_STORED)
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def _xlsx() -> bytes:
    book = Workbook()
    book.active.append(["ตัวชี้วัด", 1])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _odt(mimetype: bytes) -> bytes:
    return _zip({"mimetype": mimetype, "content.xml": b"<office:document-content/>"}, "mimetype")


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
GENUINE = {
    "plan.pdf": PDF,
    "photo.png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 32,
    "photo.jpg": b"\xff\xd8\xff\xe0" + b"\x00" * 32,
    "anim.gif": b"GIF89a" + b"\x00" * 32,
    "photo.webp": b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 24,
    "report.docx": _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"}),
    "sheet.xlsx": _xlsx(),
    "slides.pptx": _zip({"[Content_Types].xml": b"<Types/>", "ppt/presentation.xml": b"<p/>"}),
    "report.odt": _odt(b"application/vnd.oasis.opendocument.text"),
    "sheet.ods": _odt(b"application/vnd.oasis.opendocument.spreadsheet"),
    "old.doc": OLE,
    "old.xls": OLE,
    "old.ppt": OLE,
    "list.csv": "หน่วยงาน,คะแนน\nกรม ก,80\n".encode(),
    "note.txt": "บันทึก".encode("cp874"),  # Thai in TIS-620, as older systems write it
    "note16.txt": "บันทึก".encode("utf-16"),
}

#: Files whose content is not what their name says.
IMPOSTORS = {
    "report.pdf": b"<html><body><script>alert(1)</script></body></html>",
    "polyglot.pdf": b"<!DOCTYPE html><script>alert(1)</script>%PDF-1.4\n%%EOF",
    "photo.png": PDF,
    "photo.jpg": b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
    "photo.webp": b"RIFF\x24\x00\x00\x00AVI LIST" + b"\x00" * 24,
    "report.docx": _zip({"payload.html": b"<script>alert(1)</script>"}),
    "sheet.xlsx": _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"}),
    "report.odt": _odt(b"text/html"),
    "old.doc": b"\xd0\xcf\x11\xe0" + b"<script>alert(1)</script>",
    "list.csv": b"MZ\x90\x00\x03\x00\x00\x00\x04\x00",  # an executable
    "note.txt": b"<html><script>alert(document.cookie)</script></html>",
    "readme.txt": b"  <svg onload=alert(1)>",
}


@pytest.mark.parametrize("name", sorted(GENUINE))
def test_a_genuine_file_of_each_accepted_type_is_attached(client, scene, name):
    reply = scene.upload(client, GENUINE[name], name)
    assert reply.status_code == 200, reply.get_json()
    item = db.session.query(Evidence).one()
    assert item.filename == name
    assert item.content_type == evidence.TYPES[Path(name).suffix]


@pytest.mark.parametrize("name", sorted(IMPOSTORS))
def test_content_that_is_not_what_the_name_says_is_refused_naming_the_file(client, scene, name):
    reply = scene.upload(client, IMPOSTORS[name], name)
    assert reply.status_code == 400
    message = reply.get_json()["message"]
    assert name in message
    assert "is not really a" in message
    scene.intact()


def test_every_accepted_type_is_checked_by_content():
    """No accepted extension falls through without a check of its content."""
    for ext in evidence.TYPES:
        assert not evidence.content_matches(ext, b"<html><script>alert(1)</script></html>"), ext
        assert not evidence.content_matches(ext, b"MZ\x90\x00\x03\x00\x00\x00"), ext


def test_html_as_pdf_without_script_form_shows_the_problem_on_the_page(client, scene):
    reply = scene.upload(client, IMPOSTORS["report.pdf"], "report.pdf", fetch=False)
    assert reply.status_code == 302
    page = client.get(reply.headers["Location"])
    assert "report.pdf is not really a PDF file" in page.get_data(as_text=True)
    scene.intact()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("chart.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("page.html", b"<script>alert(1)</script>"),
        ("page.htm", b"<script>alert(1)</script>"),
        ("run.exe", b"MZ\x90\x00"),
        ("report.pdf.html", b"<script>alert(1)</script>"),
        ("noextension", PDF),
    ],
)
def test_svg_html_and_other_types_are_refused_by_type(client, scene, name, data):
    reply = scene.upload(client, data, name)
    assert reply.status_code == 400
    message = reply.get_json()["message"]
    assert name in message
    assert ("has no type" if "." not in name else "are not accepted") in message
    scene.intact()


def test_a_file_over_the_evidence_limit_is_refused_with_a_clear_message(app, client, scene):
    app.config["EVIDENCE_MAX_BYTES"] = 1024 * 1024
    reply = scene.upload(client, PDF + b"0" * (1024 * 1024), "big plan.pdf")
    assert reply.status_code == 400
    assert reply.get_json()["message"].endswith("big plan.pdf is larger than 1 MB")
    scene.intact()


@pytest.mark.parametrize("fetch", [True, False])
def test_a_body_over_the_request_limit_is_413_and_loses_nothing(app, client, scene, fetch):
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    reply = scene.upload(client, PDF + b"0" * (128 * 1024), "huge.pdf", fetch=fetch)
    assert reply.status_code == 413
    if fetch:
        assert reply.get_json()["error"]
    else:
        assert "The file is too large" in reply.get_data(as_text=True)
    scene.intact()


def test_the_413_page_says_nothing_was_saved_and_goes_back_in_history(app, client, scene):
    """Without the page's script a form sends its answers with its files: the page says
    that none of it was saved, and its Back goes back in the browser's history, which keeps
    what was typed (a link to the page would load it afresh)."""
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    app.config["EVIDENCE_MAX_BYTES"] = 1024 * 1024
    page = f"http://{app.config['SERVER_NAME']}/rounds/{scene.round.id}/answer/mgmt"
    reply = scene.upload(
        client, PDF + b"0" * (2 * 1024 * 1024), "huge.pdf", fetch=False, Referer=page
    )
    assert reply.status_code == 413
    html = reply.get_data(as_text=True)
    assert "larger than 1 MB, so none of it was saved" in html
    assert "attach files of at most 1 MB each" in html
    assert f'href="{page}" data-action="history-back"' in html
    assert "js/back.js" in html
    scene.intact()


# -- downloads ------------------------------------------------------------------------------------


def _check_download(reply, data: bytes) -> None:  # type: ignore[no-untyped-def]
    assert reply.status_code == 200
    assert reply.data == data
    disposition = reply.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    csp = reply.headers["Content-Security-Policy"]
    assert "sandbox" in csp
    assert "default-src 'none'" in csp
    assert "no-store" in reply.headers["Cache-Control"]
    reply.close()


def test_downloads_are_attachments_with_thai_names_nosniff_and_a_sandbox(client, scene, auth):
    name = "แผนงาน ปี 2569 <b>x.pdf"
    assert scene.upload(client, PDF, name).status_code == 200
    item = db.session.query(Evidence).one()
    own = client.get(f"/rounds/{scene.round.id}/evidence/{item.id}")
    _check_download(own, PDF)
    disposition = own.headers["Content-Disposition"]
    # RFC 6266/5987: an ASCII fallback and the UTF-8 name, percent-encoded.
    assert f"filename*=UTF-8''{quote(name)}" in disposition
    assert disposition.isascii()
    auth.logout()
    auth.login("r@example.go.th")
    central = client.get(f"/central/evidence/{item.id}")
    _check_download(central, PDF)
    assert f"filename*=UTF-8''{quote(name)}" in central.headers["Content-Disposition"]


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("..\\..\\windows\\evil.pdf", "evil.pdf"),
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\fakepath\\แผน.pdf", "แผน.pdf"),
        ("plan\r\nX-Injected: yes.pdf", "plan X-Injected: yes.pdf"),
        ("\u202egpj.pdf", "gpj.pdf"),  # a right-to-left override hiding the real extension
    ],
)
def test_file_names_lose_folders_line_breaks_and_direction_overrides(client, scene, sent, kept):
    # Through the service: a multipart header cannot carry some of these names as sent.
    response = responses.get_response(scene.round, scene.agency)
    folder = scene.app.config["EVIDENCE_FOLDER"]
    item = evidence.add_file(
        response, scene.user, scene.code, sent, io.BytesIO(PDF), folder=folder, max_bytes=10**6
    )
    db.session.commit()
    assert item.filename == kept
    download = client.get(f"/rounds/{scene.round.id}/evidence/{item.id}")
    _check_download(download, PDF)
    assert "X-Injected" not in download.headers
    # Stored under a random name in the evidence folder, never the sent one.
    assert (Path(folder) / item.stored_name).is_file()
    assert len(item.stored_name) == 32


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("..\\..\\windows\\evil.pdf", "evil.pdf"),
        ("C:\\fakepath\\แผนงาน.pdf", "แผนงาน.pdf"),
        ("a/b/c.pdf", "c.pdf"),
        ("  report .pdf  ", "report .pdf"),
        ("\x00\x1fnul.pdf", "nul.pdf"),
        ("x" * 300 + ".pdf", "x" * 251 + ".pdf"),
        ("../", ""),
    ],
)
def test_safe_name(sent, kept):
    assert evidence.safe_name(sent) == kept
