"""The scorecard names the questionnaire by its version: a round of 2570 may reuse the 2569
questionnaire, whose title ("…ประจำปีงบประมาณ พ.ศ. 2569") would contradict the round's
fiscal year at the top of the page."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _

from assess.extensions import db
from assess.scorecards import render
from assess.scorecards.pdf import write_pdf
from assess.services.agency_results import for_response
from tests.scorecards.conftest import Scene, same_text
from tests.scorecards.test_pdf import plain_text


@pytest.fixture
def reused(scene: Scene) -> Scene:
    """The scene's round, published, as a round of 2570 on the 2569 questionnaire."""
    scene.publish()
    scene.round.fiscal_year = 2570
    db.session.commit()
    return scene


@pytest.mark.parametrize(
    ("lang", "year", "title"),
    [
        ("th", "ปีงบประมาณ พ.ศ. 2570", "ประจำปีงบประมาณ พ.ศ. 2569"),
        ("en", "Fiscal year 2570 (2026–27)", "fiscal year B.E. 2569"),
    ],
)
def test_the_questionnaire_row_names_the_version(app, reused, tmp_path, lang, year, title):
    data = write_pdf(render.prepare(for_response(reused.response, peers_visible=True), lang))
    text = plain_text(data, tmp_path, page=1)
    with app.test_request_context(), force_locale(lang):
        row = same_text(f"{_('Questionnaire')} {_('Version')} 2569")  # แบบประเมิน ฉบับ 2569
    assert same_text(year) in text
    assert row in text
    assert same_text(title) not in text
