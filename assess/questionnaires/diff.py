"""What changed between two versions of a questionnaire.

Dimensions and questions are matched by code. A dimension is *remapped* when the new
version continues other dimensions than the one of its own code (``maps_from``); whether
the two versions are *comparable* or must be *re-based* for trends is scoring.md §8.

``maps_from`` names dimensions of the version a file ``supersedes``: it applies only
between that version and the new one (:meth:`Questionnaire.maps_from`). Between any other
pair (a version and itself, a version two steps back along the ``supersedes`` chain, two
questionnaires) dimensions are matched by their own code, here as in the trend.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal

from assess.questionnaires.model import (
    BandScoring,
    Level,
    LinearScoring,
    LocalizedText,
    Option,
    Questionnaire,
)

COMPARABLE = "comparable"
REBASED = "re-based"

#: Question fields compared by :func:`diff`, in the order changes are listed.
QUESTION_FIELDS = (
    "type", "text", "help", "weight", "required", "allow_na", "evidence", "show_if_source",
    "gate", "tags", "options", "max_points", "min", "max", "unit", "integer", "scoring",
    "max_length",
)  # fmt: skip
DIMENSION_FIELDS = ("title", "weight", "description")
SETTINGS_FIELDS = ("title", "levels", "overall_level", "na_policy")


def comparability(new: Questionnaire, old: Questionnaire) -> str:
    """``comparable`` or ``re-based`` (scoring.md §8): comparable when both versions have
    the same dimension codes and each dimension of ``new`` continues the one of its own
    code: with no ``maps_from``, or one naming only its own code, when ``old`` is the
    version ``new`` supersedes; always, against any other version (``maps_from`` does not
    apply to it), so that a version is comparable with itself."""
    same_codes = {d.code for d in new.dimensions} == {d.code for d in old.dimensions}
    if not same_codes:
        return REBASED
    if not new.succeeds(old):
        return COMPARABLE
    plain = all(d.maps_from is None or d.maps_from == (d.code,) for d in new.dimensions)
    return COMPARABLE if plain else REBASED


@dataclass(frozen=True, slots=True)
class Change:
    """One field of one dimension or question that differs: old → new, as display text."""

    code: str
    field: str
    old: str
    new: str

    def __str__(self) -> str:
        return f"{self.code}: {self.field}: {self.old} → {self.new}"


@dataclass(frozen=True)
class QuestionnaireDiff:
    """Differences from ``old`` to ``new``."""

    old: str
    new: str
    comparability: str
    dimensions_added: tuple[str, ...] = ()
    dimensions_removed: tuple[str, ...] = ()
    #: ``(code, maps_from)`` for each dimension of ``new`` that continues other dimensions.
    dimensions_remapped: tuple[tuple[str, tuple[str, ...]], ...] = ()
    dimensions_changed: tuple[Change, ...] = ()
    questions_added: tuple[str, ...] = ()
    questions_removed: tuple[str, ...] = ()
    #: ``(code, old dimension, new dimension)``.
    questions_moved: tuple[tuple[str, str, str], ...] = ()
    questions_changed: tuple[Change, ...] = ()
    settings_changed: tuple[Change, ...] = ()
    #: ``(code, codes)`` for each dimension of ``new`` whose ``maps_from`` names codes that
    #: are not dimensions of ``old``, the version it supersedes (a mistake: they count for
    #: nothing in the trend).
    maps_from_unknown: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: The version ``new`` supersedes (``CODE@VERSION``), if it names one.
    supersedes: str | None = None
    #: True when ``new`` remaps dimensions (``maps_from``) but ``old`` is another version
    #: than the one it supersedes: ``maps_from`` does not apply to this pair, whose
    #: dimensions are matched by code (a note, not a difference).
    maps_from_ignored: bool = False

    @property
    def empty(self) -> bool:
        """True when nothing that matters changed."""
        return not any(
            (
                self.dimensions_added, self.dimensions_removed, self.dimensions_remapped,
                self.dimensions_changed, self.questions_added, self.questions_removed,
                self.questions_moved, self.questions_changed, self.settings_changed,
                self.maps_from_unknown,
            )
        )  # fmt: skip

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready form."""
        return {
            "old": self.old,
            "new": self.new,
            "comparability": self.comparability,
            "dimensions": {
                "added": list(self.dimensions_added),
                "removed": list(self.dimensions_removed),
                "remapped": {code: list(src) for code, src in self.dimensions_remapped},
                "changed": [_change_dict(c) for c in self.dimensions_changed],
                "maps_from_unknown": {code: list(src) for code, src in self.maps_from_unknown},
            },
            "supersedes": self.supersedes,
            "maps_from_ignored": self.maps_from_ignored,
            "questions": {
                "added": list(self.questions_added),
                "removed": list(self.questions_removed),
                "moved": [{"code": c, "from": a, "to": b} for c, a, b in self.questions_moved],
                "changed": [_change_dict(c) for c in self.questions_changed],
            },
            "settings": [_change_dict(c) for c in self.settings_changed],
        }

    def lines(self) -> list[str]:
        """A readable report, one fact per line."""
        out = [f"{self.old} → {self.new} ({self.comparability})"]
        out += [f"+ dimension {c}" for c in self.dimensions_added]
        out += [f"- dimension {c}" for c in self.dimensions_removed]
        out += [
            f"~ dimension {c} maps from {', '.join(src) or '(nothing)'}"
            for c, src in self.dimensions_remapped
        ]
        out += [
            f"! dimension {c} maps from {', '.join(src)}, not in {self.old}"
            for c, src in self.maps_from_unknown
        ]
        out += [f"~ dimension {c}" for c in self.dimensions_changed]
        out += [f"+ question {c}" for c in self.questions_added]
        out += [f"- question {c}" for c in self.questions_removed]
        out += [f"> question {c}: moved from {a} to {b}" for c, a, b in self.questions_moved]
        out += [f"~ question {c}" for c in self.questions_changed]
        out += [f"~ {c}" for c in self.settings_changed]
        if self.maps_from_ignored:
            refers = (
                f"names dimensions of {self.supersedes}"
                if self.supersedes
                else f"is ignored ({self.new} supersedes no version)"
            )
            out.append(f"(maps_from {refers}: dimensions are matched by code with {self.old})")
        if self.empty:
            out.append("no differences")
        return out


def diff(old: Questionnaire, new: Questionnaire) -> QuestionnaireDiff:
    """The differences from ``old`` to ``new`` (normally ``new.supersedes == old.version``).

    Dimensions are remapped by ``maps_from`` only when ``old`` is the version ``new``
    supersedes (module docstring); a version compared with itself has no differences.
    """
    old_dims = {d.code: d for d in old.dimensions}
    new_dims = {d.code: d for d in new.dimensions}
    applies = new.succeeds(old)
    remapped = []
    for dim in new.dimensions:
        sources = new.maps_from(dim.code, old)
        if applies and dim.maps_from is not None and sources != (dim.code,):
            remapped.append((dim.code, sources))
    remaps = any(d.maps_from is not None and d.maps_from != (d.code,) for d in new.dimensions)
    dim_changes = [
        change
        for code, dim in new_dims.items()
        if code in old_dims
        for name in DIMENSION_FIELDS
        if (change := _change(code, name, getattr(old_dims[code], name), getattr(dim, name)))
    ]
    old_qs, new_qs = old.questions, new.questions
    question_changes = [
        change
        for code, question in new_qs.items()
        if code in old_qs
        for name in QUESTION_FIELDS
        if (change := _change(code, name, getattr(old_qs[code], name), getattr(question, name)))
    ]
    settings = [
        change
        for name in SETTINGS_FIELDS
        if (change := _change("questionnaire", name, getattr(old, name), getattr(new, name)))
    ]
    return QuestionnaireDiff(
        old=old.key,
        new=new.key,
        comparability=comparability(new, old),
        dimensions_added=tuple(c for c in new_dims if c not in old_dims),
        dimensions_removed=tuple(c for c in old_dims if c not in new_dims),
        dimensions_remapped=tuple(remapped),
        dimensions_changed=tuple(dim_changes),
        questions_added=tuple(c for c in new_qs if c not in old_qs),
        questions_removed=tuple(c for c in old_qs if c not in new_qs),
        questions_moved=tuple(
            (c, old_qs[c].dimension, q.dimension)
            for c, q in new_qs.items()
            if c in old_qs and old_qs[c].dimension != q.dimension
        ),
        questions_changed=tuple(question_changes),
        settings_changed=tuple(settings),
        maps_from_unknown=new.unknown_maps_from(old),
        supersedes=f"{new.code}@{new.supersedes}" if new.supersedes else None,
        maps_from_ignored=remaps and not applies and not new.same_version(old),
    )


def _change(code: str, name: str, old: object, new: object) -> Change | None:
    """The change of one field, or ``None`` when it is the same."""
    if old == new:
        return None
    before, after = _show(old), _show(new)
    if before == after:
        # Only wording the short form leaves out (an option's label or descriptor) differs.
        before, after = "(wording)", "(reworded)"
    return Change(code, name, before, after)


def _change_dict(change: Change) -> dict[str, str]:
    return {"code": change.code, "field": change.field, "old": change.old, "new": change.new}


def _show(value: object) -> str:
    """A short display form of a field's value."""
    if value is None:
        return "—"
    if isinstance(value, LocalizedText):
        return " / ".join(t for t in (value.th, value.en) if t)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, BandScoring):
        return "bands " + ", ".join(f"≥{_show(b.min)}:{_show(b.points)}" for b in value.bands)
    if isinstance(value, LinearScoring):
        return f"linear {_show(value.from_)}→{_show(value.to)}"
    if isinstance(value, Option):
        exclusive = " (exclusive)" if value.exclusive else ""
        return f"{_value(value.value)}={_show(value.points)}{exclusive}"
    if isinstance(value, Level):
        return f"{value.code}≥{_show(value.min)}"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, tuple):
        return "; ".join(_show(v) for v in value) or "—"
    return str(value)


def _value(value: object) -> str:
    return repr(value) if isinstance(value, str) else str(value)
