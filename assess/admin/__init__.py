"""The central office's registers: agencies, users, questionnaire versions."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/central")

from assess.admin import routes  # noqa: E402, F401  (registers the views on bp)
