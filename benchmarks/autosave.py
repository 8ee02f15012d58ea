"""Autosave through the real web endpoint: how long one answer's save takes.

    python benchmarks/autosave.py [--saves 300] [--database-url URL]

Signs a coordinator in (test client), then saves one answer at a time through
``POST /rounds/<id>/answers`` as the answer page's script does, each with the revision the
previous reply gave, and prints the latency distribution and the CPU per save. Each save
validates the answer, writes it and its audit event, re-scores the dimensions it changed
(self and verified) and replies with completeness, visibility and the missing list. For
many users at once through gunicorn, see ``saves.py`` (throughput beside a bare upsert
loop) and ``load.py``. Default database: a fresh SQLite file; ``--database-url`` must name
an empty database (the schema is created in it).
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path

from flask_migrate import upgrade

from assess import create_app
from assess.extensions import db
from assess.models import Agency
from assess.questionnaires.answers import to_json_value
from assess.questionnaires.builtin import builtin_path
from assess.services import questionnaires, rounds, users
from assess.services.questionnaires import questionnaire_of
from assess.synthetic import agency_answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=300)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="assess-bench-"))
    url = args.database_url or f"sqlite:///{folder / 'assess.db'}"
    app = create_app(
        {
            "INSTANCE_PATH": str(folder),
            "DATABASE_URL": url,
            "WTF_CSRF_ENABLED": False,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )
    with app.app_context():
        upgrade()
        path = builtin_path("dg-readiness", "2569")
        assert path is not None
        version, _ = questionnaires.import_text(path.read_bytes(), str(path))
        agency = Agency(code="BENCH", name_th="หน่วยงานทดสอบ", type="department", tags=[])
        db.session.add(agency)
        db.session.flush()
        users.create_user(
            "bench@example.go.th", "coordinator", agency=agency, password="bench-password-1"
        )
        round_ = rounds.create_round(version, "Benchmark", 2569, agencies=[agency])
        round_id = round_.id  # (read once: the object expires at every commit)
        rounds.move(round_, "open")
        db.session.commit()
        questionnaire = questionnaire_of(version)
        # Two full sets of answers; each save sends a question's value from the other set than
        # the last time, so that every save changes something (an unchanged value writes
        # nothing and would flatter the figure).
        sets = [
            {
                code: json.loads(json.dumps(to_json_value(value), default=float))
                for code, value in agency_answers(
                    questionnaire, maturity, random.Random(seed), 1.0
                ).items()
            }
            for maturity, seed in ((0.2, 1), (0.9, 2))
        ]
        values = [
            (code, sets[lap % 2][code])
            for lap in range(2)
            for code in sets[0]
            if code in sets[1] and sets[0][code] != sets[1][code]
        ]
        client = app.test_client()
        client.post("/login", data={"email": "bench@example.go.th", "password": "bench-password-1"})
        revision, timings = 0, []
        cpu = time.process_time()
        for i in range(args.saves):
            code, value = values[i % len(values)]
            start = time.perf_counter()
            reply = client.post(
                f"/rounds/{round_id}/answers",
                json={"revision": revision, "answers": {code: value}},
                headers={"X-Requested-With": "fetch"},
            )
            timings.append(time.perf_counter() - start)
            assert reply.status_code == 200, reply.get_json()
            revision = reply.get_json()["revision"]
        cpu = time.process_time() - cpu
    timings.sort()
    ms = [t * 1000 for t in timings]
    print(f"python {platform.python_version()} on {platform.machine()}, {url.split(':')[0]}")
    print(
        f"{args.saves} saves of one answer ({len(questionnaire.questions)}-question questionnaire)"
    )
    print(
        f"  median {statistics.median(ms):.1f} ms   p95 {ms[int(0.95 * len(ms)) - 1]:.1f} ms   "
        f"max {ms[-1]:.1f} ms   throughput {len(ms) / sum(timings):.0f} saves/s (one process)"
    )
    print(f"  CPU {cpu / args.saves * 1000:.1f} ms per save in this process (the database aside)")


if __name__ == "__main__":
    main()
