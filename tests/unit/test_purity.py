"""The loader and the engine import nothing from Flask, SQLAlchemy or the app's models."""

from __future__ import annotations

import subprocess
import sys


def test_core_packages_do_not_import_the_web_stack() -> None:
    code = (
        "import sys\n"
        "import assess.questionnaires, assess.questionnaires.answers, assess.questionnaires.diff\n"
        "import assess.questionnaires.builtin\n"
        "import assess.scoring, assess.scoring.batch, assess.scoring.benchmark, assess.scoring.trend\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'flask', 'sqlalchemy', 'flask_sqlalchemy', 'werkzeug'} or m == 'assess.models')\n"
        "print(','.join(bad))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
