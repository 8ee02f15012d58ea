"""The demo's rounds lie in their Thai fiscal years (October–September), whatever the day."""

from __future__ import annotations

import datetime as dt

import pytest

from assess import thai
from assess.demo import calendar


@pytest.mark.parametrize(
    ("today", "published", "open_"),
    [
        # 21 Nov 2026 is in fiscal year 2570: the open round opens on 1 Oct at the earliest.
        ("2026-11-21", 2569, 2570),
        ("2026-10-02", 2569, 2570),
        ("2026-09-28", 2568, 2569),
        ("2026-03-01", 2568, 2569),
    ],
)
def test_the_demo_rounds_lie_in_their_fiscal_years(today, published, open_):
    when = calendar(dt.date.fromisoformat(today))
    assert (when.published_year, when.open_year) == (published, open_)
    for year, (first, last) in ((published, when.published), (open_, when.open)):
        assert thai.fiscal_year(first) == thai.fiscal_year(last) == year
        assert first < last
    assert when.open[0] <= dt.date.fromisoformat(today) <= when.open[1]
