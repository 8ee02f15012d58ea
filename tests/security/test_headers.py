"""Security headers and the Content-Security-Policy: on every reply, no inline script in any
template (so the strict policy holds), the Swagger UI page's own policy, the evidence
download's stricter policy kept, HSTS only in production."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest

from assess import security

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
TEMPLATES = Path(security.__file__).parent / "templates"


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


@sqlite_only
@pytest.mark.parametrize("path", ["/login", "/no-such-page", "/static/css/assess.css"])
def test_every_reply_has_the_headers(client, path):
    reply = client.get(path)
    headers = reply.headers
    csp = directives(headers["Content-Security-Policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "camera=()" in headers["Permissions-Policy"]
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in headers  # development: plain http is fine
    if path.startswith("/static/"):
        assert "private" not in headers.get("Cache-Control", "")  # the app's own files
    else:  # pages and JSON: no shared cache keeps them, the browser asks again
        assert headers["Cache-Control"] == "private, no-cache"
    reply.close()


@sqlite_only
def test_json_and_signed_in_pages_are_never_kept_by_a_shared_cache(client, auth, world):
    world.user("r@example.go.th", role="reviewer")
    auth.login("r@example.go.th")
    for path in ("/central/rounds", "/api/v1/openapi.json"):
        assert client.get(path).headers["Cache-Control"] == "private, no-cache", path


# An executable inline script: <script> without src whose type is not a data block.
SCRIPT = re.compile(r"<script\b([^>]*)>", re.I)
HANDLER = re.compile(r"""\son[a-z]+\s*=\s*["']""", re.I)
JS_URL = re.compile(r"""(?:href|src|action|formaction)\s*=\s*["']\s*javascript:""", re.I)


def test_no_template_has_an_inline_script_or_handler():
    problems = []
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert len(templates) > 20
    for path in templates:
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(TEMPLATES)
        for match in SCRIPT.finditer(text):
            attributes = match.group(1)
            if "src=" in attributes:
                continue
            if re.search(r"""type\s*=\s*["']application/(?:ld\+)?json["']""", attributes):
                continue
            problems.append(f"{name}: inline <script{attributes}>")
        problems += [f"{name}: event handler {m.group(0).strip()}" for m in HANDLER.finditer(text)]
        problems += [f"{name}: javascript: URL" for m in JS_URL.finditer(text)]
    assert problems == []


def test_the_scan_finds_what_it_looks_for():
    """The patterns above do catch the forms they are meant to catch."""
    assert SCRIPT.search("<script>alert(1)</script>")
    assert HANDLER.search('<button onclick="go()">')
    assert HANDLER.search("<img src=x onerror='go()'>")
    assert JS_URL.search('<a href="javascript:history.back()">')
    assert not HANDLER.search('<div data-on="x" class="one">')


@sqlite_only
def test_the_api_reference_page_allows_only_its_own_inline_script(client):
    reply = client.get("/api/v1/docs")
    assert reply.status_code == 200
    html = reply.get_data(as_text=True)
    inline = re.findall(r"<script>(.*?)</script>", html, re.S)
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    csp = directives(reply.headers["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'", f"'sha256-{digest}'"]
    assert csp["object-src"] == ["'none'"]
    # The OpenAPI document (JSON) has the plain policy.
    spec = client.get("/api/v1/openapi.json")
    assert directives(spec.headers["Content-Security-Policy"])["script-src"] == ["'self'"]


@sqlite_only
def test_the_evidence_download_keeps_its_stricter_policy(app, client, world):
    from assess.extensions import db
    from assess.models import Evidence
    from assess.services import responses

    agency = world.agency("AG-1")
    world.user("coord@example.go.th", agency=agency)
    round_ = world.round(agencies=[agency])
    client.post(
        "/login", data={"email": "coord@example.go.th", "password": "correct horse battery"}
    )
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    import io

    reply = client.post(
        f"/rounds/{round_.id}/evidence",
        data={"code": "mgmt.pmqa_level", "file": (io.BytesIO(pdf), "report.pdf")},
        headers={"X-Requested-With": "fetch"},
    )
    assert reply.status_code == 200, reply.get_data(as_text=True)
    item = db.session.query(Evidence).one()
    assert responses.get_response(round_, agency).id == item.response_id
    download = client.get(f"/rounds/{round_.id}/evidence/{item.id}")
    assert download.status_code == 200
    assert download.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert download.headers["X-Frame-Options"] == "DENY"
    download.close()


@sqlite_only
def test_hsts_only_in_production(app):
    from assess import create_app

    production = create_app(
        {
            "INSTANCE_PATH": app.config["INSTANCE_PATH"],
            "DATABASE_URL": app.config["DATABASE_URL"],
            "ENVIRONMENT": "production",
            "TESTING": False,
            "SECRET_KEY": "f3c1b0a2e4d5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f",
        }
    )
    reply = production.test_client().get("/login", base_url="https://assess.test")
    assert reply.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "script-src 'self';" in reply.headers["Content-Security-Policy"]
