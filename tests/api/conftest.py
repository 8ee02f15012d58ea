"""A scene for the JSON API: agencies A and B in one open round, their coordinators and a reviewer."""

from __future__ import annotations

import pytest

from assess.extensions import db
from assess.services import users

SECRET = "ความลับของหน่วยงานบี"


class ApiScene:
    def __init__(self, world, client) -> None:  # type: ignore[no-untyped-def]
        from assess.services import responses

        self.client = client
        self.a = world.agency("AG-A", name_en="Agency A", province="Chiang Mai", tags=["pilot"])
        self.b = world.agency("AG-B", name_en="Agency B", name_th="หน่วยงานบีลับ")
        self.coordinator_a = world.user("a@example.go.th", agency=self.a)
        self.coordinator_b = world.user("b@example.go.th", agency=self.b)
        self.reviewer = world.user("r@example.go.th", role="reviewer")
        self.version = world.questionnaire()
        self.round = world.round(self.version, agencies=[self.a, self.b], name="Shared")
        self.response_a = world.response(self.round, self.a)
        self.response_b = world.response(self.round, self.b)
        responses.save_answers(
            self.response_b, {"mgmt.leadership": 4}, revision=0, actor=self.coordinator_b
        )
        db.session.commit()
        self.token_a = users.issue_token(self.coordinator_a, "test")
        self.token_b = users.issue_token(self.coordinator_b, "test")
        self.token_r = users.issue_token(self.reviewer, "test")
        db.session.commit()

    def headers(self, token: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"} if token else {}

    def call(self, method: str, url: str, token: str | None, **kwargs):  # type: ignore[no-untyped-def]
        return self.client.open(url, method=method, headers=self.headers(token), **kwargs)

    def url(self, agency: str = "AG-A", tail: str = "", round_id: int | None = None) -> str:
        rid = self.round.id if round_id is None else round_id
        return f"/api/v1/rounds/{rid}/responses/{agency}{tail}"


@pytest.fixture
def api(world, client) -> ApiScene:  # type: ignore[no-untyped-def]
    return ApiScene(world, client)
