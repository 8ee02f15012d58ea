"""Access rules, parametrised over every route of the app.

A new route is caught here automatically: each is requested, with every method it takes,
by an anonymous visitor, by a coordinator of another agency, by a reviewer and by an
admin, and the replies are checked against the rules:

- anonymous visitors are sent to sign in (only the sign-in page and the language switch
  are public);
- a coordinator never reaches another agency's responses, evidence, exports or scores
  (403/404, and nothing of the other agency in the reply), nor anything of the central
  office (403);
- a reviewer cannot administer users (403), an admin can.
"""

from __future__ import annotations

import io
import re

import pytest

from assess.extensions import db
from assess.models import Dispute, Evidence
from assess.services import evidence, responses, users

# The CSRF token endpoint is harmless in public: other origins cannot read its reply.
PUBLIC = {
    "auth.login",
    "auth.language",
    "auth.index",
    "auth.logout",
    "survey.csrf_token",
    "static",
    "bootstrap.static",
    # The API's description and its reference page (with its assets) are public documentation.
    "api-docs.openapi_json",
    "api-docs.openapi_swagger_ui",
    "api_assets.static",
    # Whether a scorecard's verification code matches: told only to whoever holds the code.
    "scorecards.verify",
}
SECRET_TEXT = "ความลับของหน่วยงานบี"
SECRET_FILE = "secret-plan-of-b.pdf"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _rules():
    import tempfile

    from assess import create_app

    app = create_app({"INSTANCE_PATH": tempfile.mkdtemp(prefix="assess-rules-")})
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append(pytest.param(rule.endpoint, rule.rule, method, id=f"{method} {rule.rule}"))
    return sorted(found, key=lambda p: p.id)


RULES = _rules()


class Scene:
    """Agencies A and B; B's response holds a secret answer, a file and a comment."""

    def __init__(self, world) -> None:  # type: ignore[no-untyped-def]
        self.a = world.agency("AG-A", name_en="Agency A")
        self.b = world.agency("AG-B", name_en="Agency B", name_th="หน่วยงานบีลับ")
        self.coordinator_a = world.user("a@example.go.th", agency=self.a)
        self.coordinator_b = world.user("b@example.go.th", agency=self.b)
        self.reviewer = world.user("r@example.go.th", role="reviewer")
        self.admin = world.user("admin@example.go.th", role="admin")
        self.version = world.questionnaire()
        self.shared_round = world.round(self.version, agencies=[self.a, self.b], name="Shared")
        self.b_only_round = world.round(self.version, agencies=[self.b], name="B only")
        b_response = responses.get_response(self.b_only_round, self.b)
        text_question = next(
            q.code for q in _questionnaire(self.version).iter_questions() if q.type.value == "text"
        )
        responses.save_answers(
            b_response, {text_question: SECRET_TEXT}, revision=0, actor=self.coordinator_b
        )
        shared_b = responses.get_response(self.shared_round, self.b)
        code = next(
            q.code
            for q in _questionnaire(self.version).iter_questions()
            if q.evidence.value != "none"
        )
        folder = world.app.config["EVIDENCE_FOLDER"]
        self.evidence = evidence.add_file(
            shared_b,
            self.coordinator_b,
            code,
            SECRET_FILE,
            io.BytesIO(PDF),
            folder=folder,
            max_bytes=10**6,
        )
        # A dispute of B's results (written directly: the round need not be preliminary).
        self.dispute = Dispute(
            question_code=text_question, explanation=SECRET_TEXT, raised_by_id=self.coordinator_b.id
        )
        b_response.disputes.append(self.dispute)
        self.token_a = users.issue_token(self.coordinator_a, "access test")
        db.session.commit()
        self.params = {
            "round_id": str(self.b_only_round.id),
            "agency_code": self.b.code,
            "code": self.b.code,
            "evidence_id": str(self.evidence.id),
            "dispute_id": str(self.dispute.id),
            "dim_code": _questionnaire(self.version).dimensions[0].code,
            "target": "closed",
            "token_id": "1",
            "user_id": str(self.coordinator_b.id),
            "version_id": str(self.version.id),
            "filename": "css/assess.css",
            "question": "mgmt.leadership",
            "job_id": "1",
        }

    def url(self, rule: str, **overrides: str) -> str:
        values = {**self.params, **overrides}

        def fill(match: re.Match[str]) -> str:
            name = match.group(1).split(":")[-1]
            assert name in values, f"access test: give a value for the URL parameter <{name}>"
            return values[name]

        return re.sub(r"<([^>]+)>", fill, rule)


def _questionnaire(version):  # type: ignore[no-untyped-def]
    from assess.services.questionnaires import questionnaire_of

    return questionnaire_of(version)


@pytest.fixture
def scene(world) -> Scene:  # type: ignore[no-untyped-def]
    return Scene(world)


def _request(client, method: str, url: str, headers=None):  # type: ignore[no-untyped-def]
    reply = client.open(url, method=method, data={}, headers=headers, follow_redirects=False)
    reply.data  # noqa: B018  (read it all, then close: file replies hold an open file)
    reply.close()
    return reply


def _leaks(body: bytes) -> list[str]:
    text = body.decode("utf-8", "replace")
    return [s for s in (SECRET_TEXT, SECRET_FILE, "หน่วยงานบีลับ") if s in text]


@pytest.mark.parametrize(("endpoint", "rule", "method"), RULES)
def test_anonymous_visitors_are_sent_to_sign_in(client, scene, endpoint, rule, method):
    if endpoint in PUBLIC:
        return
    reply = _request(client, method, scene.url(rule))
    assert reply.status_code in (302, 401), reply.status_code
    if reply.status_code == 302:
        assert "/login" in reply.headers["Location"]
    assert not _leaks(reply.data)


@pytest.mark.parametrize(("endpoint", "rule", "method"), RULES)
def test_a_coordinator_never_reaches_another_agency(client, auth, scene, endpoint, rule, method):
    if endpoint in PUBLIC or endpoint.startswith("auth."):
        return
    auth.login("a@example.go.th")
    # The JSON API ignores the session: it takes A's coordinator's bearer token.
    headers = {"Authorization": f"Bearer {scene.token_a}"} if rule.startswith("/api/") else None
    urls = [scene.url(rule)]
    if "<int:evidence_id>" in rule:
        # B's evidence through A's own response of the shared round.
        urls.append(scene.url(rule, round_id=str(scene.shared_round.id)))
    for url in urls:
        reply = _request(client, method, url, headers)
        if rule.startswith("/central"):
            assert reply.status_code == 403, (url, reply.status_code)
        elif endpoint in ("survey.home", "survey.csrf_token", "api.list_rounds"):
            assert reply.status_code == 200
        elif endpoint == "assets.plotly_js":
            # Plotly's own script, for any signed-in user's charts: nobody's data.
            assert reply.status_code == 200
        else:
            assert reply.status_code in (403, 404), (url, reply.status_code)
        assert not _leaks(reply.data), (url, _leaks(reply.data))
    # Nothing of B's was changed or removed by any of it.
    assert db.session.get(Evidence, scene.evidence.id) is not None
    db.session.expire_all()
    b_response = responses.get_response(scene.b_only_round, scene.b)
    assert SECRET_TEXT in str(responses.current_json(b_response))


@pytest.mark.parametrize(
    ("endpoint", "rule", "method"), [p for p in RULES if p.values[1].startswith("/central/users")]
)
def test_a_reviewer_cannot_administer_users(client, auth, scene, endpoint, rule, method):
    auth.login("r@example.go.th")
    assert _request(client, method, scene.url(rule)).status_code == 403


@pytest.mark.parametrize(
    ("endpoint", "rule", "method"),
    [p for p in RULES if p.values[1].startswith("/central/users") and p.values[2] == "GET"],
)
def test_an_admin_administers_users(client, auth, scene, endpoint, rule, method):
    auth.login("admin@example.go.th")
    assert _request(client, method, scene.url(rule)).status_code == 200


@pytest.mark.parametrize(
    ("endpoint", "rule", "method"),
    [p for p in RULES if p.values[1].startswith("/central") and p.values[2] == "GET"],
)
def test_the_central_office_reaches_its_pages(client, auth, scene, endpoint, rule, method):
    auth.login("r@example.go.th")
    if rule.startswith("/central/users"):
        return
    url = scene.url(rule)
    if endpoint == "review.move_round":
        url = scene.url(rule, round_id=str(scene.shared_round.id))
    if endpoint == "admin.questionnaire_diff":
        url += f"?old={scene.version.id}&new={scene.version.id}"
    expected = 200
    if endpoint == "scorecards.bulk_download":
        expected = 404  # no export was made yet
    assert _request(client, method, url).status_code == expected, url
