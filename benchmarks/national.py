"""A national round in PostgreSQL: 8,000 agencies answering the built-in questionnaire.

    python benchmarks/national.py [--database-url URL] [--agencies 8000] [--seed 2569]
                                  [--copies 1] [--rebuild]

Builds (once; later runs reuse it) the database the national-scale benchmarks read
(``benchmarks/recompute.py``, ``benchmarks/dashboards.py``): the default is the local
PostgreSQL database ``assess_national``, created when missing. Its schema is replaced.

What is in it, with the shape of Thailand's public sector once local administrations take
part (about 8,000 agencies):

- 20 ministries, about 2% departments under them, public organisations, state enterprises
  and independent bodies, 76 provinces, and the rest local administrations (Bangkok, a
  provincial administration per province, municipalities and subdistrict administrations),
  spread over the provinces unevenly (some provinces have many more local bodies);
- a latent digital maturity per agency that depends on its type (central agencies ahead of
  subdistrict administrations), on its province, and on the agency itself; the next year
  most agencies move a little, a few a lot;
- round 2568 (``dg-readiness@2568``, published) and round 2569 (``dg-readiness@2569``,
  closed: most responses accepted, some submitted, returned, draft or not started), so
  trends and changes exist;
- answers drawn by :mod:`assess.synthetic` (some left unanswered, some N/A), saves bunched
  into the last days before each deadline, verified values for a few percent of the
  responses (a reviewer found no evidence for one dimension's claimed levels);
- the stored results, computed by the application's own bulk recomputation;
- a reviewer account (:data:`EMAIL`, :data:`PASSWORD`) for the dashboards benchmark.

The built-in questionnaire has 90 questions, of which an agency answers about 82 once
``show_if`` hides some. The issue's figure is "8,000 × 150 answers": with ``--copies 2``
every question appears twice in both years' questionnaires (:func:`widened`), so an agency
answers about 164 (use another ``--database-url``: each database holds one build).

Everything is seeded (the same database for the same ``--agencies``, ``--seed`` and
``--copies``) and bulk-loaded with PostgreSQL ``COPY``. A marker table ``bench_national``
records what was built; a later run with the same parameters finds it and builds nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import random
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Place names, tags and the app's test configuration: as the league-table benchmark's.
import league_table  # noqa: E402
from _server import reset_database  # noqa: E402
from league_table import PLACE_HEAD, PLACE_TAIL, TAGS  # noqa: E402

from assess import provinces  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/assess_national"
EMAIL, PASSWORD = "bench-reviewer@example.go.th", "bench-password-1"
#: The agency of a round's biggest review page (``%s``: the round's id): the accepted
#: response with the most verified values.
BUSIEST_REVIEW = (
    "SELECT a.code FROM response p JOIN agency a ON a.id = p.agency_id "
    "LEFT JOIN verified_answer v ON v.response_id = p.id "
    "WHERE p.round_id = %s AND p.status = 'accepted' "
    "GROUP BY p.id, a.code ORDER BY count(v.id) DESC, p.id LIMIT 1"
)
#: Bumped when what the generator makes changes, so older databases are rebuilt.
GENERATOR = 1

#: The 77 provinces (Bangkok first): English and Thai names.
PROVINCES = tuple((p.name_en, p.name_th) for p in provinces.PROVINCES)
#: Mean latent maturity by kind of agency (0–1): central agencies ahead, subdistricts behind.
MATURITY = {
    "ministry": 0.62, "department": 0.58, "public_org": 0.64, "state_enterprise": 0.66,
    "independent": 0.55, "province": 0.52, "pao": 0.47, "municipality": 0.42, "sao": 0.34,
}  # fmt: skip
#: Statuses of the 2569 round's responses and their shares.
STATUSES_2569 = (
    ("accepted", 0.88), ("submitted", 0.05), ("returned", 0.01), ("draft", 0.04),
    ("not_started", 0.02),
)  # fmt: skip
STATUSES_2568 = (("accepted", 0.96), ("draft", 0.02), ("not_started", 0.02))


@dataclass(frozen=True)
class National:
    """What a built national database holds."""

    url: str
    agencies: int
    seed: int
    before_id: int
    current_id: int
    answers: int
    build_seconds: float
    copies: int = 1


def make_app(url: str, folder: Path | None = None) -> Flask:
    """The application on ``url`` (CSRF off: benchmarks post the sign-in form directly)."""
    folder = folder or ROOT / "instance" / "bench" / "national"
    folder.mkdir(parents=True, exist_ok=True)
    return league_table.make_app(url, folder)


@contextlib.contextmanager
def api_token(email: str, label: str) -> Iterator[str]:
    """An API token of the user ``email`` for the ``with`` block, deleted after it, and any
    of the same ``label`` that a failed run left (within an app context)."""
    from sqlalchemy import delete, select

    from assess.extensions import db
    from assess.models import ApiToken, User
    from assess.services import users

    user = db.session.scalar(select(User).where(User.email == email))
    assert user is not None, email
    token = users.issue_token(user, label)
    db.session.commit()
    try:
        yield token
    finally:
        db.session.rollback()
        db.session.execute(
            delete(ApiToken).where(ApiToken.user_id == user.id, ApiToken.label == label)
        )
        db.session.commit()


def compact() -> None:
    """Give back the space earlier rewrites left in the tables the benchmarks read (within
    an app context). The benchmarks rewrite a round's results and responses many times; a
    result table many times its size measures that bloat, not the code (the dashboards'
    signature 30-60 ms instead of 11 here after a few runs)."""
    from sqlalchemy import text

    from assess.extensions import db

    db.session.remove()
    with db.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(
            text("VACUUM (FULL, ANALYZE) result, response")
        )


# -- agencies ---------------------------------------------------------------------------------


def agencies(count: int, rng: random.Random) -> list[dict[str, Any]]:
    """Rows of ``count`` agencies (``kind`` is the finer kind behind ``type``)."""
    rows: list[dict[str, Any]] = []

    def add(code: str, th: str, en: str, type_: str, kind: str, parent: str | None,
            province: str, tags: Sequence[str] = ()) -> None:  # fmt: skip
        rows.append(
            {"code": code, "name_th": th, "name_en": en, "type": type_, "kind": kind,
             "parent": parent, "province": province, "tags": list(tags)}
        )  # fmt: skip

    central = max(20, count // 40)
    ministries = 20 if count >= 400 else max(2, count // 20)
    departments = max(4, central * 4 // 5)
    others = max(3, central // 4)
    for i in range(ministries):
        add(f"MIN-{i + 1:03d}", f"กระทรวงทดสอบที่ {i + 1}", f"Ministry {i + 1}", "ministry",
            "ministry", None, "Bangkok")  # fmt: skip
    for i in range(departments):
        add(f"DEP-{i + 1:04d}", f"กรมทดสอบที่ {i + 1}", f"Department {i + 1}", "department",
            "department", f"MIN-{i % ministries + 1:03d}", "Bangkok",
            rng.sample(TAGS, rng.choice((0, 1, 1, 2))))  # fmt: skip
    for i in range(others):
        type_ = ("public_org", "state_enterprise", "public_org", "independent")[i % 4]
        add(f"ORG-{i + 1:04d}", f"องค์การทดสอบที่ {i + 1}", f"Organisation {i + 1}", type_,
            type_, f"MIN-{rng.randrange(ministries) + 1:03d}" if type_ != "independent" else None,
            "Bangkok", rng.sample(TAGS, rng.choice((0, 1, 2))))  # fmt: skip
    provinces = PROVINCES[1 : 1 + min(76, max(2, count // 100))]
    for i, (en, th) in enumerate(provinces):
        add(f"PROV-{i + 1:03d}", f"จังหวัด{th}", f"{en} Province", "province", "province", None,
            en, ["service-heavy"])  # fmt: skip
    # Local administrations: Bangkok, then one provincial administration per province, then
    # municipalities and subdistrict administrations spread unevenly over the provinces.
    add("LAO-BKK", "กรุงเทพมหานคร", "Bangkok Metropolitan Administration", "local",
        "municipality", None, "Bangkok", ["service-heavy", "data-holder"])  # fmt: skip
    for i, (en, th) in enumerate(provinces):
        add(f"PAO-{i + 1:03d}", f"องค์การบริหารส่วนจังหวัด{th}",
            f"{en} Provincial Administrative Organisation", "local", "pao",
            f"PROV-{i + 1:03d}", en)  # fmt: skip
    weights = [rng.lognormvariate(0, 0.5) for _ in provinces]
    i = 0
    while len(rows) < count:
        p = rng.choices(range(len(provinces)), weights)[0]
        en, th = provinces[p]
        municipality = rng.random() < 0.32
        kind = "municipality" if municipality else "sao"
        title = "เทศบาลตำบล" if municipality else "องค์การบริหารส่วนตำบล"
        place = rng.choice(PLACE_HEAD) + rng.choice(PLACE_TAIL)
        i += 1
        add(f"LAO-{i:05d}", f"{title}{place} จังหวัด{th}",
            f"{place} {'Municipality' if municipality else 'Subdistrict Administration'} {i}",
            "local", kind, f"PROV-{p + 1:03d}", en,
            rng.sample(TAGS[:2], rng.choice((0, 0, 0, 1))))  # fmt: skip
    return rows[:count]


def maturities(rows: Sequence[dict[str, Any]], rng: random.Random) -> dict[str, float]:
    """A latent maturity per agency: its kind's mean, its province's effect, its own draw."""
    effect = {en: rng.gauss(0.0, 0.07) for en, _th in PROVINCES}
    effect["Bangkok"] = 0.06
    out = {}
    for row in rows:
        mean = min(0.92, max(0.08, MATURITY[row["kind"]] + effect.get(row["province"], 0.0)))
        spread = 9.0  # Beta(a, b) with a + b = 9: a clear type effect, a wide spread within
        out[row["code"]] = rng.betavariate(mean * spread, (1 - mean) * spread)
    return out


# -- bulk loading -----------------------------------------------------------------------------


def _copy(
    connection: Any, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """COPY rows (already text, ``None`` for NULL) into ``table``; returns how many."""
    n = 0
    quoted = ", ".join(f'"{c}"' for c in columns)
    with (
        connection.cursor() as cursor,
        cursor.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy,
    ):
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


class _Texts:
    """The JSON text stored for each answer (memoised: few distinct values per question)."""

    def __init__(self) -> None:
        self._memo: dict[tuple[str, Any], str] = {}

    def __call__(self, code: str, value: Any) -> str:
        key = (code, value)
        text = self._memo.get(key)
        if text is None:
            from assess.services.responses import stored

            text = self._memo[key] = json.dumps(stored(value))
        return text


def _when(closes: dt.date, opens: dt.date, rng: random.Random) -> dt.datetime:
    """A save time: most saves come in the last days before the deadline."""
    from assess.thai import BANGKOK

    days = min((closes - opens).days, int(rng.expovariate(1 / 3.5)))
    day = closes - dt.timedelta(days=days)
    hour = 8 + min(15, int(rng.expovariate(1 / 5)))
    at = dt.datetime.combine(day, dt.time(hour, rng.randrange(60)), tzinfo=BANGKOK)
    return at.astimezone(dt.UTC)


def _fill(
    connection: Any,
    round_id: int,
    questionnaire: Any,
    responses: Sequence[tuple[int, str]],
    maturity: dict[str, float],
    rng: random.Random,
    *,
    statuses: Sequence[tuple[str, float]],
    window: tuple[dt.date, dt.date],
    verified_share: float,
) -> int:
    """Answers, statuses and verified values of one round, COPYed; returns the answers."""
    from assess.synthetic import agency_answers

    texts = _Texts()
    names, weights = zip(*statuses, strict=True)
    opens, closes = window
    levels = [q for q in questionnaire.iter_questions() if q.type.value == "level"]
    answers: list[tuple[Any, ...]] = []
    verified: list[tuple[Any, ...]] = []
    moves: list[tuple[Any, ...]] = []
    for response_id, code in responses:
        status = rng.choices(names, weights)[0]
        if status == "not_started":
            continue
        done = 1.0 if status in ("accepted", "submitted") else 0.9 if status == "returned" else 0.55
        given = agency_answers(questionnaire, maturity[code], rng, done)
        saved = _when(closes, opens, rng)
        stamp = saved.isoformat()
        answers += [(response_id, q, texts(q, v), stamp) for q, v in given.items()]
        submitted = saved if status in ("submitted", "accepted", "returned") else None
        reviewed = saved + dt.timedelta(days=3 + rng.randrange(10)) if status in (
            "accepted", "returned") else None  # fmt: skip
        moves.append((response_id, status, len(given), stamp,
                       submitted.isoformat() if submitted else None,
                       reviewed.isoformat() if reviewed else None))  # fmt: skip
        if status in ("submitted", "accepted") and rng.random() < verified_share:
            # A reviewer found no evidence for one dimension's claimed levels.
            dimension = rng.choice(questionnaire.dimensions).code
            at = (reviewed or saved).isoformat()
            verified += [
                (response_id, q.code, json.dumps(min(q.options, key=lambda o: o.points).value),
                 "ไม่พบหลักฐานสนับสนุนระดับที่ประเมินตนเอง", at)
                for q in levels
                if q.dimension == dimension and q.code in given
            ]  # fmt: skip
    _copy(connection, "answer", ("response_id", "question_code", "value", "updated_at"), answers)
    _copy(connection, "verified_answer",
          ("response_id", "question_code", "value", "reason", "verified_at"), verified)  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_moves (id int, status text, answered int, updated_at "
            "timestamptz, submitted_at timestamptz, reviewed_at timestamptz) ON COMMIT DROP"
        )
        _copy(connection, "bench_moves",
              ("id", "status", "answered", "updated_at", "submitted_at", "reviewed_at"), moves)  # fmt: skip
        cursor.execute(
            "UPDATE response r SET status = m.status, revision = m.answered, "
            "updated_at = m.updated_at, submitted_at = m.submitted_at, "
            "reviewed_at = m.reviewed_at FROM bench_moves m WHERE r.id = m.id"
        )
        cursor.execute("DROP TABLE bench_moves")
    return len(answers)


# -- the whole database -----------------------------------------------------------------------


def widened(text: bytes, copies: int) -> bytes:
    """A questionnaire's YAML with every question ``copies`` times: copy *k* of question
    ``dim.code`` is ``dim.code_k`` in the same dimension, its ``show_if`` naming copy *k* of
    the questions it names (the only place a question names another). Everything else —
    dimensions, options, scoring, gates, levels — is the original's."""
    import copy
    import re

    import yaml

    if copies == 1:
        return text
    source = yaml.safe_load(text)
    codes = [q["code"] for dim in source["dimensions"] for q in dim["questions"]]
    named = re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, codes)) + r")(?![\w])")
    for dim in source["dimensions"]:
        originals = list(dim["questions"])
        for k in range(2, copies + 1):
            for question in originals:
                twin = copy.deepcopy(question)
                twin["code"] = f"{question['code']}_{k}"
                if "show_if" in twin:
                    twin["show_if"] = named.sub(lambda m, k=k: f"{m.group(1)}_{k}", twin["show_if"])
                dim["questions"].append(twin)
    return yaml.safe_dump(source, allow_unicode=True, sort_keys=False).encode()


def _marker(url: str, count: int, seed: int, copies: int) -> National | None:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        try:
            conn = engine.connect()
        except sa.exc.OperationalError:  # no such database yet: ensure() creates it
            return None
        with conn:
            if conn.scalar(sa.text("SELECT to_regclass('public.bench_national')")) is None:
                return None
            try:
                row = conn.execute(
                    sa.text(
                        "SELECT before_id, current_id, answers, seconds FROM bench_national "
                        "WHERE agencies = :n AND seed = :s AND generator = :g AND copies = :k"
                    ),
                    {"n": count, "s": seed, "g": GENERATOR, "k": copies},
                ).first()
            except sa.exc.ProgrammingError:  # an older generator's marker: built again
                return None
    finally:
        engine.dispose()
    if row is None:
        return None
    return National(url, count, seed, row[0], row[1], row[2], row[3], copies)


def _behind(url: str) -> bool:
    """Whether the database at ``url`` lacks a migration of the code's."""
    import sqlalchemy as sa
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory(str(ROOT / "assess" / "migrations")).get_heads())
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return set(conn.scalars(sa.text("SELECT version_num FROM alembic_version"))) != heads
    finally:
        engine.dispose()


def ensure(
    url: str = DEFAULT_URL,
    count: int = 8000,
    seed: int = 2569,
    *,
    copies: int = 1,
    rebuild: bool = False,
) -> National:
    """The national database at ``url``: reused when already built with these parameters,
    else built from scratch (the schema is replaced)."""
    found = None if rebuild else _marker(url, count, seed, copies)
    if found is not None:
        if _behind(url):  # built before the schema's latest migration: migrated, as any is
            app = make_app(url)
            with app.app_context():
                from flask_migrate import upgrade

                from assess.extensions import db

                upgrade()
                db.engine.dispose()
        return found
    start = time.perf_counter()
    reset_database(url)
    app = make_app(url)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        before_id, current_id, answers = build(count, seed=seed, copies=copies)
        seconds = time.perf_counter() - start
        from sqlalchemy import text

        from assess.extensions import db

        db.session.execute(
            text(
                "CREATE TABLE bench_national (agencies int, seed int, generator int, "
                "copies int, before_id int, current_id int, answers int, seconds float, "
                "built_at timestamptz DEFAULT now())"
            )
        )
        db.session.execute(
            text("INSERT INTO bench_national VALUES (:n, :s, :g, :k, :b, :c, :a, :t)"),
            {"n": count, "s": seed, "g": GENERATOR, "k": copies, "b": before_id,
             "c": current_id, "a": answers, "t": seconds},
        )  # fmt: skip
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        db.engine.dispose()
    return National(url, count, seed, before_id, current_id, answers, seconds, copies)


def build(count: int, *, seed: int = 2569, copies: int = 1) -> tuple[int, int, int]:
    """Agencies, the published 2568 round and the closed 2569 round, with their stored
    results, in the app's (migrated, empty) PostgreSQL database; each year's questionnaire
    :func:`widened` to ``copies``. Returns both round ids and how many answers were
    written."""
    from sqlalchemy import select

    from assess.extensions import db
    from assess.models import Agency, Response, Round
    from assess.questionnaires.builtin import builtin_path
    from assess.services import questionnaires, results, rounds, users
    from assess.services.questionnaires import questionnaire_of

    rng = random.Random(seed)  # noqa: S311 (reproducible test data)
    versions = {}
    for year in ("2568", "2569"):
        path = builtin_path("dg-readiness", year)
        assert path is not None
        text = widened(path.read_bytes(), copies)
        versions[year], _ = questionnaires.import_text(text, str(path))
    users.create_user(EMAIL, "reviewer", password=PASSWORD)
    db.session.commit()

    rows = agencies(count, rng)
    connection = db.session.connection().connection.driver_connection
    _copy(connection, "agency", ("code", "name_th", "name_en", "type", "province", "tags", "active"),
          ((r["code"], r["name_th"], r["name_en"], r["type"], r["province"],
            json.dumps(r["tags"], ensure_ascii=False), True) for r in rows))  # fmt: skip
    ids = dict(db.session.execute(select(Agency.code, Agency.id)).all())
    with connection.cursor() as cursor:
        cursor.executemany(
            "UPDATE agency SET parent_id = %s WHERE id = %s",
            [(ids[r["parent"]], ids[r["code"]]) for r in rows if r["parent"]],
        )
    db.session.commit()
    maturity = maturities(rows, rng)
    # The next year: most agencies improve a little, a few a lot, a few fall back.
    drift = {
        c: min(1.0, max(0.0, m + rng.gauss(0.04, 0.05 if rng.random() < 0.95 else 0.2)))
        for c, m in maturity.items()
    }
    total = 0
    round_ids = []
    for year, fiscal, window, statuses, verified_share, mature in (
        ("2568", 2568, (dt.date(2025, 1, 6), dt.date(2025, 3, 31)), STATUSES_2568, 0.03, maturity),
        ("2569", 2569, (dt.date(2026, 1, 5), dt.date(2026, 3, 31)), STATUSES_2569, 0.06, drift),
    ):
        invited = list(db.session.scalars(select(Agency).order_by(Agency.code)))
        round_ = rounds.create_round(
            versions[year], f"การประเมินปี {year}", fiscal, opens_on=window[0],
            closes_on=window[1], agencies=invited,
        )  # fmt: skip
        rounds.move(round_, "open")
        db.session.commit()
        pairs = db.session.execute(
            select(Response.id, Agency.code)
            .join(Agency, Response.agency_id == Agency.id)
            .where(Response.round_id == round_.id)
            .order_by(Agency.code)
        ).all()
        connection = db.session.connection().connection.driver_connection
        total += _fill(
            connection, round_.id, questionnaire_of(round_.questionnaire), pairs, mature, rng,
            statuses=statuses, window=window, verified_share=verified_share,
        )  # fmt: skip
        db.session.commit()
        round_ = db.session.get(Round, round_.id)
        assert round_ is not None
        results.recompute_round(round_)
        rounds.move(round_, "closed")
        if year == "2568":
            rounds.move(round_, "published")
        db.session.commit()
        round_ids.append(round_.id)
        db.session.expunge_all()
    return round_ids[0], round_ids[1], total


def main() -> None:
    """Build the national database (or find it built) and say what it holds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--agencies", type=int, default=8000)
    parser.add_argument("--seed", type=int, default=2569)
    parser.add_argument("--copies", type=int, default=1, help="each question this many times")
    parser.add_argument("--rebuild", action="store_true", help="build it again from scratch")
    args = parser.parse_args()
    start = time.perf_counter()
    national = ensure(
        args.database_url, args.agencies, args.seed, copies=args.copies, rebuild=args.rebuild
    )
    took = time.perf_counter() - start
    verb = "built" if took > 0.5 * national.build_seconds else "reused"
    print(
        f"{verb} {national.url.split('@')[-1]}: {national.agencies:,} agencies, rounds "
        f"{national.before_id} (2568, published) and {national.current_id} (2569, closed), "
        f"{national.answers:,} answers; built in {national.build_seconds:.1f} s"
        f"{'' if verb == 'built' else f', checked in {took:.2f} s'}"
    )


if __name__ == "__main__":
    main()
