"""`assess answers export --verified`, run as a subprocess: the answers as verified, so that
`assess questionnaire score` on the file gives exactly the published verified scores of
`assess scores` (the audit's reproduction), and without the option the self-assessed answers,
as before."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from assess.questionnaires.answers import CSV_NA, NA
from assess.questionnaires.builtin import builtin_path
from tests.cli.test_cli_database import cli  # noqa: F401  (fixture)

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

QUESTIONNAIRE = str(builtin_path("dg-readiness", "2569"))


@pytest.fixture
def published(app, world) -> SimpleNamespace:  # type: ignore[no-untyped-def]
    """A published round of dg-readiness@2569 whose reviewers changed answers every way a
    verified value can: AG-1 a level lowered and an answer made N/A; AG-2 its own N/A made
    an option, and a question that hides others answered the other way; AG-3 a verified
    empty value (stored data may hold one: it clears the answer); AG-4 nothing verified;
    AG-5 never started, yet given a verified value; AG-6 never started."""
    from assess.extensions import db
    from assess.models import VerifiedAnswer
    from assess.services import responses, results, rounds
    from tests.conftest import fill

    agencies = {
        code: world.agency(code) for code in ("AG-1", "AG-2", "AG-3", "AG-4", "AG-5", "AG-6")
    }
    reviewer = world.user("reviewer@example.go.th", role="reviewer")
    round_ = world.round(agencies=list(agencies.values()), name="รอบทวนสอบ")
    got = {code: world.response(round_, agency) for code, agency in agencies.items()}
    fill(got["AG-1"], reviewer, 0.9, extra={"mgmt.leadership": 4, "mgmt.pmqa_level": "advance"})
    fill(
        got["AG-2"],
        reviewer,
        0.6,
        extra={"service.bizportal": {"na": True}, "service.collects_fees": True},
    )
    fill(got["AG-3"], reviewer, 0.7, extra={"mgmt.leadership": 3})
    fill(got["AG-4"], reviewer, 0.5, status="submitted")
    verify = responses.verify
    verify(got["AG-1"], reviewer, "mgmt.leadership", 1, "หลักฐานไม่สนับสนุน")
    verify(got["AG-1"], reviewer, "mgmt.pmqa_level", {"na": True}, "ไม่อยู่ในขอบเขต PMQA")
    verify(got["AG-2"], reviewer, "service.bizportal", "all_online", "มีใบอนุญาตใน Biz Portal")
    verify(got["AG-2"], reviewer, "service.collects_fees", False, "ไม่มีการเก็บค่าธรรมเนียม")
    verify(got["AG-5"], reviewer, "mgmt.leadership", 2, "จากการลงพื้นที่")
    got["AG-3"].verified.append(
        VerifiedAnswer(
            question_code="mgmt.leadership",
            value=None,
            reason="ไม่มีหลักฐาน",
            verified_by_id=reviewer.id,
        )
    )
    db.session.flush()
    results.recompute(got["AG-3"])
    db.session.commit()
    rounds.move(round_, "closed")
    rounds.move(round_, "published")
    db.session.commit()
    return SimpleNamespace(round=str(round_.id), agencies=agencies)


def _scored(cli, path: Path, fmt: str = "json") -> Any:  # type: ignore[no-untyped-def]  # noqa: F811
    return cli("questionnaire", "score", QUESTIONNAIRE, str(path), "--format", fmt).stdout


def _by_agency(text: str) -> dict[str, dict[str, Any]]:
    rows = json.loads(text)
    for row in rows:
        row.pop("status", None)
    return {row["agency"]: row for row in rows}


def test_the_verified_export_scores_as_published(cli, published, tmp_path):  # noqa: F811
    round_id = published.round
    verified = _by_agency(cli("scores", round_id, "--format", "json").stdout)
    self_assessed = _by_agency(cli("scores", round_id, "--self", "--format", "json").stdout)
    started = ["AG-1", "AG-2", "AG-3", "AG-4"]
    # The verified values moved every started agency's scores but AG-4's (so the check
    # below bites).
    changed = {code for code in started if verified[code] != self_assessed[code]}
    assert changed == {"AG-1", "AG-2", "AG-3"}

    for fmt in ("json", "csv"):
        target = tmp_path / f"verified.{fmt}"
        cli("answers", "export", round_id, "--verified", "--format", fmt, "-o", str(target))
        scored = _by_agency(_scored(cli, target))
        # Every started response: AG-5 and AG-6 were never started (AG-5 was given a
        # verified value all the same), they have no results to reproduce.
        assert sorted(scored) == started, fmt
        assert scored == {code: verified[code] for code in scored}, fmt

    # The same as the contract's CSV, figure for figure (status column left out).
    offline = _scored(cli, tmp_path / "verified.json", "csv").splitlines()
    stored = cli("scores", round_id, "--format", "csv").stdout.splitlines()
    without_status = [
        ",".join(c for i, c in enumerate(line.split(",")) if i != 1) for line in stored
    ]
    assert [line for line in without_status if not line.startswith(("AG-5,", "AG-6,"))] == offline

    # Without --verified: the self-assessed answers, as before; they score as `--self`.
    plain = tmp_path / "self.json"
    cli("answers", "export", round_id, "--format", "json", "-o", str(plain))
    scored = _by_agency(_scored(cli, plain))
    assert sorted(scored) == started
    assert scored == {code: self_assessed[code] for code in scored}


def test_the_verified_answers_in_every_format(app, cli, published, tmp_path):  # noqa: F811
    from assess.services import interchange
    from assess.services.questionnaires import questionnaire_of

    round_id = published.round
    text = cli("answers", "export", round_id, "--verified", "--format", "json").stdout
    records = {r["agency"]: r for r in json.loads(text)}
    own = {
        r["agency"]: r
        for r in json.loads(cli("answers", "export", round_id, "--format", "json").stdout)
    }
    assert records["AG-1"]["answers"]["mgmt.leadership"] == 1  # changed
    assert own["AG-1"]["answers"]["mgmt.leadership"] == 4
    assert records["AG-1"]["answers"]["mgmt.pmqa_level"] == {"na": True}  # made N/A
    assert own["AG-1"]["answers"]["mgmt.pmqa_level"] == "advance"
    assert own["AG-2"]["answers"]["service.bizportal"] == {"na": True}
    assert records["AG-2"]["answers"]["service.bizportal"] == "all_online"  # N/A answered
    assert records["AG-2"]["answers"]["service.collects_fees"] is False
    assert "mgmt.leadership" not in records["AG-3"]["answers"]  # cleared
    assert own["AG-3"]["answers"]["mgmt.leadership"] == 3
    assert records["AG-4"] == own["AG-4"]
    assert sorted(records) == sorted(own)  # the started responses
    # Answers in questionnaire order, as the self-assessed export has them.
    order = list(questionnaire_of(_round(round_id).questionnaire).questions)
    for record in records.values():
        assert list(record["answers"]) == sorted(record["answers"], key=order.index)

    # CSV and XLSX hold the same answers.
    questionnaire = questionnaire_of(_round(round_id).questionnaire)
    expected = interchange.read_file(text.encode("utf-8"), "verified.json", questionnaire)
    for fmt in ("csv", "xlsx"):
        target = tmp_path / f"verified.{fmt}"
        cli("answers", "export", round_id, "--verified", "--format", fmt, "-o", str(target))
        again = interchange.read_file(target.read_bytes(), target.name, questionnaire)
        assert [(a.agency, a.answers, a.status) for a in again] == [
            (a.agency, a.answers, a.status) for a in expected
        ], fmt
    ag1 = next(a for a in expected if a.agency == "AG-1")
    assert ag1.answers["mgmt.pmqa_level"] is NA
    csv_text = cli("answers", "export", round_id, "--verified", "--format", "csv").stdout
    header, *rows = csv.reader(io.StringIO(csv_text))
    assert header[:2] == ["agency", "status"]
    row = next(row for row in rows if row[0] == "AG-1")
    assert row[header.index("mgmt.pmqa_level")] == CSV_NA


def test_the_help_says_which_answers_each_gives(cli):  # noqa: F811
    shown = " ".join(cli("answers", "export", "--help").stdout.split())
    assert "--verified" in shown
    assert "self-assessed" in shown
    assert "as verified" in shown


def _round(round_id: str):  # type: ignore[no-untyped-def]
    from assess.extensions import db
    from assess.models import Round

    return db.session.get(Round, int(round_id))
