"""Real-browser tests: the app served over HTTP, driven by headless Chromium (Playwright).

Every test here gets its own application on a fresh copy of the migrated SQLite file (the
browser tests run on SQLite only), with CSRF protection ON — real forms, real tokens — and
serves it on 127.0.0.1 from a thread (``live``). The test keeps an app context, so it can
prepare data with the ``world`` factories and read the database while the browser works.

Playwright's own browsers are not downloaded: the tests use the system's Chromium
(``/usr/bin/chromium``, ``chromium`` on PATH, or ``ASSESS_CHROMIUM``) and skip when there is
none. Screenshots go to ``test-artifacts/screenshots/`` at the repository root; the
journeys' steps to ``test-artifacts/journeys/<journey>/NN-<step>.png``.

Accessibility: every step of a journey is checked with axe-core (WCAG 2.1 A and AA rules),
which is not a Python package: it comes from the npm registry
(``npm install --no-save --prefix .cache/axe-core axe-core@4``, as ``.ci/run`` does) and is
found at ``.cache/axe-core/node_modules/axe-core/axe.min.js`` or at ``ASSESS_AXE_JS``. The
tests that use it FAIL when it is missing (they do not skip), so CI cannot pass without it.
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import make_app, serving, sqlite_copy

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
JOURNEYS = ROOT / "test-artifacts" / "journeys"
AXE_JS = ROOT / ".cache" / "axe-core" / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "correct horse battery"

#: The axe-core rules that WCAG 2.1 level AA asks for; only serious and critical results fail.
AXE_RUN = """() => axe.run(document, {
    runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    resultTypes: ["violations"],
}).then(result => result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))})))"""

#: Chromium flags for a quiet, headless, sandbox-less run (containers, CI).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


#: Whether the page's Thai text (if any) is drawn with a loaded Sarabun face for Thai.
SARABUN_FOR_THAI = """() => document.fonts.ready.then(() =>
    !/[\\u0e01-\\u0e5b]/.test(document.body.innerText)
    || [...document.fonts].some(f => f.family.replace(/["']/g, "") === "Sarabun"
                                   && f.unicodeRange.includes("E01") && f.status === "loaded"))"""


def is_csp(message) -> bool:  # type: ignore[no-untyped-def]
    """Whether a console message is Chromium reporting a Content-Security-Policy violation."""
    return message.type == "error" and "Content Security Policy" in message.text


def chromium_path() -> str | None:
    """The system Chromium: ``ASSESS_CHROMIUM``, ``/usr/bin/chromium`` or ``chromium`` on PATH."""
    configured = os.environ.get("ASSESS_CHROMIUM")
    if configured:
        return configured if Path(configured).exists() else None
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    return shutil.which("chromium")


@functools.cache
def axe_source() -> str:
    """axe-core's script (``ASSESS_AXE_JS`` or ``.cache/axe-core``); a failure when missing."""
    path = Path(os.environ.get("ASSESS_AXE_JS") or AXE_JS)
    if not path.is_file():
        pytest.fail(
            f"axe-core is missing at {path}: install it from the npm registry with "
            "`npm install --no-save --prefix .cache/axe-core axe-core@4` (as .ci/run does) "
            "or point ASSESS_AXE_JS at axe.min.js"
        )
    return path.read_text(encoding="utf-8")


@pytest.fixture
def app(_sqlite_template: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The application on a fresh SQLite file, CSRF on (overrides the shared ``app``)."""
    from assess.extensions import db

    app = make_app(tmp_path, sqlite_copy(_sqlite_template, tmp_path), WTF_CSRF_ENABLED=True)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


#: The development server behind ``live`` can leave a static file (a font, a stylesheet)
#: open when the browser drops the connection mid-download, e.g. by navigating on; the file
#: is closed when collected, and the warning then lands in whichever test is running.
STATIC_FILE_LEFT_OPEN = [
    pytest.mark.filterwarnings(
        r"ignore:unclosed file <_io\.\w+ name='[^']*/static/:ResourceWarning"
    ),
    pytest.mark.filterwarnings(
        r"ignore:Exception ignored in. <_io\.FileIO name='[^']*/static/"
        ":pytest.PytestUnraisableExceptionWarning"
    ),
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests tolerate only that: the server's static files left open by a drop."""
    for item in items:
        if item.get_closest_marker("e2e"):
            for mark in STATIC_FILE_LEFT_OPEN:
                item.add_marker(mark)


@pytest.fixture
def live(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The app served on 127.0.0.1 (a free port) from a thread; the base URL."""
    with serving(app) as url:
        yield url


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    """Headless Chromium for the whole session (each person gets a fresh context)."""
    executable = chromium_path()
    if executable is None:
        pytest.skip("no Chromium installed (/usr/bin/chromium or chromium on PATH)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


class Person:
    """One person at one browser: a fresh context (own cookies and storage) and a page.

    Page errors (uncaught JavaScript exceptions) and server errors (5xx replies) are
    collected in ``problems``; a journey asserts there were none.
    """

    def __init__(self, browser, base: str) -> None:  # type: ignore[no-untyped-def]
        self.base = base
        self.context = browser.new_context(
            viewport={"width": 1366, "height": 900},
            locale="th-TH",
            timezone_id="Asia/Bangkok",
        )
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        # What the Content-Security-Policy blocked (an inline script, a foreign source).
        self.page.on("console", lambda m: self.problems.append(m.text) if is_csp(m) else None)
        self.page.on(
            "response",
            lambda r: self.problems.append(f"{r.status} {r.url}") if r.status >= 500 else None,
        )

    def url(self, path: str) -> str:
        return self.base + path

    def goto(self, path: str):  # type: ignore[no-untyped-def]
        return self.page.goto(self.url(path))

    def login(self, email: str, password: str = PASSWORD, *, lands_on: str) -> None:
        """Sign in through the login form; wait for the landing page (a glob such as ``**/my``)."""
        page = self.page
        page.goto(self.url("/login"))
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", password)
        page.locator("main form [type=submit]").click()
        page.wait_for_url(lands_on)

    def shot(self, name: str) -> Path:
        """A full-page PNG of the current page from its top, once its web fonts are in.

        A page with Thai text must have drawn it with the served Sarabun face (no system
        fallback, no tofu); otherwise that goes into ``problems``.
        """
        if not self.page.evaluate(SARABUN_FOR_THAI):
            self.problems.append(f"Thai text without the Sarabun face: {self.page.url}")
        self.page.evaluate("window.scrollTo(0, 0)")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def axe(self) -> list[dict[str, object]]:
        """The serious and critical WCAG 2.1 A/AA violations axe-core finds on the page now.

        The script goes in through the DevTools protocol (not a ``<script>`` element), so the
        page's Content-Security-Policy neither blocks it nor needs loosening for the test.
        """
        if not self.page.evaluate("() => typeof window.axe === 'object'"):
            self.page.evaluate(axe_source() + "\n;undefined")
        return list(self.page.evaluate(AXE_RUN))

    def check_page(self) -> None:
        """Accessibility basics of the page at hand, into ``problems``: the page's language
        (``<html lang>``, th or en), a title, one ``<main>`` and axe-core's verdict."""
        page = self.page
        where = page.url.removeprefix(self.base)
        lang = page.locator("html").get_attribute("lang")
        if lang not in ("th", "en"):
            self.problems.append(f"{where}: <html lang={lang!r}>")
        if not page.title().strip():
            self.problems.append(f"{where}: no <title>")
        if page.locator("main").count() != 1:
            self.problems.append(f"{where}: not exactly one <main>")
        for violation in self.axe():
            self.problems.append(f"{where}: axe {violation}")

    def close(self) -> None:
        self.context.close()


class Journey:
    """The numbered steps of one journey: each a full-page screenshot
    (``test-artifacts/journeys/<name>/NN-<step>.png``) and an accessibility check of the page.

    The folder is emptied first, so it holds exactly the steps of the last run.
    """

    def __init__(self, name: str) -> None:
        self.folder = JOURNEYS / name
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.steps: list[Path] = []

    def step(self, someone: Person, name: str, *, check: bool = True) -> Path:
        """Photograph ``someone``'s page as the next step; check it unless told not to."""
        if check:
            someone.check_page()
        if not someone.page.evaluate(SARABUN_FOR_THAI):
            someone.problems.append(f"Thai text without the Sarabun face: {someone.page.url}")
        someone.page.evaluate("window.scrollTo(0, 0)")
        path = self.folder / f"{len(self.steps) + 1:02d}-{name}.png"
        someone.page.screenshot(path=str(path), full_page=True)
        self.steps.append(path)
        return path


@pytest.fixture
def person(browser, live) -> Iterator[Callable[[], Person]]:  # type: ignore[no-untyped-def]
    """A factory of people at browsers (each a new context); all closed at the end."""
    people: list[Person] = []

    def make() -> Person:
        people.append(Person(browser, live))
        return people[-1]

    yield make
    for someone in people:
        someone.close()
