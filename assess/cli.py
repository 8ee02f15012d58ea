"""The ``assess`` command line (interfaces.md, "Command line").

A Flask CLI group, so ``flask --app assess …`` works too. Exit status 0 on success, 1 for a
refused operation or bad input (one line per problem on stderr), 2 for wrong usage (click's
own). Commands that need no database (``questionnaire validate|score|diff`` on files) do not
build the web application at all.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import NoReturn

import click
from flask.cli import FlaskGroup

from assess import __version__, create_app
from assess.questionnaires import Questionnaire, QuestionnaireError, load
from assess.questionnaires.answers import AnswersFileError, read_answers
from assess.questionnaires.builtin import builtin_path
from assess.questionnaires.diff import diff as diff_versions
from assess.scoring.batch import score_many


@click.group(cls=FlaskGroup, create_app=create_app, add_version_option=False)
@click.version_option(__version__, prog_name="assess")
def main() -> None:
    """assess: digital-government maturity assessment (การประเมินความพร้อมรัฐบาลดิจิทัล)."""


def fail(problems: Iterable[object]) -> NoReturn:
    """Print one line per problem on stderr and exit with status 1."""
    for problem in problems:
        click.echo(str(problem), err=True)
    sys.exit(1)


@main.group()
def questionnaire() -> None:
    """Questionnaire files: validate, try, compare."""


@questionnaire.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
def validate_command(files: tuple[Path, ...]) -> None:
    """Check FILES against the questionnaire format; print FILE:LINE: message per problem."""
    problems = []
    for path in files:
        try:
            loaded = load(path)
        except QuestionnaireError as exc:
            problems.extend(exc.problems)
            continue
        dims, count = len(loaded.dimensions), len(loaded.questions)
        click.echo(
            f"{path}: ok ({loaded.key}, {dims} dimension{'s' * (dims != 1)}, "
            f"{count} question{'s' * (count != 1)})"
        )
    if problems:
        fail(problems)


@questionnaire.command("score")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("answers", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of stdout.",
)
def score_command(file: Path, answers: Path, fmt: str, output: Path | None) -> None:
    """Score ANSWERS (.json or .csv interchange form) against a questionnaire FILE.

    No database is involved: a methodologist can try a questionnaire before any round.
    """
    loaded = _load_or_fail(file)
    try:
        responses = read_answers(answers, loaded)
    except AnswersFileError as exc:
        fail(exc.problems)
    batch = score_many(loaded, {r.agency: r.answers for r in responses})
    records = batch.records()
    text = (
        json.dumps(records, ensure_ascii=False, indent=2) + "\n"
        if fmt == "json"
        else scores_csv(loaded, records)
    )
    _write(text, output)


@questionnaire.command("diff")
@click.argument("old")
@click.argument("new")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def diff_command(old: str, new: str, fmt: str) -> None:
    """Compare two versions: dimensions and questions added, removed, changed, remapped.

    OLD and NEW are questionnaire files or built-in versions named CODE@VERSION.
    """
    result = diff_versions(_resolve(old), _resolve(new))
    if fmt == "json":
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    else:
        for line in result.lines():
            click.echo(line)


def _resolve(name: str) -> Questionnaire:
    path = Path(name)
    if not path.exists() and "@" in name:
        code, _, version = name.partition("@")
        found = builtin_path(code, version)
        if found is None:
            fail(
                [f"{name}: no such questionnaire version (give a file, or a built-in CODE@VERSION)"]
            )
        path = found
    return _load_or_fail(path)


def _load_or_fail(path: Path) -> Questionnaire:
    try:
        return load(path)
    except QuestionnaireError as exc:
        fail(exc.problems)


def scores_csv(loaded: Questionnaire, records: list[dict[str, object]]) -> str:
    """Scores as CSV: ``agency[,status],completeness,overall_score,overall_level,<dim>_score,…``."""
    measures = ["overall", *(d.code for d in loaded.dimensions)]
    has_status = any("status" in r for r in records)
    header = ["agency", *(["status"] if has_status else []), "completeness"]
    header += [f"{m}_{part}" for m in measures for part in ("score", "level")]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for record in records:
        dims = record["dimensions"]
        assert isinstance(dims, dict)
        row: list[object] = [
            record["agency"],
            *([record.get("status", "")] if has_status else []),
            record["completeness"],
        ]
        for measure in measures:
            result = record["overall"] if measure == "overall" else dims[measure]
            assert isinstance(result, dict)
            row += [
                "" if result["score"] is None else f"{result['score']:.2f}",
                result["level"] or "",
            ]
        writer.writerow(row)
    return buffer.getvalue()


def _write(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
