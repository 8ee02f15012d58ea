"""Imports of files people upload: the offline workbook (XLSX, a ZIP of XML parts), the
round's answers file (CSV, JSON, XLSX) and questionnaire files (YAML, JSON).

Each hostile file is built here: ZIP bombs, parts named outside the archive, too many
parts, XML entity declarations (billion laughs, an external entity reading a local file),
YAML alias bombs, deep nesting and text that is not UTF-8. Every one is refused with a
message naming the file, answers already saved stay as they were, nothing is stored, and
no request ends in a 500.
"""

from __future__ import annotations

import io
import zipfile
from html import unescape

import pytest
from sqlalchemy import func, select

from assess.extensions import db
from assess.models import QuestionnaireVersion
from assess.questionnaires.answers import AnswersFileError
from assess.services import interchange, responses
from assess.services.questionnaires import questionnaire_of

SAVED = {"mgmt.leadership": 2}


@pytest.fixture
def database_url(sqlite_database_url: str) -> str:
    """SQLite only: parsing a file does not depend on the database engine."""
    return sqlite_database_url


class Scene:
    def __init__(self, world, auth, client) -> None:  # type: ignore[no-untyped-def]
        self.agency = world.agency("AG-1")
        self.user = world.user("coord@example.go.th", agency=self.agency)
        self.user.language = "en"
        self.reviewer = world.user("r@example.go.th", role="reviewer")
        self.reviewer.language = "en"
        self.round = world.round(agencies=[self.agency])
        response = responses.get_response(self.round, self.agency)
        responses.save_answers(response, SAVED, revision=0, actor=self.user)
        db.session.commit()
        self.client = client
        auth.login("coord@example.go.th")
        download = client.get(f"/rounds/{self.round.id}/workbook.xlsx")
        assert download.status_code == 200
        self.workbook = download.data

    def send(self, data: bytes, name: str = "answers.xlsx"):  # type: ignore[no-untyped-def]
        return self.client.post(
            f"/rounds/{self.round.id}/workbook",
            data={"workbook": (io.BytesIO(data), name)},
            content_type="multipart/form-data",
        )

    def intact(self) -> None:
        db.session.expire_all()
        response = responses.get_response(self.round, self.agency)
        assert responses.current_json(response) == SAVED
        assert response.revision == 1


@pytest.fixture
def scene(world, auth, client) -> Scene:  # type: ignore[no-untyped-def]
    return Scene(world, auth, client)


def rebuild(workbook: bytes, replace=None, add=None) -> bytes:  # type: ignore[no-untyped-def]
    """The workbook with some parts replaced and others added."""
    replace, add = replace or {}, add or {}
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(workbook)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = replace.get(info.filename, source.read(info))
            target.writestr(info.filename, data)
        for name, data in add.items():
            target.writestr(name, data)
    return out.getvalue()


def sheet_name(workbook: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        return next(n for n in archive.namelist() if n.startswith("xl/worksheets/sheet"))


def with_doctype(workbook: bytes, doctype: str) -> bytes:
    """The answers sheet with a DOCTYPE (and an entity reference in a cell)."""
    name = sheet_name(workbook)
    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        xml = archive.read(name).decode("utf-8")
    head, sep, body = xml.partition("?>")
    xml = head + sep + doctype + body
    return rebuild(workbook, replace={name: xml.encode("utf-8")})


LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]>"
)
XXE = '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def _bomb(workbook: bytes) -> bytes:
    # 8 MB of zeros deflate to a few kB: far beyond any ratio a real workbook has.
    return rebuild(workbook, add={"xl/media/padding.bin": b"\0" * (8 * 1024 * 1024)})


HOSTILE = {
    "zip bomb": (_bomb, "ZIP bomb"),
    "path traversal": (
        lambda wb: rebuild(wb, add={"../../etc/passwd": b"root:x:0:0"}),
        "part named ../../etc/passwd outside it",
    ),
    "absolute path": (
        lambda wb: rebuild(wb, add={"/etc/cron.d/x": b"* * * * * root id"}),
        "part named /etc/cron.d/x outside it",
    ),
    "windows path": (
        lambda wb: rebuild(wb, add={"..\\..\\boot.ini": b"x"}),
        "outside it",
    ),
    "too many parts": (
        lambda wb: rebuild(wb, add={f"xl/extra/{i}.bin": b"" for i in range(1001)}),
        "more than 1000",
    ),
    "billion laughs": (lambda wb: with_doctype(wb, LAUGHS), "declares a DOCTYPE or entities"),
    "external entity": (lambda wb: with_doctype(wb, XXE), "declares a DOCTYPE or entities"),
}


@pytest.mark.parametrize("attack", sorted(HOSTILE))
def test_a_hostile_workbook_is_refused_naming_the_file_and_nothing_changes(scene, attack):
    make, reason = HOSTILE[attack]
    reply = scene.send(make(scene.workbook), "ผลการประเมิน.xlsx")
    assert reply.status_code == 422, reply.status_code
    html = unescape(reply.get_data(as_text=True))
    assert "Nothing was imported" in html
    assert "ผลการประเมิน.xlsx" in html
    assert reason in html
    assert "root:x:0:0" not in html
    scene.intact()


def test_the_genuine_workbook_still_imports(scene):
    """The guards refuse the attacks, not the workbooks this system makes."""
    reply = scene.send(scene.workbook)
    assert reply.status_code == 302
    db.session.expire_all()
    response = responses.get_response(scene.round, scene.agency)
    assert responses.current_json(response) == SAVED


def test_the_total_unpacked_size_is_limited(scene, monkeypatch):
    monkeypatch.setattr(interchange, "MAX_UNPACKED", 4096)
    reply = scene.send(scene.workbook, "big.xlsx")
    assert reply.status_code == 422
    assert "big.xlsx: the workbook unpacks to more than" in unescape(reply.get_data(as_text=True))
    scene.intact()


def test_the_utf16_xml_that_could_hide_a_doctype_is_refused(scene):
    name = sheet_name(scene.workbook)
    with zipfile.ZipFile(io.BytesIO(scene.workbook)) as archive:
        xml = archive.read(name).decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    sneaky = rebuild(scene.workbook, replace={name: xml.encode("utf-16")})
    reply = scene.send(sneaky, "sneaky.xlsx")
    assert reply.status_code == 422
    assert "sneaky.xlsx" in unescape(reply.get_data(as_text=True))
    scene.intact()


@pytest.mark.parametrize("attack", ["zip bomb", "path traversal", "billion laughs"])
def test_the_round_answers_file_refuses_the_same(scene, attack):
    """``assess answers import`` and the central import read XLSX the same guarded way."""
    make, reason = HOSTILE[attack]
    questionnaire = questionnaire_of(scene.round.questionnaire)
    with pytest.raises(AnswersFileError) as caught:
        interchange.read_file(make(scene.workbook), "round-2569.xlsx", questionnaire)
    text = "; ".join(p.render() for p in caught.value.problems)
    assert text.startswith("round-2569.xlsx")
    assert reason in text


def test_openpyxl_would_not_resolve_entities_either():
    """Defence in depth: were a DOCTYPE to reach openpyxl, it does not expand entities
    (lxml with resolve_entities off, or defusedxml when installed)."""
    import openpyxl

    assert openpyxl.LXML or openpyxl.DEFUSEDXML


# -- questionnaire files ------------------------------------------------------------------------------

YAML_BOMB = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
    )
).encode()


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("bomb.yaml", YAML_BOMB, "more than 10,000 values"),
        ("deep.yaml", b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n", "nested more than"),
        ("deep.json", b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}", "nested more than"),
        ("deep2.yaml", b"a: " + b"[" * 150 + b"]" * 150 + b"\n", "nested more than 100"),
        ("tis620.yaml", "ชื่อ: แบบสอบถาม\n".encode("cp874"), "not UTF-8"),
        ("tags.yaml", b"a: !!python/object/apply:os.system ['id']\n", "tag"),
    ],
)
def test_a_hostile_questionnaire_file_is_refused_and_nothing_is_stored(
    client, auth, scene, monkeypatch, name, data, reason
):
    from assess.questionnaires import source

    # The alias bomb expands to 9⁹ values; counting to the real limit (a million) takes
    # seconds, to a lower one the same code path takes milliseconds.
    monkeypatch.setattr(source, "MAX_NODES", 10_000)
    auth.logout()
    auth.login("r@example.go.th")
    reply = client.post(
        "/central/questionnaires/import",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )
    assert reply.status_code == 422, reply.status_code
    html = unescape(reply.get_data(as_text=True))
    assert name in html
    assert reason in html
    # Only the questionnaire of the scene's round is stored.
    assert db.session.scalar(select(func.count()).select_from(QuestionnaireVersion)) == 1
