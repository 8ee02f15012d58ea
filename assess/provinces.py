"""Thailand's 77 provinces: one stored spelling, shown in the reader's language.

An agency's province is free text (``interfaces.md``), so one province could be stored as
"Chiang Mai", "Chiangmai", "จังหวัดเชียงใหม่" or "จ.เชียงใหม่" and split a peer group in
four. :func:`canonical` turns any of these into the province's English name (the
spelling of ISO 3166-2:TH, which the demo data and data.go.th's tables use); the agency
import and the agency form store that. :func:`label` shows a stored province in Thai on a
Thai page and in English on an English one. Text that names no known province is kept and
shown as it was given.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from assess import thai


@dataclass(frozen=True, slots=True)
class Province:
    name_en: str
    name_th: str

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_th


#: The 77 provinces (Bangkok first, then in English alphabetical order).
PROVINCES: tuple[Province, ...] = tuple(Province(en, th) for en, th in (
    ("Bangkok", "กรุงเทพมหานคร"), ("Amnat Charoen", "อำนาจเจริญ"), ("Ang Thong", "อ่างทอง"),
    ("Bueng Kan", "บึงกาฬ"), ("Buri Ram", "บุรีรัมย์"), ("Chachoengsao", "ฉะเชิงเทรา"),
    ("Chai Nat", "ชัยนาท"), ("Chaiyaphum", "ชัยภูมิ"), ("Chanthaburi", "จันทบุรี"),
    ("Chiang Mai", "เชียงใหม่"), ("Chiang Rai", "เชียงราย"), ("Chon Buri", "ชลบุรี"),
    ("Chumphon", "ชุมพร"), ("Kalasin", "กาฬสินธุ์"), ("Kamphaeng Phet", "กำแพงเพชร"),
    ("Kanchanaburi", "กาญจนบุรี"), ("Khon Kaen", "ขอนแก่น"), ("Krabi", "กระบี่"),
    ("Lampang", "ลำปาง"), ("Lamphun", "ลำพูน"), ("Loei", "เลย"), ("Lop Buri", "ลพบุรี"),
    ("Mae Hong Son", "แม่ฮ่องสอน"), ("Maha Sarakham", "มหาสารคาม"), ("Mukdahan", "มุกดาหาร"),
    ("Nakhon Nayok", "นครนายก"), ("Nakhon Pathom", "นครปฐม"), ("Nakhon Phanom", "นครพนม"),
    ("Nakhon Ratchasima", "นครราชสีมา"), ("Nakhon Sawan", "นครสวรรค์"),
    ("Nakhon Si Thammarat", "นครศรีธรรมราช"), ("Nan", "น่าน"), ("Narathiwat", "นราธิวาส"),
    ("Nong Bua Lam Phu", "หนองบัวลำภู"), ("Nong Khai", "หนองคาย"), ("Nonthaburi", "นนทบุรี"),
    ("Pathum Thani", "ปทุมธานี"), ("Pattani", "ปัตตานี"), ("Phangnga", "พังงา"),
    ("Phatthalung", "พัทลุง"), ("Phayao", "พะเยา"), ("Phetchabun", "เพชรบูรณ์"),
    ("Phetchaburi", "เพชรบุรี"), ("Phichit", "พิจิตร"), ("Phitsanulok", "พิษณุโลก"),
    ("Phra Nakhon Si Ayutthaya", "พระนครศรีอยุธยา"), ("Phrae", "แพร่"), ("Phuket", "ภูเก็ต"),
    ("Prachin Buri", "ปราจีนบุรี"), ("Prachuap Khiri Khan", "ประจวบคีรีขันธ์"),
    ("Ranong", "ระนอง"), ("Ratchaburi", "ราชบุรี"), ("Rayong", "ระยอง"), ("Roi Et", "ร้อยเอ็ด"),
    ("Sa Kaeo", "สระแก้ว"), ("Sakon Nakhon", "สกลนคร"), ("Samut Prakan", "สมุทรปราการ"),
    ("Samut Sakhon", "สมุทรสาคร"), ("Samut Songkhram", "สมุทรสงคราม"), ("Saraburi", "สระบุรี"),
    ("Satun", "สตูล"), ("Si Sa Ket", "ศรีสะเกษ"), ("Sing Buri", "สิงห์บุรี"),
    ("Songkhla", "สงขลา"), ("Sukhothai", "สุโขทัย"), ("Suphan Buri", "สุพรรณบุรี"),
    ("Surat Thani", "สุราษฎร์ธานี"), ("Surin", "สุรินทร์"), ("Tak", "ตาก"), ("Trang", "ตรัง"),
    ("Trat", "ตราด"), ("Ubon Ratchathani", "อุบลราชธานี"), ("Udon Thani", "อุดรธานี"),
    ("Uthai Thani", "อุทัยธานี"), ("Uttaradit", "อุตรดิตถ์"), ("Yala", "ยะลา"),
    ("Yasothon", "ยโสธร"),
))  # fmt: skip

ENGLISH_NAMES = tuple(p.name_en for p in PROVINCES)

#: Other names in common use, beside the English and Thai names and their spacings.
ALIASES = {
    "Bangkok": (
        "Bangkok Metropolis", "Bangkok Metropolitan Administration", "Krung Thep",
        "Krung Thep Maha Nakhon", "กรุงเทพ", "กทม",
    ),
    "Phra Nakhon Si Ayutthaya": ("Ayutthaya", "อยุธยา"),
    "Nakhon Ratchasima": ("Korat", "โคราช"),
    "Phangnga": ("Phang Nga",),
}  # fmt: skip

#: Words around a province's name that do not change which province it is.
_PREFIX = re.compile(r"^(จังหวัด|จ\.|changwat\s)")
_SUFFIX = re.compile(r"\s(province|metropolis)$")
_IGNORED = re.compile(r"[\s\-.'’ฯ]")


def _key(text: str) -> str:
    text = unicodedata.normalize("NFC", text).casefold().strip()
    text = _SUFFIX.sub("", _PREFIX.sub("", text).strip())
    return _IGNORED.sub("", text)


@cache
def _index() -> dict[str, Province]:
    by_key: dict[str, Province] = {}
    by_english = {p.name_en: p for p in PROVINCES}
    for province in PROVINCES:
        for name in (province.name_en, province.name_th):
            by_key[_key(name)] = province
    for english, others in ALIASES.items():
        if english in by_english:
            for other in others:
                by_key[_key(other)] = by_english[english]
    return by_key


def find(text: str | None) -> Province | None:
    """The province ``text`` names, in any of its usual spellings, or ``None``."""
    return _index().get(_key(text)) if text else None


def likely(text: str) -> Province | None:
    """The province ``text`` most likely misspells ("Chaing Mai", "เชียงไหม่"), or ``None``
    when it is not close to any."""
    key = _key(text)
    if not key:
        return None
    close = difflib.get_close_matches(key, list(_index()), n=1, cutoff=0.75)
    return _index()[close[0]] if close else None


def canonical(text: str) -> str:
    """The stored spelling of a province: its English name, or ``text`` (trimmed) when it
    names no known province."""
    found = find(text)
    return found.name_en if found else text.strip()


def spellings(text: str) -> set[str]:
    """What a filter for ``text`` matches: the text as given and its stored spelling (a
    record stored before :func:`canonical` was applied keeps its own)."""
    return {text.strip(), canonical(text)}


def label(text: str | None, lang: str) -> str:
    """A stored province as a reader of ``lang`` calls it (unknown text as it is)."""
    found = find(text)
    return found.name(lang) if found else (text or "")


def options(values: Iterable[str], lang: str) -> list[tuple[str, str]]:
    """``(stored value, label)`` for a filter's choices, sorted by label in ``lang``."""
    labelled = {(value, label(value, lang)) for value in values if value}
    return sorted(labelled, key=lambda item: (thai.sort_key(item[1].casefold()), item[0]))
