"""Forms of the central office's registers: agencies, users, questionnaire versions."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from assess.i18n import Form
from assess.labels import AGENCY_TYPE, LANGUAGE, ROLE
from assess.review.forms import choices


class AgencyForm(Form):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=40)],
        description=_l("Letters, digits, '.', '_' and '-'; cannot be changed later."),
    )
    name_th = StringField(_l("Name in Thai"), validators=[Length(max=300)])
    name_en = StringField(_l("Name in English"), validators=[Length(max=300)])
    type = SelectField(_l("Type"), choices=choices(AGENCY_TYPE.items()))
    parent_code = StringField(
        _l("Parent agency (code)"),
        validators=[Length(max=40)],
        description=_l("Empty for none."),
    )
    province = StringField(
        _l("Province"),
        validators=[Length(max=100)],
        description=_l(
            "In Thai or English: each of the 77 provinces is stored in one spelling; other "
            "text is kept as typed, with a warning."
        ),
    )
    tags = StringField(
        _l("Tags"), validators=[Length(max=1000)], description=_l("Joined by |, e.g. pilot|north")
    )
    active = BooleanField(_l("Active (invited to new rounds)"), default=True)
    submit = SubmitField(_l("Save"))


class ImportForm(Form):
    file = FileField(_l("File"), validators=[FileRequired()])
    submit = SubmitField(_l("Import"))


class AgencyImportForm(ImportForm):
    file = FileField(
        _l("CSV file"),
        validators=[FileRequired(), FileAllowed(["csv", "txt"], _l("Upload a .csv file."))],
        description=_l(
            "Columns code,name_th,name_en,type,parent_code,province,tags; UTF-8, or as Excel "
            "saves it."
        ),
    )


class UserImportForm(ImportForm):
    file = FileField(
        _l("CSV file"),
        validators=[FileRequired(), FileAllowed(["csv", "txt"], _l("Upload a .csv file."))],
        description=_l("Columns email,role,agency,name,language; UTF-8, or as Excel saves it."),
    )


class QuestionnaireImportForm(ImportForm):
    file = FileField(
        _l("Questionnaire file (YAML)"),
        validators=[
            FileRequired(),
            FileAllowed(["yaml", "yml", "json"], _l("Upload a .yaml (or .json) file.")),
        ],
    )


class UserForm(Form):
    email = StringField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Name"), validators=[Length(max=200)])
    role = SelectField(_l("Role"), choices=choices(ROLE.items()))
    agency_code = StringField(
        _l("Agency (code)"),
        validators=[Length(max=40)],
        description=_l("Coordinators only: the agency they answer for."),
    )
    language = SelectField(_l("Language"), choices=choices(LANGUAGE.items()))
    password = PasswordField(
        _l("Initial password"),
        validators=[Optional()],
        description=_l("At least 10 characters. Leave empty to generate one (shown once)."),
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Create user"))


class UserEditForm(Form):
    name = StringField(_l("Name"), validators=[Length(max=200)])
    role = SelectField(_l("Role"), choices=choices(ROLE.items()))
    agency_code = StringField(
        _l("Agency (code)"),
        validators=[Length(max=40)],
        description=_l("Coordinators only: the agency they answer for."),
    )
    language = SelectField(_l("Language"), choices=choices(LANGUAGE.items()))
    active = BooleanField(_l("Active (may sign in)"))
    password = PasswordField(
        _l("New password"),
        validators=[Optional()],
        description=_l(
            "Leave empty to keep the current one. Setting it signs the user out everywhere."
        ),
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Save"))
