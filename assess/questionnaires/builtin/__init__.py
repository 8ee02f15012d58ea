"""The built-in questionnaires shipped with assess (``dg-readiness``)."""

from __future__ import annotations

from pathlib import Path

FOLDER = Path(__file__).parent


def builtin_files() -> list[Path]:
    """Every built-in questionnaire file, oldest version first."""
    return sorted(FOLDER.glob("*.yaml"))


def builtin_path(code: str, version: str) -> Path | None:
    """The file of a built-in ``CODE@VERSION``, if there is one."""
    path = FOLDER / f"{code}-{version}.yaml"
    return path if path.is_file() else None
