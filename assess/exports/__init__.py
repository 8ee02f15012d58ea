"""The central office's downloads of a round: answers, scores, benchmarks (CSV, XLSX) and
the open-data package."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("exports", __name__, url_prefix="/central")

from assess.exports import routes  # noqa: E402, F401  (registers the views on bp)
