"""Settings from the ``ASSESS_*`` environment variables (interfaces.md, "Configuration")."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any


def instance_path() -> Path:
    """The instance folder: database, evidence and generated files (``ASSESS_INSTANCE_PATH``)."""
    return Path(os.environ.get("ASSESS_INSTANCE_PATH", "instance")).resolve()


def secret_key(folder: Path) -> str:
    """``ASSESS_SECRET_KEY``, or a key generated once and kept in the instance folder."""
    configured = os.environ.get("ASSESS_SECRET_KEY")
    if configured:
        return configured
    path = folder / "secret_key"
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    folder.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # Written with owner-only permissions: the key signs sessions.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key)
    return key


def from_environment() -> dict[str, Any]:
    """The configuration the environment gives, with the documented defaults."""
    folder = instance_path()
    return {
        "INSTANCE_PATH": str(folder),
        "DATABASE_URL": os.environ.get("ASSESS_DATABASE_URL", f"sqlite:///{folder / 'assess.db'}"),
        "REDIS_URL": os.environ.get("ASSESS_REDIS_URL") or None,
        # The site's address as readers reach it, printed on scorecards made outside a
        # request (command line, jobs); e.g. https://assess.example.go.th
        "PUBLIC_URL": os.environ.get("ASSESS_PUBLIC_URL") or None,
        # Processes laying out PDFs in a bulk scorecard export (default: up to 2).
        "SCORECARD_PROCESSES": int(os.environ.get("ASSESS_SCORECARD_PROCESSES") or 0) or None,
        "SECRET_KEY": secret_key(folder),
    }
