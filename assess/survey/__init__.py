"""The coordinator's pages: my rounds, answering, evidence, submitting, the offline workbook."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("survey", __name__)

from assess.survey import routes  # noqa: E402, F401  (registers the views on bp)
