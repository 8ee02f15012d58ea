"""Coordinator views (filled in below)."""

from __future__ import annotations

from flask_login import login_required

from assess.survey import bp


@bp.route("/my")
@login_required
def home() -> str:
    return "my rounds"
