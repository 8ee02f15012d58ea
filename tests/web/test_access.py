"""The access matrix: every route × every role × the own and another agency's data.

One world is built per module (SQLite; access rules do not depend on the database engine)
and every cell is one request:

- roles: an anonymous visitor, the coordinator of agency B (whose data the URLs name),
  the coordinator of agency A (another agency), a reviewer and an admin of the central
  office;
- routes: every rule of the app's URL map with every method it takes — pages, evidence,
  exports, scorecard PDFs, bulk jobs (a job another user started) and every ``/api/v1``
  endpoint (bearer tokens there; the session elsewhere).

Each endpoint is classified in :data:`KINDS` and each kind says what each role gets
(:data:`EXPECTED`). Forbidden cells must answer 401/login, 403 or 404; allowed cells must
really be reached (so the matrix cannot pass by refusing everything). In every reply to
the anonymous visitor and to agency A's coordinator, nothing of agency B shows: its name,
its answers, its evidence file's name or content, its dispute, its round, its exported
archive — in the body or the headers. A forbidden request that writes (POST, PATCH, PUT)
changes nothing stored; an allowed one is undone after its cell (the database file and the
files are restored), so the cells stay independent.

:func:`test_every_route_is_classified` fails when a route exists that the matrix does not
classify (or the matrix names one that is gone).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from assess.extensions import db
from tests.conftest import make_app, sqlite_copy

# -- what B holds: none of it may reach A's coordinator or an anonymous visitor ------------------

B_NAME_TH = "หน่วยงานบีลับ"
B_NAME_EN = "Agency Bee Confidential"
SECRET_TEXT = "ความลับของหน่วยงานบี"
SECRET_FILE = "secret-plan-of-b.pdf"
SECRET_CONTENT = "SECRET-CONTENT-OF-B-7f3a"
SECRET_DISPUTE = "ข้อโต้แย้งลับของบี"
SECRET_ROUND = "รอบลับเฉพาะบี"
SECRET_ARCHIVE = "SECRET-ARCHIVE-OF-B-91c2"
SECRETS = (
    B_NAME_TH,
    B_NAME_EN,
    SECRET_TEXT,
    SECRET_FILE,
    SECRET_CONTENT,
    SECRET_DISPUTE,
    SECRET_ROUND,
    SECRET_ARCHIVE,
)
PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% "
    + SECRET_CONTENT.encode()
    + b"\ntrailer << /Root 1 0 R >>\n%%EOF\n"
)
PASSWORD = "correct horse battery"

ROLES = ("anonymous", "coordinator_own", "coordinator_other", "reviewer", "admin")

# -- every endpoint, classified -----------------------------------------------------------------

KINDS: dict[str, str] = {
    # Public: signing in, the language switch, the CSRF token (other origins cannot read
    # it), static files, the API's description and reference page, and whether a
    # scorecard's verification code matches (told only to whoever holds the code).
    **dict.fromkeys(
        (
            "auth.index",
            "auth.login",
            "auth.logout",
            "auth.language",
            "survey.csrf_token",
            "static",
            "bootstrap.static",
            "api-docs.openapi_json",
            "api-docs.openapi_swagger_ui",
            "api_assets.static",
            "scorecards.verify",
        ),
        "public",
    ),
    # Any signed-in user: their own profile; Plotly's own script (nobody's data).
    "auth.profile": "signed_in",
    "assets.plotly_js": "signed_in",
    # The keep-alive of a page's "Stay signed in" (session.js); JSON 401 when anonymous.
    "auth.keep_alive": "signed_in",
    # One's own API token only.
    "auth.revoke_token": "own_token",
    # Coordinators: the list of their own agency's rounds.
    "survey.home": "coordinator_home",
    # Coordinators, on their own agency's response only.
    **dict.fromkeys(
        (
            "survey.answer",
            "survey.save",
            "survey.evidence_add",
            "survey.evidence_file",
            "survey.evidence_remove",
            "survey.submit",
            "survey.workbook",
            "survey.workbook_download",
            "survey.results_view",
            "survey.dispute_new",
        ),
        "coordinator",
    ),
    # The agency's own coordinator (results out) or the central office.
    "scorecards.download": "scorecard",
    # The central office: reviewers and admins.
    **dict.fromkeys(
        (
            "review.activity",
            "review.rounds",
            "review.rounds_csv",
            "review.round",
            "review.new_round",
            "review.move_round",
            "review.round_settings",
            "review.round_name",
            "review.round_invitations",
            "review.delete_round",
            "review.round_csv",
            "review.response",
            "review.audit",
            "review.agency_results",
            "review.review_action",
            "review.verify",
            "review.disputes",
            "review.decide_dispute",
            "review.evidence",
            "admin.agencies",
            "admin.agency",
            "admin.new_agency",
            "admin.import_agencies",
            "admin.questionnaires",
            "admin.questionnaire",
            "admin.questionnaire_source",
            "admin.questionnaire_diff",
            "admin.import_questionnaire",
            "exports.index",
            "exports.answers_csv",
            "exports.answers_json",
            "exports.answers_xlsx",
            "exports.answers_verified_csv",
            "exports.answers_verified_json",
            "exports.benchmark_csv",
            "exports.benchmark_xlsx",
            "exports.datapackage",
            "exports.scores_csv",
            "exports.scores_xlsx",
            "exports.verified_values_csv",
            "exports.verified_values_xlsx",
            "reports.league",
            "reports.league_csv",
            "reports.distributions",
            "reports.distributions_csv",
            "reports.flags",
            "reports.flags_csv",
            "reports.heatmap",
            "reports.heatmap_csv",
            "reports.levels",
            "reports.levels_csv",
            "reports.progress",
            "reports.progress_csv",
            "reports.submissions_csv",
            "reports.trend",
            "reports.trend_csv",
            "scorecards.bulk_start",
            "scorecards.bulk_cancel",
            "scorecards.bulk_status",
            "scorecards.bulk_download",
        ),
        "central",
    ),
    # Admins only: users.
    **dict.fromkeys(("admin.users", "admin.user", "admin.new_user", "admin.import_users"), "admin"),
    # The JSON API (bearer tokens).
    "api.list_rounds": "api_any",
    "api.get_response": "api_read",
    "api.scorecard": "api_read",
    "api.patch_answers": "api_coordinator",
    "api.submit": "api_coordinator",
    "api.review": "api_central",
    "api.put_verified": "api_central",
    "api.scores": "api_round",
    "api.benchmark_rows": "api_round",
}

#: What each role gets, by kind: ``ok`` (reached), ``login`` (sent to sign in, or 401 for
#: a script), ``401``, ``403``, ``404``, or ``denied`` (403 or 404).
_ANON = "login"
EXPECTED: dict[str, dict[str, str]] = {
    "public": dict.fromkeys(ROLES, "ok"),
    "signed_in": {"anonymous": _ANON, **dict.fromkeys(ROLES[1:], "ok")},
    "own_token": {
        "anonymous": _ANON,
        "coordinator_own": "ok",
        "coordinator_other": "404",
        "reviewer": "404",
        "admin": "404",
    },
    "coordinator_home": {
        "anonymous": _ANON,
        "coordinator_own": "ok",
        "coordinator_other": "ok",
        "reviewer": "403",
        "admin": "403",
    },
    "coordinator": {
        "anonymous": _ANON,
        "coordinator_own": "ok",
        "coordinator_other": "404",
        "reviewer": "403",
        "admin": "403",
    },
    "scorecard": {
        "anonymous": _ANON,
        "coordinator_own": "ok",
        "coordinator_other": "404",
        "reviewer": "ok",
        "admin": "ok",
    },
    "central": {
        "anonymous": _ANON,
        "coordinator_own": "403",
        "coordinator_other": "403",
        "reviewer": "ok",
        "admin": "ok",
    },
    "admin": {
        "anonymous": _ANON,
        "coordinator_own": "403",
        "coordinator_other": "403",
        "reviewer": "403",
        "admin": "ok",
    },
    "api_any": {"anonymous": "401", **dict.fromkeys(ROLES[1:], "ok")},
    "api_read": {
        "anonymous": "401",
        "coordinator_own": "ok",
        "coordinator_other": "404",
        "reviewer": "ok",
        "admin": "ok",
    },
    "api_coordinator": {
        "anonymous": "401",
        "coordinator_own": "ok",
        "coordinator_other": "404",
        "reviewer": "403",
        "admin": "403",
    },
    "api_central": {
        "anonymous": "401",
        "coordinator_own": "403",
        "coordinator_other": "denied",
        "reviewer": "ok",
        "admin": "ok",
    },
    "api_round": {
        "anonymous": "401",
        "coordinator_own": "ok",
        "coordinator_other": "404",
        "reviewer": "ok",
        "admin": "ok",
    },
}

#: GET pages whose normal reply is a redirect (elsewhere a reached GET is a 200).
REDIRECTING_GETS = {"auth.index", "auth.login", "survey.answer"}


def _rules() -> list[tuple[str, str, str]]:
    import tempfile

    from assess import create_app

    app = create_app({"INSTANCE_PATH": tempfile.mkdtemp(prefix="assess-rules-")})
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, rule.rule, method))
    return sorted(found, key=lambda r: (r[1], r[2]))


RULES = _rules()
CELLS = [
    pytest.param(role, endpoint, rule, method, id=f"{role}-{method} {rule}")
    for endpoint, rule, method in RULES
    for role in ROLES
    if endpoint in KINDS
]


def test_every_route_is_classified() -> None:
    """A new route must be put in the matrix (and a removed one taken out of it)."""
    endpoints = {endpoint for endpoint, _, _ in RULES}
    assert sorted(endpoints - set(KINDS)) == [], "classify these routes in KINDS"
    assert sorted(set(KINDS) - endpoints) == [], "these classified routes no longer exist"
    assert set(KINDS.values()) <= set(EXPECTED)
    assert all(set(row) == set(ROLES) for row in EXPECTED.values())


# -- the world ---------------------------------------------------------------------------------------


def _fill(response, actor, extra: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    """Answer a response plausibly (plus ``extra``), accept it and score it."""
    import random

    from assess.services import responses, results
    from assess.services.questionnaires import questionnaire_of
    from assess.synthetic import agency_answers

    questionnaire = questionnaire_of(response.questionnaire)
    answers = agency_answers(questionnaire, 0.6, random.Random(7), 1.0)
    raw = {code: responses.stored(value) for code, value in answers.items()}
    raw.update(extra)
    responses.save_answers(response, raw, revision=response.revision, actor=actor)
    responses.set_status(response, "accepted", None)
    results.recompute(response)
    db.session.commit()


class Matrix:
    """Agencies A and B. B alone answers the published round ``b_round`` (a secret text
    answer, accepted, a dispute); both answer the open ``shared`` round, where B attached a
    secret file. An admin's bulk scorecard export of ``b_round`` is done and holds B's
    archive. Every role has a signed-in test client and an API token."""

    def __init__(self, app, folder: Path) -> None:  # type: ignore[no-untyped-def]
        from assess import jobs
        from assess.models import Dispute, Job
        from assess.scorecards import bulk
        from assess.services import evidence, responses, rounds, users
        from assess.services.questionnaires import questionnaire_of
        from tests.conftest import World

        self.app = app
        world = World(app)
        self.a = world.agency("AG-A", name_en="Agency A", name_th="หน่วยงานเอ")
        self.b = world.agency("AG-B", name_en=B_NAME_EN, name_th=B_NAME_TH)
        self.users = {
            "coordinator_own": world.user("b@example.go.th", agency=self.b),
            "coordinator_other": world.user("a@example.go.th", agency=self.a),
            "reviewer": world.user("r@example.go.th", role="reviewer"),
            "admin": world.user("admin@example.go.th", role="admin"),
        }
        coordinator_b = self.users["coordinator_own"]
        self.version = world.questionnaire()
        questionnaire = questionnaire_of(self.version)
        self.text_question = next(
            q.code for q in questionnaire.iter_questions() if q.type.value == "text"
        )
        self.dimension = questionnaire.dimensions[0].code
        self.shared = world.round(self.version, agencies=[self.a, self.b], name="Shared round")
        self.b_round = world.round(self.version, agencies=[self.b], name=SECRET_ROUND)
        b_response = responses.get_response(self.b_round, self.b)
        _fill(b_response, coordinator_b, {self.text_question: SECRET_TEXT})
        rounds.move(self.b_round, "closed")
        rounds.move(self.b_round, "published")
        db.session.commit()
        self.dispute = Dispute(
            question_code=self.text_question,
            explanation=SECRET_DISPUTE,
            raised_by_id=coordinator_b.id,
        )
        b_response.disputes.append(self.dispute)
        evidence_code = next(
            q.code for q in questionnaire.iter_questions() if q.evidence.value != "none"
        )
        self.evidence_question = evidence_code
        self.evidence = evidence.add_file(
            responses.get_response(self.shared, self.b),
            coordinator_b,
            evidence_code,
            SECRET_FILE,
            io.BytesIO(PDF),
            folder=app.config["EVIDENCE_FOLDER"],
            max_bytes=10**6,
        )
        responses.get_response(self.shared, self.a)
        db.session.commit()
        # An export another central user (the admin) started, finished, holding B's data.
        job = Job(
            kind=bulk.KIND,
            round_id=self.b_round.id,
            requested_by_id=self.users["admin"].id,
            params={"lang": "th"},
            status="done",
            done=1,
            total=1,
            error="",
        )
        db.session.add(job)
        db.session.flush()
        job.file_name = f"job-{job.id}-scorecards-b.zip"
        db.session.commit()
        self.job = job
        with zipfile.ZipFile(jobs.exports_folder(app) / job.file_name, "w") as archive:
            archive.writestr("AG-B.pdf", SECRET_ARCHIVE)
        self.tokens = {role: users.issue_token(user, "matrix") for role, user in self.users.items()}
        db.session.commit()
        self.b_token_id = _token_id(coordinator_b.id)
        # Plain values only from here: the ORM objects go with the session.
        self.ids = {
            "evidence": self.evidence.id,
            "dispute": self.dispute.id,
            "job": job.id,
            "user_b": coordinator_b.id,
            "b_round": self.b_round.id,
            "shared": self.shared.id,
            "version": self.version.id,
        }
        self.b_code = self.b.code
        self.emails = {role: user.email for role, user in self.users.items()}
        # Everyone signs in once; their session cookies are kept with the snapshot.
        self.clients: dict[str, Any] = {}
        self.cookies: dict[str, list[Any]] = {}
        for role in ROLES:
            client = self.clients[role] = app.test_client()
            if role != "anonymous":
                email = self.emails[role]
                reply = client.post("/login", data={"email": email, "password": PASSWORD})
                assert reply.status_code == 302, f"{role} could not sign in"
            self.cookies[role] = list(client._cookies.values())
        # The state every cell starts from: the database file and the files beside it.
        self.database = folder / "assess.db"
        self.snapshot = folder / "snapshot"
        self._release()
        self.snapshot.mkdir()
        _copy_database(self.database, self.snapshot / "assess.db")
        for name in ("evidence", "exports"):
            shutil.copytree(folder / name, self.snapshot / name)
        self.folder = folder
        self.before = fingerprint(folder)

    def _release(self) -> None:
        db.session.remove()
        db.engine.dispose()

    def restore(self) -> None:
        """Back to the state of the snapshot (after a request that may have written)."""
        self._release()
        _copy_database(self.snapshot / "assess.db", self.database)
        for name in ("evidence", "exports"):
            shutil.rmtree(self.folder / name, ignore_errors=True)
            shutil.copytree(self.snapshot / name, self.folder / name)
        # A cell may have signed out or changed a password: the kept cookies, whose
        # sessions the restored database knows, sign everyone in again.
        for role in ROLES:
            client = self.clients[role] = self.app.test_client()
            for cookie in self.cookies[role]:
                client._cookies[cookie._storage_key] = cookie

    # -- the URL of a cell ------------------------------------------------------------------

    def values(self, endpoint: str) -> dict[str, str]:
        """URL parameters naming B's data (and a few endpoint-specific choices)."""
        values = {
            "round_id": str(self.ids["b_round"]),
            "agency_code": self.b_code,
            "code": self.b_code,
            "evidence_id": str(self.ids["evidence"]),
            "dispute_id": str(self.ids["dispute"]),
            "dim_code": self.dimension,
            "target": "closed",
            "token_id": str(self.b_token_id),
            "user_id": str(self.ids["user_b"]),
            "version_id": str(self.ids["version"]),
            "filename": "css/assess.css",
            "question": self.text_question,
            "job_id": str(self.ids["job"]),
        }
        if endpoint.startswith("survey.evidence") and endpoint != "survey.evidence_add":
            values["round_id"] = str(self.ids["shared"])  # where B's file is
        if endpoint == "review.move_round":
            values["round_id"] = str(self.ids["shared"])  # open → closed can be asked
        if endpoint == "auth.language":
            values["code"] = "en"
        if endpoint == "bootstrap.static":
            values["filename"] = "css/bootstrap.min.css"
        if endpoint == "api_assets.static":
            values["filename"] = "swagger-ui.css"
        return values

    def urls(self, endpoint: str, rule: str, role: str) -> list[str]:
        """The URLs a cell requests: B's data; for A's coordinator also B's data reached
        through A's own response of the shared round (evidence, API, scorecards)."""
        values = self.values(endpoint)
        query = {
            "admin.questionnaire_diff": f"?old={self.ids['version']}&new={self.ids['version']}",
            "survey.dispute_new": f"?question={self.text_question}",
            "survey.evidence_add": f"?code={self.evidence_question}",
        }.get(endpoint, "")
        urls = [_fill_rule(rule, values) + query]
        if role == "coordinator_other":
            if "<int:evidence_id>" in rule:
                urls.append(_fill_rule(rule, {**values, "round_id": str(self.ids["b_round"])}))
            if "<agency_code>" in rule:
                urls.append(
                    _fill_rule(rule, {**values, "round_id": str(self.ids["shared"])}) + query
                )
        return urls


def _copy_database(source: Path, target: Path) -> None:
    """Copy a SQLite database through SQLite's backup API (safe with WAL files about)."""
    import sqlite3

    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def _token_id(user_id: int) -> int:
    from assess.models import ApiToken

    return int(db.session.scalar(sa.select(ApiToken.id).where(ApiToken.user_id == user_id)))


def _fill_rule(rule: str, values: dict[str, str]) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[-1]
        assert name in values, f"access matrix: give a value for the URL parameter <{name}>"
        return values[name]

    return re.sub(r"<([^>]+)>", fill, rule)


#: Columns that a request may change without changing anyone's data.
_VOLATILE = {"last_used_at", "last_login_at"}
#: Tables of logs and of what is derived again at will (snapshots of dashboards' tables).
_LOGS = {"user_session", "audit_event", "alembic_version", "round_snapshot"}


def fingerprint(folder: Path) -> str:
    """A digest of everything stored: every table's rows (logs and last-use times aside)
    and the files of evidence and exports."""
    digest = hashlib.sha256()
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            if table.name in _LOGS:
                continue
            columns = [c for c in table.columns if c.name not in _VOLATILE]
            rows = sorted(repr(tuple(r)) for r in conn.execute(sa.select(*columns)))
            digest.update(table.name.encode())
            digest.update("\n".join(rows).encode())
    for name in ("evidence", "exports"):
        for path in sorted((folder / name).rglob("*")):
            if path.is_file():
                digest.update(path.name.encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def matrix(_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("matrix")
    app = make_app(
        folder,
        sqlite_copy(_sqlite_template, folder),
        SERVER_NAME="assess.test",
        # A started export is only recorded: no worker thread makes the PDFs.
        JOBS_EMBEDDED_WORKER=False,
        API_RATE_LIMIT="100000/minute",
    )
    (folder / "evidence").mkdir(exist_ok=True)
    with app.app_context():
        yield Matrix(app, folder)
        db.session.remove()
        db.engine.dispose()


# -- the cells ---------------------------------------------------------------------------------------


def _request(matrix: Matrix, role: str, method: str, url: str) -> Any:
    headers = {}
    if url.startswith("/api/") and role != "anonymous":
        headers["Authorization"] = f"Bearer {matrix.tokens[role]}"
    reply = matrix.clients[role].open(
        url, method=method, data={}, headers=headers, follow_redirects=False
    )
    reply.data  # noqa: B018  (read it all, then close: file replies hold an open file)
    reply.close()
    return reply


def _forms(secret: str) -> tuple[str, ...]:
    """A secret as a reply may carry it: as is, JSON-escaped, percent-encoded (headers)."""
    return (secret, json.dumps(secret)[1:-1], quote(secret), quote(secret).lower())


def _leaks(reply: Any) -> list[str]:
    """B's secrets found in a reply's body or headers (archives and XLSX opened)."""
    texts = [reply.data.decode("utf-8", "replace"), str(reply.headers)]
    if reply.data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(reply.data)) as archive:
            texts += [archive.read(n).decode("utf-8", "replace") for n in archive.namelist()]
    found = "\n".join(texts)
    return [s for s in SECRETS if any(form in found for form in _forms(s))]


def _check(outcome: str, reply: Any, endpoint: str, method: str, url: str) -> None:
    status, where = reply.status_code, reply.headers.get("Location", "")
    context = f"{method} {url}: {status} {where}"
    assert status < 500, context
    if outcome == "login":
        assert status == 401 or (status == 302 and "/login" in where), context
    elif outcome == "denied":
        assert status in (403, 404), context
    elif outcome in ("401", "403", "404"):
        assert status == int(outcome), context
    else:
        assert outcome == "ok"
        assert status not in (401, 403, 404), context
        if status == 302 and endpoint not in ("auth.logout", "auth.index"):
            assert "/login" not in where, context
        if method == "GET" and endpoint not in REDIRECTING_GETS:
            assert status == 200, context


@pytest.mark.parametrize(("role", "endpoint", "rule", "method"), CELLS)
def test_access_matrix(matrix: Matrix, role: str, endpoint: str, rule: str, method: str):
    outcome = EXPECTED[KINDS[endpoint]][role]
    writes = method != "GET"
    for url in matrix.urls(endpoint, rule, role):
        reply = _request(matrix, role, method, url)
        _check(outcome, reply, endpoint, method, url)
        if role in ("anonymous", "coordinator_other"):
            assert not _leaks(reply), (url, _leaks(reply))
    if writes:
        if outcome != "ok":
            # Refused: nothing stored changed (answers, evidence, disputes, tokens, jobs…).
            assert fingerprint(matrix.folder) == matrix.before, f"{method} {rule} changed data"
        matrix.restore()


def test_the_matrix_world_holds_what_it_guards(matrix: Matrix):
    """The secrets are really there, so a reply without them proves something."""
    reviewer = matrix.clients["reviewer"]
    answers = reviewer.get(f"/central/rounds/{matrix.ids['b_round']}/exports/answers.json")
    assert SECRET_TEXT in answers.get_data(as_text=True)
    own = matrix.clients["coordinator_own"]
    file = own.get(f"/rounds/{matrix.ids['shared']}/evidence/{matrix.ids['evidence']}")
    assert file.status_code == 200
    assert SECRET_CONTENT.encode() in file.data
    assert SECRET_FILE in file.headers["Content-Disposition"]
    file.close()
    download = reviewer.get(f"/central/scorecards/{matrix.ids['job']}.zip")
    assert download.status_code == 200
    assert SECRET_ARCHIVE in "\n".join(_leaks(download))
    download.close()
    rounds = own.get(
        "/api/v1/rounds", headers={"Authorization": f"Bearer {matrix.tokens['coordinator_own']}"}
    )
    assert _leaks(rounds) == [SECRET_ROUND]  # JSON-escaped Thai is found too
