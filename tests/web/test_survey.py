"""The coordinator's pages: my rounds, answering (JSON autosave and the no-JS form),
show_if, evidence, submitting, the returned response and the offline workbook."""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import re
import zipfile
from html import unescape

import pytest
from openpyxl import load_workbook

from assess.extensions import db
from assess.models import Answer, Evidence, Response
from assess.services import evidence, responses, results
from assess.services.questionnaires import questionnaire_of
from assess.synthetic import agency_answers
from assess.thai import BANGKOK

FETCH = {"X-Requested-With": "fetch"}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


class Setup:
    """One agency with a coordinator invited to one open round of dg-readiness@2569."""

    def __init__(self, world, auth, **round_fields) -> None:  # type: ignore[no-untyped-def]
        self.world = world
        self.agency = world.agency("AG-1")
        self.other_agency = world.agency("AG-2")
        self.user = world.user("coord@example.go.th", agency=self.agency)
        self.other = world.user("other@example.go.th", agency=self.other_agency)
        for user in (self.user, self.other):
            user.language = "en"  # the tests read English text, whatever the catalogue
        db.session.commit()
        self.version = world.questionnaire()
        self.round = world.round(
            self.version, agencies=[self.agency, self.other_agency], **round_fields
        )
        self.questionnaire = questionnaire_of(self.version)
        self.auth = auth
        auth.login("coord@example.go.th")

    @property
    def response(self) -> Response:
        db.session.expire_all()
        return responses.get_response(self.round, self.agency)

    def stored(self) -> dict[str, object]:
        return responses.current_json(self.response)

    def url(self, tail: str) -> str:
        return f"/rounds/{self.round.id}/{tail}"


@pytest.fixture
def s(world, auth) -> Setup:  # type: ignore[no-untyped-def]
    return Setup(world, auth)


def save(client, setup: Setup, answers: dict, revision: int | None = None):  # type: ignore[no-untyped-def]
    if revision is None:
        revision = setup.response.revision
    return client.post(
        setup.url("answers"), json={"revision": revision, "answers": answers}, headers=FETCH
    )


def text(response) -> str:  # type: ignore[no-untyped-def]
    return unescape(response.get_data(as_text=True))


def card(html: str, code: str) -> str:
    """The HTML of one question card."""
    start = html.index(f'id="q-{code}"')
    start = html.rindex("<div", 0, start)
    end = html.find('class="card question-card', start + 10)
    return html[start : end if end != -1 else len(html)]


def fill_complete(setup: Setup) -> None:
    """Answer every question plausibly and attach every required evidence."""
    answers = agency_answers(setup.questionnaire, 0.8, random.Random(1), 1.0)  # noqa: S311
    response = setup.response
    raw = {code: responses.stored(value) for code, value in answers.items()}
    responses.save_answers(response, raw, revision=response.revision, actor=setup.user)
    for code in results.score(response).missing_evidence:
        evidence.add_url(response, setup.user, code, "https://example.go.th/evidence.pdf")
    db.session.commit()
    assert results.score(setup.response).submittable


# -- access ---------------------------------------------------------------------------------


def test_home_lists_the_round(client, world, auth):
    setup = Setup(world, auth, closes_on=dt.datetime.now(BANGKOK).date() + dt.timedelta(days=10))
    page = client.get("/my")
    assert page.status_code == 200
    html = text(page)
    assert "Round under test" in html
    assert "version 2569" in html
    assert "Fiscal year 2569" in html
    assert "Not started" in html
    assert "Open" in html
    assert "10 days left." in html
    # Until when on that day: the server's clock is not the reader's.
    assert "Answers are accepted until the end of this day, Bangkok time." in html
    assert setup.round.closes_on.strftime("%b") in html  # be_date, English month
    assert f'href="/rounds/{setup.round.id}/answer"' in html
    assert ">Start<" in html


def test_home_next_actions(client, s):
    save(client, s, {"mgmt.leadership": 2})
    assert ">Continue<" in text(client.get("/my"))
    fill_complete(s)
    assert client.post(s.url("submit"), data={"confirm": "1"}).status_code == 302
    assert "Submitted — waiting for review." in text(client.get("/my"))


def test_only_coordinators(client, world, auth, s):
    world.user("reviewer@example.go.th", role="reviewer")
    auth.logout()
    assert client.get("/my").status_code == 302  # to the login page
    auth.login("reviewer@example.go.th")
    for path in ("/my", s.url("answer"), s.url("submit"), s.url("workbook")):
        assert client.get(path).status_code == 403, path
    assert save(client, s, {"mgmt.leadership": 1}, revision=0).status_code == 403


def test_other_agency_and_draft_rounds_are_not_found(client, world, s):
    third = world.agency("AG-3")
    hidden = world.round(s.version, agencies=[third], name="Not ours")
    draft = world.round(s.version, agencies=[s.agency], status="draft", name="Draft round")
    for round_ in (hidden, draft):
        base = f"/rounds/{round_.id}/"
        for tail in ("answer", "answer/mgmt", "submit", "workbook", "workbook.xlsx"):
            assert client.get(base + tail).status_code == 404, base + tail
        reply = client.post(
            base + "answers", json={"revision": 0, "answers": {"mgmt.leadership": 1}}, headers=FETCH
        )
        assert reply.status_code == 404
        assert "AG-3" not in reply.get_data(as_text=True)
    assert "Not ours" not in text(client.get("/my"))
    assert client.get("/rounds/999/answer").status_code == 404
    assert client.get(s.url("answer/nosuchdimension")).status_code == 404


def test_unauthenticated_fetch_save_gets_json_401(client, s):
    s.auth.logout()
    reply = save(client, s, {"mgmt.leadership": 1}, revision=0)
    assert reply.status_code == 401
    assert reply.get_json()["error"] == "unauthenticated"
    assert reply.get_json()["login_url"].endswith("/login")
    # Even without the fetch header the save endpoint answers in JSON.
    plain = client.post(s.url("answers"), json={"revision": 0, "answers": {}})
    assert plain.status_code == 401
    assert plain.is_json
    assert s.stored() == {}


def test_csrf_failure_is_json_and_a_fresh_token_works(app, client, s):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        refused = save(client, s, {"mgmt.leadership": 1}, revision=0)
        assert refused.status_code == 400
        assert refused.get_json()["error"] == "csrf"
        token = client.get("/csrf-token").get_json()["csrf_token"]
        reply = client.post(
            s.url("answers"),
            json={"revision": 0, "answers": {"mgmt.leadership": 1}},
            headers={**FETCH, "X-CSRFToken": token},
        )
        assert reply.status_code == 200
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


# -- the answer page ------------------------------------------------------------------------------


def test_answer_page_renders_every_question_type(client, s):
    seen_types = set()
    for dim in s.questionnaire.dimensions:
        page = client.get(s.url(f"answer/{dim.code}"))
        assert page.status_code == 200, dim.code
        html = text(page)
        assert dim.title.get("en") in html
        for question in dim.questions:
            one = card(html, question.code)
            seen_types.add(question.type.value)
            assert f'data-type="{question.type.value}"' in one
            assert question.text.get("en") in one
            if question.help:
                assert "<details" in one
                assert question.help.get("en") in one
            if question.type.value == "level":
                assert 'class="rubric"' in one
                for option in question.options:
                    assert option.label.get("en") in one
                    assert option.description.get("en") in one  # the level descriptor
            if question.type.value in ("choice", "level", "yesno"):
                assert 'type="radio"' in one
            if question.type.value == "multi":
                assert 'type="checkbox"' in one
                for option in question.options:
                    if option.exclusive:
                        assert re.search(r"data-exclusive", one)
            if question.type.value == "number":
                assert 'inputmode="' in one
                if question.integer and question.min is not None and question.min >= 0:
                    assert 'inputmode="numeric"' in one
                if question.unit:
                    assert question.unit.get("en") in one
            if question.type.value == "text":
                assert f'maxlength="{question.max_length or 5000}"' in one
            if question.allow_na:
                assert "__na__" in one or f'name="na-{question.code}"' in one
            if question.evidence.value != "none":
                assert 'class="dropzone' in one
                assert f'name="url-{question.code}"' in one
            hidden = re.search(r'data-type="\w+"\s*hidden', one) is not None
            assert hidden == (question.show_if is not None), question.code
    assert seen_types == {"level", "choice", "multi", "yesno", "number", "text"}


def test_answer_page_carries_conditions_for_the_script(client, s):
    html = client.get(s.url("answer/service")).get_data(as_text=True)
    match = re.search(
        r'<script type="application/json" id="survey-data">(.*?)</script>', html, re.S
    )
    assert match
    data = json.loads(match.group(1))
    conditions = dict(data["conditions"])
    assert conditions["service.pay_share"] == {
        "op": "==",
        "ref": "service.collects_fees",
        "value": True,
    }
    assert conditions["service.e2e_share"] == {
        "op": ">",
        "ref": "service.service_count",
        "value": 0,
    }
    assert conditions["ea.ai_dpia"]["op"] == "and"
    assert conditions["cyber.rto_hours"] == {"op": "in", "ref": "cyber.backup", "values": [3, 4]}
    assert data["revision"] == 0
    assert data["editable"] is True
    assert "survey.js" in html


# -- saving with JSON (the page script) -------------------------------------------------------------


def test_json_save_bumps_revision_and_reports_progress(client, s):
    reply = save(client, s, {"mgmt.leadership": 2}, revision=0)
    assert reply.status_code == 200
    body = reply.get_json()
    assert body["revision"] == 1
    assert 0 < body["completeness"] < 100
    assert body["dimensions"]["mgmt"] > 0
    assert body["dimensions"]["service"] == 0
    assert "mgmt.leadership" not in body["missing"]
    assert "mgmt.strategy" in body["missing"]
    assert re.fullmatch(r"\d\d:\d\d", body["saved_at"])
    assert body["preview"] is None  # the round shows no preview
    assert s.stored() == {"mgmt.leadership": 2}
    assert s.response.status == "draft"
    # Clearing an answer with null.
    again = save(client, s, {"mgmt.leadership": None}, revision=1)
    assert again.get_json()["revision"] == 2
    assert s.stored() == {}


def test_stale_revision_saves_nothing_and_returns_current_values(client, s):
    assert save(client, s, {"mgmt.leadership": 2}, revision=0).status_code == 200
    reply = save(client, s, {"mgmt.leadership": 4, "mgmt.strategy": 1}, revision=0)
    assert reply.status_code == 409
    body = reply.get_json()
    assert body["error"] == "stale"
    assert body["revision"] == 1
    assert body["answers"] == {"mgmt.leadership": 2}
    assert "visible" in body
    assert "missing" in body
    assert s.stored() == {"mgmt.leadership": 2}
    assert s.response.revision == 1


def test_invalid_value_is_refused_naming_the_question(client, s):
    reply = save(client, s, {"mgmt.strategy": 1, "mgmt.leadership": 9}, revision=0)
    assert reply.status_code == 422
    body = reply.get_json()
    assert body["error"] == "invalid"
    assert set(body["details"]) == {"mgmt.leadership"}
    assert "not an option" in body["details"]["mgmt.leadership"]
    assert db.session.query(Answer).count() == 0
    assert s.response.revision == 0
    # An exclusive option combined with another is refused by the server too.
    reply = save(client, s, {"mgmt.customer_voice": ["survey", "none"]}, revision=0)
    assert reply.status_code == 422
    assert "mgmt.customer_voice" in reply.get_json()["details"]
    # Out of range numbers, text where a number belongs, N/A where not allowed.
    for value in (101, "12", {"na": True}):
        reply = save(client, s, {"mgmt.process_digital": value}, revision=0)
        assert reply.status_code == 422, value
    assert s.stored() == {}


def test_malformed_save_is_400(client, s):
    for body in ({"answers": {}}, {"revision": "1", "answers": {}}, {"revision": 0}, [1]):
        reply = client.post(s.url("answers"), json=body, headers=FETCH)
        assert reply.status_code == 400, body
    reply = client.post(s.url("answers"), data="not json", headers=FETCH)
    assert reply.status_code == 400


def test_numbers_are_kept_exactly(client, s):
    reply = client.post(
        s.url("answers"),
        data='{"revision": 0, "answers": {"mgmt.process_digital": 62.345}}',
        headers={**FETCH, "Content-Type": "application/json"},
    )
    assert reply.status_code == 200
    assert s.stored() == {"mgmt.process_digital": 62.345}


def test_not_applicable(client, s):
    reply = save(client, s, {"mgmt.pmqa_level": {"na": True}}, revision=0)
    assert reply.status_code == 200
    assert s.stored() == {"mgmt.pmqa_level": {"na": True}}
    html = text(client.get(s.url("answer/mgmt")))
    one = card(html, "mgmt.pmqa_level")
    assert re.search(r'value="__na__"[^>]*checked', one)
    # N/A counts as answered for completeness.
    assert "mgmt.pmqa_level" not in reply.get_json()["missing"]


def test_show_if_visibility_follows_the_answers(client, s):
    html = text(client.get(s.url("answer/service")))
    assert re.search(r'id="q-service.pay_share"[^>]*hidden', html)
    body = save(client, s, {"service.collects_fees": True}, revision=0).get_json()
    assert body["visible"]["service.pay_share"] is True
    assert "service.pay_share" in body["missing"]
    html = text(client.get(s.url("answer/service")))
    assert not re.search(r'id="q-service.pay_share"[^>]*hidden', html)
    body = save(client, s, {"service.collects_fees": False}, revision=1).get_json()
    assert body["visible"]["service.pay_share"] is False
    assert "service.pay_share" not in body["missing"]
    # Chains across dimensions: did.thaid_share needs did.providers, which needs did.online_login.
    body = save(client, s, {"did.providers": ["thaid"]}, revision=2).get_json()
    assert body["visible"]["did.thaid_share"] is False  # did.providers itself is hidden


def test_live_preview(client, world, auth):
    setup = Setup(world, auth, live_preview=True)
    html = text(client.get(setup.url("answer/mgmt")))
    assert "Score preview" in html
    body = save(client, setup, {"mgmt.leadership": 4}, revision=0).get_json()
    preview = body["preview"]
    assert preview["overall"]["score"] not in (None, "–")
    assert preview["dimensions"]["mgmt"]["level"] is not None
    assert set(preview["dimensions"]) == {d.code for d in setup.questionnaire.dimensions}


# -- saving without JavaScript ---------------------------------------------------------------------


def mgmt_form(revision: int, **overrides: object) -> dict[str, object]:
    form: dict[str, object] = {
        "revision": str(revision),
        "ans-mgmt.leadership": "2",
        "ans-mgmt.strategy": "3",
        "ans-mgmt.customer_voice": ["survey", "analytics"],
        "ans-mgmt.kpi_dashboard": "dashboard",
        "ans-mgmt.process_digital": "45.5",
        "ans-mgmt.pmqa_level": "__na__",
        "ans-mgmt.awards": "yes",
        "ans-mgmt.comment": "ทดสอบ",
        "save": "1",
    }
    form.update(overrides)
    return form


def test_form_post_saves_a_dimension(client, s):
    reply = client.post(s.url("answer/mgmt"), data=mgmt_form(0))
    assert reply.status_code == 302
    assert reply.headers["Location"].endswith("/answer/mgmt")
    assert s.stored() == {
        "mgmt.leadership": 2,
        "mgmt.strategy": 3,
        "mgmt.customer_voice": ["survey", "analytics"],
        "mgmt.kpi_dashboard": "dashboard",
        "mgmt.process_digital": 45.5,
        "mgmt.pmqa_level": {"na": True},
        "mgmt.awards": True,
        "mgmt.comment": "ทดสอบ",
    }
    assert "Your answers have been saved." in text(client.get(s.url("answer/mgmt")))
    html = text(client.get(s.url("answer/mgmt")))
    assert 'value="45.5"' in card(html, "mgmt.process_digital")
    assert re.search(r'value="2"[^>]*checked', card(html, "mgmt.leadership"))
    # Leaving a question empty in the form clears it.
    client.post(s.url("answer/mgmt"), data=mgmt_form(1, **{"ans-mgmt.comment": ""}))
    assert "mgmt.comment" not in s.stored()


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("1,5", "Write decimals with a point (12.5); a comma may only group thousands (1,250)."),
        ("12,34", "a comma may only group thousands"),
        ("1,2345", "a comma may only group thousands"),
        ("19.99999999999999999", "has more than 15 significant digits or decimal places"),
    ],
)
def test_form_post_refuses_a_decimal_comma_and_too_many_digits(client, s, typed, problem):
    """1,5 was read as 15 (commas dropped): a comma only groups thousands."""
    reply = client.post(
        s.url("answer/mgmt"), data=mgmt_form(0, **{"ans-mgmt.process_digital": typed})
    )
    assert reply.status_code == 422
    one = card(text(reply), "mgmt.process_digital")
    assert f'value="{typed}"' in one  # kept as typed
    assert problem in one
    assert s.stored() == {}


@pytest.mark.parametrize(
    ("field", "typed", "value"),
    [("people.headcount", "1,250", 1250), ("people.headcount", "12 500", 12500),
     ("mgmt.process_digital", " 12.5 ", 12.5), ("people.headcount", "๑,๒๕๐", 1250),
     ("mgmt.process_digital", "๔๕.๕", 45.5)],
)  # fmt: skip
def test_form_post_takes_thousands_grouped(client, s, field, typed, value):
    dim = field.partition(".")[0]
    form = mgmt_form(0) if dim == "mgmt" else {"revision": "0", "save": "1"}
    reply = client.post(s.url(f"answer/{dim}"), data={**form, f"ans-{field}": typed})
    assert reply.status_code in (302, 303), text(reply)[:500]
    assert s.stored()[field] == value


def test_form_post_invalid_keeps_the_link_being_added_and_tells_of_files(client, s):
    link = "https://www.dga.or.th/evidence-nojs.pdf"
    form = mgmt_form(0, **{"ans-mgmt.process_digital": "abc", "url-mgmt.pmqa_level": link})
    reply = client.post(s.url("answer/mgmt"), data=form)
    assert reply.status_code == 422
    one = card(text(reply), "mgmt.pmqa_level")
    assert f'value="{link}"' in one
    assert re.search(r'<details class="evidence-add" open>', one)
    assert "Nothing was saved. Correct the answers marked below." in text(reply)
    # A chosen file cannot be shown again: the page says to choose it again.
    with_file = {**form, "file-mgmt.pmqa_level": (io.BytesIO(b"%PDF-1.4\n"), "plan.pdf")}
    reply = client.post(s.url("answer/mgmt"), data=with_file, content_type="multipart/form-data")
    assert reply.status_code == 422
    assert "the files chosen were not attached" in text(reply)
    assert s.stored() == {}


def test_form_post_conflict_shows_current_values(client, s):
    assert save(client, s, {"mgmt.leadership": 4}, revision=0).status_code == 200
    reply = client.post(s.url("answer/mgmt"), data=mgmt_form(0))
    assert reply.status_code == 409
    html = text(reply)
    assert "changed in another tab or by someone else" in html
    one = card(html, "mgmt.leadership")
    assert re.search(r'value="4"[^>]*checked', one)  # the current value is shown
    assert "Your value, not saved:" in one  # and the user's is not lost silently
    assert 'name="revision" value="1"' in html
    assert s.stored() == {"mgmt.leadership": 4}


def test_form_post_conflict_keeps_the_link_being_added_and_tells_of_files(client, s):
    """Another tab saved first: the link typed stays in its field, and a chosen file (which
    a browser does not send again) is said not to be attached."""
    assert save(client, s, {"mgmt.leadership": 4}, revision=0).status_code == 200
    link = "https://www.dga.or.th/evidence-conflict.pdf"
    form = {
        **mgmt_form(0, **{"url-mgmt.pmqa_level": link}),
        "file-mgmt.strategy": (io.BytesIO(b"%PDF-1.4\n"), "plan.pdf"),
    }
    reply = client.post(s.url("answer/mgmt"), data=form, content_type="multipart/form-data")
    assert reply.status_code == 409
    html = text(reply)
    assert f'value="{link}"' in card(html, "mgmt.pmqa_level")
    assert "The files chosen were not attached and no evidence was removed" in html
    assert s.stored() == {"mgmt.leadership": 4}


def test_form_post_out_of_range_tells_of_files(client, s):
    """A value the questionnaire refuses (above its maximum) drops the chosen file as an
    unreadable one does, and says so."""
    form = {
        **mgmt_form(0, **{"ans-mgmt.process_digital": "150"}),
        "file-mgmt.strategy": (io.BytesIO(b"%PDF-1.4\n"), "plan.pdf"),
    }
    reply = client.post(s.url("answer/mgmt"), data=form, content_type="multipart/form-data")
    assert reply.status_code == 422
    assert "the files chosen were not attached" in text(reply)
    assert s.stored() == {}


def test_form_post_invalid_keeps_the_input(client, s):
    reply = client.post(
        s.url("answer/mgmt"), data=mgmt_form(0, **{"ans-mgmt.process_digital": "forty"})
    )
    assert reply.status_code == 422
    html = text(reply)
    one = card(html, "mgmt.process_digital")
    assert 'value="forty"' in one
    assert "Enter a number" in one
    assert "Nothing was saved." in html
    assert s.stored() == {}
    reply = client.post(
        s.url("answer/mgmt"), data=mgmt_form(0, **{"ans-mgmt.process_digital": "140"})
    )
    assert reply.status_code == 422
    assert "above the maximum" in card(text(reply), "mgmt.process_digital")
    assert s.stored() == {}


def test_form_post_attaches_evidence_with_the_answers(client, s):
    form = mgmt_form(0, goto="q-mgmt.pmqa_level")
    form["file-mgmt.pmqa_level"] = (io.BytesIO(PDF), "pmqa.pdf")
    form["url-mgmt.leadership"] = "https://example.go.th/policy"
    reply = client.post(s.url("answer/mgmt"), data=form, content_type="multipart/form-data")
    assert reply.status_code == 302
    assert reply.headers["Location"].endswith("#q-mgmt.pmqa_level")
    items = {(e.question_code, e.label) for e in s.response.evidence}
    assert items == {
        ("mgmt.pmqa_level", "pmqa.pdf"),
        ("mgmt.leadership", "https://example.go.th/policy"),
    }
    assert s.stored()["mgmt.leadership"] == 2
    # Removing through the same form.
    ident = next(e.id for e in s.response.evidence if e.question_code == "mgmt.leadership")
    reply = client.post(s.url("answer/mgmt"), data=mgmt_form(1, remove=str(ident)))
    assert reply.headers["Location"].endswith("#q-mgmt.leadership")
    assert [e.label for e in s.response.evidence] == ["pmqa.pdf"]


def test_answer_without_a_dimension_goes_to_the_first_one_missing_something(client, s):
    reply = client.get(s.url("answer"))
    assert reply.status_code == 302
    assert reply.headers["Location"].endswith(s.url("answer/mgmt"))
    # Once that section is complete, the next one with something missing is chosen,
    # and the address names it (a reload stays on it).
    client.post(s.url("answer/mgmt"), data=mgmt_form(0, **{"ans-mgmt.e_document": "signed"}))
    reply = client.get(s.url("answer"))
    assert reply.headers["Location"].endswith(s.url("answer/service"))
    assert client.get(reply.headers["Location"]).status_code == 200
    # The no-JS POST to the address without a dimension still saves that dimension.
    revision = s.response.revision
    reply = client.post(
        s.url("answer"), data={"revision": str(revision), "ans-service.tracking": "yes"}
    )
    assert reply.status_code == 302
    assert reply.headers["Location"].endswith(s.url("answer/service"))
    assert s.stored()["service.tracking"] is True


def test_clear_answer_button_only_for_answered_questions(client, s):
    save(client, s, {"mgmt.leadership": 2, "mgmt.pmqa_level": {"na": True}}, revision=0)
    html = text(client.get(s.url("answer/mgmt")))
    clear = re.compile(r'<button type="submit"[^>]*name="clear" value="([^"]+)"[^>]*>')
    for code in ("mgmt.leadership", "mgmt.pmqa_level"):  # an option, and N/A
        button = clear.search(card(html, code))
        assert button
        assert button.group(1) == code
        assert " hidden" not in button.group(0)
        assert f'aria-describedby="t-{code}"' in button.group(0)
    button = clear.search(card(html, "mgmt.strategy"))  # not answered: there, but hidden
    assert button
    assert " hidden" in button.group(0)
    assert "Clear answer" in card(html, "mgmt.leadership")


def test_form_post_clear_removes_one_answer_and_saves_the_rest(client, s):
    client.post(s.url("answer/mgmt"), data=mgmt_form(0))
    # The clear button sends its question's code; the rest of the form is saved as usual,
    # even when the cleared question's own inputs hold something (or something invalid).
    form = mgmt_form(
        1,
        clear="mgmt.pmqa_level",
        **{"ans-mgmt.strategy": "4", "ans-mgmt.process_digital": "45.5"},
    )
    del form["save"]
    reply = client.post(s.url("answer/mgmt"), data=form)
    assert reply.status_code == 302
    assert reply.headers["Location"].endswith("/answer/mgmt#q-mgmt.pmqa_level")
    stored = s.stored()
    assert "mgmt.pmqa_level" not in stored
    assert stored["mgmt.strategy"] == 4
    assert stored["mgmt.leadership"] == 2
    assert stored["mgmt.awards"] is True
    html = text(client.get(s.url("answer/mgmt")))
    assert "The answer was cleared" in html
    assert "checked" not in card(html, "mgmt.pmqa_level").split('class="evidence')[0]
    form = mgmt_form(2, clear="mgmt.process_digital", **{"ans-mgmt.process_digital": "forty"})
    reply = client.post(s.url("answer/mgmt"), data=form)
    assert reply.status_code == 302
    assert "mgmt.process_digital" not in s.stored()
    # A code from another dimension clears nothing.
    save(client, s, {"service.tracking": True})
    revision = s.response.revision
    client.post(s.url("answer/mgmt"), data=mgmt_form(revision, clear="service.tracking"))
    assert s.stored()["service.tracking"] is True


def test_clear_answer_not_offered_read_only(client, s):
    fill_complete(s)
    assert client.post(s.url("submit"), data={"confirm": "1"}).status_code == 302
    html = text(client.get(s.url("answer/mgmt")))
    assert 'name="clear"' not in html


# -- evidence ----------------------------------------------------------------------------------------


def upload(client, s, code: str, data: bytes, name: str, fetch: bool = True):  # type: ignore[no-untyped-def]
    return client.post(
        s.url("evidence"),
        data={"code": code, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        headers=FETCH if fetch else {},
    )


def test_evidence_upload_download_and_remove(app, client, world, s):
    reply = upload(client, s, "mgmt.pmqa_level", PDF, "รายงาน PMQA.pdf", fetch=False)
    assert reply.status_code == 302
    assert reply.headers["Location"].endswith("#q-mgmt.pmqa_level")
    item = db.session.query(Evidence).one()
    assert item.filename == "รายงาน PMQA.pdf"
    assert item.size == len(PDF)
    # With fetch: JSON with the list's HTML and the new state.
    reply = upload(client, s, "mgmt.pmqa_level", PDF, "second.pdf")
    assert reply.status_code == 200
    body = reply.get_json()
    assert "second.pdf" in body["html"]
    assert "รายงาน PMQA.pdf" in body["html"]
    assert body["code"] == "mgmt.pmqa_level"
    assert "missing_evidence" in body
    # The owner downloads it as an attachment that the browser must not sniff.
    download = client.get(s.url(f"evidence/{item.id}"))
    assert download.status_code == 200
    assert download.data == PDF
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment")
    download.close()
    # Another agency's coordinator gets 404, on their own round URL or not.
    s.auth.logout()
    s.auth.login("other@example.go.th")
    assert client.get(s.url(f"evidence/{item.id}")).status_code == 404
    assert client.post(s.url(f"evidence/{item.id}/remove"), headers=FETCH).status_code == 404
    s.auth.logout()
    s.auth.login("coord@example.go.th")
    # Removing deletes the row, then the file.
    path = evidence.path_of(item, app.config["EVIDENCE_FOLDER"])
    assert path.exists()
    reply = client.post(s.url(f"evidence/{item.id}/remove"), headers=FETCH)
    assert reply.status_code == 200
    assert "รายงาน PMQA.pdf" not in reply.get_json()["html"]
    assert not path.exists()
    assert [e.filename for e in s.response.evidence] == ["second.pdf"]


def test_evidence_refusals(app, client, s):
    reply = upload(client, s, "mgmt.pmqa_level", b"MZ\x90\x00 not a pdf", "fake.pdf")
    assert reply.status_code == 400
    assert "not really a PDF" in reply.get_json()["message"]
    reply = upload(client, s, "mgmt.pmqa_level", b"#!/bin/sh", "run.sh")
    assert reply.status_code == 400
    reply = upload(client, s, "mgmt.pmqa_level", PDF, ".pdf")  # a name, not a type
    assert reply.status_code == 400
    assert (
        "'.pdf': the file's name has no type such as .pdf; rename it" in reply.get_json()["message"]
    )
    app.config["EVIDENCE_MAX_BYTES"] = 20
    reply = upload(client, s, "mgmt.pmqa_level", PDF, "big.pdf")
    assert reply.status_code == 400
    assert "larger than" in reply.get_json()["message"]
    # A question that takes no evidence, and an unknown question.
    assert upload(client, s, "mgmt.comment", PDF, "a.pdf").status_code == 400
    assert upload(client, s, "no.such", PDF, "a.pdf").status_code == 404
    # Without JavaScript the refusal is flashed on the answer page.
    reply = upload(client, s, "mgmt.pmqa_level", PDF, "big.pdf", fetch=False)
    assert reply.status_code == 302
    assert "larger than" in text(client.get(reply.headers["Location"]))
    assert db.session.query(Evidence).count() == 0


def test_url_evidence(client, s):
    reply = client.post(
        s.url("evidence"),
        data={"code": "mgmt.leadership", "url": "https://example.go.th/plan"},
        headers=FETCH,
    )
    assert reply.status_code == 200
    assert 'href="https://example.go.th/plan"' in reply.get_json()["html"]
    assert 'rel="noopener noreferrer nofollow"' in reply.get_json()["html"]
    for bad in ("javascript:alert(1)", "ftp://example.go.th/x", ""):
        reply = client.post(
            s.url("evidence"), data={"code": "mgmt.leadership", "url": bad}, headers=FETCH
        )
        assert reply.status_code == 400, bad
    assert [e.url for e in s.response.evidence] == ["https://example.go.th/plan"]


# -- submitting ----------------------------------------------------------------------------------


def test_submit_refused_while_incomplete(client, s):
    save(client, s, {"mgmt.leadership": 2}, revision=0)
    page = text(client.get(s.url("submit")))
    assert "Still missing" in page
    assert re.search(r'<button type="submit" class="btn btn-primary" disabled>', page)
    assert s.questionnaire.question("mgmt.strategy").text.get("en")[:40] in page
    reply = client.post(s.url("submit"), data={"confirm": "1"})
    assert reply.status_code == 422
    assert "still missing" in text(reply)
    assert s.response.status == "draft"


def test_submit_needs_evidence_and_confirmation(client, s):
    fill_complete(s)
    item = next(e for e in s.response.evidence if e.question_code == "mgmt.pmqa_level")
    client.post(s.url(f"evidence/{item.id}/remove"), headers=FETCH)
    reply = client.post(s.url("submit"), data={"confirm": "1"})
    assert reply.status_code == 422
    assert "Evidence:" in text(reply)
    client.post(
        s.url("evidence"),
        data={"code": "mgmt.pmqa_level", "url": "https://example.go.th/pmqa"},
        headers=FETCH,
    )
    reply = client.post(s.url("submit"), data={})
    assert reply.status_code == 400
    assert "Tick the box" in text(reply)
    assert s.response.status == "draft"


def test_submit_lists_missing_required_evidence(client, s):
    fill_complete(s)
    item = next(e for e in s.response.evidence if e.question_code == "nocopy.policy")
    assert client.post(s.url(f"evidence/{item.id}/remove"), headers=FETCH).status_code == 200
    assert results.score(s.response).missing == ()
    assert results.score(s.response).missing_evidence == ("nocopy.policy",)
    html = text(client.get(s.url("submit")))
    # Everything is answered (100%), but the page says why submitting is not possible yet.
    assert "Still missing" in html
    section = html[html.index('id="missing-evidence"') :]
    section = section[: section.index("</ul>")]
    question = s.questionnaire.question("nocopy.policy")
    assert question.text.get("en")[:40] in section
    assert f'href="/rounds/{s.round.id}/answer/nocopy#q-nocopy.policy"' in section
    assert 'id="missing-answers"' not in html  # no unanswered question to list
    assert "Required evidence not attached (1)" in html
    assert re.search(r'data-kind="evidence-missing-total">1<', html)
    assert re.search(r'data-kind="unanswered-total">0<', html)
    nocopy = html[html.index('/answer/nocopy">') :]
    assert re.search(r'data-kind="evidence-missing">1<', nocopy[: nocopy.index("</tr>")])
    assert re.search(r'<button type="submit" class="btn btn-primary" disabled>', html)
    reason = html[html.index('id="blocked-reason"') :]
    assert "1 question still needs its required evidence." in reason[: reason.index("</p>")]
    # And submitting is refused, listing it again.
    reply = client.post(s.url("submit"), data={"confirm": "1"})
    assert reply.status_code == 422
    assert 'id="missing-evidence"' in text(reply)
    assert s.response.status == "draft"


def test_submit_accepted_when_complete_then_read_only(client, s):
    fill_complete(s)
    page = text(client.get(s.url("submit")))
    assert "Still missing" not in page
    reply = client.post(s.url("submit"), data={"confirm": "1"})
    assert reply.status_code == 302
    assert reply.headers["Location"].endswith("/my")
    assert s.response.status == "submitted"
    assert "Your answers have been submitted." in text(client.get("/my"))
    # Editing is refused from now on, with the reason.
    revision = s.response.revision
    reply = save(client, s, {"mgmt.leadership": 0}, revision=revision)
    assert reply.status_code == 409
    assert reply.get_json()["error"] == "closed"
    assert "submitted" in reply.get_json()["message"]
    html = text(client.get(s.url("answer/mgmt")))
    assert "submitted for review" in html
    assert "<fieldset disabled>" in html
    assert 'class="dropzone' not in html
    assert '"editable": false' in html
    before = s.stored()
    reply = client.post(s.url("answer/mgmt"), data=mgmt_form(revision))
    assert reply.status_code == 302
    assert s.stored() == before
    assert s.response.revision == revision
    assert upload(client, s, "mgmt.pmqa_level", PDF, "late.pdf").status_code == 409
    # Submitted again from a tab opened before: refused, the reason said once, not twice.
    client.get("/my")  # (shows the message flashed by the refused form above)
    reply = client.post(s.url("submit"), data={"confirm": "1"})
    assert reply.status_code == 409
    html = text(reply)
    reason = re.search(
        r'<div class="alert alert-danger" role="alert" id="problems">\s*'
        r"<ul class=\"mb-0\"><li>([^<]+)</li>",
        html,
    )
    assert reason is not None
    assert "submitted" in reason.group(1)
    assert html.count(reason.group(1)) == 1


def test_deadline_passed_is_read_only(client, world, auth):
    yesterday = dt.datetime.now(BANGKOK).date() - dt.timedelta(days=1)
    setup = Setup(world, auth, closes_on=yesterday)
    reply = save(client, setup, {"mgmt.leadership": 1}, revision=0)
    assert reply.status_code == 409
    body = reply.get_json()
    assert body["error"] == "closed"
    assert "deadline" in body["message"]
    assert setup.stored() == {}
    html = text(client.get(setup.url("answer/mgmt")))
    assert "The deadline" in html
    assert "has passed" in html
    assert "<fieldset disabled>" in html
    assert "Save answers" not in html
    home = text(client.get("/my"))
    assert "The deadline has passed." in home
    assert ">View answers<" in home
    reply = client.post(setup.url("answer/mgmt"), data=mgmt_form(0))
    assert reply.status_code == 302
    assert setup.stored() == {}


def test_returned_response_shows_comments_beside_questions(client, world, s):
    reviewer = world.user("reviewer@example.go.th", role="reviewer")
    fill_complete(s)
    client.post(s.url("submit"), data={"confirm": "1"})
    responses.review(
        s.response,
        reviewer,
        "return",
        "Please review the marked answers.",
        {"mgmt.leadership": "Attach the signed digital policy."},
    )
    db.session.commit()
    home = text(client.get("/my"))
    assert ">See comments<" in home
    html = text(client.get(s.url("answer/mgmt")))
    assert "Please review the marked answers." in html
    one = card(html, "mgmt.leadership")
    assert "has-comment" in one
    assert "comment-box" in one
    assert "Attach the signed digital policy." in one
    assert "has-comment" not in card(html, "mgmt.strategy")
    # A returned response can be edited and submitted again.
    assert save(client, s, {"mgmt.leadership": 1}).status_code == 200
    assert client.post(s.url("submit"), data={"confirm": "1"}).status_code == 302
    assert s.response.status == "submitted"


# -- the offline workbook ----------------------------------------------------------------------------


def workbook_with(data: bytes, changes: dict[str, object]) -> bytes:
    book = load_workbook(io.BytesIO(data))
    sheet = book["answers"]
    for row in sheet.iter_rows(min_row=2):
        if row[0].value in changes:
            row[5].value = changes[row[0].value]
    return saved(book)


def saved(book) -> bytes:  # type: ignore[no-untyped-def]
    """An openpyxl workbook as the bytes of its file."""
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def send_workbook(client, s, data: bytes):  # type: ignore[no-untyped-def]
    return client.post(
        s.url("workbook"),
        data={"workbook": (io.BytesIO(data), "answers.xlsx")},
        content_type="multipart/form-data",
    )


def test_workbook_round_trip(client, s):
    save(client, s, {"mgmt.leadership": 1}, revision=0)
    assert "Download the workbook" in text(client.get(s.url("workbook")))
    download = client.get(s.url("workbook.xlsx"))
    assert download.status_code == 200
    assert download.headers["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "attachment" in download.headers["Content-Disposition"]
    changed = workbook_with(download.data, {"mgmt.leadership": 3, "mgmt.awards": "yes"})
    reply = send_workbook(client, s, changed)
    assert reply.status_code == 302
    assert s.stored() == {"mgmt.leadership": 3, "mgmt.awards": True}
    assert "2 answers changed" in text(client.get(reply.headers["Location"]))
    # One more change: "1 answer", not "1 answers".
    again = client.get(s.url("workbook.xlsx")).data
    reply = send_workbook(client, s, workbook_with(again, {"mgmt.leadership": 2}))
    assert reply.status_code == 302
    assert "The workbook was imported: 1 answer changed." in text(
        client.get(reply.headers["Location"])
    )


def test_workbook_keeps_text_that_looks_like_an_excel_escape(client, s):
    typed = "แบบ _x0041_ และ a_x000D_b"
    assert save(client, s, {"mgmt.comment": typed}, revision=0).status_code == 200
    download = client.get(s.url("workbook.xlsx")).data
    # Excel shows _x0041_ as "A" unless its underscore is escaped: the sheet holds it so.
    sheet = zipfile.ZipFile(io.BytesIO(download)).read("xl/worksheets/sheet1.xml").decode()
    assert " _x005F_x0041_ " in sheet
    assert " a_x005F_x000D_b<" in sheet
    assert "_x0041_" not in sheet.replace("_x005F_x0041_", "")
    # Sent back with another answer changed, the text comes back as typed.
    reply = send_workbook(client, s, workbook_with(download, {"mgmt.leadership": 2}))
    assert reply.status_code == 302
    assert s.stored() == {"mgmt.comment": typed, "mgmt.leadership": 2}


def test_pasted_control_characters_are_cleaned_and_the_workbook_still_downloads(client, s):
    """Word's Shift+Enter pastes a vertical tab; a NUL cannot be stored in PostgreSQL; a
    workbook can hold neither. Line breaks stay line breaks, the invisible rest is dropped."""
    typed = "บรรทัดหนึ่ง\x0bบรรทัดสอง\x00\x07\tแท็บ\r\nสาม\u2028สี่"
    assert save(client, s, {"mgmt.comment": typed}, revision=0).status_code == 200
    assert s.stored() == {"mgmt.comment": "บรรทัดหนึ่ง\nบรรทัดสอง\tแท็บ\r\nสาม\nสี่"}
    reply = client.post(
        s.url("answer/mgmt"), data=mgmt_form(1, **{"ans-mgmt.comment": "ก\x0cข\x1f"})
    )
    assert reply.status_code == 302
    assert s.stored()["mgmt.comment"] == "ก\nข"
    assert save(client, s, {"mgmt.comment": "\x00\x01 "}, revision=2).status_code == 200
    assert "mgmt.comment" not in s.stored()  # nothing visible: no answer
    # A text stored before (as an older version kept it) still gives a workbook.
    db.session.add(
        Answer(response_id=s.response.id, question_code="mgmt.comment", value="a\x0bb\x01c")
    )
    db.session.commit()
    download = client.get(s.url("workbook.xlsx"))
    assert download.status_code == 200
    sheet = zipfile.ZipFile(io.BytesIO(download.data)).read("xl/worksheets/sheet1.xml").decode()
    assert ">a\nbc<" in sheet


def test_a_workbook_takes_numbers_as_people_type_them(client, s):
    """Thai digits and grouped thousands, as on the answer page; a decimal comma is not a
    number there either."""
    download = client.get(s.url("workbook.xlsx")).data
    reply = send_workbook(client, s, workbook_with(download, {"mgmt.process_digital": "๔๕.๕"}))
    assert reply.status_code == 302
    assert s.stored() == {"mgmt.process_digital": 45.5}
    download = client.get(s.url("workbook.xlsx")).data
    reply = send_workbook(client, s, workbook_with(download, {"mgmt.process_digital": "45,5"}))
    assert reply.status_code == 422
    assert s.stored() == {"mgmt.process_digital": 45.5}


def test_a_workbook_takes_thai_digits_for_a_level_and_thai_words_for_yes_or_no(client, s):
    """The choices column says "yes = ใช่": a coordinator may type ใช่, and ๓ for level 3."""
    download = client.get(s.url("workbook.xlsx")).data
    changed = workbook_with(download, {"mgmt.leadership": "๓", "mgmt.awards": "ไม่ใช่"})
    assert send_workbook(client, s, changed).status_code == 302
    assert s.stored() == {"mgmt.leadership": 3, "mgmt.awards": False}


def test_a_workbook_takes_na_as_typed_and_excel_s_n_a(client, s):
    """The choices column says #NA; a coordinator types #na, or Excel's own #N/A."""
    question = next(
        q for q in questionnaire_of(s.response.questionnaire).iter_questions() if q.allow_na
    )
    download = client.get(s.url("workbook.xlsx")).data
    assert (
        send_workbook(client, s, workbook_with(download, {question.code: "#N/A"})).status_code
        == 302
    )
    assert s.stored() == {question.code: {"na": True}}
    download = client.get(s.url("workbook.xlsx")).data
    assert (
        send_workbook(client, s, workbook_with(download, {question.code: " #na "})).status_code
        == 302
    )
    assert s.stored() == {question.code: {"na": True}}


def test_a_number_excel_computed_is_the_number_it_shows(client, s):
    """Excel stores 70.6 computed as 70.60000000000001 and shows 70.6 (15 significant
    digits); that was refused as too many digits, and 1e-07 as not a number."""
    download = client.get(s.url("workbook.xlsx")).data
    changed = workbook_with(download, {"mgmt.process_digital": 70.60000000000001})
    assert send_workbook(client, s, changed).status_code == 302
    assert s.stored() == {"mgmt.process_digital": 70.6}
    download = client.get(s.url("workbook.xlsx")).data
    changed = workbook_with(download, {"mgmt.process_digital": 1e-07})
    assert send_workbook(client, s, changed).status_code == 302
    assert s.stored() == {"mgmt.process_digital": 0.0000001}


def test_a_percentage_typed_in_excel_is_the_percentage_shown(client, s):
    """Excel stores "62.5%" typed in a cell as 0.625 with a percent format: the answer is
    the 62.5 the coordinator sees, not 0.625."""
    download = client.get(s.url("workbook.xlsx")).data
    book = load_workbook(io.BytesIO(download))
    row = next(
        r for r in book["answers"].iter_rows(min_row=2) if r[0].value == "mgmt.process_digital"
    )
    row[5].value, row[5].number_format = 0.625, "0.0%"
    assert send_workbook(client, s, saved(book)).status_code == 302
    assert s.stored() == {"mgmt.process_digital": 62.5}


def test_an_answer_in_a_row_without_its_code_is_refused_not_dropped(client, s):
    """A row whose question code was cleared (or a note typed below the table) held an
    answer that was dropped without a word."""
    save(client, s, {"mgmt.leadership": 2}, revision=0)
    download = client.get(s.url("workbook.xlsx")).data
    book = load_workbook(io.BytesIO(download))
    sheet = book["answers"]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == "mgmt.strategy")
    row[0].value, row[5].value = None, 4
    sheet.cell(sheet.max_row + 2, 6).value = "ดูหมายเหตุ"  # a note below the table
    reply = send_workbook(client, s, saved(book))
    assert reply.status_code == 422
    html = text(reply)
    assert (
        f"row {row[0].row}: an answer ('4') with no question code in column A; put the "
        "row's code back (the workbook downloaded again shows it) or clear the answer"
    ) in html
    assert f"row {sheet.max_row}: an answer ('ดูหมายเหตุ') with no question code" in html
    assert s.stored() == {"mgmt.leadership": 2}


def test_a_formula_without_its_computed_value_is_refused_not_read_as_empty(client, s):
    """A file written by a program that cannot calculate holds the formula alone: read as
    empty, it cleared the saved answer."""
    save(client, s, {"mgmt.leadership": 3}, revision=0)
    download = client.get(s.url("workbook.xlsx")).data
    changed = workbook_with(download, {"mgmt.leadership": "=1+1"})  # openpyxl stores no value
    reply = send_workbook(client, s, changed)
    assert reply.status_code == 422
    assert (
        "question mgmt.leadership: the formula =1+1 has no computed value in the file (a "
        "program that cannot calculate saved it); type the answer itself"
    ) in text(reply)
    assert s.stored() == {"mgmt.leadership": 3}


def test_a_workbook_whose_columns_were_moved_is_refused_in_one_message(client, s):
    """A column inserted before the answers shifted every answer: 55 messages about
    choices and help texts, none saying what happened."""
    save(client, s, {"mgmt.leadership": 2}, revision=0)
    download = client.get(s.url("workbook.xlsx")).data
    book = load_workbook(io.BytesIO(workbook_with(download, {"mgmt.leadership": 3})))
    book["answers"].insert_cols(2)  # "who answers this", say
    reply = send_workbook(client, s, saved(book))
    assert reply.status_code == 422
    html = text(reply)
    assert (
        "answers.xlsx: the columns of the sheet 'answers' were moved (column F is "
        "“choices”, not “answer”); answers are read from column F only: download the workbook again "
        "and copy your answers into it"
    ) in html
    assert html.count("answers.xlsx:") == 1
    assert s.stored() == {"mgmt.leadership": 2}


def test_a_question_answered_twice_differently_in_a_workbook_is_refused(client, s):
    download = client.get(s.url("workbook.xlsx")).data
    book = load_workbook(io.BytesIO(workbook_with(download, {"mgmt.leadership": 2})))
    sheet = book["answers"]
    first = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == "mgmt.leadership")
    sheet.append([c.value for c in first])  # the row copied at the end…
    out = io.BytesIO()
    book.save(out)
    same = out.getvalue()
    assert send_workbook(client, s, same).status_code == 302  # …the same answer: no doubt
    assert s.stored() == {"mgmt.leadership": 2}
    download = client.get(s.url("workbook.xlsx")).data
    book = load_workbook(io.BytesIO(download))
    sheet = book["answers"]
    first = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == "mgmt.leadership")
    sheet.append([c.value for c in first[:5]] + [3])  # …another answer: which one?
    out = io.BytesIO()
    book.save(out)
    reply = send_workbook(client, s, out.getvalue())
    assert reply.status_code == 422
    assert (
        f"row {sheet.max_row}: question mgmt.leadership is answered again, differently "
        f"(first in row {first[0].row}); keep one row per question"
    ) in text(reply)
    assert s.stored() == {"mgmt.leadership": 2}


def test_bad_workbook_is_refused_whole(client, s):
    download = client.get(s.url("workbook.xlsx")).data
    bad = workbook_with(download, {"mgmt.leadership": 99, "mgmt.strategy": 2})
    reply = send_workbook(client, s, bad)
    assert reply.status_code == 422
    html = text(reply)
    assert "Nothing was imported." in html
    assert "question mgmt.leadership" in html
    assert "not an option" in html
    assert s.stored() == {}
    assert s.response.revision == 0
    # Not a workbook at all.
    reply = send_workbook(client, s, b"plain text")
    assert reply.status_code == 422
    assert "not an Excel workbook" in text(reply)
    # No file.
    assert client.post(s.url("workbook"), data={}).status_code == 400


def workbook_plus(data: bytes, rows: int, code: str = "x") -> bytes:
    """The workbook with ``rows`` more rows of question ``code`` below its own."""
    book = load_workbook(io.BytesIO(data))
    sheet = book["answers"]
    for _ in range(rows):
        sheet.append([code, "", "", "", "", "1", ""])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_workbook_with_too_many_rows_is_refused_in_one_message(client, s):
    """More rows than any questionnaire needs: one problem naming the sheet and the limit,
    told before the rows are looked at one by one."""
    download = client.get(s.url("workbook.xlsx")).data
    reply = send_workbook(client, s, workbook_plus(download, 5_000))
    assert reply.status_code == 422
    html = text(reply)
    assert "answers.xlsx: the sheet 'answers' has more than 5,000 rows" in html
    assert "no such question" not in html
    assert s.stored() == {}


def test_the_problems_of_a_workbook_are_capped(client, s):
    download = client.get(s.url("workbook.xlsx")).data
    reply = send_workbook(client, s, workbook_plus(download, 300))
    assert reply.status_code == 422
    html = text(reply)
    assert html.count("no such question in dg-readiness@2569") == 50
    assert "… and 250 more problems" in html
    assert s.stored() == {}
    # Below the limit of rows, the workbook's own rows and a few more are read as before.
    reply = send_workbook(
        client, s, workbook_plus(workbook_with(download, {"mgmt.leadership": 3}), 2)
    )
    assert reply.status_code == 422
    assert text(reply).count("no such question") == 2
    assert "more problem" not in text(reply)


@pytest.mark.parametrize("revision", ["abc", "9" * 5000, "1e400"])
def test_a_workbook_whose_revision_is_not_a_number_is_refused(client, s, revision):
    book = load_workbook(io.BytesIO(client.get(s.url("workbook.xlsx")).data))
    for row in book["meta"].iter_rows():
        if row[0].value == "revision":
            row[1].value = revision
    out = io.BytesIO()
    book.save(out)
    reply = send_workbook(client, s, workbook_with(out.getvalue(), {"mgmt.leadership": 3}))
    assert reply.status_code == 422
    assert "answers.xlsx: this workbook's revision " in text(reply)
    assert "is not a number" in text(reply)
    assert s.stored() == {}


def test_workbook_refused_after_changes_on_the_web(client, s):
    download = client.get(s.url("workbook.xlsx")).data
    save(client, s, {"mgmt.leadership": 4}, revision=0)
    reply = send_workbook(client, s, workbook_with(download, {"mgmt.leadership": 0}))
    assert reply.status_code == 409
    assert "changed on the web after this workbook was downloaded" in text(reply)
    assert s.stored() == {"mgmt.leadership": 4}


def test_an_autosave_runs_eight_statements_at_most(s: Setup, client) -> None:  # type: ignore[no-untyped-def]
    """The hot path of a busy deadline, pinned: the signed-in session, the response, (on
    PostgreSQL) its round and row held in one statement, its state in one query, the
    revision claim, the answer, its audit event, and the results only when the figures
    moved; no ping, nothing left for the ORM to flush at commit, and no insert that asks
    for its new id back."""
    from sqlalchemy import event

    save(client, s, {"people.headcount": 100})  # the first save of a response scores it in full
    save(client, s, {"people.trained_share": 10})
    engine = db.engine
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    def saved(answers: dict) -> list[str]:
        statements.clear()
        revision = s.response.revision
        event.listen(engine, "before_cursor_execute", seen)
        try:
            reply = save(client, s, answers, revision)
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        assert reply.status_code == 200, reply.get_json()
        assert reply.get_json()["revision"] == revision + 1
        assert not [st for st in statements if "RETURNING" in st.upper()]
        return [statement.split(None, 1)[0].upper() for statement in statements]

    reads = ["SELECT", "SELECT", "SELECT"]
    if db.engine.dialect.name == "postgresql":
        reads.append("SELECT")  # the round (shared) and the response's row: assess.services.locks
    # Not scored: the results stay as they are.
    assert saved({"people.headcount": 120}) == [*reads, "UPDATE", "UPDATE", "INSERT"]
    # Scored: both results (self and verified) in one UPDATE.
    assert saved({"people.trained_share": 95}) == [*reads, "UPDATE", "UPDATE", "INSERT", "UPDATE"]
    # A question answered for the first time: its answer is inserted.
    assert saved({"people.digital_staff": 12})[: len(reads) + 3] == [
        *reads,
        "UPDATE",
        "INSERT",
        "INSERT",
    ]
    assert s.stored()["people.headcount"] == 120
    assert s.stored()["people.trained_share"] == 95
    assert s.stored()["people.digital_staff"] == 12


def test_answer_page_header_says_until_when_and_how_many_days_are_left(client, world, auth):
    today = dt.datetime.now(BANGKOK).date()
    setup = Setup(world, auth, closes_on=today + dt.timedelta(days=3))
    header = text(client.get(setup.url("answer/mgmt"))).split('id="response-status"')[0]
    assert "(until the end of the day, Bangkok time)" in header
    assert "3 days left." in header
    setup.round.closes_on = today
    db.session.commit()
    header = text(client.get(setup.url("answer/mgmt"))).split('id="response-status"')[0]
    assert "Last day today." in header
    # Far from the deadline the header stays quiet: the date and the time of day only.
    setup.round.closes_on = today + dt.timedelta(days=30)
    db.session.commit()
    header = text(client.get(setup.url("answer/mgmt"))).split('id="response-status"')[0]
    assert "(until the end of the day, Bangkok time)" in header
    assert "days left" not in header


def test_numbers_are_written_with_their_unit_as_each_language_does(client, s):
    """The answers a stale form did not save are listed as "45.5%" in English and
    "ร้อยละ 45.5" in Thai (ร้อยละ comes first), and the Thai field puts ร้อยละ before its box."""
    assert save(client, s, {"mgmt.leadership": 4}, revision=0).status_code == 200
    one = card(text(client.post(s.url("answer/mgmt"), data=mgmt_form(0))), "mgmt.process_digital")
    assert "45.5%" in one
    s.user.language = "th"
    db.session.commit()
    html = text(client.post(s.url("answer/mgmt"), data=mgmt_form(0)))
    one = card(html, "mgmt.process_digital")
    assert "ร้อยละ\u00a045.5" in one
    assert one.index('input-group-text">ร้อยละ<') < one.index('id="i-mgmt.process_digital"')
    count = card(text(client.get(s.url("answer/service"))), "service.service_count")
    assert count.index('id="i-service.service_count"') < count.index('input-group-text">งานบริการ<')


def test_the_workbook_locks_all_but_the_answers_and_warns_of_an_answer_it_does_not_take(client, s):
    """A cleared code or an inserted column made an upload fail: only the answer column can
    be typed in. Excel warns of an answer outside a question's dropdown or range, in the
    workbook's language, and lets the person keep it (the upload checks it again)."""

    def workbook():  # type: ignore[no-untyped-def]
        return load_workbook(io.BytesIO(client.get(s.url("workbook.xlsx")).data))["answers"]

    sheet = workbook()
    assert sheet.protection.sheet
    assert not sheet.protection.password
    assert not sheet.protection.formatColumns  # columns may still be widened
    rows = {row[0].value: row[0].row for row in sheet.iter_rows(min_row=2)}
    for row in sheet.iter_rows(min_row=2):
        assert [cell.protection.locked for cell in row] == [True] * 5 + [False, True]
    checks = {str(cell): dv for dv in sheet.data_validations.dataValidation for cell in dv.sqref}

    level = checks[f"F{rows['mgmt.leadership']}"]
    assert (level.type, level.formula1) == ("list", '"0,1,2,3,4"')
    assert (level.showErrorMessage, level.errorStyle) == (True, "warning")
    assert level.errorTitle == "Not one of the choices"
    assert checks[f"F{rows['mgmt.awards']}"].formula1 == '"yes,no"'
    cell = f"F{rows['mgmt.process_digital']}"
    share = checks[cell]
    assert (share.type, share.formula1) == (
        "custom",
        f"AND(ISNUMBER({cell}),{cell}>=0,{cell}<=100)",
    )
    assert share.errorTitle == "Not a number in range"
    assert f"F{rows['mgmt.comment']}" not in checks  # free text takes anything
    s.user.language = "th"
    db.session.commit()
    thai = workbook()
    checks = {str(cell): dv for dv in thai.data_validations.dataValidation for cell in dv.sqref}
    assert checks[f"F{rows['mgmt.leadership']}"].errorTitle == "ไม่ใช่ค่าในรายการ"
    assert checks[cell].error.endswith("ค่าอื่นจะถูกตรวจอีกครั้งเมื่ออัปโหลดไฟล์")


def test_the_workbook_writes_ranges_with_their_unit(client, s):
    def hints() -> dict[str, str]:
        sheet = load_workbook(io.BytesIO(client.get(s.url("workbook.xlsx")).data))["answers"]
        return {row[0].value: row[4].value for row in sheet.iter_rows(min_row=2)}

    english = hints()
    assert english["mgmt.process_digital"] == "0 – 100%"
    assert english["opendata.open_datasets"] == "≥ 0\u00a0datasets"
    assert english["mgmt.pmqa_level"].endswith("\n#NA = N/A")
    s.user.language = "th"
    db.session.commit()
    thai = hints()
    assert thai["mgmt.process_digital"] == "ร้อยละ\u00a00 – 100"
    assert thai["people.headcount"] == "≥ 1\u00a0คน"
