"""``assess questionnaire validate`` as a methodologist runs it: a subprocess, exit codes."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from tests.conftest import assess_executable

GOOD = textwrap.dedent(
    """\
    schema: assess/questionnaire@1
    code: demo
    version: "2568"
    title: {th: แบบทดสอบ, en: Test}
    levels:
      - {code: "1", min: 0, name: Initial}
      - {code: "2", min: 50, name: Managed}
    dimensions:
      - code: dim
        title: Dimension
        questions:
          - code: q1
            type: yesno
            text: First question
    """
)

BAD = textwrap.dedent(
    """\
    schema: assess/questionnaire@1
    code: demo
    version: "2568"
    supersedes: "2568"
    title: {th: แบบทดสอบ, en: Test}
    levels:
      - {code: "1", min: 0, name: Initial}
      - {code: "2", min: 50, name: Managed}
    dimensions:
      - code: dim
        title: Dimension
        questions:
          - code: q1
            type: yesno
            text: First question
            wieght: 2
          - code: q2
            type: choice
            text: Second
            show_if: q1 == 'yes'
            options:
              - {value: a, label: A, points: 1}
              - {value: a, label: B, points: 2}
    """
)

BAD_PROBLEMS = [
    "4: supersedes names this version itself ('2568')",
    "16: question 'q1': unknown key 'wieght' (did you mean 'weight'?)",
    "20: question 'q2': show_if: 'q1' is a yes/no question: compare it with yes or no",
    "23: question 'q2': duplicate option value 'a' (first at line 22)",
]


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_command("validate", *args, cwd=cwd)


def run_command(command: str, *args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``assess questionnaire COMMAND ARGS`` with its own instance folder and database, so a
    command that opens the database (import, diff) touches nothing outside ``cwd``."""
    env = {
        **os.environ,
        "PYTHONIOENCODING": "utf-8",
        "NO_COLOR": "1",
        "ASSESS_INSTANCE_PATH": str(cwd / "instance"),
        "ASSESS_DATABASE_URL": f"sqlite:///{cwd / 'instance' / 'assess.db'}",
    }
    return subprocess.run(
        [assess_executable(), "questionnaire", command, *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )


def write(tmp_path: Path) -> tuple[Path, Path]:
    good = tmp_path / "good.yaml"
    good.write_text(GOOD, encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD, encoding="utf-8")
    return good, bad


def test_good_and_bad_file(tmp_path: Path) -> None:
    good, bad = write(tmp_path)
    result = run(good, bad, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines() == [f"{bad}:{p}" for p in BAD_PROBLEMS]
    out = result.stdout.splitlines()
    assert len(out) == 1
    assert out[0].startswith(f"{good}: ok")
    assert "demo@2568" in out[0]
    assert str(bad) not in result.stdout


def test_bad_file_first_still_checks_the_good_one(tmp_path: Path) -> None:
    good, bad = write(tmp_path)
    result = run(bad, good, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"{bad}:{p}" for p in BAD_PROBLEMS]
    assert result.stdout.startswith(f"{good}: ok")


def test_relative_paths_are_printed_as_given(tmp_path: Path) -> None:
    write(tmp_path)
    result = run("bad.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == f"bad.yaml:{BAD_PROBLEMS[0]}"


def test_good_file_alone(tmp_path: Path) -> None:
    good, _ = write(tmp_path)
    result = run(good, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith(f"{good}: ok (demo@2568, 1 dimension, 1 question)")


def test_worked_example_is_ok(tmp_path: Path, examples: Path) -> None:
    result = run(examples / "worked-example.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "ok (worked-example@1, 2 dimensions, 7 questions)" in result.stdout


def test_several_bad_files_report_each(tmp_path: Path) -> None:
    _, bad = write(tmp_path)
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    result = run(bad, empty, cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[: len(BAD_PROBLEMS)] == [f"{bad}:{p}" for p in BAD_PROBLEMS]
    assert lines[len(BAD_PROBLEMS) :] == [f"{empty}:1: the file is empty"]


def test_missing_file(tmp_path: Path) -> None:
    result = run(tmp_path / "nope.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"{tmp_path / 'nope.yaml'}: cannot read: No such file or directory"
    ]


def test_missing_file_beside_a_bad_one_keeps_the_order_of_files(tmp_path: Path) -> None:
    _, bad = write(tmp_path)
    result = run("bad.yaml", "nope.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        *(f"bad.yaml:{p}" for p in BAD_PROBLEMS),
        "nope.yaml: cannot read: No such file or directory",
    ]


@pytest.mark.parametrize(
    "args",
    [
        ("validate", "nope.yaml"),
        ("import", "nope.yaml"),
        ("diff", "nope.yaml", "good.yaml"),
        ("diff", "good.yaml", "nope.yaml"),
        ("score", "nope.yaml", "answers.json"),
    ],
    ids=["validate", "import", "diff-old", "diff-new", "score"],
)
def test_a_missing_file_reads_alike_in_every_command(tmp_path: Path, args: tuple[str, ...]) -> None:
    """``FILE: cannot read: reason``: no line number, as the file has no lines."""
    write(tmp_path)
    (tmp_path / "answers.json").write_text('[{"agency": "A", "answers": {}}]', encoding="utf-8")
    result = run_command(*args, cwd=tmp_path)
    assert result.returncode == 1, result.stdout
    assert result.stderr.splitlines() == ["nope.yaml: cannot read: No such file or directory"]
    assert "Traceback" not in result.stderr


#: Numbers the scoring engine could not take, and conditions nested past Python's recursion
#: limit: each refused by validate with its line, before any command tries to use them.
LIMITS = [
    (
        "    title: Dimension\n",
        "    title: Dimension\n    weight: 1e20\n",
        "11: dimension 'dim': weight must be greater than 0 and at most 1,000,000, not 1e20",
    ),
    (
        "    title: Dimension\n",
        "    title: Dimension\n    weight: 1e99999999\n",
        "11: dimension 'dim': weight must be greater than 0 and at most 1,000,000, not 1e99999999",
    ),
    (
        "        type: yesno\n",
        "        type: number\n        max: 1e999999999\n",
        "14: question 'q1': max must be between -999,999,999,999,999 and 999,999,999,999,999, "
        "not 1e999999999",
    ),
    (
        "        text: First question\n",
        "        text: First question\n"
        "      - {code: q2, type: yesno, text: Q2, show_if: '"
        + "(" * 260
        + "q1 == yes"
        + ")" * 260
        + "'}\n",
        "15: question 'q2': show_if: parentheses and 'not' are nested more than 32 levels deep "
        "(at column 33)",
    ),
    (
        "        text: First question\n",
        "        text: First question\n"
        "      - {code: q2, type: yesno, text: Q2, show_if: '" + "not " * 1000 + "q1 == yes'}\n",
        "15: question 'q2': show_if: parentheses and 'not' are nested more than 32 levels deep "
        "(at column 129)",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    LIMITS,
    ids=["weight-1e20", "weight-1e99999999", "max-1e999999999", "parentheses-260", "not-1000"],
)
def test_numbers_and_conditions_beyond_the_limits(
    tmp_path: Path, old: str, new: str, problem: str
) -> None:
    assert old in GOOD
    path = tmp_path / "limits.yaml"
    path.write_text(GOOD.replace(old, new, 1), encoding="utf-8")
    result = run(path, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"{path}:{problem}"]
    assert result.stdout == ""


def test_a_huge_number_never_reaches_score(tmp_path: Path) -> None:
    """``score`` refuses the file as validate does (it used to hang on Fraction arithmetic)."""
    path = tmp_path / "huge.yaml"
    path.write_text(
        GOOD.replace(
            "        type: yesno\n",
            "        type: number\n        scoring: {linear: {from: 0, to: 1e999999999}}\n",
        ),
        encoding="utf-8",
    )
    answers = tmp_path / "answers.json"
    answers.write_text('[{"agency": "A", "answers": {"q1": 5}}]', encoding="utf-8")
    result = run_command("score", path, answers, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"{path}:14: question 'q1': linear to must be between -999,999,999,999,999 and "
        "999,999,999,999,999, not 1e999999999"
    ]


def test_no_arguments_is_a_usage_error(tmp_path: Path) -> None:
    result = run(cwd=tmp_path)
    assert result.returncode == 2
    assert "Usage:" in result.stderr
    assert result.stdout == ""
