"""`assess benchmark`, `assess trend` and `assess export` run as subprocesses: the contract's
shapes, the same figures as the scoring functions and the API, the open-data package
(validated by frictionless), and formula injection.

Subprocesses are slow to start: the commands run on SQLite, and the comparison with the API
on every configured backend (the figures come from the same stored results either way)."""

from __future__ import annotations

import csv
import io
import json
import random
from collections import Counter
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest
from openpyxl import load_workbook

from assess.extensions import db
from assess.scoring import round_half_away
from assess.scoring.benchmark import BENCHMARK_COLUMNS, benchmark
from assess.scoring.trend import TREND_COLUMNS
from assess.services import reports, responses, results, users
from assess.services.questionnaires import questionnaire_of
from assess.synthetic import agency_answers
from tests.cli.test_cli_database import cli  # noqa: F401  (fixture)

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

#: Agency names a spreadsheet would run as formulas (OWASP's examples).
INJECTIONS = ('=HYPERLINK("http://x")', "+cmd", "-2+3", "@SUM(A1)")
#: code → (type, maturity, seed, extra fields). DEP-1 and DEP-2 answer alike (a tie); the
#: ministry and the province are alone in their type (n = 1), public organisations and
#: local administrations come in pairs (n = 2).
AGENCIES: dict[str, tuple[str, float, int, dict[str, Any]]] = {
    "MIN-1": ("ministry", 0.6, 1, {"province": "Bangkok"}),
    "DEP-1": ("department", 0.5, 2, {"province": "Bangkok", "tags": ["pilot"]}),
    "DEP-2": ("department", 0.5, 2, {"province": "Bangkok", "tags": ["pilot"]}),
    "DEP-3": ("department", 0.8, 3, {"province": "Chiang Mai"}),
    "LATE-1": ("department", 0.4, 4, {}),
    "PROV-1": ("province", 0.3, 5, {"province": "Chiang Mai"}),
    "PO-1": ("public_org", 0.7, 6, {}),
    "PO-2": ("public_org", 0.2, 7, {}),
    "INJ-1": ("local", 0.45, 8, {"name_th": INJECTIONS[0], "name_en": INJECTIONS[1], "province": INJECTIONS[0]}),
    "INJ-2": ("local", 0.55, 9, {"name_th": INJECTIONS[2], "name_en": INJECTIONS[3], "province": INJECTIONS[3]}),
    "NEW-1": ("department", 0.65, 10, {}),
}  # fmt: skip
THAI_NAME = "หน่วยงาน MIN-1"  # the World factory's default name, to look for in packages


def accept(round_, agency, maturity: float, seed: int) -> None:  # type: ignore[no-untyped-def]
    """Give an agency complete synthetic answers and accept them (the demo's steps)."""
    response = responses.get_response(round_, agency)
    questionnaire = questionnaire_of(round_.questionnaire)
    answers = agency_answers(questionnaire, maturity, random.Random(seed), 1.0)  # noqa: S311
    responses.replace_answers(response, answers, actor=None, source="test")
    for status in ("draft", "submitted", "accepted"):
        responses.set_status(response, status, None, detail="test")


def two_rounds(world) -> SimpleNamespace:  # type: ignore[no-untyped-def]
    """Round 2568 (dg-readiness@2568, published) and round 2569 (dg-readiness@2569, open).

    2568: every agency but NEW-1, all accepted. 2569: every agency; LATE-1 only a draft;
    DEP-3 has a verified value lower than its own answer.
    """
    from assess.services import rounds

    agencies = {}
    for code, (kind, _m, _s, extra) in AGENCIES.items():
        fields = dict(extra)
        if code == "DEP-3":
            fields["parent_id"] = agencies["MIN-1"].id
        agencies[code] = world.agency(code, type=kind, **fields)
    reviewer = world.user("reviewer@example.go.th", role="reviewer")
    old = world.round(
        world.questionnaire(key="dg-readiness@2568"),
        agencies=[a for c, a in agencies.items() if c != "NEW-1"],
        name="รอบ 2568",
        fiscal_year=2568,
    )
    for code, agency in agencies.items():
        if code != "NEW-1":
            accept(old, agency, *AGENCIES[code][1:3])
    results.recompute_round(old)
    rounds.move(old, "closed")
    rounds.move(old, "published")
    new = world.round(
        world.questionnaire(key="dg-readiness@2569"),
        agencies=list(agencies.values()),
        name="รอบ 2569",
    )
    for code, agency in agencies.items():
        if code == "LATE-1":
            response = responses.get_response(new, agency)
            responses.replace_answers(response, {"mgmt.leadership": 1}, actor=None, source="t")
            responses.set_status(response, "draft", None)
        else:
            accept(new, agency, *AGENCIES[code][1:3])
    db.session.flush()
    responses.verify(
        responses.get_response(new, agencies["DEP-3"]), reviewer, "mgmt.leadership", 0, "หลักฐานไม่พอ"
    )
    results.recompute_round(new)
    db.session.commit()
    return SimpleNamespace(old=old, new=new, agencies=agencies, reviewer=reviewer)


@pytest.fixture
def scene(world) -> SimpleNamespace:  # type: ignore[no-untyped-def]
    return two_rounds(world)


def read_csv(text: str) -> list[dict[str, str]]:
    """CSV output as dicts (asserting no byte-order mark: scripts read it as plain UTF-8)."""
    assert not text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text)))


def typed(row: dict[str, str], columns: tuple[str, ...]) -> dict[str, Any]:
    """A CSV row with the JSON's types: whole numbers, 2-decimal numbers, text, null."""
    out: dict[str, Any] = {}
    for key in columns:
        value = row[key]
        if value == "":
            out[key] = None
        elif key in ("n", "rank", "quartile"):
            out[key] = int(value)
        elif key in ("agency", "by", "group", "measure", "level", "comparability"):
            out[key] = value
        else:
            assert value == f"{float(value):.2f}", value  # exactly 2 decimals
            out[key] = float(value)
    return out


def expected_benchmark(scores: list[dict[str, Any]], groups: dict[str, list[str]], by: str):  # type: ignore[no-untyped-def]
    """``scoring.benchmark`` run directly on the accepted rows of ``assess scores``."""
    rows = []
    for record in scores:
        if record["status"] != "accepted":
            continue
        measures = {"overall": record["overall"], **record["dimensions"]}
        for measure, result in measures.items():
            rows.append((record["agency"], measure, result["score"], result["level"]))
    frame = pd.DataFrame(rows, columns=["agency", "measure", "score", "level"])
    frame["score"] = frame["score"].astype("float64")
    members = pd.DataFrame(
        [(a, by, g) for a, gs in groups.items() for g in gs], columns=["agency", "by", "group"]
    )
    out = []
    for row in benchmark(frame, members).itertuples(index=False):
        item = dict(zip(BENCHMARK_COLUMNS, row, strict=True))
        out.append(
            {
                k: (
                    int(v)
                    if k in ("n", "rank", "quartile")
                    else v
                    if k in ("agency", "by", "group", "measure", "level")
                    else round(float(v), 2)
                )
                for k, v in item.items()
            }
        )
    return out


# -- benchmark --------------------------------------------------------------------------------


@sqlite_only
def test_benchmark_json_and_csv_are_the_contract_and_equal_scoring(cli, scene):  # noqa: F811
    rid = str(scene.new.id)
    scores = json.loads(cli("scores", rid, "--format", "json").stdout)
    groups = {code: [kind] for code, (kind, *_rest) in AGENCIES.items() if code != "LATE-1"}
    expected = expected_benchmark(scores, groups, "type")
    rows = json.loads(cli("benchmark", rid, "--by", "type", "--format", "json").stdout)
    assert all(tuple(row) == BENCHMARK_COLUMNS for row in rows)  # keys in the contract's order
    assert rows == expected
    text = cli("benchmark", rid, "--by", "type", "--format", "csv").stdout
    assert text.splitlines()[0] == ",".join(BENCHMARK_COLUMNS)
    assert [typed(r, BENCHMARK_COLUMNS) for r in read_csv(text)] == rows

    def get(agency: str, measure: str = "overall") -> dict[str, Any]:
        (found,) = [r for r in rows if r["agency"] == agency and r["measure"] == measure]
        return found

    # The draft response is left out; the verified value (not DEP-3's own answer) counts.
    assert not any(r["agency"] == "LATE-1" for r in rows)
    dep3 = next(r for r in scores if r["agency"] == "DEP-3")
    assert get("DEP-3")["score"] == dep3["overall"]["score"]
    self_scores = json.loads(cli("scores", rid, "--self", "--format", "json").stdout)
    assert next(r for r in self_scores if r["agency"] == "DEP-3") != dep3
    # A tie shares rank and percentile; groups of one and two.
    tie = [get("DEP-1"), get("DEP-2")]
    assert tie[0]["score"] == tie[1]["score"]
    assert (tie[0]["rank"], tie[0]["percentile"]) == (tie[1]["rank"], tie[1]["percentile"])
    alone = get("PROV-1")
    assert (alone["n"], alone["rank"], alone["percentile"], alone["quartile"]) == (1, 1, 50.0, 1)
    assert alone["median"] == alone["score"] == alone["max"]
    pair = sorted([get("PO-1"), get("PO-2")], key=lambda r: r["rank"])
    assert [r["n"] for r in pair] == [2, 2]
    assert [r["rank"] for r in pair] == [1, 2]
    assert [r["percentile"] for r in pair] == [75.0, 25.0]
    assert pair[1]["gap_to_top"] < 0  # a negative number stays a number in the CSV too
    csv_row = next(
        r for r in read_csv(text) if r["agency"] == pair[1]["agency"] and r["measure"] == "overall"
    )
    assert csv_row["gap_to_top"] == f"{pair[1]['gap_to_top']:.2f}"


def test_benchmark_equals_the_api_for_every_grouping(cli, scene, client):  # noqa: F811
    token = users.issue_token(scene.reviewer, "test")
    db.session.commit()
    for by in reports.GROUPINGS:
        rows = json.loads(
            cli("benchmark", str(scene.new.id), "--by", by, "--format", "json").stdout
        )
        api = client.get(
            f"/api/v1/rounds/{scene.new.id}/benchmark?by={by}",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert api.status_code == 200
        assert rows == api.get_json(), by
        assert rows == reports.benchmark_records(reports.load(scene.new), by)
        assert rows, by


@sqlite_only
def test_refusals_and_usage(cli, scene, tmp_path):  # noqa: F811
    # Each command starts a Python process: one case per kind of mistake.
    new, old = str(scene.new.id), str(scene.old.id)
    done = cli("benchmark", "999", "--format", "json", ok=False)
    assert (done.returncode, done.stderr) == (1, "round 999: no such round\n")
    assert cli("benchmark", new, "--by", "colour", ok=False).returncode == 2
    done = cli("benchmark", new, "--format", "xlsx", ok=False)
    assert done.returncode == 2
    assert "-o" in done.stderr
    done = cli("trend", new, "--against", "999", ok=False)
    assert (done.returncode, done.stderr) == (1, "round 999: no such round\n")
    done = cli("trend", new, "--against", new, ok=False)
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1
    assert cli("export", old, "--format", "datapackage", ok=False).returncode == 2  # no -o
    done = cli("trend", old, "--against", new, ok=False)  # backwards
    assert (done.returncode, done.stderr) == (
        1,
        f"round {new} (fiscal year 2569) is later than round {old} (2568): --against takes "
        f"the earlier round (assess trend {new} --against {old})\n",
    )
    # An output that cannot be written: one line naming it, not a traceback.
    (tmp_path / "afile").write_text("")
    for args in (("scores", new, "--format", "csv"), ("answers", "export", new, "--format", "csv"),
                 ("benchmark", new, "--format", "xlsx")):  # fmt: skip
        done = cli(*args, "-o", str(tmp_path / "afile" / "x.out"), ok=False)
        assert (done.returncode, done.stderr) == (
            1,
            f"{tmp_path / 'afile' / 'x.out'}: Not a directory\n",
        ), args
    done = cli("answers", "export", new, "--format", "xlsx", ok=False)
    assert done.returncode == 2  # a workbook needs -o: wrong usage, as for the reports
    assert "-o" in done.stderr
    done = cli("scores", "99999999999999999999", ok=False)
    assert (done.returncode, done.stderr) == (1, "round 99999999999999999999: no such round\n")


# -- trend ------------------------------------------------------------------------------------


@sqlite_only
def test_trend_across_2568_and_2569_checked_by_hand(cli, scene):  # noqa: F811
    new, old = str(scene.new.id), str(scene.old.id)
    rows = json.loads(cli("trend", new, "--against", old, "--format", "json").stdout)
    assert all(tuple(row) == TREND_COLUMNS for row in rows)
    # Agencies accepted in both rounds only (not NEW-1, not LATE-1's draft).
    assert {r["agency"] for r in rows} == set(AGENCIES) - {"NEW-1", "LATE-1"}
    assert {r["comparability"] for r in rows} == {"re-based"}
    text = cli("trend", new, "--against", old, "--format", "csv").stdout
    assert text.splitlines()[0] == ",".join(TREND_COLUMNS)
    assert [typed(r, TREND_COLUMNS) for r in read_csv(text)] == rows

    # By hand, from the stored scores of both rounds (`assess scores`).
    before = {r["agency"]: r for r in json.loads(cli("scores", old, "--format", "json").stdout)}
    after = {r["agency"]: r for r in json.loads(cli("scores", new, "--format", "json").stdout)}
    trend = {(r["agency"], r["measure"]): r for r in rows}
    measures = ["overall", "mgmt", "service", "did", "nocopy", "opendata", "exchange", "ea", "people", "cyber"]  # fmt: skip
    assert [m for a, m in trend if a == "DEP-3"] == measures

    def dec(value: float | None) -> Decimal | None:
        return None if value is None else Decimal(str(value))

    def score(record: dict[str, Any], measure: str) -> Decimal | None:
        found = record["overall"] if measure == "overall" else record["dimensions"][measure]
        return dec(found["score"])

    def check(agency: str, measure: str, previous: Decimal | None) -> None:
        now = score(after[agency], measure)
        row = trend[(agency, measure)]
        change = None if now is None or previous is None else now - previous
        assert (dec(row["score"]), dec(row["previous"]), dec(row["change"])) == (now, previous, change), (agency, measure)  # fmt: skip

    # DEP-3, every measure of 2569.
    old_dep3 = before["DEP-3"]
    check("DEP-3", "overall", score(old_dep3, "overall"))
    for same in ("mgmt", "did", "nocopy", "ea", "people", "cyber"):
        check("DEP-3", same, score(old_dep3, same))  # the same code in both versions
    check("DEP-3", "opendata", score(old_dep3, "data"))  # data was split in two
    check("DEP-3", "exchange", score(old_dep3, "data"))
    # service merges oss (weight 1.5 in 2568) and epay (weight 1): the weighted average of
    # those of the two that were scored (an agency collecting no fees has no epay score).
    weights = {"oss": Decimal("1.5"), "epay": Decimal(1)}
    both = 0
    for agency in {a for a, _m in trend}:
        scored = {c: (w, score(before[agency], c)) for c, w in weights.items()}
        scored = {c: (w, s) for c, (w, s) in scored.items() if s is not None}
        both += len(scored) == 2
        total = sum(w * s for w, s in scored.values())
        weight = sum(w for w, _s in scored.values())
        check(agency, "service", round_half_away(total / weight, 2) if scored else None)
    assert both >= 3  # the weighted average itself, not only a copy of one score
    assert any(r["change"] < 0 for r in rows)  # and negative changes are numbers in the CSV
    negative = next(r for r in read_csv(text) if r["change"].startswith("-"))
    assert float(negative["change"]) < 0


# -- the open-data package --------------------------------------------------------------------


def validate(folder: Path) -> None:
    """frictionless's own validation of the package (structure, types, keys, hashes)."""
    import frictionless

    report = frictionless.validate(str(folder / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])


@sqlite_only
def test_export_datapackage_validates_with_frictionless(cli, scene, tmp_path):  # noqa: F811
    folder = tmp_path / "package"
    done = cli("export", str(scene.old.id), "--format", "datapackage", "-o", str(folder))
    assert "datapackage.json" in done.stdout
    validate(folder)
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    assert descriptor["licenses"][0]["name"] == "CC-BY-4.0"
    assert {r["name"] for r in descriptor["resources"]} == {
        "agencies", "dimensions", "levels", "scores", "benchmark", "level_distribution",
    }  # fmt: skip
    for resource in descriptor["resources"]:
        assert resource["schema"]["missingValues"] == [""]
        assert resource["schema"]["primaryKey"]
        for field in resource["schema"]["fields"]:
            assert " / " in field["title"]  # Thai / English
    agencies = list(csv.DictReader(io.StringIO((folder / "agencies.csv").read_text("utf-8"))))
    assert {a["code"] for a in agencies} == set(AGENCIES) - {"NEW-1"}
    dep3 = next(a for a in agencies if a["code"] == "DEP-3")
    assert (dep3["type"], dep3["parent"], dep3["province"]) == ("department", "MIN-1", "Chiang Mai")
    assert dep3["province_th"] == "เชียงใหม่"  # for data.go.th's readers
    # Formula injection: names and provinces are neutralised in the package's CSV too.
    inj1 = next(a for a in agencies if a["code"] == "INJ-1")
    assert (inj1["name_th"], inj1["name_en"]) == ("'" + INJECTIONS[0], "'" + INJECTIONS[1])
    # Scores exactly as stored: the same as `assess scores`, with 2 decimals.
    stored = {r["agency"]: r for r in json.loads(cli("scores", str(scene.old.id)).stdout)}
    text = (folder / "scores.csv").read_text("utf-8")
    assert not text.startswith("\ufeff")
    for row in csv.DictReader(io.StringIO(text)):
        record = stored[row["agency"]]
        assert row["overall_score"] == f"{record['overall']['score']:.2f}"
        assert row["overall_level"] == record["overall"]["level"]
        assert row["oss_score"] == f"{record['dimensions']['oss']['score']:.2f}"
    bench = list(csv.DictReader(io.StringIO((folder / "benchmark.csv").read_text("utf-8"))))
    assert {r["by"] for r in bench} == {"all", "type"}
    # A second export of the final results is the same package, byte for byte.
    again = tmp_path / "again"
    cli("export", str(scene.old.id), "--format", "datapackage", "-o", str(again))
    for name in ("datapackage.json", "scores.csv", "benchmark.csv"):
        assert (again / name).read_bytes() == (folder / name).read_bytes()


@sqlite_only
def test_export_datapackage_is_refused_before_publication(cli, scene, tmp_path):  # noqa: F811
    folder = tmp_path / "package"
    done = cli("export", str(scene.new.id), "--format", "datapackage", "-o", str(folder), ok=False)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"round {scene.new.id} is open: the open-data package holds published results only; "
        "publish the round first"
    )
    assert not folder.exists()
    (tmp_path / "file").write_text("x")
    done = cli("export", str(scene.old.id), "--format", "datapackage", "-o", str(tmp_path / "file"), ok=False)  # fmt: skip
    assert done.returncode == 1


@sqlite_only
def test_anonymised_round_publishes_no_names(cli, scene, tmp_path):  # noqa: F811
    scene.old.anonymise_peers = True
    db.session.commit()
    folder = tmp_path / "package"
    cli("export", str(scene.old.id), "--format", "datapackage", "-o", str(folder))
    validate(folder)
    everything = "\n".join(p.read_text("utf-8") for p in folder.iterdir())
    for code in AGENCIES:
        assert code not in everything
    for secret in (THAI_NAME, "Agency MIN-1", "Chiang Mai", "Bangkok", *INJECTIONS):
        assert secret not in everything
    agencies = list(csv.DictReader(io.StringIO((folder / "agencies.csv").read_text("utf-8"))))
    assert set(agencies[0]) == {"code", "type"}
    ids = [a["code"] for a in agencies]
    assert len(set(ids)) == len(AGENCIES) - 1
    assert all(i.startswith("anon-") for i in ids)
    # Rows in the order of the ids, never of the codes they hide (which a list of the
    # agencies' codes would match row for row), ties of rank too.
    assert ids == sorted(ids)
    scores = list(csv.DictReader(io.StringIO((folder / "scores.csv").read_text("utf-8"))))
    assert [r["agency"] for r in scores] == sorted(ids)
    rows = list(csv.DictReader(io.StringIO((folder / "benchmark.csv").read_text("utf-8"))))
    keys = [(r["by"], r["group"], r["measure"], int(r["rank"]), r["agency"]) for r in rows]
    assert keys == sorted(keys)
    # A group of fewer than five agencies would tell who is who (the one ministry, say):
    # no figures of it, and its agencies without their type.
    types = Counter(a["type"] for a in agencies)
    assert all(count >= 5 for kind, count in types.items() if kind), types
    assert types[""]
    assert "ministry" not in types
    assert rows
    assert all(int(r["n"]) >= 5 for r in rows)  # a dimension scored by four: left out
    levels = list(
        csv.DictReader(io.StringIO((folder / "level_distribution.csv").read_text("utf-8")))
    )
    assert {r["group"] for r in levels} <= {"all", "department"}
    descriptor = json.loads((folder / "datapackage.json").read_text("utf-8"))
    assert "anonymised" in descriptor["description"]
    assert "fewer than 5 agencies" in descriptor["description"]
    # Stable: the same ids on the next export.
    again = tmp_path / "again"
    cli("export", str(scene.old.id), "--format", "datapackage", "-o", str(again))
    assert (again / "agencies.csv").read_bytes() == (folder / "agencies.csv").read_bytes()
    assert (again / "scores.csv").read_bytes() == (folder / "scores.csv").read_bytes()


# -- workbooks and formula injection ----------------------------------------------------------


@sqlite_only
def test_formula_injection_in_cli_csv_and_xlsx(cli, scene, tmp_path):  # noqa: F811
    rid = str(scene.new.id)
    text = cli("benchmark", rid, "--by", "province", "--format", "csv").stdout
    groups = {r["group"] for r in read_csv(text)}
    assert {"'" + INJECTIONS[0], "'" + INJECTIONS[3]} <= groups
    assert not groups & set(INJECTIONS)
    # The JSON is data, not a spreadsheet: the exact text.
    rows = json.loads(cli("benchmark", rid, "--by", "province", "--format", "json").stdout)
    assert {INJECTIONS[0], INJECTIONS[3]} <= {r["group"] for r in rows}

    for args, sheet in (
        (["scores", rid], "scores"),
        (["benchmark", rid, "--by", "type"], "benchmark"),
        (["trend", rid, "--against", str(scene.old.id)], "trend"),
    ):
        target = tmp_path / f"{sheet}.xlsx"
        cli(*args, "--format", "xlsx", "-o", str(target))
        book = load_workbook(target)
        cells = [c for row in book[sheet].iter_rows() for c in row]
        named = [c for c in cells if c.value in INJECTIONS]
        assert {c.value for c in named} == set(INJECTIONS), sheet
        assert all(c.data_type == "s" for c in named)  # strings, never formulas
        assert not [c for c in cells if c.data_type == "f"]
        assert any(c.data_type == "n" and isinstance(c.value, float) for c in cells)
        assert book[sheet].freeze_panes == "A2"
        assert book[sheet]["B1"].value == "name_th"

    target = tmp_path / "round.xlsx"
    cli("export", rid, "--format", "xlsx", "-o", str(target))
    book = load_workbook(target)
    assert book.sheetnames == ["scores", "benchmark", "answers"]
    assert not [c for ws in book for row in ws.iter_rows() for c in row if c.data_type == "f"]
