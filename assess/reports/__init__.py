"""The central office's results dashboards: league table, distributions, heatmap, levels,
response progress, year-over-year trend and flags, for one round, with shared filters.

``data`` loads (and caches) what the pages read from :mod:`assess.services.reports`;
``league`` and ``flags`` are pure functions over those tables; ``charts`` is the one module
of chart specifications (Plotly figures); ``routes`` holds the thin views.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/central")

from assess.reports import routes  # noqa: E402, F401  (registers the views on bp)
