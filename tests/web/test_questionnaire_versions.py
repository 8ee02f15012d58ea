"""The life of stored questionnaire versions: which versions a trend compares, the
``maps_from`` check whatever the import order, byte order marks, downloads, the version and
comparison pages."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from sqlalchemy import func, select

from assess.extensions import db
from assess.models import QuestionnaireVersion
from assess.services import questionnaires, reports
from assess.services.errors import ServiceError

LEVELS = [{"code": "1", "min": 0, "name": "Low"}, {"code": "2", "min": 50, "name": "High"}]


def version_text(
    version: str,
    dimensions: dict[str, list[str] | None],
    *,
    code: str = "qlife",
    supersedes: str | None = None,
    overall_level: str = "score",
) -> str:
    """A small YAML version: one yes/no question per dimension (``{code: maps_from}``)."""
    lines = [
        "schema: assess/questionnaire@1",
        f"code: {code}",
        f"version: {json.dumps(version, ensure_ascii=False)}",
        *([f'supersedes: "{supersedes}"'] if supersedes else []),
        "title: {th: แบบทดสอบ, en: Test}",
        f"overall_level: {overall_level}",
        "levels:",
        *(f"  - {json.dumps(level)}" for level in LEVELS),
        "dimensions:",
    ]
    for dim, maps_from in dimensions.items():
        lines += [f"  - code: {dim}", f"    title: {dim}"]
        if maps_from is not None:
            lines += ["    maps_from:", *(f"      - {m}" for m in maps_from)]
        lines += ["    questions:", f"      - {{code: {dim}.q, type: yesno, text: {dim}}}"]
    return "\n".join(lines) + "\n"


V1 = version_text("1", {"a": None, "b": None})
#: Supersedes 1, with a stale code (``zz``, copied from elsewhere) in maps_from.
STALE_V2 = version_text("2", {"ab": ["a", "zz"]}, supersedes="1")


def line_of(text: str, needle: str) -> int:
    return text.splitlines().index(needle) + 1


def stored_count() -> int:
    return db.session.scalar(select(func.count()).select_from(QuestionnaireVersion)) or 0


# -- the maps_from check, whatever the order -------------------------------------------------


def test_a_stale_maps_from_is_refused_in_either_import_order(app):
    # The superseded version first: the newer file is refused at the line of the code.
    questionnaires.import_text(V1.encode(), "v1.yaml")
    with pytest.raises(ServiceError) as refused:
        questionnaires.import_text(STALE_V2.encode(), "v2.yaml")
    line = line_of(STALE_V2, "      - zz")
    assert refused.value.problems == [
        f"v2.yaml:{line}: dimension 'ab': maps_from 'zz' is not a dimension of qlife@1 (a, b)"
    ]
    db.session.rollback()
    assert stored_count() == 0

    # The newer one first: importing the superseded one is refused, naming the other
    # version, its file and line, and the unknown code.
    questionnaires.import_text(STALE_V2.encode(), "stale-2.yaml")
    with pytest.raises(ServiceError) as refused:
        questionnaires.import_text(V1.encode(), "v1.yaml")
    assert refused.value.problems == [
        f"v1.yaml: qlife@2 (stale-2.yaml:{line}), which supersedes this version: "
        "dimension 'ab': maps_from 'zz' is not a dimension of qlife@1 (a, b)"
    ]
    db.session.rollback()

    # Corrected, both import in either order.
    fixed = version_text("2", {"ab": ["a", "b"]}, supersedes="1")
    assert questionnaires.import_text(fixed.encode(), "v2.yaml")[1] == "created"
    assert questionnaires.import_text(V1.encode(), "v1.yaml")[1] == "created"


def test_the_command_line_import_is_all_or_nothing_in_either_order(app, runner, tmp_path):
    (tmp_path / "stale-2.yaml").write_text(STALE_V2, encoding="utf-8")
    (tmp_path / "v1.yaml").write_text(V1, encoding="utf-8")
    for files in (["stale-2.yaml", "v1.yaml"], ["v1.yaml", "stale-2.yaml"]):
        done = runner.invoke(args=["questionnaire", "import", *(str(tmp_path / f) for f in files)])
        assert done.exit_code == 1, (files, done.output)
        assert "maps_from 'zz' is not a dimension of qlife@1" in done.output
        db.session.rollback()
        assert stored_count() == 0


# -- content hash and byte order mark --------------------------------------------------------


def test_a_file_with_a_bom_has_the_hash_of_its_text_and_downloads_as_the_same(
    client, auth, world, app
):
    world.user("reviewer@example.go.th", role="reviewer")
    text = version_text("1", {"a": None})
    with_bom = b"\xef\xbb\xbf" + text.encode()
    version, what = questionnaires.import_text(with_bom, "bom.yaml")
    assert what == "created"
    assert version.content == text
    assert version.content_hash == hashlib.sha256(text.encode()).hexdigest()
    assert questionnaires.import_text(with_bom, "bom.yaml")[1] == "unchanged"
    world.round(version, agencies=[world.agency("AG-1")])  # in use: any change is refused
    auth.login("reviewer@example.go.th")
    downloaded = client.get(f"/central/questionnaires/{version.id}/source").get_data()
    assert hashlib.sha256(downloaded).hexdigest() == version.content_hash
    assert questionnaires.import_text(downloaded, "downloaded.yaml")[1] == "unchanged"
    assert questionnaires.import_text(with_bom, "bom.yaml")[1] == "unchanged"
    # Without a byte order mark, the hash is of the file's bytes, as it always was.
    plain = version_text("2", {"a": None}).encode()
    assert questionnaires.import_text(plain, "v2.yaml")[0].content_hash == (
        hashlib.sha256(plain).hexdigest()
    )


def test_a_version_stored_with_the_hash_of_its_bom_is_still_unchanged(app, world):
    """A version imported by an earlier build, which hashed the byte order mark too."""
    with_bom = b"\xef\xbb\xbf" + V1.encode()
    version, _ = questionnaires.import_text(with_bom, "bom.yaml")
    version.content_hash = hashlib.sha256(with_bom).hexdigest()
    world.round(version, agencies=[world.agency("AG-1")])
    for data in (with_bom, V1.encode()):
        assert questionnaires.import_text(data, "again.yaml") == (version, "unchanged")
    assert version.content_hash == hashlib.sha256(with_bom).hexdigest()  # left as it was


def test_an_updated_import_is_dated_anew(app):
    version, _ = questionnaires.import_text(V1.encode(), "v1.yaml")
    version.imported_at = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    db.session.flush()
    changed = version_text("1", {"a": None, "b": None, "c": None})
    again, what = questionnaires.import_text(changed.encode(), "v1.yaml")
    assert (again, what) == (version, "updated")
    assert version.imported_at.astimezone(dt.UTC) > dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    before = version.imported_at
    assert questionnaires.import_text(changed.encode(), "v1.yaml")[1] == "unchanged"
    assert version.imported_at == before


# -- download --------------------------------------------------------------------------------


def test_a_thai_digit_version_downloads_with_an_encoded_name(client, auth, world):
    world.user("reviewer@example.go.th", role="reviewer")
    text = version_text("๒๕๗๐", {"a": None})
    version, _ = questionnaires.import_text(text.encode(), "thaiver.yaml")
    db.session.commit()
    auth.login("reviewer@example.go.th")
    response = client.get(f"/central/questionnaires/{version.id}/source")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.encode("latin-1")  # a header is Latin-1
    assert disposition == (
        "attachment; filename=\"qlife-2570.yaml\"; filename*=UTF-8''qlife-"
        "%E0%B9%92%E0%B9%95%E0%B9%97%E0%B9%90.yaml"
    )
    assert response.get_data(as_text=True) == text


def test_a_json_source_downloads_as_json(client, auth, world):
    world.user("reviewer@example.go.th", role="reviewer")
    document = {
        "schema": "assess/questionnaire@1",
        "code": "qlife",
        "version": '2571 "beta"',
        "title": "Test",
        "levels": LEVELS,
        "dimensions": [
            {"code": "a", "title": "A", "questions": [{"code": "q", "type": "yesno", "text": "Q"}]}
        ],
    }
    data = json.dumps(document, indent=2).encode()
    version, _ = questionnaires.import_text(data, "lite.json")
    yaml_version, _ = questionnaires.import_text(V1.encode(), "v1.yaml")
    db.session.commit()
    auth.login("reviewer@example.go.th")
    response = client.get(f"/central/questionnaires/{version.id}/source")
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="qlife-2571__beta_.json"; '
        "filename*=UTF-8''qlife-2571%20%22beta%22.json"
    )
    assert response.get_data() == data
    response = client.get(f"/central/questionnaires/{yaml_version.id}/source")
    assert response.mimetype == "application/yaml"
    assert response.headers["Content-Disposition"] == 'attachment; filename="qlife-1.yaml"'


# -- the comparison round --------------------------------------------------------------------


def test_a_round_of_another_questionnaire_is_never_the_previous_one(app, world):
    national = world.questionnaire()
    lite, _ = questionnaires.import_text(
        version_text("2571", {"a": None, "b": None}, code="dg-lite").encode(), "lite.yaml"
    )
    agencies = [world.agency(f"AG-{n}") for n in range(1, 3)]
    earlier = world.round(national, agencies=agencies, status="published", fiscal_year=2569)
    pilot = world.round(lite, agencies=agencies, fiscal_year=2571)
    assert reports.previous_round(pilot) is None
    later = world.round(national, agencies=agencies, fiscal_year=2572)
    world.round(lite, agencies=agencies, status="published", fiscal_year=2571, name="lite")
    assert reports.previous_round(later) == earlier


# -- the pages -------------------------------------------------------------------------------


def test_the_version_page_says_the_settings_in_words(client, auth, world):
    reviewer = world.user("reviewer@example.go.th", role="reviewer")
    reviewer.language = "en"
    version, _ = questionnaires.import_text(
        version_text("1", {"a": None}, overall_level="lowest").encode(), "v1.yaml"
    )
    db.session.commit()
    auth.login("reviewer@example.go.th")
    html = client.get(f"/central/questionnaires/{version.id}").get_data(as_text=True)
    assert "the lowest level among the scored dimensions" in html
    assert "left out of the calculation" in html
    assert "<code>lowest</code>" not in html
    assert "<code>exclude</code>" not in html


def test_the_diff_page_names_fields_in_words_and_flags_what_maps_from_does(client, auth, world):
    reviewer = world.user("reviewer@example.go.th", role="reviewer")
    reviewer.language = "en"
    old = world.questionnaire(key="dg-readiness@2568")
    new = world.questionnaire(key="dg-readiness@2569")
    db.session.commit()
    auth.login("reviewer@example.go.th")
    html = client.get(f"/central/questionnaires/diff?old={old.id}&new={new.id}").get_data(
        as_text=True
    )
    assert '<span title="weight">Weight</span>' in html
    assert '<td class="small">weight</td>' not in html
    same = client.get(f"/central/questionnaires/diff?old={new.id}&new={new.id}").get_data(
        as_text=True
    )
    assert "No differences" in same
    assert '<span class="badge text-bg-success">comparable</span>' in same
    assert "continues" not in same
    # A year skipped: 3's maps_from names dimensions of 2, not of 1, and the page says so.
    first, _ = questionnaires.import_text(V1.encode(), "v1.yaml")
    questionnaires.import_text(
        version_text("2", {"ab": ["a", "b"]}, supersedes="1").encode(), "v2.yaml"
    )
    third, _ = questionnaires.import_text(
        version_text("3", {"a": ["ab"]}, supersedes="2").encode(), "v3.yaml"
    )
    db.session.commit()
    skipped = client.get(f"/central/questionnaires/diff?old={first.id}&new={third.id}")
    html = skipped.get_data(as_text=True)
    assert (
        "qlife@3 names in maps_from dimensions of qlife@2, the version it supersedes: compared "
        "with qlife@1, its dimensions are matched by code." in html
    )
    assert "continues" not in html


def test_a_round_of_another_questionnaire_shows_no_change_anywhere(client, auth, world):
    """The pages, the flags and the scorecard of a round whose only earlier published round
    is of another questionnaire: no change column, as for a first round."""
    from assess.services import rounds
    from tests.conftest import fill

    agency = world.agency("AG-1")
    coordinator = world.user("a@example.go.th", agency=agency)
    reviewer = world.user("reviewer@example.go.th", role="reviewer")
    for user in (coordinator, reviewer):
        user.language = "en"
    earlier = world.round(world.questionnaire(), agencies=[agency], fiscal_year=2569)
    fill(world.response(earlier, agency), reviewer, 0.7)
    lite, _ = questionnaires.import_text(
        version_text("2571", {"a": None, "b": None}, code="dg-lite").encode(), "lite.yaml"
    )
    round_ = world.round(lite, agencies=[agency], fiscal_year=2571)
    fill(world.response(round_, agency), reviewer, 0.2)
    for target in ("closed", "published"):
        rounds.move(earlier, target)
        rounds.move(round_, target)
    db.session.commit()

    auth.login("a@example.go.th")
    html = client.get(f"/rounds/{round_.id}/results").get_data(as_text=True)
    assert "Change from" not in html
    assert "re-based" not in html
    pdf = client.get(f"/rounds/{round_.id}/responses/AG-1/scorecard.pdf")
    assert (pdf.status_code, pdf.mimetype) == (200, "application/pdf")
    auth.logout()
    auth.login("reviewer@example.go.th")
    base = f"/central/rounds/{round_.id}/results"
    assert 'data-flag="change"' not in client.get(f"{base}/flags").get_data(as_text=True)
    trend = client.get(f"{base}/trend").get_data(as_text=True)
    assert "no earlier published round" in trend.lower()
