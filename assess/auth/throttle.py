"""Limits on failed sign-ins (Flask-Limiter; Redis when ``ASSESS_REDIS_URL`` is set).

Two limits guard ``POST /login``, and both count *failed* attempts only (the reply 401), so a
whole office behind one address can still sign in:

- per client address: ``LOGIN_RATE_LIMIT`` (default 20 a minute and 100 an hour);
- per account name (the e-mail as typed, lower-cased and hashed): ``LOGIN_MAX_FAILURES``
  within ``LOGIN_LOCKOUT_MINUTES`` lock the name until that window ends.

The name counts whether or not such an account exists, so neither the lockout nor its
message tells an attacker which accounts exist. Over a limit, the sign-in page answers 429
with ``Retry-After`` and checks no password.

:func:`confined` makes a limiter whose hooks run for one blueprint alone: this one's, and
the API's (``assess.api``, its limit per token).
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Flask, current_app, request
from flask.wrappers import Response
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address

EXTENSION = "assess_login_limiter"


def account_key() -> str:
    """The account name of a sign-in attempt, hashed (the store never sees addresses)."""
    name = (request.form.get("email") or "").strip().lower()
    return "account:" + hashlib.sha256(name.encode("utf-8")).hexdigest()


def address_key() -> str:
    return "addr:" + (get_remote_address() or "")


def _failed(response: Response) -> bool:
    return response.status_code == 401


def _account_limit() -> str:
    config = current_app.config
    return f"{int(config['LOGIN_MAX_FAILURES'])} per {int(config['LOGIN_LOCKOUT_MINUTES'])} minutes"


def confined(app: Flask, blueprint: str, **options: Any) -> Limiter:
    """A new Flask-Limiter on ``app`` whose hooks run for ``blueprint``'s requests alone.

    Flask-Limiter hooks every request of the app (before, after and teardown), though the
    limits here belong to one blueprint (checked by its decorators, or by the before hook
    for a limit on the blueprint itself): the hooks move to that blueprint, so that no other
    request runs them (each limiter cost an autosave 3 % of its instructions).
    """
    hooks = (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs)
    before = [list(funcs.get(None, ())) for funcs in hooks]
    limiter = Limiter(app=app, **options)
    for funcs, had in zip(hooks, before, strict=True):
        added = [f for f in funcs.get(None, ()) if f not in had]
        funcs[None] = had
        # First among the blueprint's own: the limit is checked before its other hooks
        # (the API's authentication), as it was when it ran with the app's.
        funcs[blueprint] = [*added, *funcs.get(blueprint, ())]  # type: ignore[list-item]
    return limiter


def init_app(app: Flask) -> None:
    """Give ``app`` its own limiter on the sign-in view (after the blueprints are registered)."""
    limiter = confined(app, "auth", key_func=address_key)
    endpoint = "auth.login"
    view: Any = app.view_functions[endpoint]
    view = limiter.limit(
        lambda: str(current_app.config["LOGIN_RATE_LIMIT"]),
        key_func=address_key,
        methods=["POST"],
        deduct_when=_failed,
        scope="login-address",
    )(view)
    view = limiter.limit(
        _account_limit,
        key_func=account_key,
        methods=["POST"],
        deduct_when=_failed,
        scope="login-account",
    )(view)
    app.view_functions[endpoint] = view
    app.extensions[EXTENSION] = limiter


def current_limit() -> RequestLimit | None:
    """The limit this request went over (or is closest to), with its ``reset_at``."""
    limiter = current_app.extensions.get(EXTENSION)
    return limiter.current_limit if limiter is not None else None
