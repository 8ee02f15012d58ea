"""Shared fixtures: where the shared contracts and examples live, and questionnaire builders."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: The shared contracts and examples sit beside the checkout (``../shared``).
SHARED = Path(os.environ.get("ASSESS_SHARED", ROOT.parent / "shared"))
EXAMPLES = SHARED / "examples"


def assess_executable() -> str:
    """The installed ``assess`` console script of this interpreter's environment."""
    beside = Path(sys.executable).parent / "assess"
    if beside.exists():
        return str(beside)
    found = shutil.which("assess")
    if found is None:
        pytest.fail("the assess console script is not installed (pip install -e .)")
    return found


@pytest.fixture(scope="session")
def examples() -> Path:
    """The folder of the worked example (../shared/examples)."""
    if not (EXAMPLES / "worked-example.yaml").exists():
        pytest.fail(f"the shared examples are missing at {EXAMPLES}")
    return EXAMPLES
