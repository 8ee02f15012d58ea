"""Thai first, English one click away: the catalogue, the default language, messages of the
services, of answer validation and of questionnaire files in the user's language, Buddhist Era
dates."""

from __future__ import annotations

import datetime as dt
import io
import re
from html import unescape
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from openpyxl import load_workbook

from assess.extensions import db
from assess.services import responses, rounds
from assess.services.errors import ServiceError, WrongState
from assess.services.questionnaires import import_text, questionnaire_of
from assess.thai import BANGKOK, MONTHS_EN_SHORT, MONTHS_TH_SHORT

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "assess" / "translations" / "th" / "LC_MESSAGES"
FETCH = {"X-Requested-With": "fetch"}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def text(response) -> str:  # type: ignore[no-untyped-def]
    return unescape(response.get_data(as_text=True))


# -- the catalogue ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Every message of the app, extracted as docs/translations.md says."""
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    CommandLineInterface().run(
        [
            "pybabel",
            "-q",
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-k",
            "N_",
            "-o",
            str(pot),
            str(ROOT),
        ]
    )
    with pot.open("rb") as handle:
        return read_po(handle)


@pytest.fixture(scope="module")
def thai():  # type: ignore[no-untyped-def]
    with (CATALOGUE / "messages.po").open("rb") as handle:
        return read_po(handle, locale="th")


def _key(message) -> tuple[str | None, object]:  # type: ignore[no-untyped-def]
    return message.context, message.id if isinstance(message.id, str) else tuple(message.id)


def test_every_message_has_a_thai_translation(extracted, thai) -> None:  # type: ignore[no-untyped-def]
    ids = [_key(m) for m in extracted if m.id]
    assert len(ids) > 600  # templates, views, forms, services and the core's reasons
    assert (None, "the deadline has passed") in ids  # services
    assert (None, "%(value)s is above the maximum %(max)s") in ids  # the pure core (N_)
    assert (None, "This field is required.") in ids  # WTForms' own messages
    assert ("button", "Open") in ids  # a context: not the round status "Open"
    translated = {_key(m): m for m in thai if m.id}
    missing = [i for i in ids if i not in translated]
    assert missing == [], f"run pybabel update (docs/translations.md); missing: {missing[:5]}"
    for key in ids:
        message = translated[key]
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        assert strings, key
        assert all(s.strip() for s in strings), f"not translated: {key!r}"
        assert not message.fuzzy, f"fuzzy: {key!r}"
        source = key[1] if isinstance(key[1], str) else " ".join(key[1])
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) == set(PLACEHOLDER.findall(source)), key
            assert ("%%" in string) == ("%%" in source), key
    assert not thai.fuzzy


def test_the_compiled_catalogue_is_up_to_date(thai) -> None:  # type: ignore[no-untyped-def]
    compiled = io.BytesIO()
    write_mo(compiled, thai)
    compiled.seek(0)
    fresh = read_mo(compiled)
    with (CATALOGUE / "messages.mo").open("rb") as handle:
        committed = read_mo(handle)

    def entries(catalog) -> dict[object, object]:  # type: ignore[no-untyped-def]
        return {_key(m): m.string for m in catalog if m.id}

    assert entries(committed) == entries(fresh), "run pybabel compile -d assess/translations"
    assert committed.plural_forms == fresh.plural_forms


def test_http_errors_of_the_pages_own_requests_say_what_happened_in_thai(client, world, auth):
    """The scripts show ``message``: a status's meaning in the reader's language (``error``
    stays the status's name, for programs)."""
    me = Coordinator(world, auth)
    reply = client.get("/rounds/999999/answers-nowhere", headers=FETCH)
    assert reply.status_code == 404
    body = reply.get_json()
    assert body["error"] == "Not Found"
    assert body["message"] == "ไม่พบรายการนี้ อาจถูกลบไปแล้ว หรือที่อยู่ไม่ถูกต้อง"
    english = client.get("/rounds/999999/answers-nowhere?lang=en", headers=FETCH).get_json()
    assert english["message"] == "Not found: it may have been removed, or the address is wrong."
    del me


# -- Thai by default, English one click away ------------------------------------------------


class Coordinator:
    """A Thai-speaking coordinator of AG-1, invited to an open round of dg-readiness@2569."""

    def __init__(self, world, auth, language: str = "th", **round_fields) -> None:  # type: ignore[no-untyped-def]
        self.agency = world.agency("AG-1")
        self.user = world.user("coord@example.go.th", agency=self.agency)
        self.user.language = language
        db.session.commit()
        self.version = world.questionnaire()
        self.round = world.round(self.version, agencies=[self.agency], **round_fields)
        self.questionnaire = questionnaire_of(self.version)
        auth.login("coord@example.go.th")

    def url(self, tail: str) -> str:
        return f"/rounds/{self.round.id}/{tail}"

    def save(self, client, answers: dict, revision: int = 0):  # type: ignore[no-untyped-def]
        return client.post(
            self.url("answers"), json={"revision": revision, "answers": answers}, headers=FETCH
        )


def test_the_login_page_is_thai_by_default(client) -> None:  # type: ignore[no-untyped-def]
    html = text(client.get("/login"))
    assert '<html lang="th">' in html
    assert "เข้าสู่ระบบ" in html
    assert "การประเมินความพร้อมรัฐบาลดิจิทัล" in html
    assert ">English<" in html  # the switch offers the other language
    english = text(client.get("/login?lang=en"))
    assert '<html lang="en">' in english
    assert "Sign in" in english
    assert "เข้าสู่ระบบ" not in english
    # ?lang= is remembered for the session.
    assert "Sign in" in text(client.get("/login"))


def test_the_language_switch(client) -> None:  # type: ignore[no-untyped-def]
    assert "เข้าสู่ระบบ" in text(client.get("/login"))
    switched = client.post("/language/en", data={"next": "/login"})
    assert switched.status_code == 302
    assert switched.headers["Location"].endswith("/login")
    assert "Sign in" in text(client.get("/login"))
    client.post("/language/th", data={"next": "/login"})
    assert "เข้าสู่ระบบ" in text(client.get("/login"))


def test_form_errors_are_thai_too(client) -> None:  # type: ignore[no-untyped-def]
    html = text(client.post("/login", data={"email": "", "password": ""}))
    assert "กรุณากรอกข้อมูลช่องนี้" in html
    assert "This field is required." not in html
    assert "This field is required." in text(
        client.post("/login?lang=en", data={"email": "", "password": ""})
    )


def test_a_coordinators_home_in_thai_and_in_english(client, world, auth) -> None:  # type: ignore[no-untyped-def]
    me = Coordinator(world, auth)
    html = text(client.get("/my"))
    assert "รอบการประเมินของหน่วยงาน" in html  # My rounds
    assert "ปีงบประมาณ พ.ศ. 2569" in html
    assert "ยังไม่เริ่ม" in html  # Not started
    assert "เปิดรับ" in html  # Open
    assert "เริ่มตอบ" in html  # Start
    assert "ออกจากระบบ" in html  # Sign out
    assert "My rounds" not in html
    # The switch is remembered on the user.
    client.post("/language/en", data={"next": "/my"})
    db.session.expire_all()
    assert me.user.language == "en"
    english = text(client.get("/my"))
    assert "My rounds" in english
    assert "Fiscal year 2569 (2025–26)" in english
    assert "Not started" in english
    assert "รอบการประเมินของหน่วยงาน" not in english


# -- messages of the services and of answer validation --------------------------------------


def test_after_the_results_the_coordinator_is_told_the_results_are_out(client, world, auth) -> None:  # type: ignore[no-untyped-def]
    """Not "the round is closed": a coordinator whose round published its (preliminary)
    results is told so, on the page, by the autosave and by the services."""
    from tests.conftest import fill

    me = Coordinator(world, auth, language="en")
    fill(responses.get_response(me.round, me.agency), me.user, 0.5, status="draft")
    rounds.move(me.round, "closed")
    rounds.move(me.round, "preliminary")
    db.session.commit()
    page = text(client.get(me.url("answer"), follow_redirects=True))
    assert "The round's results are out, so the answers cannot be changed." in page
    assert "The round is closed" not in page
    reply = me.save(client, {"mgmt.leadership": 1}, revision=1)
    assert (reply.status_code, reply.get_json()["error"]) == (409, "closed")
    assert reply.get_json()["message"] == (
        "The round's results are out, so the answers cannot be changed."
    )
    refused = client.post(
        me.url("evidence") + "?lang=th",
        data={"code": "mgmt.leadership", "url": "https://example.go.th/policy"},
        headers=FETCH,
    )
    assert refused.get_json()["message"] == "แก้ไขหลักฐานไม่ได้: ผลการประเมินของรอบนี้ประกาศแล้ว"
    with pytest.raises(WrongState) as caught:
        responses.submit(responses.get_response(me.round, me.agency), me.user)
    assert str(caught.value) == "cannot submit: the round's results are out"


def test_refusals_after_the_deadline_in_the_users_language(client, world, auth) -> None:  # type: ignore[no-untyped-def]
    yesterday = dt.datetime.now(BANGKOK).date() - dt.timedelta(days=1)
    me = Coordinator(world, auth, closes_on=yesterday)
    # The answers (the page's own wording) …
    reply = me.save(client, {"mgmt.leadership": 1})
    assert reply.status_code == 409
    message = reply.get_json()["message"]
    assert "เลยกำหนดส่ง" in message
    assert str(yesterday.year + 543) in message  # the deadline as a Buddhist Era date
    # … and the evidence service's refusal, as one Thai sentence.
    refused = client.post(
        me.url("evidence"),
        data={"code": "mgmt.leadership", "url": "https://example.go.th/policy"},
        headers=FETCH,
    )
    assert refused.status_code == 409
    assert refused.get_json()["message"] == "แก้ไขหลักฐานไม่ได้: เลยกำหนดส่งแล้ว"
    refused = client.post(
        me.url("evidence") + "?lang=en",
        data={"code": "mgmt.leadership", "url": "https://example.go.th/policy"},
        headers=FETCH,
    )
    assert refused.get_json()["message"] == "evidence cannot be changed: the deadline has passed"
    # The command line (no request) keeps its English, whatever the last request spoke.
    client.get("/my?lang=th")
    with pytest.raises(WrongState) as caught:
        responses.save_answers(
            responses.get_response(me.round, me.agency),
            {"mgmt.leadership": 1},
            revision=None,
            actor=me.user,
        )
    assert str(caught.value) == "answers cannot be changed: the deadline has passed"
    with pytest.raises(WrongState) as caught:
        rounds.move(me.round, "open")
    assert str(caught.value) == (
        f"round {me.round.id} is open; it can be opened only when draft or closed"
    )


def test_a_service_refusal_on_a_page(client, world, auth) -> None:  # type: ignore[no-untyped-def]
    me = Coordinator(world, auth)
    reply = client.post(
        me.url("evidence"),
        data={"code": "mgmt.pmqa_level", "file": (io.BytesIO(b"MZ..."), "setup.exe")},
        content_type="multipart/form-data",
    )
    assert reply.status_code == 302
    html = text(client.get(reply.headers["Location"]))
    assert "ข้อคำถาม mgmt.pmqa_level: setup.exe: ไม่รับไฟล์ประเภท .exe" in html
    assert "are not accepted" not in html


def test_answer_validation_reasons_in_the_users_language(client, world, auth) -> None:  # type: ignore[no-untyped-def]
    me = Coordinator(world, auth)
    reply = me.save(client, {"mgmt.process_digital": 140, "mgmt.leadership": 99})
    assert reply.status_code == 422
    body = reply.get_json()
    assert body["details"] == {
        "mgmt.process_digital": "140 มากกว่าค่าสูงสุด 100",
        "mgmt.leadership": "99 ไม่ใช่ตัวเลือกของข้อนี้ (ตัวเลือก: 0, 1, 2, 3, 4)",
    }
    assert "ข้อคำถาม mgmt.process_digital: 140 มากกว่าค่าสูงสุด 100" in body["message"]
    english = client.post(
        me.url("answers") + "?lang=en",
        json={"revision": 0, "answers": {"mgmt.process_digital": 140}},
        headers=FETCH,
    ).get_json()
    assert english["details"] == {"mgmt.process_digital": "140 is above the maximum 100"}
    assert english["message"] == "question mgmt.process_digital: 140 is above the maximum 100"


def test_workbook_problems_in_thai(client, world, auth) -> None:  # type: ignore[no-untyped-def]
    me = Coordinator(world, auth)
    download = client.get(me.url("workbook.xlsx"))
    assert download.status_code == 200
    book = load_workbook(io.BytesIO(download.data))
    sheet = book["answers"]
    assert sheet.cell(1, 2).value == "มิติ"
    row = next(
        r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == "mgmt.process_digital"
    )
    sheet.cell(row, 6).value = 140
    out = io.BytesIO()
    book.save(out)
    reply = client.post(
        me.url("workbook"),
        data={"workbook": (io.BytesIO(out.getvalue()), "ตอบ.xlsx")},
        content_type="multipart/form-data",
    )
    assert reply.status_code == 422
    html = text(reply)
    assert f"ตอบ.xlsx: แถวที่ {row}: ข้อคำถาม mgmt.process_digital: 140 มากกว่าค่าสูงสุด 100" in html
    reply = client.post(
        me.url("workbook"),
        data={"workbook": (io.BytesIO(b"not a workbook"), "ตอบ.xlsx")},
        content_type="multipart/form-data",
    )
    assert "ตอบ.xlsx: ไม่ใช่ไฟล์ Excel (.xlsx)" in text(reply)


#: A questionnaire file with three problems: a type and a key mistyped, a show_if with "=".
BAD_QUESTIONNAIRE = """\
schema: assess/questionnaire@1
code: demo
version: "1"
title: {th: ทดสอบ}
levels:
  - {code: "1", min: 0, name: เริ่มต้น}
  - {code: "2", min: 50, name: พัฒนา}
dimensions:
  - code: mgmt
    title: บริหาร
    questions:
      - code: mgmt.lead
        type: leve
        text: ผู้นำ
        wieght: 2
      - code: mgmt.plan
        type: yesno
        text: แผน
        show_if: mgmt.lead = 1
""".encode()


def test_questionnaire_file_problems_in_the_users_language(client, world, auth) -> None:  # type: ignore[no-untyped-def]
    world.user("central@example.go.th", role="reviewer")
    auth.login("central@example.go.th")

    def upload(url: str) -> str:
        reply = client.post(
            url,
            data={"file": (io.BytesIO(BAD_QUESTIONNAIRE), "แบบทดสอบ.yaml")},
            content_type="multipart/form-data",
        )
        assert reply.status_code == 422
        return text(reply)

    html = upload("/central/questionnaires/import")
    for problem in (
        "แบบทดสอบ.yaml:13: ข้อคำถาม 'mgmt.lead': type ต้องเป็นค่าใดค่าหนึ่งต่อไปนี้: level, "
        "choice, multi, yesno, number, text (ค่าที่พบ: 'leve') (หมายถึง 'level' หรือไม่)",
        "แบบทดสอบ.yaml:15: ข้อคำถาม 'mgmt.lead': ไม่รู้จักคีย์ 'wieght' (หมายถึง 'weight' หรือไม่)",
        "แบบทดสอบ.yaml:19: ข้อคำถาม 'mgmt.plan': show_if: พบ '=' ที่คอลัมน์ 11 ซึ่งไม่ถูกต้อง "
        "(การเปรียบเทียบว่าเท่ากันใช้ ==)",
    ):
        assert problem in html
    assert "did you mean" not in html
    assert "unexpected" not in html
    # The same file on the English page: the English of the command line.
    english = upload("/central/questionnaires/import?lang=en")
    for problem in (
        "แบบทดสอบ.yaml:13: question 'mgmt.lead': type must be one of level, choice, multi, "
        "yesno, number, text, not 'leve' (did you mean 'level'?)",
        "แบบทดสอบ.yaml:15: question 'mgmt.lead': unknown key 'wieght' (did you mean 'weight'?)",
        "แบบทดสอบ.yaml:19: question 'mgmt.plan': show_if: unexpected '=' at column 11 "
        "(equality is ==)",
    ):
        assert problem in english
    assert "ข้อคำถาม 'mgmt.lead'" not in english
    # Outside a request (the command line's `questionnaire import`) the service speaks English.
    client.get("/my?lang=th")
    with pytest.raises(ServiceError) as caught:
        import_text(BAD_QUESTIONNAIRE, "bad.yaml")
    assert caught.value.problems == [
        "bad.yaml:13: question 'mgmt.lead': type must be one of level, choice, multi, yesno, "
        "number, text, not 'leve' (did you mean 'level'?)",
        "bad.yaml:15: question 'mgmt.lead': unknown key 'wieght' (did you mean 'weight'?)",
        "bad.yaml:19: question 'mgmt.plan': show_if: unexpected '=' at column 11 (equality is ==)",
    ]


# -- Buddhist Era dates ---------------------------------------------------------------------


def test_the_deadline_in_buddhist_era_and_gregorian_years(client, world, auth) -> None:  # type: ignore[no-untyped-def]
    closes = dt.datetime.now(BANGKOK).date() + dt.timedelta(days=40)
    Coordinator(world, auth, closes_on=closes)
    html = text(client.get("/my"))
    thai_date = f"{closes.day} {MONTHS_TH_SHORT[closes.month - 1]} {closes.year + 543}"
    assert f'<span class="deadline">{thai_date}</span>' in html
    assert "เหลืออีก 40 วัน" in html
    english = text(client.get("/my?lang=en"))
    english_date = f"{closes.day} {MONTHS_EN_SHORT[closes.month - 1]} {closes.year}"
    assert f'<span class="deadline">{english_date}</span>' in english
    assert str(closes.year + 543) not in english.split('class="deadline">')[1][:40]
    assert "40 days left." in english
