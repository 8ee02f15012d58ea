"""Where a scorecard's files come from: the package's static folder, under a private scheme.

Kept apart from :mod:`assess.scorecards.fetcher` (which needs WeasyPrint, most of a second
to import) so that the app and the command line start without loading WeasyPrint.
"""

from __future__ import annotations

from pathlib import Path

#: The app's static folder (the package's own, so worker processes need no Flask app).
STATIC = (Path(__file__).resolve().parent.parent / "static").resolve()
SCHEME = "assess-static"
PREFIX = SCHEME + ":"


def static_url(path: str) -> str:
    """The scorecard URL of a file under ``assess/static`` (``fonts/ttf/Sarabun-Bold.ttf``)."""
    return PREFIX + path.lstrip("/")
