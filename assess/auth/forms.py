"""Forms of signing in and of the profile page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from assess.i18n import Form


class LoginForm(Form):
    email = StringField(
        _l("E-mail"), validators=[DataRequired()], render_kw={"autocomplete": "username"}
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired()], render_kw={"autocomplete": "current-password"}
    )
    submit = SubmitField(_l("Sign in"))


class PasswordForm(Form):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=10)])
    again = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("new", message=_l("The two passwords differ."))],
    )
    submit = SubmitField(_l("Change password"))


class LanguageForm(Form):
    language = SelectField(
        _l("Language"), choices=[SelectChoice("th", "ไทย"), SelectChoice("en", "English")]
    )
    submit = SubmitField(_l("Save"))


class TokenForm(Form):
    label = StringField(_l("Label"), validators=[Length(max=100)])
    submit = SubmitField(_l("Create token"))
