"""Chart labels cut short (:func:`assess.reports.charts.short`): Thai is never cut between a
consonant and the marks written on it, nor just after a leading vowel (เ แ โ ใ ไ), and a
space not far back ends the cut between words."""

from __future__ import annotations

import pytest

from assess.reports.charts import COMBINING_MARKS, LEADING_VOWELS, short


def test_short_text_is_kept_whole() -> None:
    assert short("ความพร้อม", 30) == "ความพร้อม"
    assert short("Digital identity", 16) == "Digital identity"


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        # A cut at the tone mark of มั่ would leave "มั" (ั without its ่): the marks stay.
        ("ความมั่นคงปลอดภัยไซเบอร์", 7, "ความมั่…"),
        ("ความมั่นคงปลอดภัยไซเบอร์", 6, "ความมั่…"),
        # The cut would end on เ of "เพื่อ": the vowel goes with its syllable.
        ("บริการเพื่อประชาชน", 8, "บริการ…"),
        # แ of "แผน", ไ of "ไซเบอร์", โ of "โครงสร้าง", ใ of "ใบอนุญาต".
        ("สถาปัตยกรรมแผนดิจิทัล", 13, "สถาปัตยกรรม…"),
        ("ความปลอดภัยไซเบอร์", 13, "ความปลอดภัย…"),
        ("ระบบโครงสร้างพื้นฐาน", 6, "ระบบ…"),
        ("การออกใบอนุญาต", 8, "การออก…"),
        # Between words where a space is near; Thai phrases are spaced too.
        ("Digital organisation management (PMQA 4.0)", 24, "Digital organisation…"),
        ("บริการภาครัฐ ทุกช่องทาง", 18, "บริการภาครัฐ…"),
    ],
)
def test_thai_is_cut_between_whole_syllable_parts(text: str, limit: int, expected: str) -> None:
    assert short(text, limit) == expected


@pytest.mark.parametrize(
    "text",
    [
        "การบริหารจัดการองค์การสู่ดิจิทัล (PMQA 4.0)",
        "บริการดิจิทัลแบบเบ็ดเสร็จและการชำระเงินทางอิเล็กทรอนิกส์",
        "ความมั่นคงปลอดภัยไซเบอร์ การคุ้มครองข้อมูลส่วนบุคคล และโครงสร้างพื้นฐาน",
        "ไม่ใช่เรื่องใหม่แต่ใหญ่โต",
    ],
)
def test_no_cut_leaves_a_leading_vowel_or_parts_a_mark(text: str) -> None:
    """Whatever the limit: the kept part is the text's start, ends on no leading vowel,
    and what comes after it starts with no mark that belongs to its last letter."""
    for limit in range(1, len(text)):
        cut = short(text, limit)
        assert cut.endswith("…"), (limit, cut)
        kept = cut[:-1]
        assert kept, (limit, cut)
        assert text.startswith(kept), (limit, cut)
        assert kept[-1] not in LEADING_VOWELS, (limit, cut)
        rest = text[len(kept) :]
        assert not rest or rest[0] not in COMBINING_MARKS, (limit, cut)
        # About the limit (marks take no room), or the first syllable when it is longer.
        assert sum(c not in COMBINING_MARKS for c in kept) <= max(limit - 1, 2), (limit, cut)


def test_the_mark_classes_are_the_thai_ones() -> None:
    assert {"เ", "แ", "โ", "ใ", "ไ"} == LEADING_VOWELS
    assert {"\u0e31", "\u0e34", "\u0e3a", "\u0e47", "\u0e48", "\u0e4c", "\u0e4e"} <= COMBINING_MARKS
    assert "\u0e32" not in COMBINING_MARKS  # า is written after its consonant
    assert "\u0e33" not in COMBINING_MARKS
