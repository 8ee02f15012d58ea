"""Forms of the central office's round pages: new round, workflow moves, review, verification."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from assess.i18n import Form
from assess.labels import AGENCY_TYPE
from assess.services import rounds

try:
    from wtforms import SelectChoice
except ImportError:  # WTForms < 3.3 takes (value, label) tuples
    SelectChoice = None


def choices(pairs: Iterable[tuple[Any, Any]]) -> list[Any]:
    """Choices of a select or radio field, in the form the installed WTForms prefers."""
    if SelectChoice is None:
        return list(pairs)
    return [SelectChoice(value, label) for value, label in pairs]


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class DayField(DateField):
    """A date field of the web forms (``<input type="date">``): the day as YYYY-MM-DD or
    D/M/YYYY, with a Buddhist Era year taken for its Gregorian one ("2569-12-01" and
    "1/12/2569" are 1 Dec 2026: :func:`rounds.parse_date`), as a Thai reader types the year
    the pages write. be-date.js says beside the field which day that is ("หมายถึง 1 ธ.ค.
    2569"), from the message and the years given here. The command line stays Gregorian."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["render_kw"] = {
            "data-be-means": _l("means %(date)s"),
            "data-be-years": f"{rounds.BE_YEARS} {rounds.BE_YEARS_LAST}",
            **(kwargs.get("render_kw") or {}),
        }
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        try:
            self.data = rounds.parse_date(" ".join(valuelist), buddhist_era=True)
        except ValueError:
            self.data = None
            raise ValueError(self.gettext("Not a valid date value.")) from None

    def _value(self) -> str:
        # Shown again as the date field holds it (Gregorian ISO), however it was typed.
        return self.data.isoformat() if self.data else str(super()._value())


class RoundForm(Form):
    questionnaire = SelectField(
        _l("Questionnaire version"), coerce=int, validators=[InputRequired()]
    )
    name = StringField(_l("Name (Thai)"), validators=[DataRequired(), Length(max=200)])
    name_en = StringField(
        _l("Name (English)"),
        validators=[Optional(), Length(max=200)],
        description=_l("Shown on English pages and scorecards; without it, the Thai name."),
    )
    # The year's range is the round service's (a Gregorian year is named as such, a B.E.
    # year far from today's gets the range): the same words as on the command line.
    fiscal_year = IntegerField(
        _l("Fiscal year (B.E.)"),
        validators=[InputRequired()],
        description=_l("Buddhist Era, e.g. 2569 for October 2025 to September 2026."),
    )
    opens_on = DayField(_l("Opens on"), validators=[Optional()])
    closes_on = DayField(
        _l("Closes on (deadline)"),
        validators=[Optional()],
        description=_l("Answers are accepted until the end of this day, Bangkok time."),
    )
    live_preview = BooleanField(_l("Show coordinators a live score preview"))
    invite = RadioField(
        _l("Invited agencies"),
        choices=choices(
            [
                ("all", _l("All active agencies")),
                ("types", _l("Active agencies of these types")),
                ("codes", _l("These agencies (codes)")),
            ]
        ),
        default="all",
    )
    agency_types = MultiCheckboxField(_l("Agency types"), choices=choices(AGENCY_TYPE.items()))
    agency_codes = TextAreaField(
        _l("Agency codes"),
        description=_l("Separated by commas, spaces or new lines."),
        render_kw={"rows": 3},
    )
    submit = SubmitField(_l("Create round"))


class MoveForm(Form):
    """Confirmation of a workflow move (the target is in the URL)."""

    disputes_close_on = DayField(
        _l("Agencies may dispute until (last day)"),
        validators=[Optional()],
        description=_l("Disputes are accepted until the end of this day, Bangkok time."),
    )
    submit = SubmitField(_l("Confirm"))


class InvitationsForm(Form):
    """More agencies invited to a round before it closes, or agencies that have not begun
    taken out of it."""

    agency_codes = TextAreaField(
        _l("Agency codes"),
        description=_l("Separated by commas, spaces or new lines."),
        render_kw={"rows": 3},
    )
    everyone = BooleanField(_l("Every active agency not invited yet"))
    agency_types = MultiCheckboxField(
        _l("Or the active agencies not invited yet of these types"),
        choices=choices(AGENCY_TYPE.items()),
    )
    invite = SubmitField(_l("Invite"))
    remove = SubmitField(_l("Remove from the round"))


class DeleteRoundForm(Form):
    """Confirmation of a draft round's deletion."""

    submit = SubmitField(_l("Delete the round"))


class RoundNameForm(Form):
    """A published round's English name, its one setting that may still change."""

    name_en = StringField(
        _l("Name (English)"),
        validators=[Optional(), Length(max=200)],
        description=_l("Shown on English pages and scorecards; without it, the Thai name."),
    )


class SettingsForm(Form):
    name_en = StringField(
        _l("Name (English)"),
        validators=[Optional(), Length(max=200)],
        description=_l("Shown on English pages and scorecards; without it, the Thai name."),
    )
    opens_on = DayField(_l("Opens"), validators=[Optional()])
    closes_on = DayField(
        _l("Deadline (last day)"),
        validators=[Optional()],
        description=_l("Answers are accepted until the end of this day, Bangkok time."),
    )
    live_preview = BooleanField(_l("Show coordinators a live score preview"))
    anonymise_peers = BooleanField(
        _l("Anonymise other agencies in what coordinators see"),
        description=_l("Coordinators see their peers' scores without names after publication."),
    )
    flag_change = IntegerField(
        _l("Flag a change from last year larger than (points)"),
        validators=[Optional(), NumberRange(min=1, max=100)],
    )
    flag_verified_gap = IntegerField(
        _l("Flag a verified score lower than self-assessed by more than (points)"),
        validators=[Optional(), NumberRange(min=1, max=100)],
    )
    disputes_close_on = DayField(_l("Disputes accepted until (last day)"), validators=[Optional()])
    submit = SubmitField(_l("Save settings"))


class DecisionForm(Form):
    """A reviewer's decision on a dispute."""

    decision = RadioField(
        _l("Decision"),
        choices=choices([("uphold", _l("Uphold")), ("reject", _l("Reject"))]),
        validators=[DataRequired()],
    )
    note = TextAreaField(
        _l("Reason (the agency reads it)"),
        validators=[DataRequired(), Length(max=4000)],
        render_kw={"rows": 2},
    )


class ReviewForm(Form):
    """Accept or return; per-question comments come as ``qcomment-<code>`` fields.

    ``seen_status`` and ``seen_revision`` are the response's status and revision as the page
    showed them: a decision taken on a page that no longer shows the response as it is (a
    colleague accepted it meanwhile) is refused instead of undoing the colleague's."""

    action = HiddenField(validators=[DataRequired()])
    comment = TextAreaField(_l("General comment"), render_kw={"rows": 3})
    seen_status = HiddenField(validators=[Optional()])
    seen_revision = HiddenField(validators=[Optional()])


class VerifyForm(Form):
    """A verified value for one question; the value comes as one or several ``value`` fields."""

    code = HiddenField(validators=[DataRequired()])
    reason = TextAreaField(_l("Reason"), render_kw={"rows": 2})
