"""The central office's search boxes: text pasted from a Thai PDF ("ํา" for ำ) finds what a
typed name finds, and every word of a search must match, in any order."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import String, literal, select

from assess import search
from assess.extensions import db
from assess.search import normalise, words

TYPED = "ตำบลห้วยกลาง"  # SARA AM, as typed
PASTED = TYPED.replace("\u0e33", "\u0e4d\u0e32")  # NIKHAHIT + SARA AA, as a PDF gives it
WATER = "หนองน\u0e49\u0e4d\u0e32"  # หนองน้ำ as a PDF gives it: the tone mark, then "ํา"
#: บ้านที่ดินสูง as often typed: the tone mark (่) before the vowel above it (ี).
TONE_FIRST = "บ้านท\u0e48\u0e35ดินสูง"
#: หนองน้ำ typed with SARA AM before the tone mark ("นำ้").
AM_FIRST = "หนองน\u0e33\u0e49"


def test_search_text_has_one_spelling() -> None:
    assert PASTED != TYPED
    assert normalise(PASTED) == TYPED
    # A tone mark before or after the NIKHAHIT: น้ำ either way.
    assert normalise("น\u0e49\u0e4d\u0e32") == "น้ำ"
    assert normalise("น\u0e4d\u0e49\u0e32") == "น้ำ"
    assert normalise("  เทศบาล\u200bตำบล \u00a0 โคกไผ่\n") == "เทศบาลตำบล โคกไผ่"
    assert normalise("Cafe\u0301") == "Café"  # NFC
    assert normalise(None) == ""
    assert words(" โคกไผ่  เพชรบูรณ์ โคกไผ่ ") == ["โคกไผ่", "เพชรบูรณ์"]
    assert words("   ") == []


def test_a_tone_mark_typed_before_its_vowel_is_put_after_it() -> None:
    assert TONE_FIRST != "บ้านที่ดินสูง"
    assert normalise(TONE_FIRST) == "บ้านที่ดินสูง"
    assert normalise("ท\u0e49\u0e31\u0e07") == "ทั้ง"  # ้ before ั
    assert normalise("ก\u0e48\u0e38ง") == "กุ่ง"  # ่ before ุ (below)
    assert normalise(AM_FIRST) == "หนองน้ำ"  # ำ before ้
    assert normalise("ทั้ง ที่") == "ทั้ง ที่"  # already canonical: unchanged


@pytest.mark.parametrize(
    "text", [TONE_FIRST, AM_FIRST, PASTED, WATER, "น\u0e4d\u0e49\u0e32", "ท\u0e49\u0e31ง"]
)
def test_the_database_spells_stored_text_as_normalise_does(app, text: str) -> None:
    """The stored side is respelled in the database (SQLite: a Python function registered
    on the connection; PostgreSQL: regexp_replace) into the spelling of a search."""
    assert db.session.scalar(select(search._stored(literal(text)))) == normalise(text)
    assert db.session.scalar(select(search._stored(literal(None, String)))) is None


@pytest.fixture
def places(world):  # type: ignore[no-untyped-def]
    version = world.questionnaire()
    agencies = [
        world.agency("LAO-1", name_th="องค์การบริหารส่วนตำบลห้วยกลาง", province="Nakhon Ratchasima"),
        world.agency("LAO-2", name_th="เทศบาลตำบลโคกไผ่", province="Phetchabun"),
        world.agency("LAO-3", name_th="เทศบาลตำบลโคกไผ่", province="Chon Buri"),
        world.agency("LAO-4", name_th="เทศบาลตำบลหนองน้ำ", province="Phetchabun"),
        # A name stored as pasted from a PDF is found by a typed one.
        world.agency("LAO-5", name_th="เทศบาล" + PASTED, province="Surin"),
    ]
    for agency in agencies:
        user = world.user(f"{agency.code.lower()}@example.go.th", agency=agency)
        user.name = f"ผู้ประสานงาน {agency.name_th}"
    admin = world.user("admin@example.go.th", role="admin")
    admin.language = "en"
    db.session.commit()
    return world.round(version, agencies=agencies)


def found_codes(client, url: str) -> set[str]:  # type: ignore[no-untyped-def]
    reply = client.get(url)
    assert reply.status_code == 200, url
    body = reply.get_data(as_text=True).split("<tbody>")[-1].split("</tbody>")[0]
    return set(re.findall(r"LAO-\d", body))


@pytest.mark.parametrize("page", ["monitor", "agencies", "users"])
def test_every_search_box_finds_a_name_pasted_from_a_pdf(client, auth, places, page):
    auth.login("admin@example.go.th")
    base = {
        "monitor": f"/central/rounds/{places.id}",
        "agencies": "/central/agencies",
        "users": "/central/users",
    }[page]
    both = {"LAO-1", "LAO-5"}
    assert found_codes(client, f"{base}?q={TYPED}") == both
    assert found_codes(client, f"{base}?q={PASTED}") == both
    assert found_codes(client, f"{base}?q=+{PASTED}++") == both
    # Every word, in any order.
    assert found_codes(client, f"{base}?q=ห้วยกลาง องค์การ") == {"LAO-1"}
    assert found_codes(client, f"{base}?q=เทศบาล {PASTED}") == {"LAO-5"}
    assert found_codes(client, f"{base}?q={WATER}") == {"LAO-4"}


@pytest.mark.parametrize("page", ["monitor", "agencies"])
def test_agency_searches_cover_the_province(client, auth, places, page):
    auth.login("admin@example.go.th")
    base = f"/central/rounds/{places.id}" if page == "monitor" else "/central/agencies"
    assert found_codes(client, f"{base}?q=โคกไผ่") == {"LAO-2", "LAO-3"}
    assert found_codes(client, f"{base}?q=โคกไผ่ เพชรบูรณ์") == {"LAO-2"}
    assert found_codes(client, f"{base}?q=เพชรบูรณ์ โคกไผ่") == {"LAO-2"}
    assert found_codes(client, f"{base}?q=phetchabun") == {"LAO-2", "LAO-4"}
    assert found_codes(client, f"{base}?q=โคกไผ่ ลำปาง") == set()
    assert found_codes(client, f"{base}?q=lao-3 โคกไผ่") == {"LAO-3"}


def test_the_users_search_covers_the_users_agency(client, auth, world):
    """A coordinator found by the name or code of the agency, whatever the account's own
    name says; with another word, every word must match."""
    agency = world.agency("MOF-RD", name_th="กรมสรรพากร", name_en="The Revenue Department")
    other = world.agency("MOF-CD", name_th="กรมศุลกากร", name_en="The Customs Department")
    world.user("somchai@rd.go.th", agency=agency).name = "สมชาย ใจดี"
    world.user("somsri@customs.go.th", agency=other).name = "สมศรี ใจดี"
    world.user("admin@example.go.th", role="admin").language = "en"
    db.session.commit()
    auth.login("admin@example.go.th")

    def emails(query: str) -> set[str]:
        body = client.get(f"/central/users?q={query}").get_data(as_text=True)
        body = body.split("<tbody>")[-1].split("</tbody>")[0]
        return set(re.findall(r"[a-z]+@[a-z.]+", body))

    assert emails("สรรพากร") == {"somchai@rd.go.th"}
    assert emails("revenue") == {"somchai@rd.go.th"}
    assert emails("mof-cd") == {"somsri@customs.go.th"}
    assert emails("ใจดี") == {"somchai@rd.go.th", "somsri@customs.go.th"}
    assert emails("ใจดี ศุลกากร") == {"somsri@customs.go.th"}


def test_a_tone_mark_typed_before_its_vowel_finds_the_name_either_way(client, auth, world):
    """A name stored with the tone mark before its vowel is found by the name typed in the
    usual order, and a name stored in the usual order by a search typed tone mark first."""
    version = world.questionnaire()
    agencies = [
        world.agency("LAO-7", name_th="องค์การบริหารส่วนตำบล" + TONE_FIRST),
        world.agency("LAO-8", name_th="องค์การบริหารส่วนตำบลทุ่งทั้งหมด"),
        world.agency("LAO-9", name_th="เทศบาลตำบล" + AM_FIRST + "ใส"),
    ]
    world.user("admin@example.go.th", role="admin").language = "en"
    db.session.commit()
    round_ = world.round(version, agencies=agencies)
    auth.login("admin@example.go.th")
    for base in (f"/central/rounds/{round_.id}", "/central/agencies"):
        assert found_codes(client, f"{base}?q=ที่ดินสูง") == {"LAO-7"}
        assert found_codes(client, f"{base}?q={TONE_FIRST}") == {"LAO-7"}
        assert found_codes(client, f"{base}?q=ท\u0e49\u0e31งหมด") == {"LAO-8"}
        assert found_codes(client, f"{base}?q=หนองน้ำใส") == {"LAO-9"}
        assert found_codes(client, f"{base}?q=หนองน\u0e4d\u0e49\u0e32ใส") == {"LAO-9"}
