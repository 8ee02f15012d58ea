"""Malformed, oversize and wrongly-encoded request bodies: the JSON API, the answer page's
autosave (JSON) and the plain forms.

Each gets a 4xx naming the problem — a JSON ``{"error", "details"}`` body for the API,
JSON for the page's own fetches, a page for forms — never a 500, and the answers saved
before are still there, unchanged.
"""

from __future__ import annotations

import io
import json
from types import SimpleNamespace

import pytest

from assess.extensions import db
from assess.services import responses, users

SAVED = {"mgmt.leadership": 2}
FETCH = {"X-Requested-With": "fetch", "Accept": "application/json"}
DEEP = b'{"revision": 1, "answers": {"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}"


@pytest.fixture
def database_url(sqlite_database_url: str) -> str:
    """SQLite only: parsing a body does not depend on the database engine."""
    return sqlite_database_url


class Scene:
    def __init__(self, world, auth, client) -> None:  # type: ignore[no-untyped-def]
        self.agency = world.agency("AG-1")
        self.user = world.user("coord@example.go.th", agency=self.agency)
        self.user.language = "en"
        self.round = world.round(agencies=[self.agency])
        response = responses.get_response(self.round, self.agency)
        responses.save_answers(response, SAVED, revision=0, actor=self.user)
        self.token = users.issue_token(self.user, "bodies")
        db.session.commit()
        self.client = client
        auth.login("coord@example.go.th")
        self.api = f"/api/v1/rounds/{self.round.id}/responses/{self.agency.code}/answers"
        self.save = f"/rounds/{self.round.id}/answers"

    def patch(self, data: bytes, content_type: str | None = "application/json", **headers):  # type: ignore[no-untyped-def]
        headers = {"Authorization": f"Bearer {self.token}", **headers}
        if content_type:
            headers["Content-Type"] = content_type
        return self.client.patch(self.api, data=data, headers=headers)

    def intact(self) -> None:
        db.session.expire_all()
        response = responses.get_response(self.round, self.agency)
        assert responses.current_json(response) == SAVED
        assert response.revision == 1


@pytest.fixture
def scene(world, auth, client) -> Scene:  # type: ignore[no-untyped-def]
    return Scene(world, auth, client)


def _api_error(reply, status: int) -> str:  # type: ignore[no-untyped-def]
    assert reply.status_code == status, (reply.status_code, reply.get_data(as_text=True)[:300])
    assert reply.mimetype == "application/json"
    body = reply.get_json()
    assert set(body) == {"error", "details"}
    assert body["error"]
    return json.dumps(body, ensure_ascii=False)


# -- the JSON API -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"{not json", "JSON"),
        (b'{"revision": 1, "answers": {"mgmt.leadership": 3}', "JSON"),
        (b"", "JSON"),
        ('{"revision": 1, "answers": {"mgmt.comment": "ข้อความ"}}'.encode("cp874"), "UTF-8"),
        (b'\xff\xfe{\x00"\x00', "UTF-8"),
        (DEEP, "nested"),
    ],
)
def test_api_malformed_or_wrongly_encoded_json_is_400(scene, data, words):
    text = _api_error(scene.patch(data), 400)
    assert words in text
    scene.intact()


@pytest.mark.parametrize(
    "data",
    [
        b'{"revision": "1", "answers": {}}',
        b'{"revision": 1, "answers": []}',
        b'{"revision": 1}',
        b"[1, 2]",
        b'{"revision": 1, "answers": {}, "extra": true}',
    ],
)
def test_api_json_that_does_not_fit_the_schema_is_400_per_field(scene, data):
    """The API's contract (interfaces.md): a body that does not fit the schema is
    malformed (400, details per field); 422 is kept for answer values."""
    text = _api_error(scene.patch(data), 400)
    assert "revision" in text or "answers" in text or "extra" in text or "Invalid" in text
    scene.intact()


@pytest.mark.parametrize(
    "value",
    [
        "99",  # not an option
        '"<script>alert(1)</script>"',
        "NaN",
        "Infinity",
        "1e999999",
        '{"na": "yes"}',
    ],
)
def test_api_invalid_answer_values_are_422_per_question(scene, value):
    data = f'{{"revision": 1, "answers": {{"mgmt.leadership": {value}}}}}'.encode()
    reply = scene.patch(data)
    text = _api_error(reply, 422) if reply.status_code == 422 else _api_error(reply, 400)
    assert "mgmt.leadership" in text or "JSON" in text
    scene.intact()


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", None]
)
def test_api_a_body_that_is_not_declared_json_is_refused(scene, content_type):
    reply = scene.patch(b'{"revision": 1, "answers": {"mgmt.leadership": 3}}', content_type)
    assert reply.status_code in (400, 415)
    _api_error(reply, reply.status_code)
    scene.intact()


def test_api_a_body_over_the_limit_is_413_even_without_a_length(scene):
    big = b'{"revision": 1, "answers": {"mgmt.comment": "' + b"a" * (2 * 1024 * 1024) + b'"}}'
    _api_error(scene.patch(big), 413)
    # Sent in chunks, with no Content-Length: still cut off at the limit.
    reply = scene.client.patch(
        scene.api,
        input_stream=io.BytesIO(big),
        headers={
            "Authorization": f"Bearer {scene.token}",
            "Content-Type": "application/json",
            "Transfer-Encoding": "chunked",
        },
        # What a server sets for a chunked body (its end is known, not its length).
        environ_overrides={"wsgi.input_terminated": True},
    )
    _api_error(reply, 413)
    scene.intact()


# -- the answer page's autosave (JSON from the page's script) ------------------------------------------


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"{not json", "revision"),
        (b"[]", "revision"),
        (b'{"revision": "1", "answers": {}}', "revision"),
        ('{"revision": 1, "answers": {"mgmt.comment": "ข้อความ"}}'.encode("cp874"), "UTF-8"),
        (DEEP, "nested too deeply"),
        (b'{"revision": 1, "answers": {"mgmt.comment": "a\\ud800"}}', "\\ud800, half of"),
    ],
)
def test_autosave_malformed_bodies_are_400_json(scene, data, words):
    reply = scene.client.post(
        scene.save, data=data, headers={**FETCH, "Content-Type": "application/json"}
    )
    assert reply.status_code == 400, reply.get_data(as_text=True)[:300]
    body = reply.get_json()
    assert body["error"]
    assert words in (body.get("message") or body["error"])
    scene.intact()


def test_autosave_invalid_values_are_422_naming_the_question(scene):
    reply = scene.client.post(
        scene.save, json={"revision": 1, "answers": {"mgmt.leadership": "<b>x</b>"}}, headers=FETCH
    )
    assert reply.status_code == 422
    assert "mgmt.leadership" in reply.get_json()["message"]
    scene.intact()


@pytest.mark.parametrize(
    ("number", "words"),
    [("1" + "0" * 400, "is too large"), ("19.99999999999999999", "more than 15 significant")],
)
def test_autosave_numbers_that_would_be_stored_changed_are_422(scene, number, words):
    data = f'{{"revision": 1, "answers": {{"mgmt.process_digital": {number}}}}}'.encode()
    reply = scene.client.post(
        scene.save, data=data, headers={**FETCH, "Content-Type": "application/json"}
    )
    assert reply.status_code == 422
    assert "mgmt.process_digital" in reply.get_json()["message"]
    assert words in reply.get_json()["message"]
    scene.intact()


def test_autosave_of_exactly_the_request_limit_is_read(app, scene):
    data = json.dumps({"revision": 1, "answers": {"mgmt.comment": "ok"}}).encode()
    app.config["MAX_CONTENT_LENGTH"] = len(data)
    reply = scene.client.post(
        scene.save, data=data, headers={**FETCH, "Content-Type": "application/json"}
    )
    assert reply.status_code == 200, reply.get_data(as_text=True)[:300]
    app.config["MAX_CONTENT_LENGTH"] = len(data) - 1
    reply = scene.client.post(
        scene.save, data=data, headers={**FETCH, "Content-Type": "application/json"}
    )
    assert reply.status_code == 413


def test_autosave_over_the_request_limit_is_413_json(app, scene):
    app.config["MAX_CONTENT_LENGTH"] = 4096
    data = json.dumps({"revision": 1, "answers": {"mgmt.comment": "a" * 10_000}}).encode()
    reply = scene.client.post(
        scene.save, data=data, headers={**FETCH, "Content-Type": "application/json"}
    )
    assert reply.status_code == 413
    assert reply.get_json()["error"]
    scene.intact()


# -- plain forms ------------------------------------------------------------------------------------------


def _form(scene, body: bytes, content_type="application/x-www-form-urlencoded"):  # type: ignore[no-untyped-def]
    dim = "mgmt"
    return scene.client.post(
        f"/rounds/{scene.round.id}/answer/{dim}",
        data=body,
        headers={"Content-Type": content_type},
    )


def test_a_form_with_bytes_that_are_not_utf8_is_400_page(scene):
    reply = _form(scene, b"ans-mgmt.comment=%E0%B8%81%FF%FE&ans-mgmt.leadership=3")
    assert reply.status_code == 400
    assert reply.mimetype == "text/html"
    assert "UTF-8" in reply.get_data(as_text=True)
    scene.intact()


def test_a_form_over_the_request_limit_is_413_page(app, scene):
    app.config["MAX_CONTENT_LENGTH"] = 4096
    reply = _form(scene, b"ans-mgmt.comment=" + b"a" * 10_000)
    assert reply.status_code == 413
    assert "too large" in reply.get_data(as_text=True)
    scene.intact()


def test_a_malformed_multipart_form_is_400_not_500(scene):
    reply = _form(
        scene,
        b'--xyz\r\nContent-Disposition: form-data; name="ans-mgmt.comment"\r\n\r\nno end',
        "multipart/form-data; boundary=xyz",
    )
    assert reply.status_code == 400
    # Not "the page has expired": the form did not arrive whole.
    assert "did not arrive whole" in reply.get_data(as_text=True)
    scene.intact()


# Werkzeug drops the file part it had begun to read without closing it (a temporary file in
# memory, freed by the collector): its warning, not this project's.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_an_upload_cut_off_before_its_end_says_so(scene):
    """The CSRF token and answers arrived, the file part was cut off: nothing is saved and
    the page says the form did not arrive whole, not that the session expired."""
    body = (
        b'--xyz\r\nContent-Disposition: form-data; name="revision"\r\n\r\n0\r\n'
        b'--xyz\r\nContent-Disposition: form-data; name="ans-mgmt.comment"\r\n\r\nhello\r\n'
        b'--xyz\r\nContent-Disposition: form-data; name="file-mgmt.strategy"; filename="p.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n%PDF-1.4\n" + b"x" * 5000
    )
    reply = _form(scene, body, "multipart/form-data; boundary=xyz")
    assert reply.status_code == 400
    page = reply.get_data(as_text=True)
    assert "did not arrive whole" in page
    assert "expired" not in page
    scene.intact()


def test_a_login_form_with_bytes_that_are_not_utf8_is_400(client, scene):
    reply = client.post(
        "/login",
        data=b"email=%FF%FE%40example.go.th&password=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert reply.status_code == 400


def test_a_form_page_sent_json_instead_of_a_form_is_400_and_clears_nothing(scene):
    """The no-JS answer form reads form fields; a JSON body (no revision) is refused rather
    than read as a form where every answer was left empty."""
    reply = _form(scene, b'{"revision": 1, "ans-mgmt.leadership": "3"}', "application/json")
    assert reply.status_code == 400
    assert reply.mimetype == "text/html"
    scene.intact()


# -- the size of a page's JSON body and of the reply to it ---------------------------------------------

MEGABYTE = 1024 * 1024


def _big_json(size: int) -> bytes:
    """A JSON autosave body of ``size`` bytes or a little more."""
    head, tail = b'{"revision": 1, "answers": {"mgmt.comment": "', b'"}}'
    return head + b"a" * (size - len(head) - len(tail)) + tail


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", None])
@pytest.mark.parametrize("chunked", [False, True])
def test_a_page_body_that_is_not_a_form_is_held_to_the_api_limit(
    app, scene, monkeypatch, content_type, chunked
):
    """The JSON API's limit (1 MB), not the 25 MB of evidence uploads: refused with 413
    before it is parsed, to anyone (the sign-in page too), declared JSON or not."""
    assert app.config["API_MAX_CONTENT_LENGTH"] == MEGABYTE
    assert app.config["MAX_CONTENT_LENGTH"] > 20 * MEGABYTE

    def parsed(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("parsed")

    unparsed = SimpleNamespace(loads=parsed)
    monkeypatch.setattr("assess.errors.json", unparsed)
    monkeypatch.setattr("assess.survey.routes.json", unparsed)
    data = _big_json(MEGABYTE + 1)
    headers = {**FETCH, **({"Content-Type": content_type} if content_type else {})}
    extra = {}
    if chunked:
        headers["Transfer-Encoding"] = "chunked"
        extra = {"environ_overrides": {"wsgi.input_terminated": True}}
    for path in (scene.save, "/login"):
        if chunked:
            reply = scene.client.post(path, input_stream=io.BytesIO(data), headers=headers, **extra)
        else:
            reply = scene.client.post(path, data=data, headers=headers)
        assert reply.status_code == 413, (path, reply.status_code)
        assert "1,024 KB" in reply.get_json()["details"]
    scene.intact()


def test_a_page_json_body_of_exactly_the_api_limit_is_read(app, scene):
    data = json.dumps({"revision": 1, "answers": {"mgmt.comment": "ok"}}).encode()
    app.config["API_MAX_CONTENT_LENGTH"] = len(data)
    reply = scene.client.post(
        scene.save, data=data, headers={**FETCH, "Content-Type": "application/json"}
    )
    assert reply.status_code == 200, reply.get_data(as_text=True)[:300]
    app.config["API_MAX_CONTENT_LENGTH"] = len(data) - 1
    reply = scene.client.post(
        scene.save, data=data, headers={**FETCH, "Content-Type": "application/json"}
    )
    assert reply.status_code == 413


def test_forms_keep_the_general_limit(scene):
    """A no-JS answer form over 1 MB is read (its comment is too long: 422, not 413)."""
    reply = _form(scene, b"revision=1&ans-mgmt.comment=" + b"a" * (MEGABYTE + 10))
    assert reply.status_code == 422
    scene.intact()


def test_the_problems_of_one_save_are_capped(scene):
    """A save of 20,000 unknown questions: the first 50 named, the rest counted in one
    line; a short reply."""
    answers = {f"q{i}": 1 for i in range(20_000)}
    answers["mgmt.leadership"] = 99
    reply = scene.client.post(scene.save, json={"revision": 1, "answers": answers}, headers=FETCH)
    assert reply.status_code == 422
    assert len(reply.data) < 20_000
    body = reply.get_json()
    lines = body["message"].split("; ")
    assert len(lines) == 51
    assert lines[0].startswith("question mgmt.leadership: 99 is not an option")
    assert lines[1] == "question q0: no such question in dg-readiness@2569"
    assert lines[-1] == "… and 19951 more problems"
    assert len(body["details"]) == 50
    scene.intact()


def test_a_few_problems_are_all_named(scene):
    answers = {"mgmt.leadership": 99, "nope": 1}
    reply = scene.client.post(scene.save, json={"revision": 1, "answers": answers}, headers=FETCH)
    assert reply.status_code == 422
    body = reply.get_json()
    assert set(body["details"]) == {"mgmt.leadership", "nope"}
    assert "more problem" not in body["message"]
