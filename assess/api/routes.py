"""The endpoints of ``/api/v1``: thin wrappers around the services the web app uses."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import marshmallow as ma
import msgspec
from flask import current_app, g, jsonify, request
from flask_smorest import Blueprint
from webargs.core import missing
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from assess.api.schemas import (
    AnswersPatchSchema,
    BenchmarkQuerySchema,
    BenchmarkRowSchema,
    ErrorSchema,
    ResponseSchema,
    ReviewSchema,
    RoundSchema,
    SavedSchema,
    ScorecardQuerySchema,
    ScoreSchema,
    ScoresQuerySchema,
    StatusSchema,
    VerifiedSchema,
    VerifySchema,
)
from assess.app import LANGUAGES
from assess.extensions import db
from assess.models import Agency, Response, Round, User
from assess.questionnaires.answers import lone_surrogate
from assess.reports import data as cache
from assess.scoring.benchmark import BENCHMARK_COLUMNS
from assess.services import agencies, exports, reports, responses, results, rounds, users
from assess.services.agency_results import MIN_ANONYMOUS_GROUP
from assess.services.errors import NotAllowed, NotFound


class _Parser(FlaskParser):  # type: ignore[misc]
    """A body that does not fit the schema is malformed (400); 422 is for answer values.

    The body is read strictly, each problem named: a body that is not declared JSON (415),
    empty, not UTF-8, not JSON (with where), ``NaN``/``Infinity`` (not JSON), or nested
    deeper than the parser goes (400).
    """

    DEFAULT_VALIDATION_STATUS = 400
    # A query parameter the endpoint does not take is refused, not ignored: ``?group_by=``
    # for ``?by=`` would otherwise quietly give the default.
    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": ma.RAISE}

    def load_querystring(self, req: Any, schema: Any) -> Any:
        args = req.args
        if EVERY_QUERY.keys() & args.keys() and not EVERY_QUERY.keys() <= schema.fields.keys():
            args = MultiDict(
                (name, value) for name, value in args.items(multi=True) if name not in EVERY_QUERY
            )
        return self._makeproxy(args, schema)

    def load_json(self, req: Any, schema: Any) -> Any:
        data = req.get_data(cache=True)
        limit = req.max_content_length
        if limit is not None and req.content_length is None and len(data) >= limit:
            # A chunked body (no length given) is cut off at the limit, not refused; a body
            # of a given length over it was refused before it was read.
            raise RequestEntityTooLarge(f"the request body is limited to {limit} bytes")
        if not is_json_request(req):
            if data:
                raise ApiError(
                    415,
                    "unsupported media type",
                    "send the body as JSON, with Content-Type: application/json",
                )
            return missing
        if not data.strip():
            raise ApiError(400, "malformed JSON", "the request body is empty; send a JSON object")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ApiError(
                400, "malformed JSON", f"the body is not UTF-8 text (byte {exc.start})"
            ) from None
        try:
            # Numbers as the decimals written (as the command line reads them): a float
            # would round 19.99999999999999999 up to 20 before it was checked.
            body = json.loads(text, parse_float=Decimal, parse_constant=_not_json)
        except RecursionError:
            raise ApiError(400, "malformed JSON", "the JSON is nested too deeply") from None
        except ValueError as exc:
            where = (
                f" (line {exc.lineno}, column {exc.colno})"
                if isinstance(exc, json.JSONDecodeError)
                else ""
            )
            message = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            raise ApiError(400, "malformed JSON", f"not valid JSON: {message}{where}") from None
        bad = lone_surrogate(body) if "\\u" in text else None
        if bad is not None:
            raise ApiError(
                400,
                "malformed JSON",
                f"the escape {bad} is half of a character (a lone UTF-16 surrogate)",
            )
        return body


#: Query parameters every endpoint takes, and their values: the language of the messages.
EVERY_QUERY = {"lang": LANGUAGES}


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


class _Blueprint(Blueprint):  # type: ignore[misc]
    ARGUMENTS_PARSER = _Parser()


bp = _Blueprint(
    "api",
    __name__,
    url_prefix="/api/v1",
    description="Rounds, responses, review, scores and benchmarks.",
)

RESPONSE_PATH = "/rounds/<int:round_id>/responses/<agency_code>"


class ApiError(HTTPException):
    """An HTTP error with the API's ``details``."""

    def __init__(self, code: int, error: str, details: Any = None) -> None:
        super().__init__(error)
        self.code = code
        self.error = error
        self.details = details


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Any:
    code = exc.code or 500
    if isinstance(exc, ApiError):
        body = {"error": exc.error, "details": exc.details}
    else:
        data = getattr(exc, "data", None) or {}
        body = {"error": exc.name, "details": data.get("messages", exc.description)}
    reply = jsonify(body)
    reply.status_code = code
    if code == 401:
        reply.headers["WWW-Authenticate"] = 'Bearer realm="assess"'
    return reply


@bp.before_request
def _authenticate() -> None:
    limit = int(current_app.config["API_MAX_CONTENT_LENGTH"])
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge(f"the request body is limited to {limit} bytes")
    request.max_content_length = limit
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "authentication required", "send Authorization: Bearer <token>")
    user = users.user_for_token(token.strip())
    if user is None:
        raise ApiError(401, "invalid token", "the token is unknown, revoked or its user inactive")
    db.session.commit()  # the token's last use
    g.api_user = user
    # What the caller may reach is settled before the body is read: another agency's
    # response is 404 whatever the body, and nothing about it leaks through a 400.
    args = request.view_args or {}
    if "agency_code" in args:
        g.api_response = _response(args["round_id"], args["agency_code"])
    elif "round_id" in args:
        g.api_round = _visible_round(args["round_id"])
    if request.endpoint in CENTRAL_ONLY and not user.is_central:
        raise NotAllowed(CENTRAL_ONLY[request.endpoint])
    if request.endpoint in COORDINATOR_ONLY and user.role != "coordinator":
        raise NotAllowed(COORDINATOR_ONLY[request.endpoint])
    _check_query(request.args, _takes_query(request.endpoint))


def _check_query(args: Any, declared: bool) -> None:
    """400 naming each parameter outside :data:`EVERY_QUERY` when the endpoint declares
    none (the parser refuses what a declared query schema lacks), and each of
    :data:`EVERY_QUERY` given a value it does not take."""
    problems = {
        name: [f"Must be one of: {', '.join(EVERY_QUERY[name])}."]
        for name in sorted(EVERY_QUERY.keys() & args.keys())
        if any(value not in EVERY_QUERY[name] for value in args.getlist(name))
    }
    if not declared:
        problems |= {name: ["Unknown field."] for name in sorted(args.keys() - EVERY_QUERY.keys())}
    if problems:
        raise ApiError(400, "Bad Request", {"query": dict(sorted(problems.items()))})


def _takes_query(endpoint: str | None) -> bool:
    """Whether the endpoint declares query parameters (``@bp.arguments(..., location="query")``,
    which flask-smorest records on the view for its OpenAPI document)."""
    view = current_app.view_functions.get(endpoint or "")
    arguments = getattr(view, "_apidoc", {}).get("arguments", {})
    return any(p.get("in") == "query" for p in arguments.get("parameters", ()))


CENTRAL_ONLY = {
    "api.review": "only the central office reviews responses",
    "api.put_verified": "only the central office records verified values",
}
COORDINATOR_ONLY = {
    "api.patch_answers": "only the agency's coordinator changes answers",
    "api.submit": "only the agency's coordinator submits",
}


def _user() -> User:
    user: User = g.api_user
    return user


ERRORS = {
    400: "Malformed request: not JSON, or a body or query that does not fit the schema "
    "(an unknown query parameter or language included)",
    401: "No token, or an unknown or revoked token",
    403: "Not allowed for the caller's role",
    404: "Unknown (also whatever the caller may not know exists)",
    409: "Stale revision or wrong state",
    413: "Request body too large",
    415: "The body is not declared as JSON (Content-Type: application/json)",
    422: "Invalid answer values (details per question code) or incomplete response",
    429: "Too many requests for this token",
}


def _errors(*codes: int) -> Any:
    """Document the error responses of an endpoint (400, 401 and 429 apply to all: every
    endpoint refuses an unknown query parameter or language)."""

    def decorate(view: Any) -> Any:
        for code in sorted({400, 401, 429, *codes}, reverse=True):
            view = bp.alt_response(code, schema=ErrorSchema, description=ERRORS[code])(view)
        return view

    return decorate


# -- helpers ----------------------------------------------------------------------------------


def _visible_round(round_id: int) -> Round:
    """A round the caller may see; otherwise :class:`NotFound` (nothing leaks)."""
    user = _user()
    round_ = rounds.get_round(round_id)
    if not user.is_central and round_ not in rounds.rounds_for(user):
        raise NotFound(f"round {round_id}: no such round")
    return round_


def _response(round_id: int, agency_code: str) -> Response:
    """The response the caller may see; :class:`NotFound` for anything else."""
    user = _user()
    agency: Agency | None = agencies.find_agency(agency_code)
    if not user.is_central and (agency is None or agency.id != user.agency_id):
        raise NotFound("no such response")
    round_ = _visible_round(round_id)
    if agency is None:
        raise NotFound(f"agency {agency_code}: no such agency")
    found = responses.get_response(round_, agency)
    responses.require_view(user, found)
    return found


def _key(response: Response) -> str:
    version = response.questionnaire
    return f"{version.code}@{version.version}"


def _state(response: Response) -> dict[str, Any]:
    return {
        "agency": response.agency.code,
        "round": response.round_id,
        "status": response.status,
        "revision": response.revision,
        "completeness": float(Decimal(response.completeness)),
    }


def _loaded() -> Response:
    found: Response = g.api_response
    return found


def _round() -> Round:
    found: Round = g.api_round
    return found


# -- endpoints ------------------------------------------------------------------------------------


@bp.route("/rounds", methods=["GET"])
@bp.response(200, RoundSchema(many=True))
@_errors()
def list_rounds() -> Any:
    """Rounds visible to the caller (all for the central office; the agency's otherwise)."""
    return [
        {
            "id": r.id,
            "name": r.name,
            "name_en": r.name_en,
            "fiscal_year": r.fiscal_year,
            "questionnaire": f"{r.questionnaire.code}@{r.questionnaire.version}",
            "status": r.status,
            "opens_on": r.opens_on,
            "closes_on": r.closes_on,
        }
        for r in rounds.rounds_for(_user())
    ]


@bp.route(RESPONSE_PATH, methods=["GET"])
@bp.response(200, ResponseSchema)
@_errors(404)
def get_response(round_id: int, agency_code: str) -> Any:
    """One agency's response: status, revision, completeness and answers."""
    found = _loaded()
    return {
        **_state(found),
        "questionnaire": _key(found),
        "answers": responses.current_json(found),
    }


@bp.route(RESPONSE_PATH + "/answers", methods=["PATCH"])
@bp.arguments(AnswersPatchSchema)
@bp.response(200, SavedSchema)
@_errors(400, 403, 404, 409, 413, 415, 422)
def patch_answers(body: dict[str, Any], round_id: int, agency_code: str) -> Any:
    """Merge answers (``null`` clears one); all or nothing.

    409 when ``revision`` is not the current one (details: the current revision and
    answers) or when the response cannot be changed now; 422 when any value is invalid
    (details: reason per question code). Nothing is saved in either case.
    """
    found = _loaded()
    responses.save_answers(found, body["answers"], revision=body["revision"], actor=_user())
    db.session.commit()
    return {"revision": found.revision, "completeness": float(Decimal(found.completeness))}


@bp.route(RESPONSE_PATH + "/submit", methods=["POST"])
@bp.response(200, StatusSchema)
@_errors(403, 404, 409, 422)
def submit(round_id: int, agency_code: str) -> Any:
    """Submit for review; 422 lists what is missing (``missing``, ``missing_evidence``)."""
    found = _loaded()
    responses.submit(found, _user())
    db.session.commit()
    return _state(found)


@bp.route(RESPONSE_PATH + "/review", methods=["POST"])
@bp.arguments(ReviewSchema)
@bp.response(200, StatusSchema)
@_errors(400, 403, 404, 409, 413, 415, 422)
def review(body: dict[str, Any], round_id: int, agency_code: str) -> Any:
    """Reviewers: accept a submitted response, or return it with a comment."""
    found = _loaded()
    responses.review(
        found,
        _user(),
        body["action"],
        body.get("comment", ""),
        body.get("question_comments") or {},
    )
    db.session.commit()
    return _state(found)


@bp.route(RESPONSE_PATH + "/verified/<question>", methods=["PUT"])
@bp.arguments(VerifySchema)
@bp.response(200, VerifiedSchema)
@_errors(400, 403, 404, 409, 413, 415, 422)
def put_verified(body: dict[str, Any], round_id: int, agency_code: str, question: str) -> Any:
    """Reviewers: record the verified value of one question (``null`` removes it)."""
    found = _loaded()
    responses.verify(found, _user(), question, body["value"], body["reason"])
    db.session.commit()
    row = next((v for v in found.verified if v.question_code == question), None)
    return {
        "question": question,
        "value": row.value if row is not None else None,
        "reason": body["reason"].strip(),
    }


@bp.route("/rounds/<int:round_id>/scores", methods=["GET"])
@bp.arguments(ScoresQuerySchema, location="query")
@bp.response(200, ScoreSchema(many=True))
@_errors(400, 404)
def scores(query: dict[str, Any], round_id: int) -> Any:
    """Verified scores of the round's responses, as ``assess scores --format json``.

    The central office sees every response's record. Coordinators see their own agency's
    record until the round is published, then the accepted responses' records and their
    own (another agency's draft or submission is not a result of the round); until the
    round's results are out (preliminary), their own record is self-assessed: a reviewer's
    verified values are not shown before the central office releases them. When the round
    anonymises other agencies, those are under their anonymous ids, and a measure's score
    and level are ``null`` for one of them when fewer than five agencies of its type (or of
    all) are scored on that measure. ``?agency=``: that agency's record alone (404 if the
    caller sees no such agency).
    """
    user = _user()
    round_ = _round()
    agency = query.get("agency")
    mine = None
    if not user.is_central and round_.status != "published":
        assert user.agency_id is not None
        mine = {user.agency_id}
    # After publication a coordinator sees the accepted responses and its own.
    others_accepted_only = not user.is_central and mine is None
    hidden = mine is None and _peers_hidden(round_)
    if agency is not None and not hidden:
        # Its record alone read (all of them take some 0.3 s at 8,000 agencies).
        found = agencies.find_agency(agency)
        visible = found is not None and (mine is None or found.id in mine)
        mine = {found.id} if found is not None and visible else set()
    verified = user.is_central or rounds.results_visible(round_)
    rows = results.score_records(round_, verified=verified, agency_ids=mine)
    own = user.agency.code if user.agency is not None else None
    if others_accepted_only:
        rows = [row for row in rows if row["status"] == "accepted" or row["agency"] == own]
    if hidden:
        accepted = [row["agency"] for row in rows if row["status"] == "accepted"]
        ids = _anonymous_ids(round_, accepted)
        if len(accepted) < MIN_ANONYMOUS_GROUP:
            # So few that their scores would tell who is who: the caller's own record alone.
            ids = {code: name for code, name in ids.items() if code == name}
        # A small group's scores beside its members' types would give back the figures
        # the benchmark leaves out: blanked, the caller's own never.
        rows = exports.without_withheld_scores(rows, _withheld(round_))
        rows = exports.anonymised(rows, ids, ("agency",))
    return _json_rows(_of_agency(rows, agency))


@bp.route("/rounds/<int:round_id>/benchmark", methods=["GET"])
@bp.arguments(BenchmarkQuerySchema, location="query")
@bp.response(200, BenchmarkRowSchema(many=True))
@_errors(400, 403, 404)
def benchmark_rows(query: dict[str, Any], round_id: int) -> Any:
    """Benchmark figures of the accepted responses (verified results), by comparison group.

    Coordinators only once the round is published. ``?agency=``: that agency's rows alone
    (none for an agency whose response was not accepted; 404 if the caller sees no such
    agency).
    """
    user = _user()
    round_ = _round()
    if not user.is_central and round_.status != "published":
        raise NotAllowed("the benchmark is available once the round is published")
    data = cache.round_results(round_)
    by, agency = query["by"], query.get("agency")
    # Each agency's code and the name the caller sees it under.
    ids = _anonymous_ids(round_, data.accepted) if _peers_hidden(round_) else None
    if ids is not None and by not in exports.PACKAGE_GROUPINGS:
        # Groups by parent agency, province or tag would tell who is who, ids or not: the
        # caller's own rows alone (its code is its own name).
        ids = {code: name for code, name in ids.items() if code == name}
    frame = reports.benchmark_frame(data, by)
    if agency is not None:
        # Made into rows for that agency alone (all of them take some 160 ms at 8,000
        # agencies, a fifth of a second of an agency's system asking for its own).
        codes = [agency] if ids is None else [c for c, name in ids.items() if name == agency]
        if not codes or codes[0] not in data.agencies.index:
            raise NotFound(f"agency {agency}: no such agency in round {round_.id}")
        frame = frame[frame["agency"] == codes[0]]
    if ids is not None:
        # A group of a few agencies would tell who scored what: left out, as on the pages.
        frame = frame[frame["n"] >= MIN_ANONYMOUS_GROUP]
    rows = reports.records(frame, BENCHMARK_COLUMNS)
    if ids is not None:
        # Another agency's score of a measure in a small group of its type, under its id,
        # would give the group back (by ``all``): left out, as in the package.
        rows = exports.without_withheld_rows(rows, _withheld(round_, data))
        rows = exports.anonymised(rows, ids, exports.BENCHMARK_ORDER)
    return _json_rows(rows)


def _of_agency(rows: list[dict[str, Any]], agency: str | None) -> Any:
    """The rows of ``agency`` (as the caller sees it named), or all rows when none is asked
    for; :class:`NotFound` when there is none."""
    if agency is None:
        return rows
    found = [row for row in rows if row["agency"] == agency]
    if not found:
        raise NotFound(f"agency {agency}: no such agency in round {_round().id}")
    return found


def _peers_hidden(round_: Round) -> bool:
    """Whether the caller sees other agencies only anonymised (a coordinator, in a round
    that anonymises peers)."""
    return bool(round_.anonymise_peers) and not _user().is_central


def _withheld(round_: Round, data: reports.RoundResults | None = None) -> dict[str, frozenset[str]]:
    """Per other agency, the measures an anonymised reply leaves out
    (:func:`exports.withheld_scores`, the rule of the open-data package); never any of the
    caller's own agency."""
    withheld = exports.withheld_scores(data if data is not None else cache.round_results(round_))
    agency = _user().agency
    if agency is not None:
        withheld.pop(agency.code, None)
    return withheld


def _anonymous_ids(round_: Round, codes: list[str]) -> dict[str, str]:
    """The ids of the open-data package for ``codes`` (the round's accepted agencies, or
    none), and the caller's own agency under its code."""
    ids = exports.anonymous_ids(round_, codes, current_app.config["SECRET_KEY"]) if codes else {}
    agency = _user().agency
    if agency is not None:
        ids[agency.code] = agency.code
    return ids


def _json_rows(rows: list[dict[str, Any]]) -> Any:
    """A long list of plain rows, already in the shape of the view's schema, as JSON.

    The schema still documents the reply; the rows skip its dump (marshmallow took 0.6 s for
    a round's 8,000 scores, 1.7 s for a benchmark's 70,000 rows) and are encoded by msgspec:
    the same JSON, keys sorted as Flask sorts them, text as UTF-8.
    """
    body = msgspec.json.encode(rows, order="sorted") + b"\n"
    return current_app.response_class(body, mimetype="application/json")


@bp.route(RESPONSE_PATH + "/scorecard.pdf", methods=["GET"])
@bp.arguments(ScorecardQuerySchema, location="query")
@bp.response(
    200,
    description="The PDF scorecard (PDF/A-3b, the scores attached as JSON)",
    content_type="application/pdf",
)
@bp.doc(
    responses={
        200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}
    }
)
@_errors(400, 404, 409)
def scorecard(query: dict[str, Any], round_id: int, agency_code: str) -> Any:
    """One agency's PDF scorecard (``?lang=th|en``, Thai by default).

    Coordinators: their own agency's, once the round's results are preliminary or
    published (peer figures once published). The central office: any response of a
    closed, preliminary or published round. 409 while the results are not out yet, and
    for a response never started (it has no scores).
    """
    from assess.scorecards.bulk import has_scores
    from assess.scorecards.routes import allowed, pdf_reply

    found = _loaded()
    user = _user()
    if not allowed(user, found):
        raise ApiError(409, "no scorecard yet", "the round's results are not available yet")
    if not has_scores(found):
        raise ApiError(
            409, "no scorecard", "the response was never started: it has no scores to show"
        )
    return pdf_reply(found, user, query["lang"])
