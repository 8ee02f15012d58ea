"""Score 8,000 synthetic responses to the built-in questionnaire, vectorised and one by one.

    python benchmarks/score_many.py [--count 8000] [--version 2569] [--repeat 3]

Prints the time of ``score_many`` (from the answers mapping, and from a long answers frame
as a database read gives it), the time of ``score_response`` called once per response, the
ratio, and checks that both give the same numbers. Targets (issue 2): under 2 s for
``score_many`` and at least 20× faster than one by one.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import pandas as pd

from assess.questionnaires import load
from assess.questionnaires.builtin import builtin_path
from assess.scoring import score_response
from assess.scoring.batch import score_many
from assess.synthetic import synthetic_answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=8000)
    parser.add_argument("--version", default="2569")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    questionnaire = load(builtin_path("dg-readiness", args.version))  # type: ignore[arg-type]
    responses = synthetic_answers(questionnaire, args.count)
    answers = sum(len(a) for a in responses.values())
    long = pd.DataFrame(
        [
            (agency, code, value)
            for agency, given in responses.items()
            for code, value in given.items()
        ],
        columns=["response", "question", "value"],
    )
    print(
        f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}, pandas {pd.__version__}"
    )
    print(
        f"questionnaire {questionnaire.key}: {len(questionnaire.questions)} questions; {args.count:,} responses, {answers:,} answers"
    )

    def best(function) -> tuple[float, object]:  # type: ignore[no-untyped-def]
        times, result = [], None
        for _ in range(args.repeat):
            start = time.perf_counter()
            result = function()
            times.append(time.perf_counter() - start)
        return min(times), result

    vector_time, batch = best(lambda: score_many(questionnaire, responses))
    frame_time, from_frame = best(lambda: score_many(questionnaire, long))
    start = time.perf_counter()
    exact = {agency: score_response(questionnaire, given) for agency, given in responses.items()}
    single_time = time.perf_counter() - start

    differences = sum(
        1 for agency, result in exact.items() if batch.as_dict(agency) != result.as_dict()
    )  # type: ignore[attr-defined]
    differences += sum(
        1 for agency, result in exact.items() if from_frame.as_dict(agency) != result.as_dict()
    )  # type: ignore[attr-defined]
    overall = [r.overall for r in exact.values() if r.overall is not None]
    print(
        f"overall scores: median {statistics.median(overall)}, min {min(overall)}, max {max(overall)}"
    )
    print(
        f"score_many (mapping):      {vector_time:8.3f} s   (best of {args.repeat}; {batch.exact_rows} rows re-scored exactly)"
    )  # type: ignore[attr-defined]
    print(f"score_many (long frame):   {frame_time:8.3f} s   (best of {args.repeat})")
    print(
        f"score_response one by one: {single_time:8.3f} s   ({single_time / args.count * 1000:.2f} ms per response)"
    )
    print(
        f"ratio: score_many is {single_time / vector_time:.1f}× faster (long frame: {single_time / frame_time:.1f}×)"
    )
    print(f"identical results: {'yes' if differences == 0 else f'NO — {differences} differ'}")
    print(
        f"targets: score_many < 2 s: {'met' if vector_time < 2 else 'NOT met'}; ≥ 20×: {'met' if single_time / vector_time >= 20 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
