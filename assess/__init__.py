"""assess: digital-government maturity assessment for Thai government agencies.

The application factory imports Flask lazily, so that ``assess.questionnaires`` and
``assess.scoring`` stay importable (and tested) without the web stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

__version__ = "0.1.0"


def create_app(
    test_config: dict[str, Any] | None = None, *, views: bool = True, migrations: bool = True
) -> Flask:
    """Create the web application: configuration, then extensions, blueprints and commands.

    ``views=False`` leaves out the web pages and the API (their blueprints, error pages and
    rate limits): what the command line's data commands need, about a second sooner.
    ``migrations=False`` leaves out Flask-Migrate (the ``db`` commands, ``upgrade()``) and
    Alembic with it.
    """
    from assess.app import build_app

    return build_app(test_config, views=views, migrations=migrations)
