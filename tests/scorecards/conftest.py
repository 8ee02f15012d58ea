"""A round with results for scorecards: a ministry and its departments, a province, last
year's published round for the change, verified values that differ, and hostile text."""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest

from assess.extensions import db
from assess.services import responses, rounds
from assess.services.questionnaires import questionnaire_of
from tests.conftest import fill

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "scorecards"
#: What a hostile agency might type: markup, a local file, a local server, a CSS import.
ATTACK = (
    '<img src="file:///etc/passwd"><link rel="stylesheet" href="http://127.0.0.1:{port}/x.css">'
    '<style>@import url("http://127.0.0.1:{port}/i.css");</style>'
    '<svg><image href="http://127.0.0.1:{port}/s.png"/></svg>'
)


class Scene:
    """Round 2569 (closed) of a ministry's three departments and a province, and the
    published round 2568 of the same agencies. The Revenue-like department ``AG-A`` is the
    scorecard's subject: a verified value lowers one of its answers."""

    def __init__(self, world, port: int = 9) -> None:  # type: ignore[no-untyped-def]
        self.world = world
        self.ministry = world.agency(
            "MIN-F", name_th="กระทรวงการคลัง", name_en="Ministry of Finance", type="ministry"
        )
        self.a = world.agency(
            "AG-A",
            name_th="กรมสรรพากร",
            name_en="The Revenue Department",
            parent_id=self.ministry.id,
        )
        self.b = world.agency("AG-B", name_th="กรมศุลกากร", name_en="The Customs Department")
        self.c = world.agency("AG-C", name_th="กรมบัญชีกลาง", name_en="Comptroller General")
        self.p = world.agency(
            "AG-P", name_th="จังหวัดเชียงใหม่", name_en="Chiang Mai Province", type="province"
        )
        self.attack = ATTACK.format(port=port)
        self.x = world.agency(
            "AG-X", name_th="กรมทดสอบ " + self.attack, name_en="Test " + self.attack
        )
        self.coordinator = world.user("a@example.go.th", agency=self.a)
        self.coordinator_b = world.user("b@example.go.th", agency=self.b)
        self.coordinator_x = world.user("x@example.go.th", agency=self.x)
        self.reviewer = world.user("r@example.go.th", role="reviewer")
        agencies = [self.a, self.b, self.c, self.p, self.x]
        # Last year's round, published: the change column.
        old = world.questionnaire(key="dg-readiness@2568")
        self.previous = world.round(
            old, agencies=agencies, name="รอบปีงบประมาณ 2568", fiscal_year=2568, status="open"
        )
        for agency, maturity in zip(agencies, (0.4, 0.7, 0.5, 0.3, 0.5), strict=True):
            fill(world.response(self.previous, agency), self.reviewer, maturity)
        rounds.move(self.previous, "closed")
        rounds.move(self.previous, "published")
        db.session.commit()
        self.round = world.round(agencies=agencies, name="รอบปีงบประมาณ 2569", status="open")
        questionnaire = questionnaire_of(self.round.questionnaire)
        self.questionnaire = questionnaire
        text = [q.code for q in questionnaire.iter_questions() if q.type.value == "text"]
        hostile = dict.fromkeys(text, self.attack)
        # A says yes to a scored question; the central office will verify it as no.
        self.question = next(
            q
            for q in questionnaire.iter_questions()
            if q.type.value == "yesno" and q.is_scored and q.show_if is None
        )
        self.response = world.response(self.round, self.a)
        fill(self.response, self.coordinator, 0.55, extra={self.question.code: True})
        fill(world.response(self.round, self.b), self.coordinator_b, 0.8)
        fill(world.response(self.round, self.c), self.reviewer, 0.65)
        fill(world.response(self.round, self.p), self.reviewer, 0.35)
        self.response_x = world.response(self.round, self.x)
        fill(self.response_x, self.coordinator_x, 0.5, extra=hostile)
        rounds.move(self.round, "closed")
        db.session.commit()
        responses.verify(self.response, self.reviewer, self.question.code, False, "no evidence")
        db.session.commit()

    def publish(self, status: str = "published") -> None:
        """Move the round to ``preliminary`` or ``published``."""
        rounds.move(self.round, status, self.reviewer)
        db.session.commit()


@pytest.fixture
def scene(world) -> Scene:  # type: ignore[no-untyped-def]
    return Scene(world)


def pdftotext(pdf: bytes, tmp_path: Path) -> str:
    """The PDF's text as poppler's pdftotext reads it (layout kept)."""
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing (apt-get install poppler-utils)")
    path = tmp_path / "read.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return done.stdout


def same_text(pdf_text: str) -> str:
    """A PDF's extracted text as Thai text is compared: SARA AM (ำ) reads back from the text
    layer as its parts, NIKHAHIT and SARA AA ("ํา", which looks the same); NFKC makes both
    spellings one (``assess.scorecards.pdf._map_glyphs_to_their_own_text``)."""
    return unicodedata.normalize("NFKC", pdf_text)
