"""The central office's downloads (/central/rounds/<id>/exports/…): who may download, content
types, contents, formula injection, and the open-data package as a ZIP."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook

from assess.extensions import db
from assess.questionnaires.answers import read_json_answers
from assess.services import exports, interchange, reports, responses
from assess.services.questionnaires import questionnaire_of
from tests.cli.test_reports_cli import INJECTIONS, two_rounds

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILES = (
    "scores.csv",
    "scores.xlsx",
    "benchmark.csv",
    "benchmark.xlsx",
    "answers.json",
    "answers.csv",
    "answers.xlsx",
    "answers-verified.json",
    "answers-verified.csv",
    "verified-values.csv",
    "verified-values.xlsx",
    "datapackage.zip",
)


@pytest.fixture
def scene(world) -> SimpleNamespace:  # type: ignore[no-untyped-def]
    """Two rounds (2568 published, 2569 open), a coordinator, a reviewer reading English, and
    a text answer that a spreadsheet would run as a formula."""
    found = two_rounds(world)
    found.reviewer.language = "en"
    found.coordinator = world.user("dep1@example.go.th", agency=found.agencies["DEP-1"])
    questionnaire = questionnaire_of(found.new.questionnaire)
    found.text_code = next(q.code for q in questionnaire.iter_questions() if q.type.value == "text")
    late = responses.get_response(found.new, found.agencies["LATE-1"])
    responses.replace_answers(
        late, {"mgmt.leadership": 1, found.text_code: INJECTIONS[0]}, actor=None, source="test"
    )
    db.session.commit()
    return found


def url(round_, name: str = "") -> str:  # type: ignore[no-untyped-def]
    return f"/central/rounds/{round_.id}/exports" + (f"/{name}" if name else "")


def rows_of_csv(reply) -> list[list[str]]:  # type: ignore[no-untyped-def]
    """A CSV download for Excel: UTF-8 with a byte-order mark, CRLF line ends."""
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == "text/csv; charset=utf-8"  # (once, not twice)
    assert reply.headers["Content-Disposition"].startswith("attachment; filename=")
    data = reply.get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in data
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def sheet_of(reply):  # type: ignore[no-untyped-def]
    assert reply.status_code == 200
    assert reply.mimetype == XLSX
    book = load_workbook(io.BytesIO(reply.get_data()))
    return book.worksheets[0]


def test_only_the_central_office_downloads(client, auth, scene):
    for name in ("", *FILES):
        reply = client.get(url(scene.old, name))
        assert reply.status_code == 302
        assert "/login" in reply.headers["Location"]
    auth.login("dep1@example.go.th")
    for name in ("", *FILES):
        assert client.get(url(scene.old, name)).status_code == 403, name
    auth.logout()
    auth.login("reviewer@example.go.th")
    for name in ("", *FILES):
        assert client.get(url(scene.old, name)).status_code == 200, name
    assert client.get("/central/rounds/999/exports/scores.csv").status_code == 404


def test_the_exports_page_lists_every_download(client, auth, scene):
    auth.login("reviewer@example.go.th")
    page = client.get(url(scene.old)).get_data(as_text=True)
    for name in FILES:
        stem, _dot, ext = name.partition(".")
        assert f"/exports/{stem}.{ext}" in page, name
    assert "data.go.th" in page
    page = client.get(url(scene.new)).get_data(as_text=True)
    assert "datapackage.zip" not in page  # not before publication
    assert "After publication" in page


def test_scores_downloads(client, auth, scene):
    auth.login("reviewer@example.go.th")
    rows = rows_of_csv(client.get(url(scene.new, "scores.csv")))
    columns, expected = exports.scores_table(scene.new)
    assert rows[0] == columns
    assert columns[:5] == ["agency", "name_th", "name_en", "status", "completeness"]
    assert [r[0] for r in rows[1:]] == [r[0] for r in expected]
    by_code = {r[0]: r for r in rows[1:]}
    # Names a spreadsheet would run are neutralised; scores are plain numbers.
    assert by_code["INJ-1"][1:3] == ["'" + INJECTIONS[0], "'" + INJECTIONS[1]]
    assert by_code["INJ-2"][1:3] == ["'" + INJECTIONS[2], "'" + INJECTIONS[3]]
    overall = columns.index("overall_score")
    assert float(by_code["DEP-3"][overall]) == next(r for r in expected if r[0] == "DEP-3")[overall]
    assert "ระดับ" not in rows[0]  # machine column names, as the command line
    reply = client.get(url(scene.new, "scores.xlsx"))
    sheet = sheet_of(reply)
    assert reply.headers["Content-Disposition"] == (
        f'attachment; filename="round-{scene.new.id}-scores.xlsx"'
    )
    cells = {c.value: c for row in sheet.iter_rows(min_row=2) for c in row[1:3]}
    for text in INJECTIONS:
        assert cells[text].data_type == "s"  # exactly the name, as a string, never a formula
    scores = [row[overall] for row in sheet.iter_rows(min_row=2)]
    assert all(c.data_type == "n" and c.number_format == "0.00" for c in scores)


def test_a_response_never_started_has_no_scores_in_any_output(client, auth, scene, world, runner):
    """Not 0.00 and level 1, which an average of the column would count: ``null`` scores and
    levels (empty cells) beside its status and completeness 0.0, whether the round scored as
    a whole stored the zeros of its empty answers (IDLE-1) or it has no result (IDLE-2); in
    ``assess scores`` (JSON, CSV), the API and the scores downloads (CSV, XLSX)."""
    from assess.services import results, users

    world.invite(scene.new, world.agency("IDLE-1"))
    results.recompute_round(scene.new)  # the zeros of its empty answers, stored
    db.session.commit()
    world.invite(scene.new, world.agency("IDLE-2"))  # no result at all
    idle = ("IDLE-1", "IDLE-2")
    records = {r["agency"]: r for r in results.score_records(scene.new)}
    nothing = {"score": None, "level": None}
    for code in idle:
        record = records[code]
        assert (record["status"], record["completeness"]) == ("not_started", 0.0)
        assert record["overall"] == nothing
        assert all(d == nothing for d in record["dimensions"].values())
    assert records["DEP-1"]["overall"]["score"] is not None  # the others as before
    # The command line, JSON and CSV.
    done = runner.invoke(args=["scores", str(scene.new.id)])
    assert done.exit_code == 0, done.output
    assert {r["agency"]: r for r in json.loads(done.output)}["IDLE-1"] == records["IDLE-1"]
    done = runner.invoke(args=["scores", str(scene.new.id), "--format", "csv"])
    rows = {r["agency"]: r for r in csv.DictReader(io.StringIO(done.output))}
    for code in idle:
        assert rows[code]["status"] == "not_started"
        assert rows[code]["completeness"] == "0.0"
        assert {v for k, v in rows[code].items() if k.endswith(("_score", "_level"))} == {""}
    # The API.
    token = users.issue_token(scene.reviewer, "test")
    db.session.commit()
    reply = client.get(
        f"/api/v1/rounds/{scene.new.id}/scores", headers={"Authorization": f"Bearer {token}"}
    )
    assert {r["agency"]: r for r in reply.get_json()}["IDLE-1"] == records["IDLE-1"]
    # The downloads: empty cells.
    auth.login("reviewer@example.go.th")
    rows_csv = rows_of_csv(client.get(url(scene.new, "scores.csv")))
    header = rows_csv[0]
    figures = [i for i, name in enumerate(header) if name.endswith(("_score", "_level"))]
    for row in rows_csv[1:]:
        if row[0] in idle:
            assert row[header.index("completeness")] == "0.0"
            assert {row[i] for i in figures} == {""}, row
    sheet = sheet_of(client.get(url(scene.new, "scores.xlsx")))
    found = [row for row in sheet.iter_rows(min_row=2, values_only=True) if row[0] in idle]
    assert len(found) == 2
    for row in found:
        assert {row[i] for i in figures} == {None}, row
    # The benchmark counts accepted responses only, as before.
    assert not {
        r["agency"] for r in reports.benchmark_records(reports.load(scene.new), "all")
    } & set(idle)


def test_benchmark_downloads(client, auth, scene):
    auth.login("reviewer@example.go.th")
    data = reports.load(scene.new)
    rows = rows_of_csv(client.get(url(scene.new, "benchmark.csv") + "?by=type"))
    records = reports.benchmark_records(data, "type")
    assert rows[0] == ["agency", "name_th", "name_en", *list(records[0])[1:]]
    assert len(rows) == len(records) + 1
    for row, record in zip(rows[1:], records, strict=True):
        assert row[0] == record["agency"]
        assert row[3:7] == [
            record["by"],
            record["group"],
            record["measure"],
            f"{record['score']:.2f}",
        ]
        assert int(row[rows[0].index("rank")]) == record["rank"]
    # Provinces named like formulas are groups: neutralised too; ?by= defaults to all.
    rows = rows_of_csv(client.get(url(scene.new, "benchmark.csv") + "?by=province"))
    groups = {r[4] for r in rows[1:]}
    assert {"'" + INJECTIONS[0], "'" + INJECTIONS[3]} <= groups
    rows = rows_of_csv(client.get(url(scene.new, "benchmark.csv")))
    assert {r[3] for r in rows[1:]} == {"all"}
    sheet = sheet_of(client.get(url(scene.new, "benchmark.xlsx") + "?by=province"))
    group = [c.value for c in sheet[1]].index("group")
    cells = [row[group] for row in sheet.iter_rows(min_row=2)]
    assert {INJECTIONS[0], INJECTIONS[3]} <= {c.value for c in cells}
    assert all(c.data_type == "s" for c in cells)
    assert client.get(url(scene.new, "benchmark.csv") + "?by=colour").status_code == 400


def test_answers_downloads(client, auth, scene):
    auth.login("reviewer@example.go.th")
    reply = client.get(url(scene.new, "answers.json"))
    assert reply.status_code == 200
    assert reply.mimetype == "application/json"
    assert reply.get_data() == interchange.export_round(scene.new, "json")
    questionnaire = questionnaire_of(scene.new.questionnaire)
    stored = read_json_answers(reply.get_data(as_text=True), questionnaire, "answers.json")
    # CSV for Excel: the text answer is neutralised.
    rows = rows_of_csv(client.get(url(scene.new, "answers.csv")))
    late = next(r for r in rows if r[0] == "LATE-1")
    assert late[rows[0].index(scene.text_code)] == "'" + INJECTIONS[0]
    # XLSX: the text answer is a string, and the workbook imports back unchanged.
    reply = client.get(url(scene.new, "answers.xlsx"))
    sheet = sheet_of(reply)
    assert sheet.title == "answers"
    # The command line's workbook (assess answers export --format xlsx): agency and status
    # stay in view beside the header.
    assert [c.value for c in sheet[1]][:2] == ["agency", "status"]
    assert sheet.freeze_panes == "C2"
    column = [c.value for c in sheet[1]].index(scene.text_code)
    cell = next(row[column] for row in sheet.iter_rows(min_row=2) if row[0].value == "LATE-1")
    assert (cell.value, cell.data_type) == (INJECTIONS[0], "s")
    again = interchange.read_file(reply.get_data(), "answers.xlsx", questionnaire)
    assert [(a.agency, a.answers, a.status) for a in again] == [
        (a.agency, a.answers, a.status) for a in stored
    ]


def _verified_scores(round_, items) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    """Scores of interchange items (as ``assess questionnaire score`` gives them), and the
    stored verified scores (as ``assess scores`` gives them, without the status)."""
    from assess.scoring.batch import score_many
    from assess.services import results

    questionnaire = questionnaire_of(round_.questionnaire)
    scored = score_many(questionnaire, {item.agency: item.answers for item in items}).records()
    stored = results.score_records(round_)
    for record in stored:
        del record["status"]
    return {
        "scored": {r["agency"]: r for r in scored},
        "stored": {r["agency"]: r for r in stored},
    }


def test_answers_as_verified_downloads(client, auth, scene):
    """The answers as verified: scoring them gives the verified scores; JSON exactly as the
    command line's ``--verified``, CSV for Excel (streamed)."""
    from assess.questionnaires.answers import read_csv_answers

    inj = responses.get_response(scene.new, scene.agencies["INJ-1"])
    responses.verify(inj, scene.reviewer, "mgmt.pmqa_level", {"na": True}, "นอกขอบเขต PMQA")
    db.session.commit()
    auth.login("reviewer@example.go.th")
    questionnaire = questionnaire_of(scene.new.questionnaire)
    reply = client.get(url(scene.new, "answers-verified.json"))
    assert reply.status_code == 200
    assert reply.mimetype == "application/json"
    assert reply.headers["Content-Disposition"] == (
        f'attachment; filename="round-{scene.new.id}-answers-verified.json"'
    )
    assert reply.get_data() == interchange.export_round(scene.new, "json", verified=True)
    items = read_json_answers(reply.get_data(as_text=True), questionnaire, "answers.json")
    by_code = {item.agency: item for item in items}
    assert by_code["DEP-3"].answers["mgmt.leadership"] == 0  # the verified value
    own = read_json_answers(
        client.get(url(scene.new, "answers.json")).get_data(as_text=True), questionnaire, "a.json"
    )
    assert next(i for i in own if i.agency == "DEP-3").answers["mgmt.leadership"] != 0
    figures = _verified_scores(scene.new, items)
    assert figures["scored"] == {code: figures["stored"][code] for code in figures["scored"]}
    assert set(figures["scored"]) == {r[0] for r in exports.answers_table(scene.new)[1]}

    reply = client.get(url(scene.new, "answers-verified.csv"))
    assert reply.is_streamed
    rows = rows_of_csv(reply)
    assert rows[0] == ["agency", "status", *questionnaire.questions]
    cells = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert cells["DEP-3"]["mgmt.leadership"] == "0"
    assert cells["INJ-1"]["mgmt.pmqa_level"] == "#NA"
    assert cells["LATE-1"][scene.text_code] == "'" + INJECTIONS[0]  # neutralised
    # Read back as an answers file, it scores as published too (text is not scored).
    data = reply.get_data().decode("utf-8-sig")
    again = read_csv_answers(data, questionnaire, "answers-verified.csv")
    assert _verified_scores(scene.new, again)["scored"] == figures["scored"]


def test_verified_values_downloads(client, auth, world, scene):
    """One row per verified value, for auditors: the agency's value and the verified one
    in the interchange form, the reason (neutralised), the reviewer as the review page names
    them, and the time in ISO 8601 with the offset."""
    import re

    from assess.models import VerifiedAnswer
    from assess.review.routes import iso_local

    named = world.user("named@example.go.th", role="reviewer")
    named.name = "ผู้ตรวจสอบ ก"
    inj = responses.get_response(scene.new, scene.agencies["INJ-1"])
    responses.verify(inj, named, "mgmt.pmqa_level", {"na": True}, INJECTIONS[0])
    responses.verify(inj, named, "mgmt.leadership", 1, "ตามหลักฐาน")
    db.session.commit()
    own = {a.question_code: a.value for a in inj.answers}
    dep3 = responses.get_response(scene.new, scene.agencies["DEP-3"])
    dep3_own = next(a.value for a in dep3.answers if a.question_code == "mgmt.leadership")
    auth.login("reviewer@example.go.th")
    reply = client.get(url(scene.new, "verified-values.csv"))
    assert reply.headers["Content-Disposition"] == (
        f'attachment; filename="round-{scene.new.id}-verified-values.csv"'
    )
    rows = rows_of_csv(reply)
    assert rows[0] == [
        "agency",
        "question",
        "self_value",
        "verified_value",
        "reason",
        "reviewer",
        "verified_at",
    ]
    assert [r[:6] for r in rows[1:]] == [
        ["DEP-3", "mgmt.leadership", str(dep3_own), "0", "หลักฐานไม่พอ", "reviewer@example.go.th"],
        ["INJ-1", "mgmt.leadership", str(own["mgmt.leadership"]), "1", "ตามหลักฐาน", "ผู้ตรวจสอบ ก"],
        ["INJ-1", "mgmt.pmqa_level", str(own["mgmt.pmqa_level"]), "#NA", "'" + INJECTIONS[0], "ผู้ตรวจสอบ ก"],
    ]  # fmt: skip
    stamp = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00")
    assert all(stamp.fullmatch(r[6]) for r in rows[1:]), rows
    at = db.session.scalar(
        db.select(VerifiedAnswer.verified_at).where(VerifiedAnswer.response_id == dep3.id)
    )
    assert rows[1][6] == iso_local(at)

    sheet = sheet_of(client.get(url(scene.new, "verified-values.xlsx")))
    assert [c.value for c in sheet[1]] == rows[0]
    reason = next(row[4] for row in sheet.iter_rows(min_row=2) if row[1].value == "mgmt.pmqa_level")
    assert (reason.value, reason.data_type) == (INJECTIONS[0], "s")  # text, never a formula
    # A round without verified values: the header alone.
    assert rows_of_csv(client.get(url(scene.old, "verified-values.csv")))[1:] == []


def test_datapackage_download(client, auth, scene, tmp_path):
    import frictionless

    auth.login("reviewer@example.go.th")
    reply = client.get(url(scene.old, "datapackage.zip"))
    assert reply.status_code == 200
    assert reply.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(reply.get_data())) as archive:
        assert sorted(archive.namelist()) == sorted(exports.PACKAGE_FILES)
        archive.extractall(tmp_path)
    report = frictionless.validate(str(tmp_path / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    descriptor = json.loads((tmp_path / "datapackage.json").read_text("utf-8"))
    assert descriptor["resources"][0]["name"] == "agencies"
    # Before publication: the exports page again, with the reason; no package.
    reply = client.get(url(scene.new, "datapackage.zip"))
    assert reply.status_code == 200
    assert reply.mimetype == "text/html"
    assert "published results only" in reply.get_data(as_text=True)


def test_anonymised_package_download(client, auth, scene, tmp_path):
    scene.old.anonymise_peers = True
    db.session.commit()
    auth.login("reviewer@example.go.th")
    assert "anonymous ids" in client.get(url(scene.old)).get_data(as_text=True)
    reply = client.get(url(scene.old, "datapackage.zip"))
    with zipfile.ZipFile(io.BytesIO(reply.get_data())) as archive:
        text = "\n".join(archive.read(n).decode("utf-8") for n in archive.namelist())
    assert "INJ-1" not in text
    assert "หน่วยงาน MIN-1" not in text
    assert "anon-" in text


def test_a_round_s_answers_are_read_as_each_response_parses_its_own(world):
    """``results.round_answer_sets`` (plain rows, each distinct value parsed once) gives
    every response what parsing its own stored answers gives, in questionnaire order; an
    answer to a question the version lacks is skipped, a cleared one left out."""
    from assess.models import Answer, Response
    from assess.services import results
    from tests.conftest import fill

    agencies = [world.agency(f"AG-{i}") for i in range(5)]
    reviewer = world.user("reviewer@example.go.th", role="reviewer")
    round_ = world.round(agencies=agencies)
    for maturity, status, agency in zip(
        (0.2, 0.5, 0.5, 0.9), ("draft", "accepted", "submitted", "accepted"), agencies, strict=False
    ):
        fill(world.response(round_, agency), reviewer, maturity, status)
    first = world.response(round_, agencies[0])
    db.session.add(Answer(response=first, question_code="gone.question", value=3))
    code = next(iter(questionnaire_of(round_.questionnaire).questions))
    responses.save_answers(first, {code: None}, revision=first.revision, actor=reviewer)
    db.session.commit()
    questionnaire = questionnaire_of(round_.questionnaire)
    found = results.round_answer_sets(questionnaire, round_.id)
    order = list(questionnaire.questions)
    checked = 0
    for response in Response.query.filter_by(round_id=round_.id):
        expected = results.parse_stored(questionnaire, response.answers)
        got = found.get(response.id, {})
        assert got == expected, response.agency.code
        assert list(got) == sorted(got, key=order.index)
        checked += bool(expected)
    assert checked == 4
    assert "gone.question" not in found[first.id]
    assert code not in found[first.id]
