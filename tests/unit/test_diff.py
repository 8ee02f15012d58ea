"""``questionnaire diff``: which pairs ``maps_from`` speaks of, unknown ``maps_from`` codes."""

from __future__ import annotations

from assess.questionnaires import load
from assess.questionnaires.builtin import builtin_path
from assess.questionnaires.diff import diff
from tests.unit.builders import dimension, questionnaire, yesno

V1 = questionnaire(
    dimension("a", yesno("a.1")), dimension("b", yesno("b.1")), dimension("c", yesno("c.1")),
    version="1",
)  # fmt: skip
V2 = questionnaire(
    dimension("a", yesno("a.1")),
    dimension("bc", yesno("b.1"), yesno("c.1"), maps_from=["b", "c"]),
    version="2",
    supersedes="1",
)
V3 = questionnaire(
    dimension("a", yesno("a.1")),
    dimension("merged", yesno("b.1"), yesno("c.1"), maps_from=["bc"]),
    version="3",
    supersedes="2",
)


def builtin(version: str):  # type: ignore[no-untyped-def]
    return load(builtin_path("dg-readiness", version))  # type: ignore[arg-type]


def test_a_version_against_itself_has_no_differences() -> None:
    v2569 = builtin("2569")
    result = diff(v2569, v2569)
    assert result.lines() == [
        "dg-readiness@2569 → dg-readiness@2569 (comparable)",
        "no differences",
    ]
    assert result.empty
    assert result.as_dict()["dimensions"]["remapped"] == {}  # type: ignore[index]
    assert diff(V2, V2).lines() == ["test@2 → test@2 (comparable)", "no differences"]


def test_maps_from_remaps_from_the_superseded_version_only() -> None:
    lines = diff(builtin("2568"), builtin("2569")).lines()
    assert lines[0] == "dg-readiness@2568 → dg-readiness@2569 (re-based)"
    assert "~ dimension service maps from oss, epay" in lines
    assert not any(line.startswith(("!", "(maps_from")) for line in lines)
    assert diff(V2, V3).dimensions_remapped == (("merged", ("bc",)),)
    # Further back along the chain, dimensions are matched by code, and the diff says so.
    result = diff(V1, V3)
    assert result.dimensions_remapped == ()
    assert result.supersedes == "test@2"
    assert result.maps_from_ignored
    assert result.lines()[-1] == (
        "(maps_from names dimensions of test@2: dimensions are matched by code with test@1)"
    )
    assert result.as_dict()["maps_from_ignored"] is True
    assert result.comparability == "re-based"  # b and c became merged
    # maps_from without supersedes speaks of no version.
    loose = questionnaire(dimension("a", yesno("a.1"), maps_from=["b"]), version="9")
    assert diff(V1, loose).lines()[-1] == (
        "(maps_from is ignored (test@9 supersedes no version): dimensions are matched by code "
        "with test@1)"
    )


def test_maps_from_codes_missing_from_the_old_version_are_flagged() -> None:
    stale = questionnaire(
        dimension("a", yesno("a.1"), maps_from=["a", "oss"]),
        dimension("bc", yesno("b.1"), maps_from=["epay", "pay"]),
        version="2",
        supersedes="1",
    )
    result = diff(V1, stale)
    assert result.maps_from_unknown == (("a", ("oss",)), ("bc", ("epay", "pay")))
    assert "! dimension a maps from oss, not in test@1" in result.lines()
    assert "! dimension bc maps from epay, pay, not in test@1" in result.lines()
    assert "~ dimension bc maps from (nothing)" in result.lines()
    assert result.as_dict()["dimensions"]["maps_from_unknown"] == {  # type: ignore[index]
        "a": ["oss"],
        "bc": ["epay", "pay"],
    }
    assert not result.empty
