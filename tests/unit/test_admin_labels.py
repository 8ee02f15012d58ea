"""Words of the activity log built from codes (a questionnaire import's detail, a user's
language) and the order of questionnaire versions."""

from __future__ import annotations

import pytest
from flask import Flask, render_template_string
from flask_babel import Babel

from assess import labels
from assess.services.questionnaires import version_sort_key


@pytest.fixture
def plain_app():
    app = Flask(__name__)
    Babel(app)
    labels.init_app(app)
    with app.test_request_context():
        yield app


def test_questionnaire_import_detail_is_words_not_a_code(plain_app):
    detail = labels.import_detail("created", "dg-2570.yaml")
    assert detail == "created: dg-2570.yaml"  # recorded as codes, as the log's CSV keeps them
    assert labels.audit_detail("questionnaire.import", detail) == (
        "dg-2570.yaml: imported as a new version"
    )
    assert labels.audit_detail("questionnaire.import", "updated: a: b.yaml") == (
        "a: b.yaml: replaced the content of a version no round used yet"
    )
    # Any other detail, or one not in this form, is shown as recorded.
    assert labels.audit_detail("agency.import", "created: x.csv") == "created: x.csv"
    assert labels.audit_detail("questionnaire.import", "x.yaml") == "x.yaml"
    assert labels.audit_detail("login", None) == ""


def test_templates_name_a_language_and_put_a_detail_in_words(plain_app):
    class Event:
        action = "questionnaire.import"
        detail = "updated: v.yaml"

    html = render_template_string(
        "{{ language_label('th') }}|{{ language_label('en') }}|{{ language_label('xx') }}|"
        "{{ audit_detail(e) }}",
        e=Event(),
    )
    assert html == "ไทย|English|xx|v.yaml: replaced the content of a version no round used yet"


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("2569", "2570"),
        ("2570", "2570.2"),
        ("2570.2", "2570.10"),
        ("2569-rev2", "2570"),
        ("2569", "๒๕๗๐"),  # Thai digits by their value
        ("9", "10"),
    ],
)
def test_versions_sort_as_people_read_them(older, newer):
    assert version_sort_key(older) < version_sort_key(newer)
    assert sorted([newer, older], key=version_sort_key) == [older, newer]
