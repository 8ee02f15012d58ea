"""Verification codes: a scorecard's proof that it shows the results the system holds.

A code is ``ROUND:AGENCY:XXXX-XXXX-XXXX-XXXX`` — the round's id, the agency's code and an
HMAC-SHA256 (keyed by the app's ``SECRET_KEY``) over them and the canonical JSON of the
response's stored results (verified and self-assessed, overall and per dimension). Anyone
holding a scorecard can ask ``/scorecards/verify`` whether its code still matches: it does
until a score or level changes. The MAC is 80 bits: codes cannot be guessed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from sqlalchemy import select

from assess.extensions import db
from assess.models import Agency, Response

#: Characters of the MAC shown (base32: 5 bits each).
MAC_LENGTH = 16
#: Digits typed for the letters they look like. Base32 (A–Z, 2–7) has no 0, 1 nor 8, so
#: the mapping can only mend a code, never turn one valid code into another.
LOOKALIKES = str.maketrans({"0": "O", "1": "I", "8": "B"})


def stored_scores(response: Response) -> dict[str, Any]:
    """The response's stored results as plain data: kind → overall and dimensions."""
    out: dict[str, Any] = {}
    for result in sorted(response.results, key=lambda r: r.kind):
        out[result.kind] = {
            "overall": {"score": result.overall_score, "level": result.overall_level},
            "dimensions": {
                code: {"score": (d or {}).get("score"), "level": (d or {}).get("level")}
                for code, d in sorted((result.dimensions or {}).items())
            },
        }
    return out


def _mac(secret: str, round_id: int, agency_code: str, scores: dict[str, Any]) -> str:
    """The grouped MAC of one response's scores."""
    # A key of its own, derived from SECRET_KEY: a code is never a session signature.
    key = hmac.new(secret.encode("utf-8"), b"assess.scorecard.v1", hashlib.sha256).digest()
    message = json.dumps(
        {"round": round_id, "agency": agency_code, "scores": scores},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")
    digest = hmac.new(key, message, hashlib.sha256).digest()
    text = base64.b32encode(digest).decode("ascii")[:MAC_LENGTH]
    return "-".join(text[i : i + 4] for i in range(0, MAC_LENGTH, 4))


def verification_code(response: Response, secret: str) -> str:
    """The code printed on the response's scorecard."""
    mac = _mac(secret, response.round_id, response.agency.code, stored_scores(response))
    return f"{response.round_id}:{response.agency.code}:{mac}"


def parse(code: str) -> tuple[int, str, str] | None:
    """``(round id, agency code, MAC)`` of a code as typed, or ``None`` when it is not one."""
    text = "".join(code.split())  # spaces and line breaks from copying
    round_part, _, rest = text.partition(":")
    agency, _, mac = rest.rpartition(":")
    if not round_part.isdigit() or not agency or len(round_part) > 9:
        return None
    letters = mac.replace("-", "").upper().translate(LOOKALIKES)
    if len(letters) != MAC_LENGTH:
        return None
    grouped = "-".join(letters[i : i + 4] for i in range(0, MAC_LENGTH, 4))
    return int(round_part), agency, grouped


def check(code: str, secret: str) -> Response | None:
    """The response whose current results the code matches, or ``None``.

    Whether the round or the agency exists is not told apart from a wrong MAC: a caller
    learns something only with a code that matches.
    """
    parsed = parse(code)
    if parsed is None:
        return None
    round_id, agency_code, mac = parsed
    response = _response(round_id, agency_code)
    if response is None and agency_code != agency_code.upper():
        # Typed in lower case: agency codes are printed in capitals.
        response = _response(round_id, agency_code.upper())
    if response is None:
        return None
    expected = _mac(secret, round_id, response.agency.code, stored_scores(response))
    return response if hmac.compare_digest(expected, mac) else None


def _response(round_id: int, agency_code: str) -> Response | None:
    """The response of the agency of exactly that code to the round, if any."""
    return db.session.scalar(
        select(Response)
        .join(Agency, Response.agency_id == Agency.id)
        .where(Response.round_id == round_id, Agency.code == agency_code)
    )
