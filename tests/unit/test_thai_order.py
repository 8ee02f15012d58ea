"""Thai names in dictionary order wherever a list of agencies is sorted by name."""

from __future__ import annotations

import json
import shutil
import subprocess

import pandas as pd
import pytest

from assess import provinces
from assess.reports.league import Options, Sort, league_frame
from assess.thai import sort_key

# A leading vowel (เ แ โ ใ ไ) is read after its consonant: เกษตร among the ก, not after อ.
NAMES = {
    "A": "กระทรวงอุตสาหกรรม",
    "B": "กระทรวงเกษตรและสหกรณ์",
    "C": "กระทรวงแรงงาน",
    "D": "จังหวัดอุดรธานี",
    "E": "จังหวัดเชียงใหม่",
}
DICTIONARY_ORDER = ["B", "C", "A", "E", "D"]


def test_league_table_sorted_by_name_is_in_thai_dictionary_order():
    codes = list(NAMES)
    agencies = pd.DataFrame(
        {
            "status": "accepted",
            "name_th": [NAMES[c] for c in codes],
            "name_en": "",
            "type": "ministry",
            "province": "",
        },
        index=pd.Index(codes, name="agency"),
    )
    verified = pd.DataFrame({"overall": [50.0] * 5}, index=codes)
    frame = league_frame(
        agencies, verified, pd.Series(dtype="float64"), ["overall"], Sort("name", False), "th"
    )
    assert list(frame["agency"]) == DICTIONARY_ORDER
    backwards = league_frame(
        agencies, verified, pd.Series(dtype="float64"), ["overall"], Sort("name", True), "th"
    )
    assert list(backwards["agency"]) == DICTIONARY_ORDER[::-1]


def test_parent_filter_lists_parents_in_thai_dictionary_order():
    rows = []
    for code, name in NAMES.items():
        rows.append(
            {
                "agency": f"{code}-1",
                "type": "department",
                "parent": code,
                "parent_name_th": name,
                "parent_name_en": "",
                "province": "",
                "tags": [],
            }
        )
    agencies = pd.DataFrame(rows).set_index("agency")
    options = Options.of(agencies, "th")
    assert [code for code, _name in options.parents] == DICTIONARY_ORDER


#: The 77 provinces in the order of official lists (the Royal Institute's dictionary order;
#: checked against ICU's Thai collation, ``Intl.Collator("th")``).
PROVINCES_IN_ORDER = [
    "กระบี่",
    "กรุงเทพมหานคร",
    "กาญจนบุรี",
    "กาฬสินธุ์",
    "กำแพงเพชร",
    "ขอนแก่น",
    "จันทบุรี",
    "ฉะเชิงเทรา",
    "ชลบุรี",
    "ชัยนาท",
    "ชัยภูมิ",
    "ชุมพร",
    "เชียงราย",
    "เชียงใหม่",
    "ตรัง",
    "ตราด",
    "ตาก",
    "นครนายก",
    "นครปฐม",
    "นครพนม",
    "นครราชสีมา",
    "นครศรีธรรมราช",
    "นครสวรรค์",
    "นนทบุรี",
    "นราธิวาส",
    "น่าน",
    "บึงกาฬ",
    "บุรีรัมย์",
    "ปทุมธานี",
    "ประจวบคีรีขันธ์",
    "ปราจีนบุรี",
    "ปัตตานี",
    "พระนครศรีอยุธยา",
    "พะเยา",
    "พังงา",
    "พัทลุง",
    "พิจิตร",
    "พิษณุโลก",
    "เพชรบุรี",
    "เพชรบูรณ์",
    "แพร่",
    "ภูเก็ต",
    "มหาสารคาม",
    "มุกดาหาร",
    "แม่ฮ่องสอน",
    "ยโสธร",
    "ยะลา",
    "ร้อยเอ็ด",
    "ระนอง",
    "ระยอง",
    "ราชบุรี",
    "ลพบุรี",
    "ลำปาง",
    "ลำพูน",
    "เลย",
    "ศรีสะเกษ",
    "สกลนคร",
    "สงขลา",
    "สตูล",
    "สมุทรปราการ",
    "สมุทรสงคราม",
    "สมุทรสาคร",
    "สระแก้ว",
    "สระบุรี",
    "สิงห์บุรี",
    "สุโขทัย",
    "สุพรรณบุรี",
    "สุราษฎร์ธานี",
    "สุรินทร์",
    "หนองคาย",
    "หนองบัวลำภู",
    "อ่างทอง",
    "อำนาจเจริญ",
    "อุดรธานี",
    "อุตรดิตถ์",
    "อุทัยธานี",
    "อุบลราชธานี",
]

#: Departments whose names differ first in a tone mark's place (ส่ง, สร, สอ): the tone
#: mark is passed over, so ส่งเสริม is read ส ง … and comes before สรรพากร (ส ร …).
DEPARTMENTS_IN_ORDER = [
    "กรมศุลกากร",
    "กรมส่งเสริมการเกษตร",
    "กรมส่งเสริมการปกครองท้องถิ่น",
    "กรมส่งเสริมสหกรณ์",
    "กรมสรรพสามิต",
    "กรมสรรพากร",
    "กรมสอบสวนคดีพิเศษ",
    "กรมสุขภาพจิต",
]


def test_tone_marks_are_passed_over_at_first():
    # ร้อยเอ็ด is read ร อ ย …, ระยอง ร ะ ย …: อ (U+0E2D) comes before ะ (U+0E30).
    assert sorted(["ระยอง", "ร้อยเอ็ด", "ระนอง"], key=sort_key) == ["ร้อยเอ็ด", "ระนอง", "ระยอง"]
    assert sorted(reversed(DEPARTMENTS_IN_ORDER), key=sort_key) == DEPARTMENTS_IN_ORDER


def test_tone_marks_decide_only_between_otherwise_equal_words():
    assert sorted(["ก้าว", "กาว", "ก่าว"], key=sort_key) == ["กาว", "ก่าว", "ก้าว"]
    # A word that, without its signs, begins another comes first, whatever its signs.
    assert sorted(["กาวา", "ก๊าว"], key=sort_key) == ["ก๊าว", "กาวา"]


def test_numbers_sort_by_their_value():
    """The parent filter listed "กระทรวงทดสอบที่ 1, 10, 11 … 19, 2, 20"."""
    names = ["กระทรวงที่ 10", "กระทรวงที่ 2", "กระทรวงที่ ๓", "กระทรวงที่ 1", "กระทรวง"]
    assert sorted(names, key=sort_key) == [
        "กระทรวง",
        "กระทรวงที่ 1",
        "กระทรวงที่ 2",
        "กระทรวงที่ ๓",
        "กระทรวงที่ 10",
    ]
    assert sorted(["Office 12", "Office 9"], key=sort_key) == ["Office 9", "Office 12"]


def test_the_77_provinces_sort_in_the_official_order():
    assert len(PROVINCES_IN_ORDER) == len(provinces.PROVINCES) == 77
    assert {p.name_th for p in provinces.PROVINCES} == set(PROVINCES_IN_ORDER)
    assert sorted((p.name_th for p in provinces.PROVINCES), key=sort_key) == PROVINCES_IN_ORDER
    # The province filters list them so on a Thai page.
    stored = [p.name_en for p in provinces.PROVINCES]
    assert [name for _value, name in provinces.options(stored, "th")] == PROVINCES_IN_ORDER


@pytest.mark.skipif(shutil.which("node") is None, reason="no Node.js to ask ICU")
def test_order_agrees_with_icu_thai_collation():
    """ICU's Thai collation (Node.js's ``Intl.Collator("th")``) orders the same names."""
    names = [*PROVINCES_IN_ORDER, *DEPARTMENTS_IN_ORDER, *NAMES.values(), "ก่าว", "กาว", "ก้าว"]
    script = (
        "const names = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "console.log(JSON.stringify(names.sort(new Intl.Collator('th').compare)));"
    )
    icu = subprocess.run(
        ["node", "-e", script],
        input=json.dumps(names),
        capture_output=True,
        text=True,
        check=True,
        encoding="utf-8",
    )
    assert sorted(names, key=sort_key) == json.loads(icu.stdout)
