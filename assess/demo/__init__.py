"""Demo data for ``assess demo``: real Thai agencies, demo users, and two rounds of answers.

The round of the current Thai fiscal year is open, with agencies at every step of the
workflow (``dg-readiness@2569``); the round of the year before is published (accepted
answers of every agency, a few with verified values; ``dg-readiness@2568``). Each round's
dates lie in its fiscal year (:func:`calendar`). Deterministic for a given fiscal year, and a
no-op when run again on the same database in the same fiscal year.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import dataclass
from importlib import resources

import click
from flask_migrate import upgrade
from sqlalchemy import select, update

from assess.extensions import db
from assess.models import Agency, Answer, Response, Round, User
from assess.questionnaires import Questionnaire
from assess.services import agencies, questionnaires, responses, results, rounds, users
from assess.services.questionnaires import questionnaire_of
from assess.synthetic import agency_answers
from assess.thai import BANGKOK, BE_OFFSET, fiscal_year, fiscal_year_bounds

#: (role, e-mail, password, agency code or None, name, what the account shows in the open round)
DEMO_USERS = (
    ("admin", "admin@demo.assess.go.th", "demo-admin-2569", None, "ผู้ดูแลระบบ (สาธิต)"),
    ("reviewer", "reviewer@demo.assess.go.th", "demo-review-2569", None, "ผู้ตรวจสอบ (สาธิต)"),
    ("coordinator", "dga@demo.assess.go.th", "demo-dga-2569", "PO-DGA", "ผู้ประสานงาน สพร."),
    ("coordinator", "rd@demo.assess.go.th", "demo-rd-2569", "MOF-RD", "ผู้ประสานงาน กรมสรรพากร"),
    (
        "coordinator",
        "chiangmai@demo.assess.go.th",
        "demo-cmi-2569",
        "PROV-CMI",
        "ผู้ประสานงาน จ.เชียงใหม่",
    ),
    ("coordinator", "bma@demo.assess.go.th", "demo-bma-2569", "LAO-BKK", "ผู้ประสานงาน กทม."),
)
#: Where each demo coordinator's agency stands in the open round.
DEMO_STATES = {
    "PO-DGA": "not_started",
    "MOF-RD": "returned",
    "PROV-CMI": "draft",
    "LAO-BKK": "submitted",
}

BASE_MATURITY = {
    "ministry": 0.55,
    "department": 0.55,
    "public_org": 0.62,
    "state_enterprise": 0.6,
    "province": 0.45,
    "local": 0.33,
    "independent": 0.5,
}
ROUND_NAME = "การประเมินความพร้อมรัฐบาลดิจิทัล ปีงบประมาณ พ.ศ. {year}"
ROUND_NAME_EN = "Digital Government Readiness Assessment, fiscal year {year}"


@dataclass(frozen=True)
class Calendar:
    """The demo's two rounds in time: the published one of the fiscal year before today's,
    the open one of today's, each from its first to its last day."""

    published_year: int
    published: tuple[dt.date, dt.date]
    open_year: int
    open: tuple[dt.date, dt.date]


def calendar(today: dt.date) -> Calendar:
    """The demo's rounds for ``today``: the open one from 30 days before to 45 days after it,
    within today's fiscal year (October–September); the published one from 6 January to 31
    March of the year before's."""
    year = fiscal_year(today)
    first, last = fiscal_year_bounds(year)
    gregorian = year - 1 - BE_OFFSET  # the calendar year holding January of the year before
    return Calendar(
        published_year=year - 1,
        published=(dt.date(gregorian, 1, 6), dt.date(gregorian, 3, 31)),
        open_year=year,
        open=(max(today - dt.timedelta(days=30), first), min(today + dt.timedelta(days=45), last)),
    )


def _maturity(agency: Agency, year_bonus: float) -> float:
    """A stable latent maturity per agency: its type, its tags, and a seeded spread."""
    seed = int(hashlib.sha256(agency.code.encode()).hexdigest()[:8], 16)
    spread = random.Random(seed).gauss(0, 0.14)  # noqa: S311 (demo data)
    bonus = 0.12 if "pilot" in (agency.tags or []) else 0.0
    value = BASE_MATURITY.get(agency.type, 0.5) + spread + bonus + year_bonus
    return min(0.97, max(0.05, value))


def _say(progress: bool, message: str) -> None:
    if progress:
        click.echo(message)


def load_demo(progress: bool = False) -> list[tuple[str, str, str, str | None]]:
    """Upgrade the schema and load everything; returns the demo logins."""
    _say(progress, "Upgrading the database schema…")
    upgrade()
    _say(progress, "Loading the built-in questionnaires…")
    questionnaires.import_builtin()
    _say(progress, "Loading agencies…")
    data = resources.files("assess.demo").joinpath("agencies.csv").read_bytes()
    agencies.import_csv(data, "agencies.csv")
    db.session.commit()
    for role, email, password, code, name in DEMO_USERS:
        if users.find_user(email) is None:
            agency = agencies.find_agency(code) if code else None
            users.create_user(email, role, agency=agency, password=password, name=name)
    db.session.commit()
    reviewer = users.find_user(DEMO_USERS[1][1])
    assert reviewer is not None
    when = calendar(dt.datetime.now(BANGKOK).date())
    name = ROUND_NAME.format(year=when.published_year)
    if db.session.scalar(select(Round).filter_by(name=name)) is None:
        _say(progress, f"Round {when.published_year}: every agency's answers, reviewed, published…")
        _published_round(reviewer, name, when)
        db.session.commit()
    name = ROUND_NAME.format(year=when.open_year)
    if db.session.scalar(select(Round).filter_by(name=name)) is None:
        _say(progress, f"Round {when.open_year}: open, agencies at every step…")
        _open_round(reviewer, name, when)
        db.session.commit()
    return [(role, email, password, code) for role, email, password, code, _ in DEMO_USERS]


def _all_agencies() -> list[Agency]:
    return list(db.session.scalars(select(Agency).order_by(Agency.code)))


def _answers(
    questionnaire: Questionnaire, agency: Agency, bonus: float, completeness: float = 1.0
) -> dict:
    rng = random.Random(f"{questionnaire.key}:{agency.code}")  # noqa: S311 (demo data)
    return agency_answers(questionnaire, _maturity(agency, bonus), rng, completeness)


def _complete(questionnaire: Questionnaire, answers: dict) -> dict:
    """Fill what the synthetic answers left out, so the response can be submitted."""
    from assess.scoring.engine import score_response
    from assess.synthetic import _answer

    rng = random.Random(questionnaire.key)  # noqa: S311 (demo data)
    for _ in range(5):
        missing = score_response(questionnaire, answers).missing
        if not missing:
            break
        for code in missing:
            question = questionnaire.question(code)
            value = _answer(question, 0.5, rng)
            if value is None:
                value = "ดูเอกสารแนบ" if question.type.value == "text" else None
            if value is not None:
                answers[code] = value
    return answers


def _attach_evidence(response: Response) -> None:
    """Links as evidence for every question that requires it (as a real agency would)."""
    from assess.models import Evidence

    db.session.flush()
    for code in results.score(response).missing_evidence:
        response.evidence.append(
            Evidence(
                question_code=code,
                url=f"https://www.example.go.th/{response.agency.code.lower()}/evidence/{code}.pdf",
            )
        )


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A moment of ``day``, Bangkok time."""
    return dt.datetime.combine(day, dt.time(hour, minute), BANGKOK)


def _last_changed(response: Response, at: dt.datetime) -> None:
    """Date the response's answers (its "last activity" on the monitor) to ``at``, the
    moment they would have last changed, instead of the moment the demo was loaded."""
    response.updated_at = at
    db.session.execute(
        update(Answer).where(Answer.response_id == response.id).values(updated_at=at)
    )


def _published_round(reviewer: User, name: str, when: Calendar) -> None:
    version = questionnaires.find_version("dg-readiness@2568")
    questionnaire = questionnaire_of(version)
    opens_on, closes_on = when.published
    round_ = rounds.create_round(
        version,
        name,
        when.published_year,
        opens_on=opens_on,
        closes_on=closes_on,
        agencies=_all_agencies(),
        actor=reviewer,
        name_en=ROUND_NAME_EN.format(year=when.published_year),
    )
    rounds.move(round_, "open", reviewer)
    # The demo loads in seconds what took the round weeks; its timeline is the round's own:
    # opened on its first day, answered on 20 March, closed the day after its deadline,
    # published a month on. (The audit trail is append-only: it keeps the loading times.)
    submitted = _at(closes_on.replace(day=20), 9)
    round_.opened_at = _at(opens_on, 9)
    batch = results.of_round(round_)
    for response in batch:
        answers = _complete(questionnaire, _answers(questionnaire, response.agency, 0.0))
        responses.replace_answers(response, answers, actor=None, source="demo")
        _attach_evidence(response)
        # Through the same audited steps as a real round: draft, submitted, accepted.
        for status in ("draft", "submitted", "accepted"):
            responses.set_status(response, status, None, detail="demo")
        response.submitted_at = response.reviewed_at = submitted
        _last_changed(response, submitted - dt.timedelta(minutes=30))
    db.session.flush()
    # A reviewer's corrections: a few agencies claimed more than their evidence showed.
    first_level = next(q for q in questionnaire.iter_questions() if q.type.value == "level")
    for response in batch[::17]:
        claimed = next(
            (a.value for a in response.answers if a.question_code == first_level.code), None
        )
        lower = [o.value for o in first_level.options if claimed is not None and o.value != claimed]
        if lower:
            responses.verify(
                response, reviewer, first_level.code, lower[0], "หลักฐานไม่สนับสนุนระดับที่ประเมินตนเอง"
            )
    results.recompute_round(round_, batch)
    rounds.move(round_, "closed", reviewer)
    rounds.move(round_, "published", reviewer)
    round_.closed_at = _at(closes_on + dt.timedelta(days=1), 9)
    round_.published_at = _at(closes_on + dt.timedelta(days=30), 10)


def _open_round(reviewer: User, name: str, when: Calendar) -> None:
    version = questionnaires.find_version("dg-readiness@2569")
    questionnaire = questionnaire_of(version)
    opens_on, closes_on = when.open
    round_ = rounds.create_round(
        version,
        name,
        when.open_year,
        opens_on=opens_on,
        closes_on=closes_on,
        agencies=_all_agencies(),
        live_preview=True,
        actor=reviewer,
        name_en=ROUND_NAME_EN.format(year=when.open_year),
    )
    rounds.move(round_, "open", reviewer)
    # Opened on its first day (this morning, at the latest): before every answer in it.
    now = dt.datetime.now(BANGKOK)
    round_.opened_at = min(_at(opens_on, 8, 30), now)
    batch = results.of_round(round_)
    pick = random.Random(2569)  # noqa: S311 (demo data)
    for response in batch:
        code = response.agency.code
        state = (
            DEMO_STATES.get(code)
            or pick.choices(
                ["not_started", "draft", "submitted", "accepted", "returned"], [12, 30, 25, 28, 5]
            )[0]
        )
        if state == "not_started":
            continue
        if state == "draft":
            answers = _answers(
                questionnaire, response.agency, 0.06, completeness=pick.uniform(0.2, 0.9)
            )
        else:
            answers = _complete(questionnaire, _answers(questionnaire, response.agency, 0.06))
        responses.replace_answers(response, answers, actor=None, source="demo")
        if state != "draft":
            _attach_evidence(response)
        responses.set_status(response, "draft", None, detail="demo")
        # Since the round opened (at the start of a fiscal year, that is days ago only): a
        # draft was last changed some hours or days ago, a submission just before it was sent.
        days_ago = min(pick.randint(1, 20), (now.date() - opens_on).days)
        changed = max(now - dt.timedelta(days=days_ago, hours=pick.randint(1, 9)), round_.opened_at)
        if state != "draft":
            responses.set_status(response, "submitted", None, detail="demo")
            response.submitted_at = changed
            changed = max(changed - dt.timedelta(minutes=20), round_.opened_at)
        db.session.flush()
        _last_changed(response, changed)
        if state == "returned":
            dims = questionnaire.dimensions
            comments = {
                dims[0].questions[0].code: "โปรดแนบหลักฐานแผนปฏิบัติการดิจิทัลที่ผ่านการอนุมัติแล้ว",
                dims[2].questions[0].code: "ระดับที่ประเมินสูงกว่าหลักฐานที่แนบ โปรดทบทวน",
            }
            db.session.flush()
            responses.review(response, reviewer, "return", "โปรดทบทวนตามความเห็นรายข้อ", comments)
        elif state == "accepted":
            db.session.flush()
            responses.review(response, reviewer, "accept")
    db.session.flush()
    results.recompute_round(round_, batch)
