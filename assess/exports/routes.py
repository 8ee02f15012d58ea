"""Downloads of a round for the central office: answers, scores and benchmarks as CSV and
XLSX, answers as JSON, the answers as verified (JSON, CSV), the list of verified values
(CSV, XLSX), and the open-data package as a ZIP.

Views are thin: the tables and files come from :mod:`assess.services.exports`. CSV here is
for Excel users: UTF-8 with a byte-order mark, CRLF line ends, and text that would start a
formula neutralised with a leading apostrophe. Every URL is fixed, one rule and endpoint per
file, so a link names exactly what it downloads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from flask import Response as HttpResponse
from flask import abort, flash, render_template, request
from flask_babel import gettext as _

from assess.auth import central_required
from assess.exports import bp
from assess.extensions import db
from assess.models import Round
from assess.reports import data as cache
from assess.services import exports, interchange, reports

CSV = "text/csv"  # Werkzeug adds "; charset=utf-8" to a text/* type
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JSON = "application/json"
ZIP = "application/zip"


def _round_or_404(round_id: int) -> Round:
    """The round of the URL, or 404."""
    found = db.session.get(Round, round_id)
    if found is None:
        abort(404)
    return found


def download(data: bytes | Iterable[bytes], mimetype: str, filename: str) -> HttpResponse:
    """A file download; the browser saves it under ``filename`` (ASCII, no quoting needed)."""
    return HttpResponse(
        data,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            # Results are not public until published: no shared cache may keep them.
            "Cache-Control": "private, no-store",
        },
    )


def _table(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], fmt: str, filename: str, sheet: str
) -> HttpResponse:
    """A table as the CSV for Excel users or as a workbook."""
    if fmt == "csv":
        # Streamed: the rows are made (or already made), so the download starts at once.
        return download(exports.csv_chunks(columns, rows), CSV, f"{filename}.csv")
    return download(
        exports.xlsx_bytes([exports.Sheet(sheet, columns, rows)]), XLSX, f"{filename}.xlsx"
    )


def _grouping() -> str:
    """The ``by`` query argument of the benchmark downloads (``all`` when missing)."""
    by = request.args.get("by", "all")
    if by not in reports.GROUPINGS:
        abort(400)
    return by


@bp.route("/rounds/<int:round_id>/exports", endpoint="index")
@central_required
def index(round_id: int) -> str:
    """The list of a round's downloads, one line of explanation each."""
    return _index(_round_or_404(round_id))


def _index(round_: Round) -> str:
    return render_template(
        "exports/index.html",
        round=round_,
        groupings=reports.GROUPINGS,
        published=round_.status == "published",
    )


# One endpoint per file (no ``defaults``): a URL built from an endpoint names one file.


@bp.route("/rounds/<int:round_id>/exports/scores.csv", endpoint="scores_csv")
@central_required
def scores_csv(round_id: int) -> HttpResponse:
    """Verified scores of every response, CSV for Excel."""
    return _scores(_round_or_404(round_id), "csv")


@bp.route("/rounds/<int:round_id>/exports/scores.xlsx", endpoint="scores_xlsx")
@central_required
def scores_xlsx(round_id: int) -> HttpResponse:
    """Verified scores of every response, as a workbook."""
    return _scores(_round_or_404(round_id), "xlsx")


def _scores(round_: Round, fmt: str) -> HttpResponse:
    """Scores as ``assess scores`` gives them (verified), with the agencies' names."""
    columns, rows = exports.scores_table(round_, data=cache.round_results(round_))
    return _table(columns, rows, fmt, f"round-{round_.id}-scores", "scores")


@bp.route("/rounds/<int:round_id>/exports/benchmark.csv", endpoint="benchmark_csv")
@central_required
def benchmark_csv(round_id: int) -> HttpResponse:
    """Benchmark figures for one grouping (``?by=``), CSV for Excel."""
    return _benchmark(_round_or_404(round_id), "csv")


@bp.route("/rounds/<int:round_id>/exports/benchmark.xlsx", endpoint="benchmark_xlsx")
@central_required
def benchmark_xlsx(round_id: int) -> HttpResponse:
    """Benchmark figures for one grouping (``?by=``), as a workbook."""
    return _benchmark(_round_or_404(round_id), "xlsx")


def _benchmark(round_: Round, fmt: str) -> HttpResponse:
    """Benchmark figures of the accepted responses, with the agencies' names."""
    by = _grouping()
    columns, rows = exports.benchmark_table(cache.round_results(round_), by)
    return _table(columns, rows, fmt, f"round-{round_.id}-benchmark-{by}", f"benchmark ({by})")


@bp.route("/rounds/<int:round_id>/exports/answers.json", endpoint="answers_json")
@central_required
def answers_json(round_id: int) -> HttpResponse:
    """Every started response's answers, exactly as ``assess answers export --format json``."""
    round_ = _round_or_404(round_id)
    data = interchange.export_round(round_, "json")
    return download(data, JSON, f"round-{round_.id}-answers.json")


@bp.route("/rounds/<int:round_id>/exports/answers.csv", endpoint="answers_csv")
@central_required
def answers_csv(round_id: int) -> HttpResponse:
    """Every started response's answers, CSV for Excel (text answers neutralised)."""
    return _answers(_round_or_404(round_id), "csv")


@bp.route("/rounds/<int:round_id>/exports/answers.xlsx", endpoint="answers_xlsx")
@central_required
def answers_xlsx(round_id: int) -> HttpResponse:
    """Every started response's answers as a workbook that imports back unchanged."""
    return _answers(_round_or_404(round_id), "xlsx")


def _answers(round_: Round, fmt: str) -> HttpResponse:
    """The interchange table of a round's answers, for people: the CSV for Excel, or the
    workbook exactly as ``assess answers export --format xlsx`` writes it."""
    filename = f"round-{round_.id}-answers"
    if fmt == "xlsx":
        return download(interchange.export_round(round_, "xlsx"), XLSX, f"{filename}.xlsx")
    columns, rows = exports.answers_table(round_)
    return _table(columns, rows, fmt, filename, "answers")


# The answers as verified (a reviewer's verified value in place of the agency's answer):
# scoring them gives the published, verified scores. And the verified values themselves,
# with their reasons, for auditors.


@bp.route("/rounds/<int:round_id>/exports/answers-verified.json", endpoint="answers_verified_json")
@central_required
def answers_verified_json(round_id: int) -> HttpResponse:
    """Every response's answers as verified, exactly as ``assess answers export --verified
    --format json``."""
    round_ = _round_or_404(round_id)
    data = interchange.export_round(round_, "json", verified=True)
    return download(data, JSON, f"round-{round_.id}-answers-verified.json")


@bp.route("/rounds/<int:round_id>/exports/answers-verified.csv", endpoint="answers_verified_csv")
@central_required
def answers_verified_csv(round_id: int) -> HttpResponse:
    """Every response's answers as verified, CSV for Excel (text answers neutralised),
    written row by row as it downloads."""
    round_ = _round_or_404(round_id)
    columns, rows = exports.verified_answers_table(round_)
    return _table(columns, rows, "csv", f"round-{round_.id}-answers-verified", "answers")


@bp.route("/rounds/<int:round_id>/exports/verified-values.csv", endpoint="verified_values_csv")
@central_required
def verified_values_csv(round_id: int) -> HttpResponse:
    """One row per verified value (with the agency's own value, the reason, the reviewer
    and the time), CSV for Excel."""
    return _verified_values(_round_or_404(round_id), "csv")


@bp.route("/rounds/<int:round_id>/exports/verified-values.xlsx", endpoint="verified_values_xlsx")
@central_required
def verified_values_xlsx(round_id: int) -> HttpResponse:
    """One row per verified value, as a workbook."""
    return _verified_values(_round_or_404(round_id), "xlsx")


def _verified_values(round_: Round, fmt: str) -> HttpResponse:
    columns, rows = exports.verified_values_table(round_)
    return _table(columns, rows, fmt, f"round-{round_.id}-verified-values", "verified values")


@bp.route("/rounds/<int:round_id>/exports/datapackage.zip", endpoint="datapackage")
@central_required
def datapackage(round_id: int) -> str | HttpResponse:
    """The open-data package of the published results, as a ZIP.

    Before publication the exports page is shown again with the reason: the package holds
    published results only.
    """
    round_ = _round_or_404(round_id)
    if round_.status != "published":
        flash(
            _(
                "The open-data package holds published results only: publish the round's "
                "results first."
            ),
            "warning",
        )
        return _index(round_)
    return download(exports.datapackage_zip(round_), ZIP, f"round-{round_.id}-datapackage.zip")
