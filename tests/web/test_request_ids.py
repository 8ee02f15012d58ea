"""Every request has an id: sent back as X-Request-Id, carried by the log records of the
request with the user's id and the client's address, and shown on the 500 page as the
reference to quote. (The audit: a 500 logged "Exception on … [POST]" and a traceback,
nothing to tell whose request it was, and the page gave nothing to quote.)"""

from __future__ import annotations

import logging
import re

import pytest
from flask.logging import default_handler

from assess import request_log

PASSWORD = "correct horse battery"


@pytest.fixture
def failing(app):  # type: ignore[no-untyped-def]
    """A page that fails (500), as a server's error would, outside the test mode's
    propagation of exceptions."""

    def boom() -> str:
        raise RuntimeError("the disk is full")

    app.add_url_rule("/boom", "boom", boom, methods=["GET", "POST"])
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


def _records(caplog: pytest.LogCaptureFixture, text: str) -> list[logging.LogRecord]:
    return [record for record in caplog.records if text in record.getMessage()]


def test_every_reply_carries_an_id_of_its_own(client):
    first = client.get("/login").headers["X-Request-Id"]
    second = client.get("/login").headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{16}", first)
    assert first != second
    assert client.get("/no-such-page").headers["X-Request-Id"]  # error pages too


def test_a_proxys_id_is_kept_when_it_is_a_short_safe_token(client):
    for given in ("req-0f1e2d3c", "9b2c1f0e4a5d4c3b8a7f6e5d4c3b2a19", "a.b_c-1"):
        assert (
            client.get("/login", headers={"X-Request-Id": given}).headers["X-Request-Id"] == given
        )
    for given in ("", "-starts-with-a-dash", "has space", "x" * 65, "ไทย", "a\u2028b", "<script>"):
        sent = client.get("/login", headers={"X-Request-Id": given}).headers["X-Request-Id"]
        assert re.fullmatch(r"[0-9a-f]{16}", sent), given


def test_a_servers_error_is_logged_with_the_request_the_user_and_the_client(
    failing, world, auth, client, caplog
):
    user = world.user("reviewer@dga.or.th", role="reviewer")
    assert auth.login(user.email, PASSWORD).status_code == 302
    with caplog.at_level(logging.ERROR):
        reply = client.post(
            "/boom", data={"password": "a-password-typed-in", "csrf_token": "x"},
            headers={"Authorization": "Bearer as_token_never_logged", "X-Request-Id": "nginx-4f2a9c"},
        )  # fmt: skip
    assert reply.status_code == 500
    assert reply.headers["X-Request-Id"] == "nginx-4f2a9c"
    (record,) = _records(caplog, "Exception on /boom [POST]")
    assert (record.request_id, record.user_id, record.client) == (  # type: ignore[attr-defined]
        "nginx-4f2a9c", user.id, "127.0.0.1",
    )  # fmt: skip
    # As the handler Flask gives the app's logger writes it (gunicorn: on stderr).
    line = request_log.RequestFormatter(request_log.FORMAT).format(record)
    assert (
        f"[request=nginx-4f2a9c user={user.id} client=127.0.0.1]: Exception on /boom [POST]" in line
    )
    assert "the disk is full" in line  # and the traceback
    for secret in ("a-password-typed-in", "as_token_never_logged", PASSWORD, "session="):
        assert secret not in caplog.text
        assert secret not in line
    # The page gives the reference to quote.
    page = reply.get_data(as_text=True)
    assert 'data-reference="nginx-4f2a9c"' in page
    assert "nginx-4f2a9c" in page


def test_the_500_page_and_its_json_give_the_reference(failing, client, caplog):
    with caplog.at_level(logging.ERROR):
        page = client.get("/boom?lang=en")
        data = client.get("/boom", headers={"Accept": "application/json"})
        thai = client.get("/boom?lang=th")
    reference = page.headers["X-Request-Id"]
    assert f"Reference to quote: {reference}" in page.get_data(as_text=True)
    assert f"เลขอ้างอิงสำหรับแจ้งผู้ดูแลระบบ: {thai.headers['X-Request-Id']}" in thai.get_data(
        as_text=True
    )
    assert data.get_json()["reference"] == data.headers["X-Request-Id"]
    anonymous = _records(caplog, "Exception on /boom [GET]")
    assert [r.user_id for r in anonymous] == [None, None, None]  # type: ignore[attr-defined]
    assert [r.request_id for r in anonymous] == [  # type: ignore[attr-defined]
        reference,
        data.headers["X-Request-Id"],
        thai.headers["X-Request-Id"],
    ]


def test_records_outside_a_request_have_no_context(app):
    record = logging.getLogger("assess.jobs").makeRecord(
        "assess.jobs", logging.WARNING, __file__, 1, "job %s failed", (7,), None
    )
    assert record.request_id is None  # type: ignore[attr-defined]
    line = request_log.RequestFormatter(request_log.FORMAT).format(record)
    assert line.endswith("WARNING in test_request_ids: job 7 failed")
    # The handler Flask gives the app's logger (when nothing else handles its records)
    # writes them; gunicorn's handlers and the root logger's are left alone.
    assert isinstance(default_handler.formatter, request_log.RequestFormatter)
