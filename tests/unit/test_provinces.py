"""Provinces: one stored spelling for each, shown in the reader's language."""

from __future__ import annotations

import pytest

from assess import provinces
from assess.provinces import PROVINCES, canonical, find, label, options
from assess.thai import sort_key as thai_sort_key


def test_seventy_seven_provinces_each_found_by_both_its_names():
    assert len(PROVINCES) == 77
    assert len({p.name_en for p in PROVINCES}) == len({p.name_th for p in PROVINCES}) == 77
    for province in PROVINCES:
        assert find(province.name_en) is province
        assert find(province.name_th) is province
        assert canonical(province.name_th) == province.name_en


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Chiang Mai", "Chiang Mai"),
        ("  chiang mai ", "Chiang Mai"),
        ("Chiangmai", "Chiang Mai"),
        ("Chiang Mai Province", "Chiang Mai"),
        ("เชียงใหม่", "Chiang Mai"),
        ("จังหวัดเชียงใหม่", "Chiang Mai"),
        ("จ.เชียงใหม่", "Chiang Mai"),
        ("จ. เชียงใหม่", "Chiang Mai"),
        ("Changwat Chiang Mai", "Chiang Mai"),
        ("กรุงเทพฯ", "Bangkok"),
        ("กทม.", "Bangkok"),
        ("Krung Thep Maha Nakhon", "Bangkok"),
        ("Bangkok Metropolis", "Bangkok"),
        ("Buriram", "Buri Ram"),
        ("Sisaket", "Si Sa Ket"),
        ("Phang Nga", "Phangnga"),
        ("Ayutthaya", "Phra Nakhon Si Ayutthaya"),
        ("โคราช", "Nakhon Ratchasima"),
    ],
)
def test_usual_spellings_are_stored_as_one(typed, stored):
    assert canonical(typed) == stored


def test_text_that_names_no_province_is_kept():
    assert canonical("  Atlantis ") == "Atlantis"
    assert canonical("") == ""
    assert find("Chiang") is None  # a prefix is not a province
    assert label("Atlantis", "th") == "Atlantis"
    assert label(None, "th") == label("", "en") == ""


def test_labels_follow_the_language():
    assert label("Chiang Mai", "th") == "เชียงใหม่"
    assert label("Chiang Mai", "en") == "Chiang Mai"
    assert label("จังหวัดน่าน", "en") == "Nan"


def test_thai_names_sort_as_a_dictionary_does():
    """A leading vowel is read after its consonant: เชียงใหม่ among the ช, not after ฮ."""
    names = ["อำนาจเจริญ", "เลย", "เชียงใหม่", "กรุงเทพมหานคร", "แพร่", "ชลบุรี"]
    assert sorted(names, key=thai_sort_key) == [
        "กรุงเทพมหานคร",
        "ชลบุรี",
        "เชียงใหม่",
        "แพร่",
        "เลย",
        "อำนาจเจริญ",
    ]


def test_filter_options_label_each_stored_value_once():
    stored = ["Nan", "Chiang Mai", "Bangkok", "Nan", "", "Atlantis"]
    assert options(stored, "th") == [
        ("Atlantis", "Atlantis"),
        ("Bangkok", "กรุงเทพมหานคร"),
        ("Chiang Mai", "เชียงใหม่"),
        ("Nan", "น่าน"),
    ]
    assert [value for value, _label in options(stored, "en")] == [
        "Atlantis",
        "Bangkok",
        "Chiang Mai",
        "Nan",
    ]


def test_no_two_provinces_share_a_spelling():
    """Every name and alias leads to one province: no key of one is another's."""
    keys: dict[str, str] = {}
    for province in PROVINCES:
        for name in (province.name_en, province.name_th):
            key = provinces._key(name)
            assert keys.setdefault(key, province.name_en) == province.name_en
    for english, aliases in provinces.ALIASES.items():
        assert find(english) is not None
        for alias in aliases:
            key = provinces._key(alias)
            assert keys.setdefault(key, english) == english, alias


def test_the_migration_gives_stored_provinces_their_one_spelling(tmp_path):
    """Migration 0008: agencies stored before keep their province, in its one spelling."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from assess import create_app
    from assess.extensions import db

    app = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/a.db"})
    with app.app_context():
        upgrade(revision="0007")
        rows = {"A": "จังหวัดเชียงใหม่", "B": "Chiangmai", "C": "Chiang Mai", "D": "Atlantis", "E": ""}
        with db.engine.begin() as connection:
            for code, province in rows.items():
                connection.execute(
                    sa.text(
                        "INSERT INTO agency (code, name_th, name_en, type, province, tags, active) "
                        "VALUES (:code, :code, :code, 'department', :province, '[]', 1)"
                    ),
                    {"code": code, "province": province},
                )
        upgrade()
        with db.engine.connect() as connection:
            stored = dict(connection.execute(sa.text("SELECT code, province FROM agency")).all())
        db.engine.dispose()
    assert stored == {
        "A": "Chiang Mai",
        "B": "Chiang Mai",
        "C": "Chiang Mai",
        "D": "Atlantis",
        "E": "",
    }
