"""The factory, the login and the role homes."""

from __future__ import annotations

from assess import create_app


def test_config_is_not_testing_by_default(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSESS_INSTANCE_PATH", str(tmp_path))
    assert not create_app().testing


def test_testing_config(app):
    assert app.testing


def test_login_and_home(client, auth, world):
    agency = world.agency("AG-1")
    world.user("c@example.go.th", agency=agency)
    assert client.get("/login").status_code == 200
    response = auth.login("c@example.go.th")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/my")


def test_wrong_password(client, auth, world):
    world.user("r@example.go.th", role="reviewer")
    response = auth.login("r@example.go.th", "wrong password!")
    assert response.status_code == 401


def test_ids_beyond_the_database_range_are_not_found(client, auth, world):
    world.user("r@example.go.th", role="reviewer")
    auth.login("r@example.go.th")
    assert client.get("/central/rounds/99999999999").status_code == 404
    assert client.get("/central/rounds/2147483647").status_code == 404
