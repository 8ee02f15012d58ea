"""Errors the services raise; views and commands turn them into messages and status codes.

Messages are translated when raised, in the language of the request (English outside one,
so the command line reads as before).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import islice

from flask_babel import gettext as _
from flask_babel import ngettext

#: How many problems one refusal lists; one more line counts the rest. A crafted save or
#: file with a hundred thousand bad values gets a short answer, made quickly.
MAX_PROBLEMS = 50


def capped(problems: Iterable[str], total: int | None = None) -> list[str]:
    """The first :data:`MAX_PROBLEMS` of ``problems``, then "… and N more problems" for
    the rest: of ``total`` problems, when only the first were made into messages."""
    items = problems if isinstance(problems, Sequence) else list(problems)
    shown = list(items[:MAX_PROBLEMS])
    more = (len(items) if total is None else total) - len(shown)
    if more > 0:
        shown.append(ngettext("… and %(num)d more problem", "… and %(num)d more problems", more))
    return shown


class ServiceError(Exception):
    """A refused operation; ``problems`` holds one human-readable line per problem."""

    status = 400

    def __init__(self, problems: str | Iterable[str], details: object = None) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.details = details
        super().__init__("\n".join(self.problems))


class NotFound(ServiceError):
    """An unknown object (also one the caller may not know exists)."""

    status = 404


class NotAllowed(ServiceError):
    """The caller's role or agency does not permit this."""

    status = 403


class WrongState(ServiceError):
    """The round or response is not in a state that allows this."""

    status = 409


class Unstorable(ServiceError):
    """Text the database cannot hold: longer than its column, or with a NUL character."""

    status = 422


class StaleRevision(ServiceError):
    """A save named an older revision than the current one; nothing was saved."""

    status = 409

    def __init__(self, current: int, answers: dict[str, object]) -> None:
        super().__init__(
            _(
                "the answers changed since revision you edited (now at revision "
                "%(revision)s); reload to see the current values",
                revision=current,
            ),
            details={"revision": current, "answers": answers},
        )
        self.current = current
        self.answers = answers


class InvalidAnswers(ServiceError):
    """Some values do not fit their questions; ``by_question`` maps code → reason.

    At most :data:`MAX_PROBLEMS` questions are named (``total``: how many had a problem,
    when the caller kept only the first); a last line counts the others.
    """

    status = 422

    def __init__(self, by_question: dict[str, str], *, total: int | None = None) -> None:
        shown = dict(islice(by_question.items(), MAX_PROBLEMS))
        super().__init__(
            capped(
                [
                    _("question %(code)s: %(reason)s", code=code, reason=reason)
                    for code, reason in shown.items()
                ],
                len(by_question) if total is None else total,
            ),
            details=shown,
        )
        self.by_question = shown
