"""The central office's rounds: overview, progress monitor, review of a response, audit trail."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("review", __name__, url_prefix="/central")

from assess.review import routes  # noqa: E402, F401  (registers the views on bp)
