"""Plotly's JavaScript, served by the app: assess's own build of it, with only the trace
types its charts draw (``tools/plotly``; 1.2 MB where the whole of Plotly is 4.8 MB).

Never a CDN: government intranets block them. Any signed-in user may load it (the central
office's dashboards and each agency's results page draw charts); the URL names the version,
so browsers keep it for a year.
"""

from __future__ import annotations

import gzip
import threading
from pathlib import Path

from flask import Blueprint, abort, request
from flask import Response as HttpResponse
from flask_login import login_required
from werkzeug.wrappers import Response as WerkzeugResponse

bp = Blueprint("assets", __name__, url_prefix="/assets")

#: The build (``tools/plotly/build.sh``): its name says its plotly.js version.
PLOTLY_JS = next((Path(__file__).parents[1] / "static" / "vendor").glob("plotly-*-assess.min.js"))
PLOTLY_VERSION = PLOTLY_JS.name.removeprefix("plotly-").removesuffix(".min.js")
YEAR = 365 * 24 * 3600

_compressed: dict[str, bytes] = {}
_compress_lock = threading.Lock()


def _gzipped() -> bytes:
    """The script compressed once per process (1.2 MB → 0.43 MB on the wire)."""
    with _compress_lock:
        if "js" not in _compressed:
            _compressed["js"] = gzip.compress(PLOTLY_JS.read_bytes(), compresslevel=6, mtime=0)
        return _compressed["js"]


@bp.route(f"/plotly-{PLOTLY_VERSION}.min.js", endpoint="plotly_js")
@login_required
def plotly_js() -> WerkzeugResponse:
    """The script, gzipped when the browser takes it, cached for a year."""
    if not PLOTLY_JS.is_file():
        abort(404)
    gz = "gzip" in request.headers.get("Accept-Encoding", "")
    body = _gzipped() if gz else PLOTLY_JS.read_bytes()
    reply = HttpResponse(body, mimetype="text/javascript")
    if gz:
        reply.headers["Content-Encoding"] = "gzip"
    reply.headers["Vary"] = "Accept-Encoding"
    # Private: the file sits behind the sign-in, so shared caches must not keep it.
    reply.headers["Cache-Control"] = f"private, max-age={YEAR}, immutable"
    reply.headers["X-Content-Type-Options"] = "nosniff"
    reply.set_etag(f"{PLOTLY_VERSION}-{'gzip' if gz else 'plain'}")
    return reply.make_conditional(request)
