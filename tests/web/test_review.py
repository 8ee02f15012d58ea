"""The central office's round pages: overview, new round, progress monitor, workflow moves,
reviewing a response (verified values, accept / return), evidence downloads, audit trail."""

from __future__ import annotations

import csv
import io
import random
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from assess import thai
from assess.extensions import db
from assess.models import AuditEvent, Comment, Response, Round, VerifiedAnswer
from assess.questionnaires.answers import NA
from assess.questionnaires.model import Evidence as EvidencePolicy
from assess.review.routes import parse_verify_input, today
from assess.services import audit, evidence, responses, results
from assess.services.errors import InvalidAnswers
from assess.services.questionnaires import questionnaire_of
from assess.synthetic import agency_answers

PASSWORD = "correct horse battery"


def complete(response, coordinator, maturity=0.7, seed=1):
    """Save complete, realistic answers through the services, with every required evidence."""
    questionnaire = questionnaire_of(response.questionnaire)
    answers = agency_answers(questionnaire, maturity, random.Random(seed), 1.0)  # noqa: S311
    responses.save_answers(
        response,
        {code: responses.stored(value) for code, value in answers.items()},
        revision=response.revision,
        actor=coordinator,
    )
    for question in questionnaire.iter_questions():
        value = answers.get(question.code)
        if question.evidence is EvidencePolicy.REQUIRED and value is not None and value is not NA:
            evidence.add_url(
                response,
                coordinator,
                question.code,
                f"https://evidence.example.go.th/{question.code}",
            )
    assert results.score(response).submittable
    db.session.commit()


def submit(response, coordinator, maturity=0.7, seed=1):
    complete(response, coordinator, maturity, seed)
    responses.submit(response, coordinator)
    db.session.commit()


@pytest.fixture
def scene(world):
    version = world.questionnaire()
    rd = world.agency("MOF-RD", type="department", province="Bangkok")
    cmi = world.agency("PROV-CMI", type="province", province="Chiang Mai", name_en="Chiang Mai")
    bkk = world.agency("LAO-BKK", type="local", province="Bangkok", name_en="Bangkok Metropolis")
    coordinator = world.user("rd@example.go.th", agency=rd)
    cmi_coordinator = world.user("cmi@example.go.th", agency=cmi)
    world.user("bkk@example.go.th", agency=bkk)
    reviewer = world.user("reviewer@example.go.th", role="reviewer")
    admin = world.user("admin@example.go.th", role="admin")
    for user in (coordinator, cmi_coordinator, reviewer, admin):
        user.language = "en"  # the tests read English text, whatever the catalogue
    db.session.commit()
    round_ = world.round(version, agencies=[rd, cmi, bkk], status="open", name="Round 2569")
    return SimpleNamespace(
        version=version,
        rd=rd,
        cmi=cmi,
        bkk=bkk,
        coordinator=coordinator,
        cmi_coordinator=cmi_coordinator,
        reviewer=reviewer,
        admin=admin,
        round=round_,
        response=world.response(round_, rd),
    )


def page_of(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def read_csv(response):
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


# -- who may come in -------------------------------------------------------------------------


def central_urls(app, scene):
    """Every route under /central, with sample arguments, and its methods."""
    values = {
        "round_id": scene.round.id,
        "agency_code": scene.rd.code,
        "evidence_id": 1,
        "target": "closed",
        "code": scene.rd.code,
        "user_id": scene.reviewer.id,
        "version_id": scene.version.id,
    }
    adapter = app.url_map.bind("assess.test")
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/central"):
            continue
        # Ids the scene has no object for (a dispute, a job) are 1: refused before any lookup.
        url = adapter.build(rule.endpoint, {a: values.get(a, 1) for a in rule.arguments})
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule, url, method


def test_coordinator_gets_403_on_every_central_route(app, client, auth, scene):
    auth.login("rd@example.go.th")
    seen = 0
    for _rule, url, method in central_urls(app, scene):
        response = client.open(url, method=method)
        assert response.status_code == 403, (method, url)
        seen += 1
    assert seen >= 25
    assert db.session.get(Round, scene.round.id).status == "open"


def test_anonymous_is_sent_to_sign_in(app, client, scene):
    for _rule, url, method in central_urls(app, scene):
        response = client.open(url, method=method)
        assert response.status_code == 302, (method, url)
        assert "/login" in response.headers["Location"]


def test_reviewer_reaches_rounds_and_registers(client, auth, scene):
    auth.login("reviewer@example.go.th")
    containers: list[str] = []
    for url in (
        "/central/rounds",
        "/central/rounds/new",
        f"/central/rounds/{scene.round.id}",
        f"/central/rounds/{scene.round.id}/responses/MOF-RD",
        f"/central/rounds/{scene.round.id}/responses/MOF-RD/audit",
        "/central/agencies",
        "/central/questionnaires",
        f"/central/questionnaires/{scene.version.id}",
    ):
        html = page_of(client, url)
        containers.append(url)
        # The footer lines up with the page: both use the page's container block.
        main = re.search(r'<main id="main" class="([^"]+) py-4">', html)
        footer = re.search(r'<footer[^>]*>\s*<div class="([^"]+) d-flex', html)
        assert main, url
        assert footer, url
        assert footer.group(1) == main.group(1), url
        containers[-1] = main.group(1)
    assert "container-fluid px-lg-4" in containers  # the full-width central pages
    assert client.get(f"/central/rounds/{scene.round.id}/responses/NOPE").status_code == 404
    assert client.get("/central/rounds/999").status_code == 404


# -- rounds overview and new round -----------------------------------------------------------


def test_rounds_overview_shows_status_and_figures(client, auth, scene):
    submit(scene.response, scene.coordinator)
    auth.login("reviewer@example.go.th")
    html = page_of(client, "/central/rounds")
    assert "Round 2569" in html
    assert "dg-readiness@2569" in html
    assert "Fiscal year 2569 (2025–26)" in html
    # The response rate by agency type (pages.md): a department of one, answered; a
    # province and a local administration of one each, not.
    by_type = html.split('<details class="small mt-1 by-type">')[1].split("</details>")[0]
    assert re.findall(r">([^<]+)</a> <span[^>]*>([^<]+)</span>", by_type) == [
        ("Department", "100.0% (1/1)"),
        ("Province", "0.0% (0/1)"),
        ("Local administration", "0.0% (0/1)"),
    ]
    rows = read_csv(client.get("/central/rounds.csv"))
    assert rows[0]["invited"] == "3"
    assert rows[0]["started"] == "1"
    assert rows[0]["submitted"] == "1"
    assert rows[0]["response_rate"] == "33.3"
    assert rows[0]["status"] == "open"


def test_new_round_with_invited_agency_types(client, auth, scene):
    auth.login("admin@example.go.th")
    html = page_of(client, "/central/rounds/new")
    assert f'value="{thai.fiscal_year(today())}"' in html  # the current fiscal year
    response = client.post(
        "/central/rounds/new",
        data={
            "questionnaire": scene.version.id,
            "name": "Pilot of provinces",
            "fiscal_year": "2570",
            "opens_on": "2026-10-01",
            "closes_on": "2026-12-31",
            "live_preview": "y",
            "invite": "types",
            "agency_types": ["province", "local"],
        },
    )
    assert response.status_code == 302
    created = db.session.scalar(select(Round).filter_by(name="Pilot of provinces"))
    assert created.status == "draft"
    assert created.live_preview is True
    assert created.fiscal_year == 2570
    assert sorted(r.agency.code for r in created.responses) == ["LAO-BKK", "PROV-CMI"]
    assert response.headers["Location"].endswith(f"/central/rounds/{created.id}")


def test_new_round_refuses_unknown_codes_and_keeps_the_input(client, auth, scene):
    auth.login("reviewer@example.go.th")
    response = client.post(
        "/central/rounds/new",
        data={
            "questionnaire": scene.version.id,
            "name": "Typed name stays",
            "fiscal_year": "2569",
            "invite": "codes",
            "agency_codes": "MOF-RD, NO-SUCH",
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "NO-SUCH" in html
    assert "Typed name stays" in html
    assert db.session.scalar(select(Round).filter_by(name="Typed name stays")) is None
    # Dates the wrong way round: the service's problem is shown.
    response = client.post(
        "/central/rounds/new",
        data={
            "questionnaire": scene.version.id,
            "name": "Backwards",
            "fiscal_year": "2569",
            "opens_on": "2026-03-01",
            "closes_on": "2026-01-01",
            "invite": "all",
        },
    )
    assert response.status_code == 422
    assert "closes before it opens" in response.get_data(as_text=True)
    assert db.session.scalar(select(Round).filter_by(name="Backwards")) is None


# -- workflow moves --------------------------------------------------------------------------


def test_round_moves_through_the_whole_workflow(client, auth, world, scene):
    draft = world.round(scene.version, agencies=[scene.rd, scene.cmi], status="draft", name="Moves")
    auth.login("reviewer@example.go.th")
    base = f"/central/rounds/{draft.id}"
    html = page_of(client, base)
    assert f'{base}/move/open"' in html
    assert f"{base}/move/published" not in html
    # Wrong move: publishing a draft is refused with a message, nothing changes.
    confirm = page_of(client, f"{base}/move/published")
    assert "can move to" in confirm
    response = client.post(f"{base}/move/published", follow_redirects=True)
    assert "can be published only when closed" in response.get_data(as_text=True)
    assert db.session.get(Round, draft.id).status == "draft"

    assert "Open the round" in page_of(client, f"{base}/move/open")
    response = client.post(f"{base}/move/open", follow_redirects=True)
    assert "The round is open" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Round, draft.id).status == "open"
    assert client.post(f"{base}/move/open").status_code == 302
    db.session.expire_all()
    assert db.session.get(Round, draft.id).status == "open"  # open → open refused

    submit(world.response(draft, scene.rd), scene.coordinator)
    response = client.post(f"{base}/move/closed", follow_redirects=True)
    assert "The round is closed" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Round, draft.id).status == "closed"

    assert "not accepted" in page_of(client, f"{base}/move/published")
    response = client.post(f"{base}/move/published", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "The results are published" in html
    assert "2 responses were scored again" in html
    db.session.expire_all()
    published = db.session.get(Round, draft.id)
    assert published.status == "published"
    assert published.published_at is not None
    response = client.post(f"{base}/move/closed", follow_redirects=True)
    assert "can be closed only when open" in response.get_data(as_text=True)
    assert client.get(f"{base}/move/sideways").status_code == 404
    actions = db.session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.round_id == draft.id, AuditEvent.response_id.is_(None)
        )
    ).all()
    assert {"round.open", "round.closed", "round.published"} <= set(actions)


def test_live_preview_setting(client, auth, scene):
    auth.login("reviewer@example.go.th")
    response = client.post(f"/central/rounds/{scene.round.id}/settings", data={"live_preview": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Round, scene.round.id).live_preview is True
    client.post(f"/central/rounds/{scene.round.id}/settings", data={})
    db.session.expire_all()
    assert db.session.get(Round, scene.round.id).live_preview is False


# -- progress monitor ------------------------------------------------------------------------


def test_progress_monitor_counts_filters_and_exports(client, auth, scene):
    submit(scene.response, scene.coordinator)
    cmi = responses.get_response(scene.round, scene.cmi)
    responses.save_answers(
        cmi, {"mgmt.leadership": 2}, revision=cmi.revision, actor=scene.cmi_coordinator
    )
    db.session.commit()
    auth.login("reviewer@example.go.th")
    base = f"/central/rounds/{scene.round.id}"
    html = page_of(client, base)
    for code in ("MOF-RD", "PROV-CMI", "LAO-BKK"):
        assert code in html
    own = results.result_of(scene.response, "self")
    assert own.overall_score in html
    assert "33.3%" in html  # one of three submitted
    assert "Response rate by agency type" in html

    pending = page_of(client, f"{base}?status=pending")
    assert "PROV-CMI" in pending
    assert "LAO-BKK" in pending
    assert "MOF-RD" not in pending.split("Progress of the invited agencies")[1]
    by_type = page_of(client, f"{base}?type=province")
    assert "PROV-CMI" in by_type
    assert "LAO-BKK" not in by_type.split("Progress of the")[1]
    by_province = page_of(client, f"{base}?province=Bangkok")
    table = by_province.split("Progress of the")[1]
    assert "MOF-RD" in table
    assert "LAO-BKK" in table
    assert "PROV-CMI" not in table
    searched = page_of(client, f"{base}?q=chiang").split("Progress of the")[1]
    assert "PROV-CMI" in searched
    assert "MOF-RD" not in searched

    rows = read_csv(client.get(f"{base}/responses.csv"))
    assert [r["agency"] for r in rows] == ["LAO-BKK", "MOF-RD", "PROV-CMI"]
    by_code = {r["agency"]: r for r in rows}
    assert by_code["MOF-RD"]["status"] == "submitted"
    assert by_code["MOF-RD"]["completeness"] == "100.0"
    assert by_code["MOF-RD"]["self_score"] == own.overall_score
    assert by_code["PROV-CMI"]["status"] == "draft"
    assert by_code["PROV-CMI"]["last_activity"]

    reminders = client.get(f"{base}/responses.csv?status=pending")
    assert "reminders" in reminders.headers["Content-Disposition"]
    rows = read_csv(reminders)
    assert {r["agency"]: r["coordinator_emails"] for r in rows} == {
        "LAO-BKK": "bkk@example.go.th",
        "PROV-CMI": "cmi@example.go.th",
    }
    rows = read_csv(client.get(f"{base}/responses.csv?type=local"))
    assert [r["agency"] for r in rows] == ["LAO-BKK"]


def test_progress_monitor_paginates(client, auth, world):
    version = world.questionnaire()
    agencies = [world.agency(f"AG-{i:03d}") for i in range(60)]
    world.user("reviewer@example.go.th", role="reviewer")
    round_ = world.round(version, agencies=agencies)
    auth.login("reviewer@example.go.th")
    first = page_of(client, f"/central/rounds/{round_.id}")
    assert "AG-000" in first
    assert "AG-049" in first
    assert "AG-050" not in first
    second = page_of(client, f"/central/rounds/{round_.id}?page=2")
    assert "AG-050" in second
    assert "AG-059" in second
    assert "AG-010" not in second
    assert "51–60" in second


# -- review: accept, return ------------------------------------------------------------------


def test_accept_a_submitted_response(client, auth, scene):
    submit(scene.response, scene.coordinator)
    auth.login("reviewer@example.go.th")
    url = f"/central/rounds/{scene.round.id}/responses/MOF-RD"
    html = page_of(client, url)
    assert 'value="accept"' in html
    response = client.post(f"{url}/review", data={"action": "accept", "comment": "Well done"})
    assert response.status_code == 302
    db.session.expire_all()
    found = db.session.get(Response, scene.response.id)
    assert found.status == "accepted"
    assert found.reviewed_at is not None
    html = page_of(client, url)
    assert "Well done" in html
    assert "reviewer@example.go.th" in html


def test_return_needs_a_comment_and_keeps_question_comments(client, auth, scene):
    submit(scene.response, scene.coordinator)
    auth.login("reviewer@example.go.th")
    url = f"/central/rounds/{scene.round.id}/responses/MOF-RD"
    refused = client.post(f"{url}/review", data={"action": "return", "comment": "  "})
    assert refused.status_code == 422
    assert "say why the response is returned" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Response, scene.response.id).status == "submitted"
    assert db.session.scalars(select(Comment)).all() == []

    response = client.post(
        f"{url}/review",
        data={
            "action": "return",
            "comment": "",
            "qcomment-mgmt.leadership": "Attach the signed policy.",
            "qcomment-mgmt.kpi_dashboard": "",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    found = db.session.get(Response, scene.response.id)
    assert found.status == "returned"
    [comment] = found.comments
    assert comment.question_code == "mgmt.leadership"
    assert comment.body == "Attach the signed policy."
    assert comment.author_id == scene.reviewer.id
    html = page_of(client, url)
    assert "Attach the signed policy." in html
    # A returned response can be neither accepted nor returned again.
    refused = client.post(f"{url}/review", data={"action": "accept"})
    assert refused.status_code == 422
    assert "only a submitted response can be accepted" in refused.get_data(as_text=True)


def test_refused_return_keeps_what_was_typed(client, auth, scene):
    submit(scene.response, scene.coordinator)
    auth.login("reviewer@example.go.th")
    url = f"/central/rounds/{scene.round.id}/responses/MOF-RD"
    refused = client.post(
        f"{url}/review",
        data={"action": "return", "comment": "General note", "qcomment-no.such": "Typed text"},
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "no.such" in html
    assert "General note" in html
    assert db.session.scalars(select(Comment)).all() == []


def test_accepting_a_draft_is_refused(client, auth, scene):
    responses.save_answers(
        scene.response, {"mgmt.leadership": 2}, revision=0, actor=scene.coordinator
    )
    db.session.commit()
    auth.login("reviewer@example.go.th")
    url = f"/central/rounds/{scene.round.id}/responses/MOF-RD"
    html = page_of(client, url)
    assert 'value="accept"' not in html
    refused = client.post(f"{url}/review", data={"action": "accept"})
    assert refused.status_code == 422
    assert "the response is draft" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Response, scene.response.id).status == "draft"


# -- review: answers shown readably, verified values ------------------------------------------


def test_review_page_renders_answers_readably(client, auth, scene):
    submit(scene.response, scene.coordinator)
    auth.login("reviewer@example.go.th")
    html = page_of(client, f"/central/rounds/{scene.round.id}/responses/MOF-RD")
    questionnaire = questionnaire_of(scene.version)
    stored = responses.current_json(scene.response)
    leadership = questionnaire.question("mgmt.leadership")
    option = leadership.option(stored["mgmt.leadership"])
    assert option.label.get("en") in html
    section = html.split('id="q-mgmt.customer_voice"')[1].split("</li>\n")[0]
    for value in stored["mgmt.customer_voice"]:  # a multi: every chosen option's label
        assert (
            questionnaire.question("mgmt.customer_voice").option(value).label.get("en") in section
        )
    number = next(
        q
        for q in questionnaire.iter_questions()
        if q.type.value == "number" and q.unit and q.code in stored
    )
    section = html.split(f'id="q-{number.code}"')[1].split("</li>\n")[0]
    assert number.unit.get("en") in section
    yesno = next(
        q for q in questionnaire.iter_questions() if q.type.value == "yesno" and q.code in stored
    )
    section = html.split(f'id="q-{yesno.code}"')[1].split("</li>\n")[0]
    assert ("Yes" if stored[yesno.code] is True else "No") in section
    # URL evidence is an external link that leaks nothing.
    assert 'href="https://evidence.example.go.th/' in html
    assert 'rel="noopener noreferrer"' in html
    for dim in questionnaire.dimensions:
        assert f'id="d-{dim.code}"' in html


def test_number_answers_read_with_their_thousands_grouped(client, auth, scene):
    complete(scene.response, scene.coordinator)
    responses.save_answers(
        scene.response,
        {"service.service_count": 4250},
        revision=scene.response.revision,
        actor=scene.coordinator,
    )
    responses.submit(scene.response, scene.coordinator)
    db.session.commit()
    auth.login("reviewer@example.go.th")
    html = page_of(client, f"/central/rounds/{scene.round.id}/responses/MOF-RD")
    section = html.split('id="q-service.service_count"')[1].split("</li>\n")[0]
    assert "4,250\u00a0services" in section


def test_grouped_numbers():
    from decimal import Decimal

    from assess.formatting import grouped

    assert grouped(12_500_000) == "12,500,000"
    assert grouped(Decimal("1250.50")) == "1,250.5"
    assert grouped(Decimal("-1234567.891")) == "-1,234,567.891"
    assert grouped(Decimal("1E+3")) == "1,000"
    assert grouped(-0.25) == "-0.25"
    assert grouped(1e-7) == "0.0000001"
    assert grouped(0) == "0"


def test_verified_value_changes_the_verified_score(client, auth, scene):
    submit(scene.response, scene.coordinator)
    auth.login("reviewer@example.go.th")
    url = f"/central/rounds/{scene.round.id}/responses/MOF-RD"
    own_before = results.result_of(scene.response, "self").overall_score
    current = responses.current_json(scene.response)["mgmt.leadership"]
    target = 0 if current != 0 else 4
    response = client.post(
        f"{url}/verify",
        data={"code": "mgmt.leadership", "value": str(target), "reason": "Policy not signed yet"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("#q-mgmt.leadership")
    db.session.expire_all()
    row = db.session.scalar(select(VerifiedAnswer))
    assert row.question_code == "mgmt.leadership"
    assert row.value == target
    assert type(row.value) is int
    assert row.reason == "Policy not signed yet"
    assert row.verified_by_id == scene.reviewer.id
    found = db.session.get(Response, scene.response.id)
    own = results.result_of(found, "self")
    checked = results.result_of(found, "verified")
    assert own.overall_score == own_before
    assert checked.overall_score != own.overall_score
    assert checked.dimensions["mgmt"]["score"] != own.dimensions["mgmt"]["score"]
    html = page_of(client, url)
    assert "Policy not signed yet" in html
    # The answer shares the width with a verified value only when there is one.
    verified_q = html.split('id="q-mgmt.leadership"')[1].split('class="list-group-item review-q')[0]
    assert '<div class="col-md-6">' in verified_q
    assert "verified-box" in verified_q
    plain_q = html.split('id="q-mgmt.strategy"')[1].split('class="list-group-item review-q')[0]
    assert '<div class="col-12">' in plain_q
    assert "col-md-6" not in plain_q
    self_cell = html.split('data-kind="self-overall"')[1].split("</td>")[0]
    verified_cell = html.split('data-kind="verified-overall"')[1].split("</td>")[0]
    assert own.overall_score in self_cell
    assert checked.overall_score in verified_cell
    # An empty value with a reason removes the verification, and the scores meet again.
    response = client.post(
        f"{url}/verify", data={"code": "mgmt.leadership", "value": "", "reason": "Signed after all"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    found = db.session.get(Response, scene.response.id)
    assert found.verified == []
    assert results.result_of(found, "verified").overall_score == own.overall_score


def test_verification_without_reason_is_refused(client, auth, scene):
    submit(scene.response, scene.coordinator)
    auth.login("reviewer@example.go.th")
    url = f"/central/rounds/{scene.round.id}/responses/MOF-RD"
    refused = client.post(
        f"{url}/verify", data={"code": "mgmt.leadership", "value": "1", "reason": ""}
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "give the reason for the verified value" in html
    # What was typed is kept: the chosen option stays selected in the open form.
    form = html.split('id="q-mgmt.leadership"')[1].split("</form>")[0]
    assert '<option value="1" selected>' in form
    assert '<details class="review-tool" open>' in form
    assert db.session.scalars(select(VerifiedAnswer)).all() == []
    refused = client.post(
        f"{url}/verify", data={"code": "mgmt.leadership", "value": "99", "reason": "typo"}
    )
    assert refused.status_code == 422
    assert "is not an option" in refused.get_data(as_text=True)
    assert db.session.scalars(select(VerifiedAnswer)).all() == []


def test_a_verified_value_s_reason_is_at_most_4000_characters_and_kept_when_refused(
    client, auth, scene
):
    """As a dispute's explanation and decision: a reason of 6,000 characters was kept whole,
    and one long word of it stretched the response's audit trail across the page."""
    submit(scene.response, scene.coordinator)
    auth.login("reviewer@example.go.th")
    url = f"/central/rounds/{scene.round.id}/responses/MOF-RD"
    long = "ก" * 4001
    refused = client.post(
        f"{url}/verify", data={"code": "mgmt.leadership", "value": "1", "reason": long}
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "the reason is too long (at most 4,000 characters)" in html
    form = html.split('id="q-mgmt.leadership"')[1].split("</form>")[0]
    assert long in form  # what was typed is there to shorten
    assert db.session.scalars(select(VerifiedAnswer)).all() == []
    # The service refuses it too (the API and the command line come through it).
    with pytest.raises(InvalidAnswers, match="too long"):
        responses.verify(scene.response, scene.reviewer, "mgmt.leadership", 1, long)
    db.session.rollback()
    done = client.post(
        f"{url}/verify", data={"code": "mgmt.leadership", "value": "1", "reason": "ก" * 4000}
    )
    assert done.status_code == 302


def test_verify_input_becomes_the_interchange_value(app, world):
    with app.test_request_context():
        check_verify_input(world)


def check_verify_input(world):
    questionnaire = questionnaire_of(world.questionnaire())
    by_type = {}
    for question in questionnaire.iter_questions():
        by_type.setdefault(question.type.value, question)
    level = by_type["level"]
    assert parse_verify_input(level, [str(level.options[1].value)]) == level.options[1].value
    multi = by_type["multi"]
    plain = [o for o in multi.options if not o.exclusive][:2]
    assert parse_verify_input(multi, [str(o.value) for o in plain]) == [o.value for o in plain]
    assert parse_verify_input(by_type["yesno"], ["yes"]) is True
    assert parse_verify_input(by_type["yesno"], ["no"]) is False
    number = by_type["number"]
    assert parse_verify_input(number, ["42"]) == 42
    assert parse_verify_input(number, ["๔๒"]) == 42  # as the answer page takes it
    assert parse_verify_input(number, [" 4.5 "]) == 4.5
    assert parse_verify_input(by_type["text"], ["Checked on site"]) == "Checked on site"
    assert parse_verify_input(level, ["", "  "]) is None
    with_na = next(q for q in questionnaire.iter_questions() if q.allow_na)
    assert parse_verify_input(with_na, ["#NA"]) == {"na": True}
    from assess.questionnaires.answers import AnswerError

    with pytest.raises(AnswerError):
        parse_verify_input(number, ["lots"])
    with pytest.raises(AnswerError):
        parse_verify_input(level, ["1", "2"])


def test_evidence_file_download(app, client, auth, scene):
    questionnaire = questionnaire_of(scene.version)
    code = next(
        q.code for q in questionnaire.iter_questions() if q.evidence is not EvidencePolicy.NONE
    )
    item = evidence.add_file(
        scene.response,
        scene.coordinator,
        code,
        "นโยบาย.pdf",
        io.BytesIO(b"%PDF-1.4 signed policy"),
        folder=app.config["EVIDENCE_FOLDER"],
        max_bytes=app.config["EVIDENCE_MAX_BYTES"],
    )
    db.session.commit()
    evidence.add_url(scene.response, scene.coordinator, code, "https://example.go.th/policy")
    db.session.commit()
    auth.login("reviewer@example.go.th")
    html = page_of(client, f"/central/rounds/{scene.round.id}/responses/MOF-RD")
    assert f"/central/evidence/{item.id}" in html
    # Text badges (no emoji, which show as boxes without an emoji font) and a readable size.
    section = html.split(f'id="q-{code}"')[1].split('class="list-group-item review-q')[0]
    assert '<span class="badge text-bg-light border">File</span>' in section
    assert '<span class="badge text-bg-light border">Link</span>' in section
    assert "(22 bytes)" in section
    assert "📎" not in html
    assert "🔗" not in html
    # In Thai too.
    scene.reviewer.language = "th"
    db.session.commit()
    html = page_of(client, f"/central/rounds/{scene.round.id}/responses/MOF-RD")
    section = html.split(f'id="q-{code}"')[1].split('class="list-group-item review-q')[0]
    assert '<span class="badge text-bg-light border">ไฟล์</span>' in section
    assert '<span class="badge text-bg-light border">ลิงก์</span>' in section
    assert "(22 ไบต์)" in section
    response = client.get(f"/central/evidence/{item.id}")
    try:
        assert response.status_code == 200
        assert response.data == b"%PDF-1.4 signed policy"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "attachment" in response.headers["Content-Disposition"]
        assert response.mimetype == "application/pdf"
    finally:
        response.close()
    assert client.get("/central/evidence/9999").status_code == 404


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


def test_evidence_pictures_and_pdfs_are_previewed_others_downloaded(app, client, auth, scene):
    """pages.md: answers by dimension *with evidence previews*. A picture is drawn beside
    the answer and a PDF opens in the browser's viewer; an office file is downloaded only,
    whatever ``?view=1`` asks; every one of them with no script of any kind allowed."""
    questionnaire = questionnaire_of(scene.version)
    code = next(
        q.code for q in questionnaire.iter_questions() if q.evidence is not EvidencePolicy.NONE
    )
    folder, limit = app.config["EVIDENCE_FOLDER"], app.config["EVIDENCE_MAX_BYTES"]

    def add(name: str, data: bytes):  # type: ignore[no-untyped-def]
        item = evidence.add_file(
            scene.response, scene.coordinator, code, name, io.BytesIO(data), folder=folder,
            max_bytes=limit,
        )  # fmt: skip
        db.session.commit()
        return item

    picture = add("หน้าจอระบบ.png", PNG)
    pdf = add("แผน.pdf", b"%PDF-1.4 plan")
    sheet = add("บันทึก.txt", b"notes, not shown in the browser")
    auth.login("reviewer@example.go.th")
    html = page_of(client, f"/central/rounds/{scene.round.id}/responses/MOF-RD")
    section = html.split(f'id="q-{code}"')[1].split('class="list-group-item review-q')[0]
    assert (
        f'<img src="/central/evidence/{picture.id}?view=1" alt="Picture: หน้าจอระบบ.png"' in section
    )
    assert (
        f'href="/central/evidence/{pdf.id}?view=1" target="_blank" rel="noopener" data-kind="pdf"'
        in section
    )
    assert f"/central/evidence/{sheet.id}?view=1" not in section
    for item, kind, inline in ((picture, "image/png", True), (pdf, "application/pdf", True),
                               (sheet, sheet.content_type, False)):  # fmt: skip
        reply = client.get(f"/central/evidence/{item.id}?view=1")
        try:
            assert reply.status_code == 200
            assert reply.mimetype == kind
            disposition = reply.headers["Content-Disposition"]
            assert disposition.startswith("inline" if inline else "attachment"), disposition
            assert reply.headers["X-Content-Type-Options"] == "nosniff"
            policy = reply.headers["Content-Security-Policy"]
            assert policy.startswith("default-src 'none'")
            # The PDF viewer does not run in a sandbox; everything else is sandboxed.
            assert ("sandbox" in policy) is (kind != "application/pdf")
        finally:
            reply.close()


def test_file_sizes_are_written_for_people(app):
    from assess.formatting import file_size

    with app.test_request_context("/?lang=en"):
        assert file_size(None) == ""
        assert file_size(1) == "1 byte"
        assert file_size(329) == "329 bytes"
        assert file_size(1024) == "1 KB"
        assert file_size(1025) == "2 KB"  # rounded up: never "0 KB"
        assert file_size(1536 * 1024) == "1.5 MB"
    with app.test_request_context("/?lang=th"):
        assert file_size(329) == "329 ไบต์"
        assert file_size(1536 * 1024) == "1.5 MB"


# -- audit trail -----------------------------------------------------------------------------


def test_audit_trail_lists_changes_and_reviews(client, auth, scene):
    responses.save_answers(
        scene.response, {"mgmt.leadership": 1}, revision=0, actor=scene.coordinator
    )
    db.session.commit()
    responses.save_answers(
        scene.response, {"mgmt.leadership": 3}, revision=1, actor=scene.coordinator
    )
    db.session.commit()
    submit(scene.response, scene.coordinator)
    auth.login("reviewer@example.go.th")
    url = f"/central/rounds/{scene.round.id}/responses/MOF-RD"
    client.post(f"{url}/verify", data={"code": "mgmt.leadership", "value": "2", "reason": "Seen"})
    client.post(f"{url}/review", data={"action": "return", "comment": "Fix the policy"})
    html = page_of(client, f"{url}/audit")
    assert "Answer changed" in html
    assert "Verified value" in html
    assert "Status changed" in html
    assert "Reviewer comment" in html
    assert "Fix the policy" in html
    assert "rd@example.go.th" in html
    assert "reviewer@example.go.th" in html
    # Newest first: the return comes before the first answer.
    table = html.split("<tbody>")[1]
    assert table.index(">Returned<") < table.index("Answer changed")
    # Status changes show the statuses' names (the code stays in the title), not raw codes.
    assert '<span title="submitted">Submitted</span>' in table
    assert '<span title="returned">Returned</span>' in table
    assert ">returned<" not in table
    filtered = page_of(client, f"{url}/audit?question=mgmt.leadership&action=answer")
    rows = filtered.split("<tbody>")[1].split("</tbody>")[0]
    assert rows.count("<tr>") >= 3
    assert '<code class="text-body">1</code>' in rows
    assert '<code class="text-body">3</code>' in rows
    assert "Status changed" not in rows
    exported = read_csv(client.get(f"{url}/audit?format=csv&question=mgmt.leadership"))
    changes = [(r["old"], r["new"]) for r in exported if r["action"] == "answer"]
    assert ("1", "3") in changes
    assert ("", "1") in changes
    assert any(r["action"] == "verify" and r["detail"] == "Seen" for r in exported)
    # The export keeps the codes, for machines.
    statuses = read_csv(client.get(f"{url}/audit?format=csv&action=status"))
    assert ("submitted", "returned") in [(r["old"], r["new"]) for r in statuses]


def test_the_audit_trail_has_no_editing_routes(app, client, auth, scene):
    for rule in app.url_map.iter_rules():
        if "audit" in rule.rule:
            assert (rule.methods or set()) <= {"GET", "HEAD", "OPTIONS"}, rule.rule
    auth.login("admin@example.go.th")
    url = f"/central/rounds/{scene.round.id}/responses/MOF-RD/audit"
    assert client.post(url).status_code == 405
    assert client.delete(url).status_code == 405


def test_the_monitor_and_review_name_provinces_in_the_readers_language(client, auth, scene):
    """Thai pages show "กรุงเทพมหานคร" for the stored "Bangkok": in the filter, the table
    and the review's heading; a Thai name in the query filters as the stored one."""
    submit(scene.response, scene.coordinator)
    scene.reviewer.language = "th"
    db.session.commit()
    auth.login("reviewer@example.go.th")
    base = f"/central/rounds/{scene.round.id}"
    html = page_of(client, base)
    assert ">กรุงเทพมหานคร</option>" in html
    assert '<td class="small">กรุงเทพมหานคร</td>' in html
    assert '<td class="small">Bangkok</td>' not in html
    by_thai = page_of(client, f"{base}?province=เชียงใหม่")
    assert "PROV-CMI" in by_thai.split("<tbody>")[-1]
    assert "MOF-RD" not in by_thai.split("<tbody>")[-1]
    review = page_of(client, f"{base}/responses/MOF-RD")
    assert " · กรุงเทพมหานคร" in review


def test_numbers_are_written_with_their_unit_as_each_language_does(client, auth, scene):
    """Thai writes ร้อยละ before the number ("ร้อยละ 45.5"), English "45.5%": in the answers
    shown and beside the verified-value field."""
    submit(scene.response, scene.coordinator)
    stored = responses.current_json(scene.response)
    number = format(Decimal(str(stored["mgmt.process_digital"])), "f")
    url = f"/central/rounds/{scene.round.id}/responses/MOF-RD"
    auth.login("reviewer@example.go.th")
    section = page_of(client, url).split('id="q-mgmt.process_digital"')[1].split("</li>\n")[0]
    assert f"{number}%" in section
    scene.reviewer.language = "th"
    db.session.commit()
    html = page_of(client, url)
    section = html.split('id="q-mgmt.process_digital"')[1].split("</li>\n")[0]
    assert f"ร้อยละ\u00a0{number}" in section
    assert f"{number} ร้อยละ" not in section
    # The field's unit reads before the box in Thai, as the number is read aloud.
    field = html.split('id="q-mgmt.process_digital"')[1].split("</form>")[0]
    assert field.index('input-group-text">ร้อยละ<') < field.index('name="value"')
    # Other units follow the number.
    count = html.split('id="q-service.service_count"')[1].split("</form>")[0]
    assert count.index('name="value"') < count.index('input-group-text">งานบริการ<')


# -- two reviewers, one response ---------------------------------------------------------------


def seen_on(html: str) -> dict[str, str]:
    """The status and revision the review form says its page showed."""
    return dict(re.findall(r'<input type="hidden" name="(seen_\w+)" value="([^"]*)">', html))


def test_a_stale_return_does_not_undo_a_colleagues_accept(client, auth, scene):
    """Reviewer B's page still shows "submitted" when A accepts; B's return (with what B
    wrote) is refused, says who accepted and when, and keeps what B wrote."""
    submit(scene.response, scene.coordinator)
    auth.login("reviewer@example.go.th")
    url = f"/central/rounds/{scene.round.id}/responses/MOF-RD"
    seen = seen_on(page_of(client, url))
    assert seen == {"seen_status": "submitted", "seen_revision": str(scene.response.revision)}
    responses.review(scene.response, scene.admin, "accept")  # A, meanwhile
    db.session.commit()
    refused = client.post(
        f"{url}/review",
        data={
            "action": "return",
            "comment": "Attach more evidence.",
            "qcomment-mgmt.leadership": "Which policy?",
            **seen,
        },
    )
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert "the response was accepted by admin@example.go.th at " in html
    assert "reload the page, then decide again" in html
    assert "Attach more evidence.</textarea>" in html
    assert "Which policy?</textarea>" in html
    db.session.expire_all()
    found = db.session.get(Response, scene.response.id)
    assert found.status == "accepted"
    assert [c.body for c in found.comments] == []
    # The page shown again shows the response as it is now: returning it is now a decision
    # taken on the accepted response, which the page offers.
    assert seen_on(html)["seen_status"] == "accepted"
    assert 'value="return"' in html


def test_a_stale_accept_is_refused_too(client, auth, scene):
    submit(scene.response, scene.coordinator)
    auth.login("reviewer@example.go.th")
    url = f"/central/rounds/{scene.round.id}/responses/MOF-RD"
    seen = seen_on(page_of(client, url))
    responses.review(scene.response, scene.admin, "return", "Fix it.")
    db.session.commit()
    refused = client.post(f"{url}/review", data={"action": "accept", "comment": "Good", **seen})
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert "the response was returned by admin@example.go.th" in html
    # A returned response has no review form: what was written is shown, not lost.
    assert 'id="review-form"' not in html
    kept = html.split('data-kind="not-saved"')[1].split("</div>")[0]
    assert "What you wrote was not saved:" in kept
    assert "Good</p>" in kept
    db.session.expire_all()
    assert db.session.get(Response, scene.response.id).status == "returned"


def test_returning_an_accepted_response_on_purpose(client, auth, scene):
    submit(scene.response, scene.coordinator)
    responses.review(scene.response, scene.admin, "accept")
    db.session.commit()
    auth.login("reviewer@example.go.th")
    url = f"/central/rounds/{scene.round.id}/responses/MOF-RD"
    html = page_of(client, url)
    assert 'value="return"' in html
    reply = client.post(
        f"{url}/review", data={"action": "return", "comment": "Reopened.", **seen_on(html)}
    )
    assert reply.status_code == 302
    db.session.expire_all()
    assert db.session.get(Response, scene.response.id).status == "returned"


def test_the_review_service_checks_what_the_reviewer_saw(scene):
    from assess.services.errors import WrongState

    submit(scene.response, scene.coordinator)
    seen = scene.response.revision
    responses.review(scene.response, scene.admin, "accept")
    db.session.commit()
    with pytest.raises(WrongState, match="accepted by admin@example.go.th"):
        responses.review(
            scene.response, scene.reviewer, "return", "No.", expected_status="submitted"
        )
    db.session.rollback()
    with pytest.raises(WrongState, match="changed meanwhile"):
        responses.review(
            scene.response,
            scene.reviewer,
            "return",
            "No.",
            expected_status="accepted",
            expected_revision=seen - 1,
        )
    db.session.rollback()
    # Without what was seen (the API, scripts): as before.
    responses.review(scene.response, scene.reviewer, "return", "No.")
    db.session.commit()
    assert scene.response.status == "returned"


# -- the review queue ----------------------------------------------------------------------------


@pytest.fixture
def queue(world):
    """Six agencies in two provinces, four of them submitted at different times."""
    import datetime as dt

    from tests.conftest import fill

    version = world.questionnaire()
    places = {
        "AG-1": "Suphan Buri",
        "AG-2": "Surin",
        "AG-3": "Suphan Buri",
        "AG-4": "Surin",
        "AG-5": "Suphan Buri",
        "AG-6": "Suphan Buri",
    }
    agencies = {code: world.agency(code, province=place) for code, place in places.items()}
    coordinator = world.user("reviewer@example.go.th", role="reviewer")  # answers for them
    coordinator.language = "en"
    db.session.commit()
    round_ = world.round(version, agencies=list(agencies.values()))
    found = {code: world.response(round_, a) for code, a in agencies.items()}
    start = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    # Submitted in this order: AG-5 first, then AG-3, AG-4, AG-1; AG-2 a draft, AG-6 returned.
    for hours, code in enumerate(["AG-5", "AG-3", "AG-4", "AG-1"]):
        fill(found[code], coordinator, 0.5, status="submitted")
        found[code].submitted_at = start + dt.timedelta(hours=hours)
    fill(found["AG-2"], coordinator, 0.5, status="draft")
    fill(found["AG-6"], coordinator, 0.5, status="returned")
    db.session.commit()
    return SimpleNamespace(round=round_, responses=found)


def monitor_codes(html: str) -> list[str]:
    table = html.split("Progress of the invited agencies")[1].split("<tbody>")[1]
    return re.findall(r'<td class="font-monospace small text-nowrap">([^<]+)</td>', table)


def test_the_monitor_sorts_first_come_first_served_and_by_the_workflow(client, auth, queue):
    auth.login("reviewer@example.go.th")
    base = f"/central/rounds/{queue.round.id}"
    html = page_of(client, f"{base}?sort=submitted")
    assert '<option value="submitted" selected>Submitted, oldest first</option>' in html
    # Oldest submission first; those never submitted after them, by code.
    assert monitor_codes(html)[:4] == ["AG-5", "AG-3", "AG-4", "AG-1"]
    assert monitor_codes(page_of(client, f"{base}?sort=submitted&status=submitted")) == [
        "AG-5",
        "AG-3",
        "AG-4",
        "AG-1",
    ]
    # By status: in the order of the workflow (draft, submitted, returned), not the alphabet.
    by_status = monitor_codes(page_of(client, f"{base}?sort=status"))
    assert by_status == ["AG-2", "AG-1", "AG-3", "AG-4", "AG-5", "AG-6"]


def next_link(html: str) -> tuple[str, str] | None:
    found = re.search(r'href="([^"]+)" data-next="([^"]+)"', html)
    return (found.group(2), found.group(1).replace("&amp;", "&")) if found else None


def test_next_awaiting_review_follows_the_monitor_the_reviewer_came_from(client, auth, queue):
    auth.login("reviewer@example.go.th")
    base = f"/central/rounds/{queue.round.id}"
    query = "status=submitted&province=Suphan+Buri"
    monitor = page_of(client, f"{base}?{query}")
    assert monitor_codes(monitor) == ["AG-1", "AG-3", "AG-5"]
    # The row links carry the monitor's query to the review page.
    assert f'href="{base}/responses/AG-1?status=submitted&amp;province=Suphan+Buri"' in monitor
    html = page_of(client, f"{base}/responses/AG-1?{query}")
    # The next Suphan Buri response, not AG-2 of Surin (a draft) or AG-4 of Surin.
    assert next_link(html) == ("AG-3", f"{base}/responses/AG-3?{query}")
    # The breadcrumb goes back to the same monitor.
    assert f'<a href="{base}?{query.replace("&", "&amp;")}">Round under test</a>' in html
    assert next_link(page_of(client, f"{base}/responses/AG-3?{query}"))[0] == "AG-5"
    # After the last, from the top again.
    assert next_link(page_of(client, f"{base}/responses/AG-5?{query}"))[0] == "AG-1"
    # Without filters: the whole round by code, as before.
    assert next_link(page_of(client, f"{base}/responses/AG-1"))[0] == "AG-3"
    assert next_link(page_of(client, f"{base}/responses/AG-3"))[0] == "AG-4"
    # First come, first served: the order of submission.
    fifo = "sort=submitted"
    assert next_link(page_of(client, f"{base}/responses/AG-5?{fifo}")) == (
        "AG-3",
        f"{base}/responses/AG-3?{fifo}",
    )
    assert next_link(page_of(client, f"{base}/responses/AG-4?{fifo}"))[0] == "AG-1"
    assert next_link(page_of(client, f"{base}/responses/AG-1?{fifo}"))[0] == "AG-5"
    # A search, and a response no longer awaiting review (returned, just now): the next one
    # after its place in the order.
    assert next_link(page_of(client, f"{base}/responses/AG-6?{fifo}"))[0] == "AG-5"
    assert next_link(page_of(client, f"{base}/responses/AG-2?q=AG-4+Surin"))[0] == "AG-4"


def test_after_the_results_submitted_responses_are_opened_not_reviewed(client, auth, queue):
    """Reviews end with the results: a response left submitted is no longer offered for
    review on the monitor, nor as the "next awaiting review" of the response page."""
    auth.login("reviewer@example.go.th")
    base = f"/central/rounds/{queue.round.id}"
    assert next_link(page_of(client, f"{base}/responses/AG-1")) is not None
    for status in ("preliminary", "published"):
        queue.round.status = status
        db.session.commit()
        assert next_link(page_of(client, f"{base}/responses/AG-1")) is None
        monitor = page_of(client, base)
        row = monitor.split(f'{base}/responses/AG-1"')[1].split("</a>")[0]
        assert "Open" in row
        assert "Review" not in row
        assert "btn-primary" not in monitor.split(f'{base}/responses/AG-1"')[0].rsplit("<a", 1)[1]


def test_a_review_keeps_the_monitor_it_came_from(client, auth, queue):
    auth.login("reviewer@example.go.th")
    base = f"/central/rounds/{queue.round.id}"
    query = "status=submitted&province=Suphan+Buri&sort=submitted"
    html = page_of(client, f"{base}/responses/AG-3?{query}")
    action = f'action="{base}/responses/AG-3/review?{query.replace("&", "&amp;")}"'
    assert action in html
    reply = client.post(
        f"{base}/responses/AG-3/review?{query}", data={"action": "accept", **seen_on(html)}
    )
    assert reply.status_code == 302
    assert reply.headers["Location"] == f"{base}/responses/AG-3?{query}"
    after = page_of(client, reply.headers["Location"])
    assert next_link(after)[0] == "AG-1"  # AG-5 and AG-3 done: the next Suphan Buri one


# -- exports and figures at national scale ---------------------------------------------------


def test_the_activity_log_csv_streams_plain_rows(client, auth, scene, monkeypatch):
    """The activity log's CSV is written as it downloads, from plain rows read a batch at a
    time: no audit event is loaded as an ORM object (182,888 of them took 5 s and 11 MB)."""
    from sqlalchemy import event

    from assess.review import routes

    for n in range(5):
        scene.round.name_en = f"Name {n}"
        audit.record("round.settings", scene.admin, round=scene.round, detail=f"={n}")
    db.session.commit()
    monkeypatch.setattr(routes, "AUDIT_BATCH", 2)
    loaded: list[AuditEvent] = []

    def load(target, context):  # type: ignore[no-untyped-def]
        loaded.append(target)

    auth.login("reviewer@example.go.th")
    event.listen(AuditEvent, "load", load)
    try:
        reply = client.get("/central/activity?format=csv&action=round.settings")
        assert reply.is_streamed
        rows = read_csv(reply)
    finally:
        event.remove(AuditEvent, "load", load)
    assert loaded == []
    assert [r["detail"] for r in rows] == [f"'={n}" for n in reversed(range(5))]  # neutralised
    assert {r["round"] for r in rows} == {str(scene.round.id)}
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00", r["at"]) for r in rows)
    assert list(rows[0]) == ["at", "actor", "action", "round", "old", "new", "detail"]


def test_central_pages_group_thousands(client, auth, world):
    """8,001 on the rounds page, the monitor's tiles and pager as on the dashboards, not
    8001."""
    from assess.models import Agency

    version = world.questionnaire()
    db.session.add_all(
        Agency(code=f"AG-{i:04d}", name_th=f"หน่วยงาน {i}", name_en=f"Agency {i}", type="department",
               tags=[])
        for i in range(1001)
    )  # fmt: skip
    db.session.commit()
    world.user("reviewer@example.go.th", role="reviewer").language = "en"
    db.session.commit()
    round_ = world.round(version, agencies=list(db.session.scalars(select(Agency))))
    auth.login("reviewer@example.go.th")
    overview = page_of(client, "/central/rounds")
    assert '<td class="text-end score">1,001</td>' in overview
    assert "(0/1,001)" in overview
    monitor = page_of(client, f"/central/rounds/{round_.id}")
    assert '<div class="fs-4 fw-semibold score">1,001</div>' in monitor  # invited
    assert '<td class="text-end score">1,001</td>' in monitor  # by agency type
    assert "1–50 of 1,001" in monitor
    assert "1001" not in monitor.replace("AG-1001", "")
    move = page_of(client, f"/central/rounds/{round_.id}/move/closed")
    assert "1,001 agencies have not submitted yet." in move


def test_the_progress_csv_gives_no_scores_to_a_response_never_started(client, auth, scene):
    """A round scored as a whole stores zeros for a response never started: the progress
    download leaves its scores empty, as the review page and `assess scores` do."""
    submit(scene.response, scene.coordinator)
    results.recompute_all(scene.round)
    db.session.commit()
    assert results.result_of(responses.get_response(scene.round, scene.bkk), "self") is not None
    auth.login("reviewer@example.go.th")
    rows = read_csv(client.get(f"/central/rounds/{scene.round.id}/responses.csv"))
    by_code = {r["agency"]: r for r in rows}
    assert by_code["LAO-BKK"]["status"] == "not_started"
    blank = ("self_score", "self_level", "verified_score", "verified_level")
    assert [by_code["LAO-BKK"][name] for name in blank] == ["", "", "", ""]
    assert (
        by_code["MOF-RD"]["self_score"] == results.result_of(scene.response, "self").overall_score
    )
