"""Central office round views."""

from __future__ import annotations

from assess.auth import central_required
from assess.review import bp


@bp.route("/rounds")
@central_required
def rounds() -> str:
    return "rounds"
