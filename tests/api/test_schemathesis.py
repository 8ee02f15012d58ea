"""schemathesis against the served OpenAPI document: no server error, no reply off the schema.

The app runs on a seeded database (two agencies in an open round, a coordinator's and a
reviewer's token). Every operation of the document is called with generated data
(hypothesis, a bounded number of examples), authenticated, with the path pointing at a
real response for half of the cases so that the calls get past 404.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.api.conftest import ApiScene

EXAMPLES = 20


def test_api_conforms_to_its_openapi_document(app, world, client):  # type: ignore[no-untyped-def]
    app.config["API_RATE_LIMIT"] = "100000/minute"
    scene = ApiScene(world, client)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 9
    for operation in operations:
        _exercise(operation, scene)


def _exercise(operation, scene: ApiScene) -> None:  # type: ignore[no-untyped-def]
    reviewer_calls = operation.method.upper() == "PUT" or operation.path.endswith("/review")
    counter = {"n": 0}

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):  # type: ignore[no-untyped-def]
        counter["n"] += 1
        central = reviewer_calls or (operation.method.upper() == "GET" and counter["n"] % 3 == 0)
        token = scene.token_r if central else scene.token_a
        params = case.path_parameters
        if params and "round_id" in params and counter["n"] % 2 == 0:
            params["round_id"] = scene.round.id
            if "agency_code" in params:
                params["agency_code"] = "AG-A"
            if "question" in params:
                params["question"] = "mgmt.leadership"
        case.call_and_validate(
            headers={"Authorization": f"Bearer {token}"},
            checks=[not_a_server_error, response_schema_conformance],
        )

    run()
