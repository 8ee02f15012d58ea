"""The activity log and a response's audit trail show a recorded dict as labelled lines
("Deadline (last day): 28 Feb 2027"), not as JSON; a list as its items; text escaped."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale

from assess import thai
from assess.extensions import db
from assess.review.routes import AUDIT_KEYS
from assess.services import audit, rounds


@pytest.fixture
def reviewer(client, auth, world):  # type: ignore[no-untyped-def]
    """A test client signed in as a reviewer who reads English pages (and the reviewer)."""
    user = world.user("r@example.go.th", role="reviewer")
    user.language = "en"
    db.session.commit()
    auth.login("r@example.go.th")
    return user


def _cells(html: str) -> list[str]:
    """The Old and New cells of the log's rows, newest first."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<td class="json-cell">(.*?)</td>', body, re.DOTALL)


def _pairs(cell: str) -> list[tuple[str, str]]:
    """The (label, value) lines of a cell's list."""
    return re.findall(r"<dt[^>]*>(.*?):</dt> <dd[^>]*>(.*?)</dd>", cell)


def test_round_settings_read_as_labelled_lines(client, reviewer, world):
    round_ = world.round(agencies=[world.agency("AG-1")], closes_on=None)
    day = thai.today()
    rounds.update_settings(round_, opens_on=None, closes_on=day, live_preview=True)
    db.session.commit()
    html = client.get("/central/activity?action=round.settings").get_data(as_text=True)
    old, new = _cells(html)[:2]
    assert _pairs(old) == [
        ("Deadline (last day)", "–"),
        ("Show coordinators a live score preview", "No"),
    ]
    assert _pairs(new) == [
        ("Deadline (last day)", thai.format_date(day, "en")),  # "28 Feb 2027"
        ("Show coordinators a live score preview", "Yes"),
    ]
    assert '{"closes_on"' not in html
    assert "&#34;closes_on&#34;" not in html


def test_known_values_are_named_lists_joined_and_unknown_keys_kept(client, reviewer, world):
    ministry = world.agency("MIN-1", type="ministry")
    round_ = world.round(agencies=[ministry])
    audit.record(
        "agency.update",
        reviewer,
        round=round_,
        old={"type": "ministry", "province": "Chiang Mai", "tags": ["big", "north"]},
        new={"type": "department", "province": "Nan", "tags": [], "extra": {"a": 1}},
    )
    audit.record("round.preliminary", reviewer, round=round_, old="closed", new={
        "status": "preliminary", "disputes_close_on": "2027-01-15", "note": "<b>บันทึก</b>",
    })  # fmt: skip
    audit.record("dispute.uphold", reviewer, round=round_, old="open", new="upheld")
    db.session.commit()
    cells = _cells(client.get("/central/activity").get_data(as_text=True))
    # Newest first: the dispute, the preliminary results, the agency.
    assert '<span title="open">Awaiting decision</span>' in cells[0]
    assert '<span title="upheld">Upheld</span>' in cells[1]
    assert '<span title="closed">Closed</span>' in cells[2]
    assert _pairs(cells[3]) == [
        ("Status", "Preliminary results"),
        ("Disputes accepted until (last day)", "15 Jan 2027"),
        ("Note", "&lt;b&gt;บันทึก&lt;/b&gt;"),  # escaped
    ]
    assert _pairs(cells[4]) == [
        ("Type", "Ministry"),
        ("Province", "Chiang Mai"),
        ("Tags", "big, north"),
    ]
    assert _pairs(cells[5]) == [
        ("Type", "Department"),
        ("Province", "Nan"),
        ("Tags", "–"),
        ("extra", "{&#34;a&#34;: 1}"),  # a key without a label, as recorded
    ]


def test_thai_pages_name_keys_and_days_in_thai(app, client, reviewer, world):
    round_ = world.round(agencies=[world.agency("AG-1")])
    audit.record("round.settings", reviewer, round=round_, old={"closes_on": "2027-02-28"})
    reviewer.language = "th"
    db.session.commit()
    cells = _cells(client.get("/central/activity?action=round.settings").get_data(as_text=True))
    with app.test_request_context(), force_locale("th"):
        label = str(AUDIT_KEYS["closes_on"])  # the form's label, "Deadline (last day)"
    assert label != "Deadline (last day)"  # the catalogue has it in Thai
    assert _pairs(cells[0]) == [(label, "28 ก.พ. 2570")]


def test_scalars_and_the_csv_stay_as_recorded(client, reviewer, world):
    round_ = world.round(agencies=[world.agency("AG-1")])
    audit.record("round.settings", reviewer, round=round_, old=[1, "a"], new=12.5)
    audit.record("round.settings", reviewer, round=round_, old={}, new={"flag_change": 15})
    db.session.commit()
    cells = _cells(client.get("/central/activity?action=round.settings").get_data(as_text=True))
    assert cells[0] == '<code class="text-body">{}</code>'
    assert _pairs(cells[1]) == [("Flag a change from last year larger than (points)", "15")]
    assert cells[2] == '<code class="text-body">1, a</code>'
    assert cells[3] == '<code class="text-body">12.5</code>'
    csv = client.get("/central/activity?format=csv&action=round.settings").get_data(as_text=True)
    assert '"{""flag_change"": 15}"' in csv
