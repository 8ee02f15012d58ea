"""Forms that tell a screen reader what is wrong, as the server writes them: a field's errors
tied to its control (macros.field), the answer page's required questions and refused values,
and the review page's verify form, which marks the field at fault (the value or the reason)."""

from __future__ import annotations

import re
from html import unescape

import pytest
from werkzeug.datastructures import MultiDict

from assess.extensions import db
from assess.review.forms import RoundForm

REVIEWER = "reviewer@example.go.th"
COORDINATOR = "coord@example.go.th"


def tag(html: str, element_id: str) -> str:
    """The opening tag of the element with ``element_id``."""
    found = re.search(rf'<[a-z]+\b[^>]*\bid="{re.escape(element_id)}"[^>]*>', html)
    assert found, element_id
    return found.group(0)


def attr(opening: str, name: str) -> str | None:
    found = re.search(rf'\b{name}="([^"]*)"', opening)
    return found.group(1) if found else None


# -- macros.field ---------------------------------------------------------------------------


def test_field_ties_its_errors_and_description_to_the_control(app):  # type: ignore[no-untyped-def]
    field = app.jinja_env.get_template("macros.html").module.field
    with app.test_request_context(method="POST"):
        form = RoundForm(
            formdata=MultiDict({"name": "", "name_en": "x" * 300, "fiscal_year": "2569"})
        )
        form.questionnaire.choices = []
        form.validate()
        assert form.name.errors
        assert form.name_en.errors
        assert form.name_en.description
        name = str(field(form.name))
        name_en = str(field(form.name_en, lang="en"))
        opens_on = str(field(form.opens_on, autocomplete="off"))

    # Refused with no description: described by its error alone, which has that id.
    control = tag(name, "name")
    assert attr(control, "aria-invalid") == "true"
    assert attr(control, "aria-describedby") == "name-error-1"
    assert 'class="invalid-feedback d-block" id="name-error-1"' in name
    # With a description: both, the description first; the caller's attributes stay.
    control = tag(name_en, "name_en")
    assert attr(control, "aria-describedby") == "name_en-help name_en-error-1"
    assert attr(control, "aria-invalid") == "true"
    assert attr(control, "lang") == "en"
    assert 'id="name_en-help"' in name_en
    assert 'id="name_en-error-1"' in name_en
    # Without errors or description: neither attribute.
    control = tag(opens_on, "opens_on")
    assert "aria-invalid" not in control
    assert "aria-describedby" not in control
    assert attr(control, "autocomplete") == "off"


def test_a_refused_page_form_marks_its_fields(client, auth, world):  # type: ignore[no-untyped-def]
    world.questionnaire()
    user = world.user(REVIEWER, role="reviewer")
    user.language = "en"
    db.session.commit()
    auth.login(REVIEWER)
    reply = client.post("/central/rounds/new", data={"name": "", "fiscal_year": "2569"})
    assert reply.status_code == 422
    html = unescape(reply.get_data(as_text=True))
    control = tag(html, "name")
    assert attr(control, "aria-invalid") == "true"
    error_id = attr(control, "aria-describedby")
    assert error_id == "name-error-1"
    assert re.search(rf'<div class="invalid-feedback d-block" id="{error_id}">\S', html)


# -- the answer page ------------------------------------------------------------------------


@pytest.fixture
def coordinator(client, auth, world):  # type: ignore[no-untyped-def]
    """An open round of dg-readiness@2569 and its agency's coordinator, signed in (English)."""
    agency = world.agency("AG-1")
    user = world.user(COORDINATOR, agency=agency)
    user.language = "en"
    db.session.commit()
    round_ = world.round(agencies=[agency])
    auth.login(COORDINATOR)
    return round_


def card(html: str, code: str) -> str:
    start = html.rindex("<div", 0, html.index(f'id="q-{code}"'))
    end = html.find('class="card question-card', start + 10)
    return html[start : end if end != -1 else len(html)]


def test_required_questions_say_so_to_assistive_technology(client, coordinator):  # type: ignore[no-untyped-def]
    html = unescape(client.get(f"/rounds/{coordinator.id}/answer/mgmt").get_data(as_text=True))
    # Options answered with radio buttons: a radio group, required.
    group = re.search(r"<fieldset[^>]*>", card(html, "mgmt.leadership")).group(0)  # type: ignore[union-attr]
    assert 'role="radiogroup"' in group
    assert 'aria-required="true"' in group
    assert 'aria-labelledby="t-mgmt.leadership"' in group
    # A typed number: its control, beside its hint.
    control = tag(html, "i-mgmt.process_digital")
    assert attr(control, "aria-required") == "true"
    assert attr(control, "aria-describedby") == "h-mgmt.process_digital"
    assert "aria-invalid" not in control
    # Checkboxes: a group cannot be aria-required, so it is described by words that say it.
    one = card(html, "mgmt.customer_voice")
    group = re.search(r"<fieldset[^>]*>", one).group(0)  # type: ignore[union-attr]
    assert "aria-required" not in group
    assert attr(group, "aria-describedby") == "req-mgmt.customer_voice"
    assert 'id="req-mgmt.customer_voice"' in one
    # An optional question is not marked required (and keeps its visible "Optional").
    optional = card(html, "mgmt.satisfaction")
    assert "aria-required" not in optional
    assert "Optional" in optional


def test_a_refused_number_without_javascript_is_tied_to_its_error(client, coordinator):  # type: ignore[no-untyped-def]
    from tests.web.test_survey import mgmt_form

    reply = client.post(
        f"/rounds/{coordinator.id}/answer/mgmt",
        data=mgmt_form(0, **{"ans-mgmt.process_digital": "140"}),
    )
    assert reply.status_code == 422
    html = unescape(reply.get_data(as_text=True))
    control = tag(html, "i-mgmt.process_digital")
    assert attr(control, "aria-invalid") == "true"
    assert attr(control, "aria-describedby") == "h-mgmt.process_digital e-mgmt.process_digital"
    error = re.search(r'<div[^>]*id="e-mgmt.process_digital"[^>]*>([^<]*)<', html)
    assert error
    assert "above the maximum" in error.group(1)
    # The other questions are not marked.
    assert "aria-invalid" not in card(html, "mgmt.leadership")


# -- the review page ------------------------------------------------------------------------


@pytest.fixture
def review(client, auth, world):  # type: ignore[no-untyped-def]
    """The review page's URL of an open round's response, a reviewer signed in (English)."""
    agency = world.agency("MOF-RD", name_en="Revenue Department")
    world.user(COORDINATOR, agency=agency)
    user = world.user(REVIEWER, role="reviewer")
    user.language = "en"
    db.session.commit()
    round_ = world.round(agencies=[agency], name="Round 2569")
    auth.login(REVIEWER)
    return f"/central/rounds/{round_.id}/responses/MOF-RD"


def verify_form(html: str, code: str) -> str:
    start = html.index(f'id="q-{code}"')
    return html[start : html.index("</form>", start)]


def test_review_page_names_the_agency_and_its_dimensions(client, review):  # type: ignore[no-untyped-def]
    html = unescape(client.get(review).get_data(as_text=True))
    title = re.search(r"<title>([^<]*)</title>", html).group(1)  # type: ignore[union-attr]
    assert "Revenue Department" in title
    assert "MOF-RD" in title
    # The dimension links show codes; a screen reader hears the names (code first).
    link = re.search(r'<a [^>]*href="#d-mgmt"[^>]*>', html).group(0)  # type: ignore[union-attr]
    heading = re.search(r'<h2 [^>]*id="h-mgmt"><code>mgmt</code> ([^<]*) <', html)
    assert heading
    assert attr(link, "aria-label") == f"mgmt {heading.group(1)}"
    # The scores table scrolls in its own box on a narrow screen.
    assert re.search(r'class="[^"]*table-responsive[^"]*">\s*<table', html)
    # The verify form posts to the question's anchor, to come back there when refused.
    form = verify_form(html, "mgmt.leadership")
    assert re.search(r'action="[^"]*/verify#q-mgmt.leadership"', form)
    # A group of checkboxes has a legend, not a label pointing at a <div>.
    form = verify_form(html, "mgmt.customer_voice")
    assert re.search(r'<fieldset id="v-mgmt.customer_voice">\s*<legend', form)
    assert 'for="v-mgmt.customer_voice"' not in form


@pytest.mark.parametrize(
    ("value", "reason", "wrong"),
    [
        ("99", "Checked on site", {"value"}),  # not an option: the value is wrong
        ("1", "", {"reason"}),  # no reason
        ("99", " ", {"value"}),  # both: the value's problem is told first
    ],
)
def test_a_refused_verified_value_marks_the_field_at_fault(client, review, value, reason, wrong):  # type: ignore[no-untyped-def]
    reply = client.post(
        f"{review}/verify", data={"code": "mgmt.leadership", "value": value, "reason": reason}
    )
    assert reply.status_code == 422
    form = verify_form(unescape(reply.get_data(as_text=True)), "mgmt.leadership")
    fields = {"value": tag(form, "v-mgmt.leadership"), "reason": tag(form, "r-mgmt.leadership")}
    errors = {"value": "ve-mgmt.leadership", "reason": "re-mgmt.leadership"}
    for name, control in fields.items():
        if name in wrong:
            assert "is-invalid" in (attr(control, "class") or ""), name
            assert attr(control, "aria-invalid") == "true", name
            assert attr(control, "aria-describedby") == errors[name], name
            assert f'id="{errors[name]}"' in form
        else:
            assert "is-invalid" not in (attr(control, "class") or ""), name
            assert "aria-invalid" not in control, name
            assert f'id="{errors[name]}"' not in form
    if "value" in wrong:
        assert "is not an option" in form
    if "reason" in wrong:
        assert "give the reason for the verified value" in form
