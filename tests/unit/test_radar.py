"""The results page's radar (``charts.radar``): one closed line per series, the agency's
filled, a series without values left out, the first dimension on top."""

from __future__ import annotations

import json

from assess.reports.charts import radar, to_json


def test_one_closed_line_per_series_the_agency_filled():
    labels = ["Service", "Data", "Security"]
    spec = json.loads(
        to_json(
            radar(
                labels,
                [
                    ("Agency", [60.0, 70.5, None], "#1f3a5f", "solid"),
                    ("Peer median", [], "#6c757d", "dash"),  # no peers: left out
                    ("Best in the peer group", [90.0, 95.0, 80.0], "#2e8540", "dot"),
                ],
            )
        )
    )
    agency, best = spec["data"]
    assert [t["name"] for t in spec["data"]] == ["Agency", "Best in the peer group"]
    assert agency["type"] == best["type"] == "scatterpolar"
    assert agency["r"] == [60.0, 70.5, None, 60.0]  # closed: back to the first
    assert agency["theta"] == [*labels, labels[0]]
    assert agency["fill"] == "toself"
    assert "fill" not in best
    assert best["line"] == {"color": "#2e8540", "width": 2, "dash": "dot"}
    polar = spec["layout"]["polar"]
    assert polar["radialaxis"]["range"] == [0, 100]
    assert polar["angularaxis"]["rotation"] == 90
    assert polar["angularaxis"]["direction"] == "clockwise"
    # Plotly's "none" template: none of its colours or kilobytes of defaults.
    assert spec["layout"]["template"] == {"data": {"scatter": [{"type": "scatter"}]}}
