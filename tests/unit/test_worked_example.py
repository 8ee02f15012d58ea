"""The worked example of scoring.md §9, reproduced exactly from ../shared/examples."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from pathlib import Path

from assess.questionnaires import load
from assess.questionnaires.answers import read_answers
from assess.scoring import score_response
from assess.scoring.batch import score_many
from tests.conftest import assess_executable


def expected(examples: Path) -> list[dict[str, object]]:
    return json.loads((examples / "worked-example.expected.json").read_text(encoding="utf-8"))


def test_library_reproduces_the_expected_file(examples: Path) -> None:
    q = load(examples / "worked-example.yaml")
    (response,) = read_answers(examples / "worked-example.answers.json", q)
    exact = {"agency": response.agency, **score_response(q, response.answers).as_dict()}
    assert [exact] == expected(examples)
    assert score_many(q, {response.agency: response.answers}).records() == expected(examples)


def test_the_example_details(examples: Path) -> None:
    q = load(examples / "worked-example.yaml")
    (response,) = read_answers(examples / "worked-example.answers.json", q)
    result = score_response(q, response.answers)
    pay = result.dimensions["pay"]
    assert (pay.score_level, pay.level, pay.capped_by) == ("3", "2", ("pay.recon",))
    assert str(pay.score) == "58.33"
    assert str(result.dimensions["id"].score) == "75.00"


def test_overall_level_lowest_variant(examples: Path, tmp_path: Path) -> None:
    text = (examples / "worked-example.yaml").read_text(encoding="utf-8")
    lowest = tmp_path / "lowest.yaml"
    lowest.write_text(
        text.replace("levels:", "overall_level: lowest\nlevels:", 1), encoding="utf-8"
    )
    q = load(lowest)
    (response,) = read_answers(examples / "worked-example.answers.json", q)
    assert score_response(q, response.answers).level == "2"


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [assess_executable(), *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_command_line_json(examples: Path) -> None:
    done = run(
        "questionnaire",
        "score",
        examples / "worked-example.yaml",
        examples / "worked-example.answers.json",
        "--format",
        "json",
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == expected(examples)


def test_command_line_default_is_json(examples: Path) -> None:
    done = run(
        "questionnaire",
        "score",
        examples / "worked-example.yaml",
        examples / "worked-example.answers.json",
    )
    assert json.loads(done.stdout) == expected(examples)


def test_command_line_csv(examples: Path, tmp_path: Path) -> None:
    out = tmp_path / "scores.csv"
    done = run(
        "questionnaire",
        "score",
        examples / "worked-example.yaml",
        examples / "worked-example.answers.json",
        "--format",
        "csv",
        "-o",
        out,
    )
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert rows == [
        {
            "agency": "EX-001",
            "completeness": "100.0",
            "overall_score": "63.89",
            "overall_level": "3",
            "pay_score": "58.33",
            "pay_level": "2",
            "id_score": "75.00",
            "id_level": "4",
        }
    ]


def test_command_line_reads_csv_answers(examples: Path, tmp_path: Path) -> None:
    answers = tmp_path / "answers.csv"
    answers.write_text(
        "agency,pay.channels,pay.share,pay.recon,pay.note,id.login,id.ndid,id.kyc\n"
        "EX-001,a|c,65,no,ทดสอบ,3,partly,#NA\n",
        encoding="utf-8",
    )
    done = run("questionnaire", "score", examples / "worked-example.yaml", answers)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == expected(examples)


def test_command_line_refuses_bad_answers_naming_agency_question_and_reason(
    examples: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            [
                {"agency": "EX-001", "answers": {"pay.share": 150, "id.login": 3}},
                {
                    "agency": "EX-002",
                    "answers": {"pay.channels": ["a", "z"], "pay.recon": {"na": True}},
                },
            ]
        ),
        encoding="utf-8",
    )
    done = run("questionnaire", "score", examples / "worked-example.yaml", bad)
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert f"{bad}: agency EX-001: question pay.share: 150 is above the maximum 100" in lines
    assert any(
        line.startswith(f'{bad}: agency EX-002: question pay.channels: "z" is not an option')
        for line in lines
    )
    assert (
        f"{bad}: agency EX-002: question pay.recon: not applicable is not allowed for this question"
        in lines
    )
    assert len(lines) == 3


def test_command_line_refuses_a_bad_questionnaire(examples: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        (examples / "worked-example.yaml")
        .read_text(encoding="utf-8")
        .replace("weight: 2\n", "wieght: 2\n", 1),
        encoding="utf-8",
    )
    done = run("questionnaire", "score", broken, examples / "worked-example.answers.json")
    assert done.returncode == 1
    assert "unknown key 'wieght' (did you mean 'weight'?)" in done.stderr
    assert done.stderr.startswith(f"{broken}:")


def test_command_line_usage_error_is_status_2(examples: Path) -> None:
    assert run("questionnaire", "score", examples / "worked-example.yaml").returncode == 2
    assert run("questionnaire", "score", "--format", "xml", "a", "b").returncode == 2
