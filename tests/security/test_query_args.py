"""Crafted query strings: a number too large for the database, and an argument named like
a view's own (``round_id``) or like one of ``url_for``'s (``endpoint``, ``_external``).

Each gets a clear answer — the page (a page number clamped, a filter beyond what a column
holds ignored), or 404 for an id that cannot exist — never a 500. On every configured
database: SQLite and PostgreSQL overflow differently.
"""

from __future__ import annotations

import pytest

from assess.extensions import db
from assess.models import AuditEvent
from assess.services import responses, rounds

HUGE = "99999999999999999999"  # more than a 64-bit integer holds
BEYOND = str(2**31)  # more than an id column holds, less than a 64-bit integer
NEGATIVE = "-" + HUGE
#: Query arguments named like url_for's own.
URL_FOR = ("endpoint", "_external", "_anchor", "_method", "_scheme")


class Scene:
    def __init__(self, world, auth) -> None:  # type: ignore[no-untyped-def]
        self.agency = world.agency("AG-1")
        self.coordinator = world.user("coord@example.go.th", agency=self.agency)
        self.admin = world.user("admin@example.go.th", role="admin")
        for user in (self.coordinator, self.admin):
            user.language = "en"
        self.version = world.questionnaire()
        self.round = world.round(self.version, agencies=[self.agency])
        response = responses.get_response(self.round, self.agency)
        responses.save_answers(response, {"mgmt.leadership": 2}, revision=0, actor=self.coordinator)
        db.session.commit()
        self.auth = auth

    @property
    def central_pages(self) -> list[str]:
        """The central office's pages that read a number from the query string."""
        base = f"/central/rounds/{self.round.id}"
        return [
            "/central/rounds",
            base,
            f"{base}/responses/{self.agency.code}/audit",
            "/central/activity",
            "/central/agencies",
            "/central/users",
            f"/central/users/{self.admin.id}",
            f"{base}/results",
        ]


@pytest.fixture
def scene(world, auth) -> Scene:  # type: ignore[no-untyped-def]
    return Scene(world, auth)


def _page(reply) -> str:  # type: ignore[no-untyped-def]
    assert reply.status_code == 200, (reply.status_code, reply.get_data(as_text=True)[:300])
    return reply.get_data(as_text=True)


@pytest.mark.parametrize("number", [HUGE, BEYOND, NEGATIVE, "1" + "0" * 5000])
def test_a_huge_page_number_shows_a_page(client, scene, number):
    scene.auth.login("admin@example.go.th")
    for path in scene.central_pages:
        reply = client.get(f"{path}?page={number}")
        assert reply.status_code == 200, (path, reply.status_code)


def test_a_page_past_the_end_shows_the_last_one(client, scene):
    """The rounds overview holds one round: page 2, or page 10^20, shows it."""
    scene.auth.login("admin@example.go.th")
    for number in ("2", HUGE):
        assert "Round under test" in _page(client.get(f"/central/rounds?page={number}"))
    round_page = _page(client.get(f"/central/rounds/{scene.round.id}?page={HUGE}"))
    assert scene.agency.code in round_page


@pytest.mark.parametrize("number", [HUGE, BEYOND, NEGATIVE])
def test_a_huge_fiscal_year_or_round_filter_is_ignored_or_finds_nothing(client, scene, number):
    scene.auth.login("admin@example.go.th")
    rounds.move(scene.round, "closed")  # an activity event of the round
    db.session.commit()
    assert db.session.query(AuditEvent).filter(AuditEvent.round_id == scene.round.id).count()
    _page(client.get(f"/central/rounds?fiscal_year={number}"))
    _page(client.get(f"/central/activity?round={number}"))
    reply = client.get(f"/central/activity?round={number}&format=csv")
    assert reply.status_code == 200
    assert reply.mimetype == "text/csv"


@pytest.mark.parametrize("number", [HUGE, BEYOND, NEGATIVE])
def test_a_huge_questionnaire_version_in_a_diff_is_not_found(client, scene, number):
    scene.auth.login("admin@example.go.th")
    for query in (f"old={number}&new={scene.version.id}", f"old={scene.version.id}&new={number}"):
        reply = client.get(f"/central/questionnaires/diff?{query}")
        assert reply.status_code == 404, (query, reply.status_code)
    assert client.get(f"/central/questionnaires/diff?old={number}").status_code in (200, 404)


@pytest.mark.parametrize("name", ["round_id", "dim_code", *URL_FOR])
def test_a_reserved_argument_name_on_the_answer_page_is_not_a_500(client, scene, name):
    """``/answer`` redirects to its first section, keeping the query arguments: only the
    ones that are not the view's own (nor url_for's)."""
    scene.auth.login("coord@example.go.th")
    reply = client.get(f"/rounds/{scene.round.id}/answer?{name}=5&lang=en")
    assert reply.status_code == 302, reply.status_code
    target = reply.headers["Location"]
    assert target.startswith(f"/rounds/{scene.round.id}/answer/"), target
    assert "lang=en" in target
    assert f"{name}=" not in target
    assert client.get(target).status_code == 200


@pytest.mark.parametrize("name", ["round_id", "agency_code", "user_id", *URL_FOR])
def test_a_reserved_argument_name_on_a_central_page_is_not_a_500(client, scene, name):
    """The pages whose links keep the query arguments (export, pages, sorting) keep the
    others only."""
    scene.auth.login("admin@example.go.th")
    for path in scene.central_pages:
        reply = client.get(f"{path}?{name}=5&page=1")
        assert reply.status_code == 200, (path, reply.status_code)
    audit = f"/central/rounds/{scene.round.id}/responses/{scene.agency.code}/audit"
    html = _page(client.get(f"{audit}?{name}=5&action=answer"))
    # Not the audit view's own (nor url_for's): kept.
    kept = f"{name}=5&amp;" if name == "user_id" else ""
    assert f'href="{audit}?{kept}action=answer&amp;format=csv"' in html
