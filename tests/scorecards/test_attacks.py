"""Hostile text in agency names and answers: the scorecard is made and nothing is fetched.

A local HTTP server counts every request it gets; the PDF's fetcher records every URL it
is asked for. User text is escaped by Jinja (it stays text), and even raw hostile HTML given
straight to WeasyPrint reaches neither the server nor the disk.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from assess.extensions import db
from assess.scorecards import render
from assess.scorecards.fetcher import StaticOnlyFetcher
from assess.scorecards.pdf import Prepared, write_pdf
from tests.scorecards.conftest import Scene, pdftotext


class _Counter(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body { background: red }")

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def server() -> Iterator[tuple[int, list[str]]]:
    """A server on 127.0.0.1 that records the paths asked of it."""
    hits: list[str] = []
    handler = type("Counter", (_Counter,), {"hits": hits})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1], hits
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def hostile(world, server) -> tuple[Scene, list[str]]:  # type: ignore[no-untyped-def]
    port, hits = server
    scene = Scene(world, port=port)
    scene.publish()
    return scene, hits


def _allowed(url: str) -> bool:
    return url.startswith(("assess-static:", "data:"))


def test_hostile_names_and_answers_make_a_pdf_and_fetch_nothing(hostile, tmp_path):
    scene, hits = hostile
    asked: list[str] = []
    fetcher = StaticOnlyFetcher(observe=asked.append)
    for lang in ("th", "en"):
        _name, data = render.scorecard(
            scene.response_x, lang, peers_visible=True, url_fetcher=fetcher
        )
        assert data.startswith(b"%PDF-")
        text = pdftotext(data, tmp_path)
        # The markup is shown as the text it is, never interpreted.
        assert "file:///etc/passwd" in text
        assert "@import" in text
    assert hits == []
    assert all(_allowed(url) for url in asked), asked
    assert "root:" not in text


def test_raw_hostile_html_is_refused_by_the_fetcher(server, tmp_path):
    """Defence in depth: markup that escaped the template would still fetch nothing."""
    port, hits = server
    html = f"""<!doctype html><html lang="en"><head><title>x</title>
      <link rel="stylesheet" href="http://127.0.0.1:{port}/link.css">
      <style>@import url("http://127.0.0.1:{port}/import.css");
             body {{ background: url("http://127.0.0.1:{port}/bg.png") }}
             @font-face {{ font-family: X; src: url("file:///etc/passwd") }}</style></head>
      <body><p>Hostile</p>
      <img src="file:///etc/passwd"><img src="http://127.0.0.1:{port}/img.png">
      <img src="assess-static:../../../../etc/passwd">
      <img src="/etc/passwd"><iframe src="http://127.0.0.1:{port}/frame"></iframe>
      <object data="http://127.0.0.1:{port}/object"></object>
      <svg><image href="http://127.0.0.1:{port}/svg.png"/></svg>
      <img src="data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg'/>">
      </body></html>"""
    asked: list[str] = []
    data = write_pdf(
        Prepared(html, b"{}", "scores.json", "x.pdf"),
        url_fetcher=StaticOnlyFetcher(observe=asked.append),
    )
    assert data.startswith(b"%PDF-")
    assert hits == []
    # WeasyPrint asked for them; the fetcher refused each one.
    assert any("127.0.0.1" in url for url in asked)
    assert any(url.startswith("file:") for url in asked)
    assert "root:" not in pdftotext(data, tmp_path)


def test_the_fetcher_serves_static_files_and_data_only():
    fetcher = StaticOnlyFetcher()
    font = fetcher.fetch("assess-static:fonts/ttf/Sarabun-Regular.ttf")
    assert font.read()[:4] == b"\x00\x01\x00\x00"  # a TrueType file
    assert fetcher.fetch("data:text/plain;base64,aGk=").read() == b"hi"
    for url in (
        "file:///etc/passwd",
        "http://127.0.0.1:1/x",
        "https://example.org/x.css",
        "ftp://127.0.0.1/x",
        "assess-static:../../../../etc/passwd",
        "assess-static:%2e%2e/%2e%2e/pyproject.toml",
        "assess-static:fonts/no-such-file.ttf",
        "assess-static:fonts",
        "javascript:alert(1)",
    ):
        with pytest.raises(ValueError, match="not"):
            fetcher.fetch(url)


def test_the_api_and_page_serve_the_hostile_agencys_own_scorecard(hostile, client, auth):
    scene, hits = hostile
    auth.login("x@example.go.th")
    reply = client.get(f"/rounds/{scene.round.id}/responses/AG-X/scorecard.pdf")
    assert reply.status_code == 200
    assert reply.data.startswith(b"%PDF-")
    assert hits == []
    db.session.rollback()
