"""The only way a scorecard reaches anything: the app's own static files and ``data:`` URLs.

WeasyPrint fetches whatever a document names — images, stylesheets, fonts, ``@import`` —
through a URL fetcher; its default one opens ``file:`` and ``http(s):`` URLs and follows
redirects. Scorecards hold text that agencies typed (names, answers), so the fetcher here
answers two kinds of URL and refuses everything else without opening it:

- ``assess-static:PATH``: a file under ``assess/static`` (fonts, the stylesheet), resolved
  and checked to stay inside that folder;
- ``data:``: decoded in memory.

A private scheme rather than ``file:`` or the app's ``/static/`` URL: nothing resolves it
except this fetcher, so a refused or mistaken URL can never reach the disk or the network.
Nothing is ever redirected: the fetcher makes no request at all.
"""

from __future__ import annotations

import logging
import mimetypes
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from urllib.request import DataHandler, Request

from weasyprint.urls import URLFetcher, URLFetcherResponse

from assess.scorecards.paths import PREFIX, SCHEME, STATIC, static_url

__all__ = ["PREFIX", "SCHEME", "STATIC", "RefusedURL", "StaticOnlyFetcher", "static_url"]

log = logging.getLogger(__name__)

#: Data URLs larger than this are refused (a scorecard's own are small SVG or PNG).
MAX_DATA_URL = 2 * 1024 * 1024


class RefusedURL(ValueError):
    """A URL the scorecard fetcher does not open (WeasyPrint skips the resource)."""


class StaticOnlyFetcher(URLFetcher):  # type: ignore[misc]
    """WeasyPrint's fetcher, locked down: static files and ``data:`` only, no network.

    ``observe`` (tests) is called with every URL asked for, before the decision.
    """

    def __init__(self, static: Path = STATIC, observe: Callable[[str], None] | None = None) -> None:
        """A fetcher for files under ``static``."""
        # The base class's handlers are never used (fetch below opens nothing through
        # them); its settings are set to refuse anyway, in case a later WeasyPrint calls it.
        super().__init__(
            timeout=1, allowed_protocols=(SCHEME, "data"), allow_redirects=False,
            fail_on_errors=False,
        )  # fmt: skip
        self.static = static.resolve()
        self.observe = observe
        self._cache: dict[str, tuple[bytes, str]] = {}
        self._lock = threading.Lock()

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        """Answer ``assess-static:`` and ``data:`` URLs; refuse (and log) anything else."""
        if self.observe is not None:
            self.observe(url)
        scheme = url.partition(":")[0].lower()
        if scheme == "data":
            return self._data(url)
        if scheme == SCHEME:
            body, mime = self._static(url)
            return URLFetcherResponse(url, body, {"Content-Type": mime})
        log.warning("scorecard: refused to fetch %.200s", url)
        raise RefusedURL(f"not fetched: {url[:200]}")

    def _static(self, url: str) -> tuple[bytes, str]:
        """The bytes and type of a static file; the folder cannot be left (``..``, links)."""
        with self._lock:
            cached = self._cache.get(url)
        if cached is not None:
            return cached
        relative = unquote(url[len(PREFIX) :].split("?")[0].split("#")[0]).lstrip("/")
        path = (self.static / relative).resolve()
        if not path.is_relative_to(self.static) or not path.is_file():
            log.warning("scorecard: refused to fetch %.200s (not a static file)", url)
            raise RefusedURL(f"not a static file: {url[:200]}")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        found = (path.read_bytes(), mime)
        with self._lock:
            self._cache[url] = found
        return found

    def _data(self, url: str) -> URLFetcherResponse:
        """A ``data:`` URL, decoded in memory by the standard library."""
        if len(url) > MAX_DATA_URL:
            raise RefusedURL("data: URL too large")
        # Only ever a data: URL here (checked by the caller): decoded, never opened.
        reply = DataHandler().data_open(Request(url))  # noqa: S310
        return URLFetcherResponse(url, reply.read(), dict(reply.headers.items()))
