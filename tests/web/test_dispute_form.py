"""The coordinator's dispute form: it starts at the agency's own answer (sent unchanged, the
dispute asks for that answer to count) and shows what was answered, what the central office
counted instead and why."""

from __future__ import annotations

import re

import pytest

from assess.extensions import db
from assess.models import Dispute
from assess.services import responses
from assess.services.questionnaires import questionnaire_of
from tests.web.test_publication import Scene, _text, english


@pytest.fixture
def verified_scene(world):  # type: ignore[no-untyped-def]
    scene = Scene(world)
    code = scene.question.code
    scene.own = next(a.value for a in scene.response.answers if a.question_code == code)
    responses.verify(scene.response, scene.reviewer, code, not scene.own, "No evidence of it")
    db.session.commit()
    scene.preliminary()
    english(scene.coordinator)
    return scene


def test_the_form_starts_at_the_own_answer_and_shows_the_verified_value(
    verified_scene, client, auth
):  # type: ignore[no-untyped-def]
    scene = verified_scene
    code = scene.question.code
    auth.login("a@example.go.th")
    page = client.get(f"/rounds/{scene.round.id}/disputes/new?question={code}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    own, counted = ("yes", "no") if scene.own else ("no", "yes")
    # The agency's own answer is the one ticked, not the verified value.
    assert re.search(f'id="i-{re.escape(code)}-{own}"[^>]*checked', html)
    assert not re.search(f'id="i-{re.escape(code)}-{counted}"[^>]*checked', html)
    text = _text(page)
    assert "Your answer" in text
    assert "Verified value (counted)" in text
    assert "No evidence of it" in text

    # Sent unchanged, the dispute asks for the agency's own answer (no proposed value).
    sent = client.post(
        f"/rounds/{scene.round.id}/disputes/new",
        data={"question": code, "explanation": "Our portal is live.", f"ans-{code}": own},
        follow_redirects=True,
    )
    assert "was sent to the central office" in _text(sent)
    dispute = db.session.scalars(db.select(Dispute)).one()
    assert dispute.proposed is None


def test_a_question_not_verified_shows_only_the_own_answer(verified_scene, client, auth):  # type: ignore[no-untyped-def]
    scene = verified_scene
    questionnaire = questionnaire_of(scene.response.questionnaire)
    other = next(
        q for q in questionnaire.iter_questions() if q.code != scene.question.code and q.is_scored
    )
    auth.login("a@example.go.th")
    text = _text(client.get(f"/rounds/{scene.round.id}/disputes/new?question={other.code}"))
    assert "Your answer" in text
    assert "Verified value (counted)" not in text


def test_a_question_already_disputed_is_not_offered_again(verified_scene, client, auth):  # type: ignore[no-untyped-def]
    """One undecided dispute per question: the form said so only once it was sent, and the
    results page still offered the question."""
    scene = verified_scene
    code = scene.question.code
    auth.login("a@example.go.th")
    results = f"/rounds/{scene.round.id}/results"
    assert f'<option value="{code}">' in client.get(results).get_data(as_text=True)
    client.post(
        f"/rounds/{scene.round.id}/disputes/new",
        data={"question": code, "explanation": "Our portal is live.", f"ans-{code}": "yes"},
    )
    page = client.get(results).get_data(as_text=True)
    assert f'<option value="{code}">' not in page
    assert "Disputed: awaiting a decision" in page
    form = client.get(f"/rounds/{scene.round.id}/disputes/new?question={code}")
    text = _text(form)
    assert f"Your dispute of {code} is waiting for the central office's decision" in text
    assert 'name="explanation"' not in form.get_data(as_text=True)
