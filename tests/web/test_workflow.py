"""Services on a real database: the workflow, revisions, the deadline, imports, the audit trail."""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest
import sqlalchemy as sa

from assess.extensions import db
from assess.models import Answer, AuditEvent, Response
from assess.services import evidence, interchange, responses, results, rounds
from assess.services.errors import (
    InvalidAnswers,
    ServiceError,
    StaleRevision,
    WrongState,
)
from assess.services.questionnaires import questionnaire_of
from assess.synthetic import agency_answers
from tests.unit.builders import LEVELS


@pytest.fixture
def setup(world):
    agency = world.agency("AG-1")
    other = world.agency("AG-2")
    coordinator = world.user("c@example.go.th", agency=agency)
    reviewer = world.user("r@example.go.th", role="reviewer")
    round_ = world.round(agencies=[agency, other])
    response = world.response(round_, agency)
    return round_, response, coordinator, reviewer


def complete(response, coordinator, maturity=0.7):
    """Answer everything and attach every required evidence; returns the self score."""
    questionnaire = questionnaire_of(response.questionnaire)
    answers = agency_answers(questionnaire, maturity, random.Random(7), 1.0)
    raw = {code: responses.stored(value) for code, value in answers.items()}
    responses.save_answers(response, raw, revision=response.revision, actor=coordinator)
    result = results.score(response)
    while result.missing:
        # Questions that became visible through the answers: answer them too.
        extra = agency_answers(questionnaire, maturity, random.Random(len(result.missing)), 1.0)
        responses.save_answers(
            response,
            {c: responses.stored(extra[c]) for c in result.missing if c in extra},
            revision=response.revision,
            actor=coordinator,
        )
        result = results.score(response)
    for code in result.missing_evidence:
        evidence.add_url(response, coordinator, code, f"https://evidence.example.go.th/{code}")
    db.session.commit()
    return results.score(response)


def test_first_save_starts_the_response_and_bumps_the_revision(setup):
    round_, response, coordinator, _ = setup
    assert response.status == "not_started"
    assert response.revision == 0
    responses.save_answers(response, {"mgmt.leadership": 3}, revision=0, actor=coordinator)
    db.session.commit()
    assert response.status == "draft"
    assert response.revision == 1
    assert responses.current_json(response) == {"mgmt.leadership": 3}


def test_stale_revision_is_refused_and_nothing_is_saved(setup):
    _, response, coordinator, _ = setup
    responses.save_answers(response, {"mgmt.leadership": 3}, revision=0, actor=coordinator)
    db.session.commit()
    # A second tab still at revision 0 tries to save another value.
    with pytest.raises(StaleRevision) as caught:
        responses.save_answers(response, {"mgmt.leadership": 1}, revision=0, actor=coordinator)
    db.session.rollback()
    assert caught.value.current == 1
    assert caught.value.answers == {"mgmt.leadership": 3}
    db.session.expire_all()
    assert responses.current_json(response) == {"mgmt.leadership": 3}


def test_invalid_values_refuse_the_whole_save(setup):
    _, response, coordinator, _ = setup
    with pytest.raises(InvalidAnswers) as caught:
        responses.save_answers(
            response,
            {"mgmt.leadership": 3, "mgmt.process_digital": "lots", "nope": 1},
            revision=0,
            actor=coordinator,
        )
    db.session.rollback()
    assert set(caught.value.by_question) == {"mgmt.process_digital", "nope"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Answer)) == 0


def test_null_clears_an_answer(setup):
    _, response, coordinator, _ = setup
    responses.save_answers(response, {"mgmt.leadership": 3}, revision=0, actor=coordinator)
    responses.save_answers(response, {"mgmt.leadership": None}, revision=1, actor=coordinator)
    db.session.commit()
    assert responses.current_json(response) == {}


def test_another_agencys_coordinator_cannot_save(setup, world):
    round_, response, _, _ = setup
    outsider = world.user("x@example.go.th", agency=world.agency("AG-3"))
    with pytest.raises(ServiceError) as caught:
        responses.save_answers(response, {"mgmt.leadership": 3}, revision=0, actor=outsider)
    assert caught.value.status == 404


def test_deadline_is_enforced_by_the_server(setup):
    round_, response, coordinator, _ = setup
    round_.closes_on = dt.date.today() - dt.timedelta(days=2)
    db.session.commit()
    assert not rounds.accepting_answers(round_)
    with pytest.raises(WrongState, match="deadline"):
        responses.save_answers(response, {"mgmt.leadership": 3}, revision=0, actor=coordinator)


def test_deadline_is_the_end_of_the_closing_day_in_bangkok(setup):
    round_, _, _, _ = setup
    round_.closes_on = dt.date(2026, 1, 31)
    bangkok = dt.timezone(dt.timedelta(hours=7))
    assert rounds.accepting_answers(round_, dt.datetime(2026, 1, 31, 23, 59, tzinfo=bangkok))
    assert not rounds.accepting_answers(round_, dt.datetime(2026, 2, 1, 0, 0, tzinfo=bangkok))


def test_closed_round_refuses_answers(setup):
    round_, response, coordinator, _ = setup
    rounds.move(round_, "closed")
    db.session.commit()
    with pytest.raises(WrongState, match="closed"):
        responses.save_answers(response, {"mgmt.leadership": 3}, revision=0, actor=coordinator)


def test_round_transitions(world):
    round_ = world.round(status="draft", agencies=[world.agency("AG-1")])
    with pytest.raises(WrongState):
        rounds.move(round_, "published")
    with pytest.raises(WrongState):
        rounds.move(round_, "closed")
    rounds.move(round_, "open")
    with pytest.raises(WrongState):
        rounds.move(round_, "open")
    rounds.move(round_, "closed")
    rounds.move(round_, "open")  # reopening a closed round is allowed (and audited)
    rounds.move(round_, "closed")
    rounds.move(round_, "published")
    with pytest.raises(WrongState):
        rounds.move(round_, "open")
    db.session.commit()
    actions = db.session.scalars(
        sa.select(AuditEvent.action).filter_by(round_id=round_.id).order_by(AuditEvent.id)
    ).all()
    assert actions == [
        "round.create",
        "round.open",
        "round.closed",
        "round.open",
        "round.closed",
        "round.published",
    ]


def test_full_response_workflow(setup):
    round_, response, coordinator, reviewer = setup
    with pytest.raises(responses.Incomplete) as caught:
        responses.submit(response, coordinator)
    assert caught.value.details["missing"]
    complete(response, coordinator)
    responses.submit(response, coordinator)
    db.session.commit()
    assert response.status == "submitted"
    # Submitted: the coordinator can no longer change answers.
    with pytest.raises(WrongState):
        responses.save_answers(
            response, {"mgmt.leadership": 1}, revision=response.revision, actor=coordinator
        )
    db.session.rollback()
    with pytest.raises(ServiceError, match="comment"):
        responses.review(response, reviewer, "return")
    responses.review(
        response, reviewer, "return", "", {"mgmt.leadership": "Attach the approved plan."}
    )
    db.session.commit()
    assert response.status == "returned"
    assert [(c.question_code, c.body) for c in responses.latest_comments(response)] == [
        ("mgmt.leadership", "Attach the approved plan.")
    ]
    responses.save_answers(
        response, {"mgmt.leadership": 2}, revision=response.revision, actor=coordinator
    )
    responses.submit(response, coordinator)
    with pytest.raises(WrongState):
        responses.submit(response, coordinator)
    responses.review(response, reviewer, "accept")
    db.session.commit()
    assert response.status == "accepted"
    with pytest.raises(WrongState):
        responses.review(response, reviewer, "accept")
    # A coordinator cannot review.
    with pytest.raises(ServiceError) as caught:
        responses.review(response, coordinator, "return", "no")
    assert caught.value.status == 403


def test_verified_value_changes_the_verified_score_only(setup):
    _, response, coordinator, reviewer = setup
    complete(response, coordinator, maturity=0.9)
    responses.submit(response, coordinator)
    before = results.result_of(response, "self").dimensions["mgmt"]["score"]
    with pytest.raises(InvalidAnswers):
        responses.verify(response, reviewer, "mgmt.leadership", 1, "")
    responses.verify(response, reviewer, "mgmt.leadership", 1, "The plan was not approved.")
    db.session.commit()
    own = results.result_of(response, "self")
    checked = results.result_of(response, "verified")
    assert own.dimensions["mgmt"]["score"] == before
    assert checked.dimensions["mgmt"]["score"] != before
    assert float(checked.dimensions["mgmt"]["score"]) < float(before)
    records = {r["agency"]: r for r in results.score_records(response.round, verified=True)}
    assert records["AG-1"]["dimensions"]["mgmt"]["score"] == float(
        checked.dimensions["mgmt"]["score"]
    )


def test_audit_trail_records_old_and_new(setup):
    _, response, coordinator, _ = setup
    responses.save_answers(response, {"mgmt.leadership": 3}, revision=0, actor=coordinator)
    responses.save_answers(response, {"mgmt.leadership": 4}, revision=1, actor=coordinator)
    db.session.commit()
    events = db.session.scalars(
        sa.select(AuditEvent)
        .filter_by(response_id=response.id, action="answer")
        .order_by(AuditEvent.id)
    ).all()
    assert [(e.question_code, e.old, e.new, e.actor_label) for e in events] == [
        ("mgmt.leadership", None, 3, "c@example.go.th"),
        ("mgmt.leadership", 3, 4, "c@example.go.th"),
    ]


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_event SET action = 'x'", "DELETE FROM audit_event"]
)
def test_the_database_refuses_to_rewrite_the_audit_trail(setup, statement):
    _, response, coordinator, _ = setup
    responses.save_answers(response, {"mgmt.leadership": 3}, revision=0, actor=coordinator)
    db.session.commit()
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.session.execute(sa.text(statement))
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) > 0


def _round_file(tmp_path, rows):
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    return path.read_bytes()


def test_round_import_refuses_a_record_without_answers(setup, tmp_path):
    """Each record replaces the agency's answers: a record that forgot its "answers" key
    would clear them all. Refused; an explicit {} still clears them."""
    round_, response, _, _ = setup
    interchange.import_round(
        round_,
        _round_file(tmp_path, [{"agency": "AG-1", "answers": {"mgmt.leadership": 3}}]),
        "a.json",
    )
    db.session.commit()
    with pytest.raises(ServiceError) as caught:
        interchange.import_round(
            round_, _round_file(tmp_path, [{"agency": "AG-1"}]), "answers.json"
        )
    db.session.rollback()
    assert caught.value.problems == [
        "answers.json: agency AG-1: 'answers' is missing (give {} to clear the agency's answers)"
    ]
    assert responses.current_json(response) == {"mgmt.leadership": 3}
    interchange.import_round(
        round_, _round_file(tmp_path, [{"agency": "AG-1", "answers": {}}]), "a.json"
    )
    db.session.commit()
    assert responses.current_json(response) == {}


def test_round_import_status_option_and_file_status_must_agree(setup, tmp_path):
    round_, response, _, _ = setup
    rows = [{"agency": "AG-1", "status": "draft", "answers": {"mgmt.leadership": 3}}]
    with pytest.raises(ServiceError) as caught:
        interchange.import_round(
            round_, _round_file(tmp_path, rows), "answers.json", status="submitted"
        )
    db.session.rollback()
    assert caught.value.problems == [
        "answers.json: agency AG-1: the file gives status 'draft' but --status gives "
        "'submitted'; leave out one of them"
    ]
    # The same status, or none in the file: --status; no --status: the file's, else draft.
    interchange.import_round(round_, _round_file(tmp_path, rows), "answers.json", status="draft")
    assert response.status == "draft"
    rows[0]["status"] = "returned"
    interchange.import_round(round_, _round_file(tmp_path, rows), "answers.json")
    assert response.status == "returned"
    del rows[0]["status"]
    interchange.import_round(round_, _round_file(tmp_path, rows), "answers.json")
    assert response.status == "draft"
    db.session.rollback()


def test_round_import_is_all_or_nothing(setup, tmp_path):
    round_, response, _, _ = setup
    data = _round_file(
        tmp_path,
        [
            {"agency": "AG-1", "answers": {"mgmt.leadership": 3}},
            {"agency": "AG-2", "answers": {"mgmt.leadership": 99}},
        ],
    )
    with pytest.raises(ServiceError) as caught:
        interchange.import_round(round_, data, "answers.json")
    db.session.rollback()
    assert caught.value.problems == [
        "answers.json: agency AG-2: question mgmt.leadership: 99 is not an option (options: 0, 1, 2, 3, 4)"
    ]
    data = _round_file(
        tmp_path,
        [{"agency": "AG-1", "answers": {"mgmt.leadership": 3}}, {"agency": "AG-9", "answers": {}}],
    )
    with pytest.raises(ServiceError, match="agency AG-9: not invited"):
        interchange.import_round(round_, data, "answers.json")
    db.session.rollback()
    # Bad values and agencies not invited are told in one pass, not one after the other.
    data = _round_file(
        tmp_path,
        [{"agency": "AG-1", "answers": {"mgmt.leadership": 99}}, {"agency": "AG-9", "answers": {}}],
    )
    with pytest.raises(ServiceError) as caught:
        interchange.import_round(round_, data, "answers.json")
    db.session.rollback()
    assert caught.value.problems == [
        "answers.json: agency AG-1: question mgmt.leadership: 99 is not an option (options: 0, 1, 2, 3, 4)",
        f"answers.json: agency AG-9: not invited to round {round_.id}",
    ]
    csv_data = b"agency,mgmt.leadership\nAG-1,99\nAG-9,1\n"
    with pytest.raises(ServiceError) as caught:
        interchange.import_round(round_, csv_data, "answers.csv")
    db.session.rollback()
    assert [p.partition(": agency ")[2][:4] for p in caught.value.problems] == ["AG-1", "AG-9"]
    assert (
        caught.value.problems[1] == f"answers.csv:3: agency AG-9: not invited to round {round_.id}"
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Answer)) == 0


def test_round_import_tells_the_first_50_problems_and_counts_the_rest(setup, tmp_path):
    """A whole round's file may hold thousands of rows (no cap on them); its problems are
    told up to 50, then counted in one line."""
    round_, _, _, _ = setup
    rows = [{"agency": "AG-1", "answers": {"mgmt.leadership": 99}}]
    rows += [{"agency": f"X-{i}", "answers": {}} for i in range(120)]
    with pytest.raises(ServiceError) as caught:
        interchange.import_round(round_, _round_file(tmp_path, rows), "answers.json")
    db.session.rollback()
    problems = caught.value.problems
    assert len(problems) == 51
    assert problems[0].startswith("answers.json: agency AG-1: question mgmt.leadership: 99")
    assert problems[1] == f"answers.json: agency X-0: not invited to round {round_.id}"
    assert problems[-1] == "… and 71 more problems"
    # The file read, its agencies all invited: the problems of the round, capped too.
    csv_data = "agency,mgmt.leadership\n" + "AG-1,1\n" + "".join(f"X-{i},1\n" for i in range(60))
    with pytest.raises(ServiceError) as caught:
        interchange.import_round(round_, csv_data.encode(), "answers.csv")
    db.session.rollback()
    assert len(caught.value.problems) == 51
    assert caught.value.problems[-1] == "… and 10 more problems"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Answer)) == 0


def test_round_import_and_export_round_trip(setup, tmp_path):
    round_, response, _, _ = setup
    text = next(
        q.code
        for q in questionnaire_of(round_.questionnaire).iter_questions()
        if q.type.value == "text" and q.show_if is None
    )
    # A text answer that a spreadsheet would take for a formula comes back as it was.
    answers = {"mgmt.leadership": 3, "mgmt.awards": True, text: '=HYPERLINK("http://x")'}
    data = _round_file(tmp_path, [{"agency": "AG-1", "answers": answers}])
    assert interchange.import_round(round_, data, "answers.json") == 1
    db.session.commit()
    exported = json.loads(interchange.export_round(round_, "json"))
    assert exported == [{"agency": "AG-1", "status": "draft", "answers": answers}]
    for fmt in ("csv", "xlsx"):
        again = interchange.export_round(round_, fmt)
        interchange.import_round(round_, again, f"answers.{fmt}")
        db.session.commit()
        assert json.loads(interchange.export_round(round_, "json")) == exported


def test_submitted_import_must_be_complete(setup, tmp_path):
    round_, _, _, _ = setup
    data = _round_file(tmp_path, [{"agency": "AG-1", "answers": {"mgmt.leadership": 3}}])
    with pytest.raises(ServiceError, match="unanswered"):
        interchange.import_round(round_, data, "answers.json", status="submitted")
    # Every problem in the order of the file, whichever check found it.
    data = _round_file(
        tmp_path,
        [
            {"agency": "AG-1", "status": "accepted", "answers": {"mgmt.leadership": 3}},
            {"agency": "AG-2", "status": "not_started", "answers": {}},
        ],
    )
    with pytest.raises(ServiceError) as caught:
        interchange.import_round(round_, data, "answers.json")
    first, second = caught.value.problems
    assert first.startswith("answers.json: agency AG-1: cannot be accepted with unanswered ")
    assert "(mgmt.strategy, " in first
    assert second == (
        "answers.json: agency AG-2: status 'not_started' is not one of draft, submitted, "
        "returned, accepted"
    )


#: A questionnaire whose answers need evidence: ``a`` (N/A allowed) and ``b``, shown when
#: ``a`` is yes; ``c`` needs none.
EVIDENCE_QUESTIONNAIRE = {
    "schema": "assess/questionnaire@1",
    "code": "evidence-test",
    "version": "1",
    "title": "Evidence",
    "levels": LEVELS,
    "dimensions": [
        {
            "code": "d",
            "title": "d",
            "questions": [
                {"code": "a", "type": "yesno", "text": "a", "allow_na": True,
                 "evidence": "required"},
                {"code": "b", "type": "yesno", "text": "b", "evidence": "required",
                 "show_if": "a == yes"},
                {"code": "c", "type": "yesno", "text": "c"},
            ],
        }
    ],
}  # fmt: skip


@pytest.fixture
def evidence_round(world, tmp_path):
    """A round of EVIDENCE_QUESTIONNAIRE open for agencies A01 and A02; returns the round,
    the two responses and a coordinator of each."""
    path = tmp_path / "evidence-test.json"
    path.write_text(json.dumps(EVIDENCE_QUESTIONNAIRE), encoding="utf-8")
    version = world.questionnaire(path)
    first, second = world.agency("A01"), world.agency("A02")
    round_ = world.round(version, agencies=[first, second])
    return (
        round_,
        world.response(round_, first),
        world.response(round_, second),
        world.user("a01@example.go.th", agency=first),
        world.user("a02@example.go.th", agency=second),
    )


def attach(response, coordinator, *codes):
    """Attach a link as evidence to each question of ``codes``, as a coordinator does."""
    for code in codes:
        evidence.add_url(response, coordinator, code, f"https://evidence.example.go.th/{code}")
    db.session.commit()


@pytest.mark.parametrize("by_round", [False, True])
def test_an_accepted_import_needs_the_required_evidence_already_stored(
    evidence_round, tmp_path, monkeypatch, by_round
):
    """The file carries no evidence: an agency it accepts must have its required evidence
    stored, as a submission on the web must (scoring.md §5). One refusal refuses the
    whole file."""
    round_, first, second, first_coordinator, second_coordinator = evidence_round
    if by_round:  # as a national import does: the round's evidence read, not by ids
        monkeypatch.setattr(interchange, "EVIDENCE_BY_ID", 1)
    attach(first, first_coordinator, "a")
    rows = [
        {"agency": "A01", "answers": {"a": False, "c": True}},
        {"agency": "A02", "answers": {"a": False, "c": True}},
    ]
    with pytest.raises(ServiceError) as caught:
        interchange.import_round(
            round_, _round_file(tmp_path, rows), "answers.json", status="accepted"
        )
    db.session.rollback()
    assert caught.value.problems == [
        "answers.json: agency A02: cannot be accepted without the required evidence (a)"
    ]
    db.session.expire_all()
    assert (first.status, responses.current_json(first)) == ("draft", {})
    assert (second.status, responses.current_json(second)) == ("not_started", {})
    # Its evidence attached on the web, the agency imports as accepted.
    attach(second, second_coordinator, "a")
    assert (
        interchange.import_round(
            round_, _round_file(tmp_path, rows), "answers.json", status="accepted"
        )
        == 2
    )
    db.session.commit()
    assert [first.status, second.status] == ["accepted", "accepted"]


def test_an_import_tells_unanswered_questions_and_missing_evidence_at_once(
    evidence_round, tmp_path
):
    """Both problems of an agency in one pass, in the order of the file, whichever status
    (--status or the file's own) asks for a complete response."""
    round_, *_ = evidence_round
    rows = [
        {"agency": "A01", "status": "submitted", "answers": {"a": True, "b": False}},
        {"agency": "A02", "status": "accepted", "answers": {"c": True}},
    ]
    with pytest.raises(ServiceError) as caught:
        interchange.import_round(round_, _round_file(tmp_path, rows), "answers.json")
    db.session.rollback()
    assert caught.value.problems == [
        "answers.json: agency A01: cannot be submitted with unanswered questions (c)",
        "answers.json: agency A01: cannot be submitted without the required evidence (a, b)",
        "answers.json: agency A02: cannot be accepted with unanswered questions (a)",
    ]
    csv_data = b"agency,a,b,c\nA01,yes,no,yes\n"
    with pytest.raises(ServiceError) as caught:
        interchange.import_round(round_, csv_data, "answers.csv", status="submitted")
    db.session.rollback()
    assert caught.value.problems == [
        "answers.csv:2: agency A01: cannot be submitted without the required evidence (a, b)"
    ]


def test_evidence_is_required_only_on_a_shown_answered_applicable_question(
    evidence_round, tmp_path
):
    """As on the web: a question hidden by its show_if, or answered N/A, needs no evidence;
    a draft needs none at all."""
    round_, first, second, first_coordinator, _ = evidence_round
    attach(first, first_coordinator, "a")
    rows = [
        # b is answered, but hidden (a is no): no evidence for it.
        {"agency": "A01", "answers": {"a": False, "b": True, "c": True}},
        # a is not applicable, which hides b too: no evidence at all.
        {"agency": "A02", "answers": {"a": {"na": True}, "c": False}},
    ]
    interchange.import_round(round_, _round_file(tmp_path, rows), "answers.json", status="accepted")
    db.session.commit()
    assert [first.status, second.status] == ["accepted", "accepted"]
    # Once b is shown (a is yes), its answer needs its evidence.
    rows = [{"agency": "A01", "answers": {"a": True, "b": True, "c": True}}]
    with pytest.raises(ServiceError) as caught:
        interchange.import_round(
            round_, _round_file(tmp_path, rows), "answers.json", status="accepted"
        )
    db.session.rollback()
    assert caught.value.problems == [
        "answers.json: agency A01: cannot be accepted without the required evidence (b)"
    ]
    # A draft is not complete yet: nothing is checked.
    rows = [{"agency": "A02", "answers": {"a": True, "b": True}}]
    interchange.import_round(round_, _round_file(tmp_path, rows), "answers.json", status="draft")
    db.session.commit()
    assert (second.status, responses.current_json(second)) == ("draft", {"a": True, "b": True})


def test_an_import_without_the_evidence_check_accepts_and_says_so(evidence_round, tmp_path):
    """A historical round's evidence was never in the system: the central office may leave
    it out of the check, and the audit trail records that it did."""
    round_, _, second, _, _ = evidence_round
    rows = [{"agency": "A02", "answers": {"a": True, "b": False, "c": True}}]
    data = _round_file(tmp_path, rows)
    with pytest.raises(ServiceError, match="without the required evidence"):
        interchange.import_round(round_, data, "answers.json", status="accepted")
    db.session.rollback()
    assert (
        interchange.import_round(
            round_, data, "answers.json", status="accepted", check_evidence=False
        )
        == 1
    )
    db.session.commit()
    assert second.status == "accepted"
    events = db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.response_id == second.id)
        .where(AuditEvent.action.in_(["answers.import", "status"]))
        .order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.detail) for e in events] == [
        ("answers.import", "answers.json (--no-evidence-check)"),
        ("status", "import answers.json (--no-evidence-check)"),
    ]
    # Unanswered questions are still refused.
    rows = [{"agency": "A02", "answers": {"a": True}}]
    with pytest.raises(ServiceError) as caught:
        interchange.import_round(
            round_, _round_file(tmp_path, rows), "answers.json", check_evidence=False,
            status="submitted",
        )  # fmt: skip
    db.session.rollback()
    assert caught.value.problems == [
        "answers.json: agency A02: cannot be submitted with unanswered questions (b, c)"
    ]


def test_response_is_pinned_to_its_version(setup, world):
    round_, response, _, _ = setup
    assert response.questionnaire_id == round_.questionnaire_id
    assert db.session.get(Response, response.id).questionnaire.key == "dg-readiness@2569"


def test_no_verified_values_once_published(setup):
    round_, response, coordinator, reviewer = setup
    complete(response, coordinator)
    responses.submit(response, coordinator)
    responses.review(response, reviewer, "accept")
    for target in ("closed", "published"):
        rounds.move(round_, target)
    db.session.commit()
    with pytest.raises(WrongState, match="published"):
        responses.verify(response, reviewer, "mgmt.leadership", 0, "late change")


def test_no_imports_into_a_published_round(setup, tmp_path):
    round_, _, _, _ = setup
    for target in ("closed", "published"):
        rounds.move(round_, target)
    db.session.commit()
    data = _round_file(tmp_path, [{"agency": "AG-1", "answers": {"mgmt.leadership": 3}}])
    with pytest.raises(WrongState, match="published"):
        interchange.import_round(round_, data, "answers.json")


def test_an_export_with_returned_responses_imports_back(setup, tmp_path):
    round_, response, coordinator, reviewer = setup
    complete(response, coordinator)
    responses.submit(response, coordinator)
    responses.review(response, reviewer, "return", "Please check.")
    db.session.commit()
    exported = interchange.export_round(round_, "csv")
    assert ",returned," in exported.decode("utf-8")
    interchange.import_round(round_, exported, "answers.csv")
    db.session.commit()
    assert response.status == "returned"


def test_a_returned_response_its_coordinator_changed_imports_back(setup):
    round_, response, coordinator, reviewer = setup
    complete(response, coordinator)
    responses.submit(response, coordinator)
    responses.review(response, reviewer, "return", "Please check.")
    db.session.commit()
    # Returned for changes: the coordinator clears an answer, to give it again later.
    code = next(
        q.code
        for q in questionnaire_of(round_.questionnaire).iter_questions()
        if q.required and q.show_if is None
    )
    responses.save_answers(response, {code: None}, revision=response.revision, actor=coordinator)
    db.session.commit()
    assert results.score(response).missing == (code,)
    exported = interchange.export_round(round_, "csv")
    assert interchange.import_round(round_, exported, "answers.csv") == 1
    db.session.commit()
    assert response.status == "returned"
    assert code not in responses.current_json(response)


def test_round_import_moves_revisions_and_keeps_the_audit_trail(setup, tmp_path):
    round_, response, coordinator, reviewer = setup
    responses.save_answers(
        response, {"mgmt.leadership": 3, "mgmt.strategy": 2}, revision=0, actor=coordinator
    )
    db.session.commit()
    data = _round_file(
        tmp_path,
        [
            {"agency": "AG-1", "answers": {"mgmt.leadership": 1}},
            {"agency": "AG-2", "answers": {"mgmt.leadership": 4, "mgmt.strategy": 0}},
        ],
    )
    assert interchange.import_round(round_, data, "answers.json", actor=reviewer) == 2
    db.session.commit()
    assert response.revision == 2
    assert response.status == "draft"
    assert responses.current_json(response) == {"mgmt.leadership": 1}
    other = db.session.scalars(sa.select(Response).filter(Response.id != response.id)).one()
    assert (other.status, other.revision) == ("draft", 1)
    assert responses.current_json(other) == {"mgmt.leadership": 4, "mgmt.strategy": 0}
    events = db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.action.in_(["answers.import", "status"]))
        .where(AuditEvent.detail.contains("answers.json"))
        .order_by(AuditEvent.id)
    ).all()
    seen = {
        (e.response_id, e.action, json.dumps(e.old), json.dumps(e.new), e.detail, e.actor_label)
        for e in events
    }
    assert seen == {
        (response.id, "answers.import", '{"answers": 2}', '{"answers": 1}', "answers.json",
         "r@example.go.th"),
        (other.id, "answers.import", '{"answers": 0}', '{"answers": 2}', "answers.json",
         "r@example.go.th"),
        (other.id, "status", '"not_started"', '"draft"', "import answers.json", "r@example.go.th"),
    }  # fmt: skip
    assert all(e.round_id == round_.id for e in events)
    # A page still at the revision before the import is refused, not written over it.
    with pytest.raises(StaleRevision):
        responses.save_answers(response, {"mgmt.leadership": 2}, revision=1, actor=coordinator)
    db.session.rollback()


def test_round_import_refuses_when_a_response_moved_meanwhile(setup):
    round_, response, coordinator, _ = setup
    responses.save_answers(response, {"mgmt.leadership": 3}, revision=0, actor=coordinator)
    db.session.commit()
    # The import read the response as not started; a save made it a draft since.
    rows = [responses.Replacement(response.id, "not_started", "draft", {"mgmt.leadership": 1})]
    with pytest.raises(WrongState) as caught:
        responses.replace_many(round_.id, rows, actor=None, source="answers.json")
    assert str(caught.value) == (
        "responses changed while the file was read: AG-1 (draft); nothing was imported: "
        "import it again"
    )
    db.session.rollback()
    db.session.expire_all()
    assert responses.current_json(response) == {"mgmt.leadership": 3}
    assert response.revision == 1


@pytest.mark.parametrize("set_based", [False, True])
def test_round_import_stores_the_results_of_its_answers(setup, tmp_path, monkeypatch, set_based):
    round_, response, coordinator, _ = setup
    if set_based:  # as a big import does: the whole round scored at once
        monkeypatch.setattr(results, "SET_BASED_FROM", 0)
    monkeypatch.setattr(responses, "_ROWS_PER_INSERT", 7)  # SQLite: answers in batches
    questionnaire = questionnaire_of(round_.questionnaire)
    answers = agency_answers(questionnaire, 0.6, random.Random(3), 0.8)
    rows = [
        {"agency": "AG-1", "answers": {c: responses.stored(v) for c, v in answers.items()}},
        {"agency": "AG-2", "answers": {"mgmt.leadership": 2}},
    ]
    interchange.import_round(round_, _round_file(tmp_path, rows), "answers.json")
    db.session.commit()
    stored = db.session.scalars(sa.select(Response).order_by(Response.id)).all()
    assert [responses.current_json(each) for each in stored] == [row["answers"] for row in rows]
    for each in stored:
        expected = results.score(each)
        for kind in ("self", "verified"):
            result = results.result_of(each, kind)
            assert result is not None
            assert results.number(result.overall_score) == expected.as_dict()["overall"]["score"]
        assert each.completeness == results.completeness_text(expected)


def test_first_evidence_starts_the_response_on_the_audit_trail(setup):
    _, response, coordinator, _ = setup
    code = next(
        q.code
        for q in questionnaire_of(response.questionnaire).iter_questions()
        if q.evidence.value != "none"
    )
    evidence.add_url(response, coordinator, code, "https://www.example.go.th/plan.pdf")
    db.session.commit()
    assert response.status == "draft"
    statuses = db.session.scalars(
        sa.select(AuditEvent).filter_by(response_id=response.id, action="status")
    ).all()
    assert [(e.old, e.new, e.actor_label) for e in statuses] == [
        ("not_started", "draft", "c@example.go.th")
    ]


def test_round_settings_extend_the_deadline(setup):
    round_, response, coordinator, _ = setup
    round_.closes_on = dt.date.today() - dt.timedelta(days=1)
    db.session.commit()
    assert rounds.closed_reason(round_) is not None
    later = dt.date.today() + dt.timedelta(days=7)
    assert rounds.update_settings(
        round_, opens_on=None, closes_on=later, live_preview=False, actor=None
    )
    assert not rounds.update_settings(
        round_, opens_on=None, closes_on=later, live_preview=False, actor=None
    )
    db.session.commit()
    responses.save_answers(response, {"mgmt.leadership": 2}, revision=0, actor=coordinator)
    event = db.session.scalars(
        sa.select(AuditEvent).filter_by(round_id=round_.id, action="round.settings")
    ).one()
    assert event.new == {"closes_on": later.isoformat()}
    with pytest.raises(ServiceError, match="closes before it opens"):
        rounds.update_settings(
            round_, opens_on=later, closes_on=dt.date.today(), live_preview=False
        )


def test_two_tabs_saving_at_once_cannot_both_win(setup, database_url):
    """The revision check and the write are one atomic step in the database.

    Another connection (the second tab's request) commits revision 1 after this session
    read revision 0; this session's save at revision 0 must then be refused, not applied.
    """
    _, response, coordinator, _ = setup
    assert response.revision == 0  # this session has read the response
    other = sa.create_engine(database_url)
    with other.begin() as conn:
        conn.execute(
            sa.text("UPDATE response SET revision = 1, status = 'draft' WHERE id = :id"),
            {"id": response.id},
        )
        conn.execute(
            sa.text(
                "INSERT INTO answer (response_id, question_code, value, updated_at) "
                "VALUES (:id, 'mgmt.leadership', '4', CURRENT_TIMESTAMP)"
            ),
            {"id": response.id},
        )
    other.dispose()
    with pytest.raises(StaleRevision) as caught:
        responses.save_answers(response, {"mgmt.leadership": 1}, revision=0, actor=coordinator)
    assert caught.value.current == 1
    assert caught.value.answers == {"mgmt.leadership": 4}
    db.session.rollback()
    db.session.expire_all()
    assert responses.current_json(response) == {"mgmt.leadership": 4}


def test_two_reviewers_at_once_cannot_both_move_a_response(setup, database_url):
    round_, response, coordinator, reviewer = setup
    complete(response, coordinator)
    responses.submit(response, coordinator)
    db.session.commit()
    assert response.status == "submitted"  # this session saw "submitted"
    other = sa.create_engine(database_url)
    with other.begin() as conn:  # another reviewer accepted it meanwhile
        conn.execute(
            sa.text("UPDATE response SET status = 'accepted' WHERE id = :id"), {"id": response.id}
        )
    other.dispose()
    with pytest.raises(WrongState, match="changed meanwhile"):
        responses.review(response, reviewer, "return", "Too late.")
    db.session.rollback()
    db.session.expire_all()
    assert response.status == "accepted"
    assert not response.comments
