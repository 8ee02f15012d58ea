"""The disputes page at national scale: a page at a time, searchable, a constant number of
queries whatever the number of disputes, and a decision that leads to the next undecided
dispute of the same filtered list."""

from __future__ import annotations

import re
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import event, select

from assess.extensions import db
from assess.models import Dispute, VerifiedAnswer
from assess.review.routes import PER_PAGE
from assess.services import rounds
from assess.services.questionnaires import questionnaire_of
from tests.conftest import fill

#: The disputed questions, as many per agency as a test asks for.
CODES_PER_AGENCY = 10


@pytest.fixture
def disputed(world):  # type: ignore[no-untyped-def]
    """Six agencies whose accepted responses are in a round of preliminary results, and a
    way to dispute ``n`` questions of each (directly in the table: the page is under test,
    not the coordinator's form)."""
    version = world.questionnaire()
    names = ["เทศบาลตำบลโคกไผ่", "เทศบาลตำบลห้วยกลาง", "กรมทดสอบ", "กรมบัญชี", "จังหวัดหนึ่ง", "กรมสอง"]
    places = ["Phetchabun", "Nakhon Ratchasima", "Bangkok", "Bangkok", "Surin", "Bangkok"]
    agencies = [
        world.agency(f"AG-{i}", name_th=name, province=place)
        for i, (name, place) in enumerate(zip(names, places, strict=True))
    ]
    coordinators = [world.user(f"c{i}@example.go.th", agency=a) for i, a in enumerate(agencies)]
    reviewer = world.user("reviewer@example.go.th", role="reviewer")
    reviewer.language = "en"
    db.session.commit()
    round_ = world.round(version, agencies=agencies, status="open")
    found = [world.response(round_, a) for a in agencies]
    for response, coordinator in zip(found, coordinators, strict=True):
        fill(response, coordinator, 0.6)
    rounds.move(round_, "closed")
    rounds.move(round_, "preliminary")
    db.session.commit()
    questionnaire = questionnaire_of(version)
    codes = [q.code for q in questionnaire.iter_questions()][:CODES_PER_AGENCY]

    def dispute(agencies_: int, per_agency: int) -> list[Dispute]:
        made = [
            Dispute(
                response_id=response.id,
                question_code=code,
                explanation=f"Explanation {response.agency.code} {code}",
                raised_by_id=coordinator.id,
            )
            for response, coordinator in list(zip(found, coordinators, strict=True))[:agencies_]
            for code in codes[:per_agency]
        ]
        db.session.add_all(made)
        db.session.commit()
        return made

    return SimpleNamespace(
        round=round_, responses=found, codes=codes, reviewer=reviewer, dispute=dispute
    )


def page_of(client, url):  # type: ignore[no-untyped-def]
    reply = client.get(url)
    assert reply.status_code == 200, url
    return reply.get_data(as_text=True)


def shown(html: str) -> list[int]:
    """The ids of the disputes a page shows, in its order."""
    return [int(n) for n in re.findall(r'<section class="card[^"]*" id="dispute-(\d+)"', html)]


def ordered(disputes: list[Dispute]) -> list[int]:
    """Ids in the page's order: undecided first, then by agency code and question code."""
    return [
        d.id
        for d in sorted(
            disputes,
            key=lambda d: (d.status != "open", d.response.agency.code, d.question_code, d.id),
        )
    ]


def test_the_disputes_page_is_paged_like_the_monitor(client, auth, disputed):
    made = disputed.dispute(6, CODES_PER_AGENCY)  # 60 open disputes
    auth.login("reviewer@example.go.th")
    base = f"/central/rounds/{disputed.round.id}/disputes"
    first = page_of(client, f"{base}?status=open")
    assert shown(first) == ordered(made)[:PER_PAGE]
    assert first.count('name="decision" id="up-') == PER_PAGE  # a form for each shown, no more
    assert "1–50 of 60" in first
    # The pager and every decision form keep the filter and the page.
    assert f'href="{base}?page=2&amp;status=open"' in first
    second = page_of(client, f"{base}?status=open&page=2")
    assert shown(second) == ordered(made)[PER_PAGE:]
    assert "51–60 of 60" in second
    action = f'action="{base}/{ordered(made)[PER_PAGE]}?page=2&amp;status=open"'
    assert action in second
    # The status tabs keep the search; the search keeps the status.
    searched = page_of(client, f"{base}?status=open&q=AG-1")
    assert f'href="{base}?status=upheld&amp;q=AG-1"' in searched
    assert '<input type="hidden" name="status" value="open">' in searched


def test_the_disputes_page_searches_agency_and_question(client, auth, disputed):
    made = disputed.dispute(6, 3)
    auth.login("reviewer@example.go.th")
    base = f"/central/rounds/{disputed.round.id}/disputes"
    of = {r.agency.code: r.id for r in disputed.responses}

    def found(q: str) -> set[int]:
        return set(shown(page_of(client, f"{base}?q={q}")))

    def disputes_of(code: str, question: str | None = None) -> set[int]:
        return {
            d.id for d in made if d.response_id == of[code] and question in (None, d.question_code)
        }

    assert found("ag-2") == disputes_of("AG-2")  # the code, in any case
    # A name pasted from a PDF (ำ as "ํา"), with spaces around.
    assert found("  ตําบลห้วยกลาง ") == disputes_of("AG-1")
    # Words in any order: the province and the name; the question and the agency.
    assert found("เพชรบูรณ์ โคกไผ่") == disputes_of("AG-0")
    question = disputed.codes[1]
    assert found(f"{question} กรมบัญชี") == disputes_of("AG-3", question)
    assert found("nothing-like-this") == set()


def statements_of(client, url: str) -> int:  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        page_of(client, url)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(seen)


def test_the_disputes_page_queries_do_not_grow_with_the_disputes(client, auth, disputed):
    auth.login("reviewer@example.go.th")
    url = f"/central/rounds/{disputed.round.id}/disputes"

    def statements(agencies: int, per_agency: int) -> int:
        """The page's statements with these disputes: some decided (by whom is shown), one
        with a verified value beside the agency's answer."""
        for dispute in db.session.scalars(select(Dispute)):
            db.session.delete(dispute)
        db.session.commit()
        made = disputed.dispute(agencies, per_agency)
        for dispute in made[: len(made) // 2]:
            dispute.status, dispute.decided_by_id = "rejected", disputed.reviewer.id
            dispute.decision_note = "No."
        last = made[-1]
        if not any(v.question_code == last.question_code for v in last.response.verified):
            last.response.verified.append(
                VerifiedAnswer(
                    question_code=last.question_code,
                    value="a verified value",
                    reason="checked",
                    verified_by_id=disputed.reviewer.id,
                )
            )
        db.session.commit()
        return statements_of(client, url)

    few = statements(2, 1)
    assert statements(6, 4) == few  # three times the agencies, twelve times the disputes
    assert statements(6, CODES_PER_AGENCY) == few  # more than a page
    assert few <= 16


def location(reply) -> tuple[str, dict[str, list[str]], str]:  # type: ignore[no-untyped-def]
    assert reply.status_code == 302
    parts = urlsplit(reply.headers["Location"])
    return parts.path, parse_qs(parts.query), parts.fragment


def test_a_decision_leads_to_the_next_undecided_dispute_of_the_same_list(client, auth, disputed):
    made = disputed.dispute(6, CODES_PER_AGENCY)
    order = ordered(made)
    auth.login("reviewer@example.go.th")
    base = f"/central/rounds/{disputed.round.id}/disputes"
    decision = {"decision": "reject", "note": "Not shown by the evidence."}

    # The first of the second page of the undecided ones: the next one is where it was.
    path, query, anchor = location(
        client.post(f"{base}/{order[PER_PAGE]}?status=open&page=2", data=decision)
    )
    assert path == base
    assert query == {"status": ["open"], "page": ["2"]}
    assert anchor == f"dispute-{order[PER_PAGE + 1]}"
    html = page_of(client, f"{base}?status=open&page=2")
    assert shown(html)[0] == order[PER_PAGE + 1]

    # In the whole list, the decided one goes to the end; the next undecided one moves up.
    path, query, anchor = location(
        client.post(f"{base}/{order[PER_PAGE - 1]}?page=1", data=decision)
    )
    assert (query, anchor) == ({"page": ["1"]}, f"dispute-{order[PER_PAGE + 1]}")
    assert shown(page_of(client, f"{base}?page=1"))[-1] == order[PER_PAGE + 1]

    # A search is kept; after its last undecided dispute, its first one comes next.
    of_ag2 = {d.id for d in made if d.response_id == response_id(disputed, "AG-2")}
    mine = [i for i in order if i in of_ag2]
    searched = "status=open&q=AG-2&page=1"
    path, query, anchor = location(client.post(f"{base}/{mine[-1]}?{searched}", data=decision))
    assert query == {"status": ["open"], "q": ["AG-2"], "page": ["1"]}
    assert anchor == f"dispute-{mine[0]}"
    # None left in the list: the list again, without an anchor.
    for dispute_id in mine[:-2]:
        client.post(f"{base}/{dispute_id}?{searched}", data=decision)
    path, query, anchor = location(client.post(f"{base}/{mine[-2]}?{searched}", data=decision))
    assert (path, query, anchor) == (base, {"status": ["open"], "q": ["AG-2"], "page": ["1"]}, "")
    db.session.expire_all()
    assert {db.session.get(Dispute, i).status for i in mine} == {"rejected"}
    # The last undecided one of a list that keeps the decided ones: at its decision.
    of_ag3 = {d.id for d in made if d.response_id == response_id(disputed, "AG-3")}
    theirs = [i for i in order if i in of_ag3]
    for dispute_id in theirs[:-1]:
        client.post(f"{base}/{dispute_id}?q=AG-3", data=decision)
    _path, query, anchor = location(client.post(f"{base}/{theirs[-1]}?q=AG-3", data=decision))
    assert (query, anchor) == ({"q": ["AG-3"], "page": ["1"]}, f"dispute-{theirs[-1]}")


def response_id(disputed, code: str) -> int:  # type: ignore[no-untyped-def]
    return next(r.id for r in disputed.responses if r.agency.code == code)
