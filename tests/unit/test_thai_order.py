"""Thai names in dictionary order wherever a list of agencies is sorted by name."""

from __future__ import annotations

import pandas as pd

from assess.reports.league import Options, Sort, league_frame

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
