"""API tokens on the profile page: made there, shown once, and revoked after a page that
asks first (scripts using a token stop at once, and a revoked token cannot come back)."""

from __future__ import annotations

import re

from assess.extensions import db

PASSWORD = "correct horse battery"


def _text(reply) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", reply.get_data(as_text=True)))


def _api_ok(app, token: str) -> bool:  # type: ignore[no-untyped-def]
    reply = app.test_client().get("/api/v1/rounds", headers={"Authorization": f"Bearer {token}"})
    return reply.status_code == 200


def test_a_token_is_revoked_only_after_the_confirmation(app, client, world):  # type: ignore[no-untyped-def]
    user = world.user("coord@example.go.th", agency=world.agency("AG-1"))
    user.language = "en"
    db.session.commit()
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    made = client.post("/profile", data={"tok-label": "nightly export", "tok-submit": "1"})
    token = re.search(r'id="new-token">([^<]+)<', made.get_data(as_text=True)).group(1)
    assert _api_ok(app, token)

    # The profile's "Revoke" is a link to a page that asks; following it revokes nothing.
    profile = client.get("/profile").get_data(as_text=True)
    link = re.search(r'href="(/profile/tokens/\d+/revoke)"', profile).group(1)
    asked = client.get(link)
    assert asked.status_code == 200
    text = _text(asked)
    assert "Revoke the API token?" in text
    assert "nightly export" in text
    assert "stop working at once" in text
    assert _api_ok(app, token)

    # Confirmed: revoked, said so, gone from the profile; its page is now a 404.
    done = client.post(link, follow_redirects=True)
    assert "The token has been revoked." in _text(done)
    assert "nightly export" not in _text(done)
    assert not _api_ok(app, token)
    assert client.get(link).status_code == 404
