"""The Flask application factory (``assess.create_app`` calls :func:`build_app`)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from assess import config


def build_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults from the environment, then ``test_config`` on top."""
    settings = (
        config.from_environment()
        if test_config is None
        else {
            **_test_defaults(test_config),
            **test_config,
        }
    )
    app = Flask("assess", instance_path=settings["INSTANCE_PATH"], instance_relative_config=True)
    app.config.update(settings)
    return app


def _test_defaults(test_config: dict[str, Any]) -> dict[str, Any]:
    folder = test_config.get("INSTANCE_PATH") or str(config.instance_path())
    return {
        "INSTANCE_PATH": folder,
        "DATABASE_URL": f"sqlite:///{folder}/assess.db",
        "REDIS_URL": None,
        "SECRET_KEY": "test",
        "TESTING": True,
    }
