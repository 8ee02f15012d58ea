"""The commands that matter most, on every configured backend (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

from assess.questionnaires.builtin import builtin_path
from tests.cli.test_cli_database import _answers, cli, loaded  # noqa: F401  (fixtures)


def test_import_then_scores_equal_questionnaire_score(cli, loaded, tmp_path):  # noqa: F811
    answers = _answers(tmp_path)
    cli("round", "open", loaded)
    cli("answers", "import", loaded, str(answers))
    offline = cli(
        "questionnaire", "score", str(builtin_path("dg-readiness", "2569")), str(answers)
    ).stdout
    rows = json.loads(cli("scores", loaded, "--format", "json").stdout)
    for row in rows:
        assert row.pop("status") == "draft"
    assert rows == json.loads(offline)
