"""Central office registers."""

from __future__ import annotations

from assess.admin import bp
from assess.auth import admin_required, central_required


@bp.route("/agencies")
@central_required
def agencies() -> str:
    return "agencies"


@bp.route("/questionnaires")
@central_required
def questionnaires() -> str:
    return "questionnaires"


@bp.route("/users")
@admin_required
def users() -> str:
    return "users"
