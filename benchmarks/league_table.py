"""The results dashboards' league table at national scale: server time and payload size.

    python benchmarks/league_table.py [--agencies 8000] [--requests 20] [--database-url URL]
                                      [--rebuild]

Builds (once, then reuses) a SQLite database under ``instance/bench/`` with ``--agencies``
synthetic agencies (ministries, departments, provinces and thousands of local
administrations, with parents, provinces and tags), a published round of fiscal year 2568
(questionnaire ``dg-readiness@2568``) and an accepted round of 2569 (``@2569``, a few
responses still in review, some with verified values far below what the agency claimed).
Then a reviewer signs in through the test client and the league table page is requested:
once cold (the first request, results loaded from the database) and ``--requests`` times
warm, first unfiltered, then sorted by a dimension, on a late page, and filtered by
agency type. Prints the median and worst server time and the HTML size of each.
Targets (issue 5): under 300 ms and under 1 MB for 8,000 agencies.

``build`` is also what the browser test of the dashboards uses (with 2,000 agencies).
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import random
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, insert, select, update

ROOT = Path(__file__).resolve().parents[1]
EMAIL, PASSWORD = "bench-reviewer@example.go.th", "bench-password-1"

#: Provinces as agency records name them (English, like the demo's register).
PROVINCES = (
    "Bangkok", "Nonthaburi", "Chiang Mai", "Chon Buri", "Songkhla", "Khon Kaen",
    "Nakhon Ratchasima", "Phuket", "Nan", "Udon Thani", "Pathum Thani", "Chiang Rai",
    "Lampang", "Mae Hong Son", "Phitsanulok", "Nakhon Sawan", "Ubon Ratchathani", "Buri Ram",
    "Sakon Nakhon", "Roi Et", "Samut Prakan", "Phra Nakhon Si Ayutthaya", "Rayong",
    "Chanthaburi", "Sa Kaeo", "Kanchanaburi", "Tak", "Surat Thani", "Nakhon Si Thammarat",
    "Krabi", "Yala", "Narathiwat",
)  # fmt: skip
PROVINCE_TH = (
    "กรุงเทพมหานคร", "นนทบุรี", "เชียงใหม่", "ชลบุรี", "สงขลา", "ขอนแก่น", "นครราชสีมา",
    "ภูเก็ต", "น่าน", "อุดรธานี", "ปทุมธานี", "เชียงราย", "ลำปาง", "แม่ฮ่องสอน", "พิษณุโลก",
    "นครสวรรค์", "อุบลราชธานี", "บุรีรัมย์", "สกลนคร", "ร้อยเอ็ด", "สมุทรปราการ",
    "พระนครศรีอยุธยา", "ระยอง", "จันทบุรี", "สระแก้ว", "กาญจนบุรี", "ตาก", "สุราษฎร์ธานี",
    "นครศรีธรรมราช", "กระบี่", "ยะลา", "นราธิวาส",
)  # fmt: skip
#: Syllables of plausible Thai place names (บ้าน + ทุ่ง …) for local administrations.
PLACE_HEAD = ("บ้าน", "หนอง", "โคก", "ดอน", "นา", "ห้วย", "ท่า", "วัง", "บึง", "ทุ่ง", "เขา", "คลอง")
PLACE_TAIL = (
    "ใหญ่", "แดง", "ทอง", "สวรรค์", "ขาม", "บัว", "จิก", "ไผ่", "เหนือ", "ใต้", "กลาง", "งาม",
    "ยาง", "สะอาด", "หลวง", "พัฒนา",
)  # fmt: skip
TAGS = ("service-heavy", "data-holder", "regulator", "revenue", "security", "pilot")


def make_app(url: str, folder: Path) -> Flask:
    """The application on ``url`` (CSRF off: the benchmark posts the sign-in form directly)."""
    from assess import create_app

    return create_app(
        {
            "INSTANCE_PATH": str(folder),
            "DATABASE_URL": url,
            "WTF_CSRF_ENABLED": False,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )


def _agencies(count: int, rng: random.Random) -> list[dict[str, Any]]:
    """Rows of ``count`` agencies: about 1% ministries, 5% departments, 32 provinces, the
    rest local administrations under their province (the shape of the real register)."""
    rows: list[dict[str, Any]] = []
    ministries = max(2, count // 100)
    departments = max(4, count // 20)
    provinces = min(len(PROVINCES), max(2, count // 50))
    for i in range(ministries):
        rows.append(
            {"code": f"MIN-{i + 1:03d}", "name_th": f"กระทรวงทดสอบที่ {i + 1}",
             "name_en": f"Ministry {i + 1}", "type": "ministry", "parent": None,
             "province": "Bangkok", "tags": []}
        )  # fmt: skip
    for i in range(departments):
        rows.append(
            {"code": f"DEP-{i + 1:04d}", "name_th": f"กรมทดสอบที่ {i + 1}",
             "name_en": f"Department {i + 1}", "type": "department",
             "parent": f"MIN-{i % ministries + 1:03d}", "province": "Bangkok",
             "tags": rng.sample(TAGS, rng.choice((0, 1, 1, 2)))}
        )  # fmt: skip
    for i in range(provinces):
        rows.append(
            {"code": f"PROV-{i + 1:03d}", "name_th": f"จังหวัด{PROVINCE_TH[i]}",
             "name_en": f"{PROVINCES[i]} Province", "type": "province", "parent": None,
             "province": PROVINCES[i], "tags": ["service-heavy"]}
        )  # fmt: skip
    i = 0
    while len(rows) < count:
        p = rng.randrange(provinces)
        kind = rng.choice(("เทศบาลตำบล", "องค์การบริหารส่วนตำบล", "องค์การบริหารส่วนตำบล"))
        place = rng.choice(PLACE_HEAD) + rng.choice(PLACE_TAIL)
        i += 1
        rows.append(
            {"code": f"LAO-{i:05d}", "name_th": f"{kind}{place} จังหวัด{PROVINCE_TH[p]}",
             "name_en": f"{place} local administration {i}", "type": "local",
             "parent": f"PROV-{p + 1:03d}", "province": PROVINCES[p],
             "tags": rng.sample(TAGS[:2], rng.choice((0, 0, 1)))}
        )  # fmt: skip
    return rows[:count]


def _fill(
    round_: Any,
    maturity: dict[str, float],
    rng: random.Random,
    *,
    statuses: Sequence[tuple[str, float]],
    submitted_between: tuple[dt.date, dt.date],
    verified_share: float,
) -> None:
    """Answers for every agency of a round (bulk inserted), statuses, submission days,
    verified values for a few, then the stored results through ``recompute_round``."""
    from assess.extensions import db
    from assess.models import Agency, Answer, Response, VerifiedAnswer, utcnow
    from assess.services import responses, results
    from assess.services.questionnaires import questionnaire_of
    from assess.synthetic import agency_answers
    from assess.thai import BANGKOK

    questionnaire = questionnaire_of(round_.questionnaire)
    rows = db.session.execute(
        select(Response.id, Agency.code)
        .join(Agency, Response.agency_id == Agency.id)
        .where(Response.round_id == round_.id)
        .order_by(Agency.code)
    ).all()
    now = utcnow()
    names, weights = zip(*statuses, strict=True)
    first, last = submitted_between
    span = (last - first).days
    levels = [q for q in questionnaire.iter_questions() if q.type.value == "level"]
    moves: list[dict[str, Any]] = []
    for start in range(0, len(rows), 500):
        answers: list[dict[str, Any]] = []
        verified: list[dict[str, Any]] = []
        for response_id, code in rows[start : start + 500]:
            status = rng.choices(names, weights)[0]
            if status == "not_started":
                continue
            given = agency_answers(
                questionnaire, maturity[code], rng, 1.0 if status != "draft" else 0.6
            )
            answers += [
                {"response_id": response_id, "question_code": q, "value": responses.stored(v),
                 "updated_at": now}
                for q, v in given.items()
            ]  # fmt: skip
            # Late submissions bunch up before the deadline, as they do in real rounds.
            day = first + dt.timedelta(days=round(span * rng.random() ** 0.45))
            at = dt.datetime.combine(
                day, dt.time(9 + rng.randrange(9), rng.randrange(60)), tzinfo=BANGKOK
            )
            moves.append(
                {"id": response_id, "status": status, "updated_at": at,
                 "submitted_at": at if status in ("submitted", "accepted") else None,
                 "reviewed_at": at + dt.timedelta(days=3) if status == "accepted" else None}
            )  # fmt: skip
            if status in ("submitted", "accepted") and rng.random() < verified_share:
                # A reviewer found no evidence for one dimension's claimed levels.
                dimension = rng.choice(questionnaire.dimensions).code
                verified += [
                    {"response_id": response_id, "question_code": q.code,
                     "value": min(q.options, key=lambda o: o.points).value,
                     "reason": "ไม่พบหลักฐานสนับสนุนระดับที่ประเมินตนเอง", "verified_at": now}
                    for q in levels
                    if q.dimension == dimension
                ]  # fmt: skip
        # Core inserts: the ORM's bulk path costs more than the database for 700,000 rows.
        if answers:
            db.session.execute(insert(Answer.__table__), answers)
        if verified:
            db.session.execute(insert(VerifiedAnswer.__table__), verified)
    if moves:
        db.session.execute(update(Response), moves)
    db.session.commit()
    # The whole round at once, set-based (no ORM objects): a few seconds for 8,000.
    results.recompute_round(round_)
    db.session.commit()


def build(count: int, *, seed: int = 2569) -> tuple[int, int]:
    """Agencies, a published 2568 round and an accepted 2569 round in the app's database
    (inside an app context, on an empty migrated database); returns both round ids."""
    from assess.extensions import db
    from assess.models import Agency
    from assess.questionnaires.builtin import builtin_path
    from assess.services import questionnaires, rounds, users

    rng = random.Random(seed)
    versions = {}
    for year in ("2568", "2569"):
        path = builtin_path("dg-readiness", year)
        assert path is not None
        versions[year], _ = questionnaires.import_text(path.read_bytes(), str(path))
    rows = _agencies(count, rng)
    db.session.execute(
        insert(Agency), [{k: v for k, v in r.items() if k != "parent"} for r in rows]
    )
    ids = {code: id_ for code, id_ in db.session.execute(select(Agency.code, Agency.id))}
    db.session.execute(
        update(Agency),
        [{"id": ids[r["code"]], "parent_id": ids[r["parent"]]} for r in rows if r["parent"]],
    )
    users.create_user(EMAIL, "reviewer", password=PASSWORD)
    db.session.commit()
    agencies = list(db.session.scalars(select(Agency).order_by(Agency.code)))
    # One latent maturity per agency, so that the two years are related (a slope chart of
    # independent draws would be noise); most move a little, a few a lot.
    maturity = {a.code: rng.betavariate(2.2, 2.0) for a in agencies}
    before = rounds.create_round(versions["2568"], "การประเมินปี 2568", 2568, agencies=agencies)
    rounds.move(before, "open")
    db.session.commit()
    _fill(
        before,
        maturity,
        rng,
        statuses=[("accepted", 1.0)],
        submitted_between=(dt.date(2025, 1, 6), dt.date(2025, 3, 31)),
        verified_share=0.02,
    )
    before = db.session.merge(before)
    rounds.move(before, "closed")
    rounds.move(before, "published")
    db.session.commit()
    before_id = before.id
    drift = {c: min(1.0, max(0.0, m + rng.gauss(0.04, 0.05 if rng.random() < 0.95 else 0.2)))
             for c, m in maturity.items()}  # fmt: skip
    current = rounds.create_round(
        versions["2569"],
        "การประเมินปี 2569",
        2569,
        opens_on=dt.date(2026, 1, 5),
        closes_on=dt.date(2026, 3, 31),
        agencies=list(db.session.scalars(select(Agency).order_by(Agency.code))),
    )
    rounds.move(current, "open")
    db.session.commit()
    _fill(
        current,
        drift,
        rng,
        statuses=[("accepted", 0.92), ("submitted", 0.03), ("draft", 0.03), ("not_started", 0.02)],
        submitted_between=(dt.date(2026, 1, 12), dt.date(2026, 3, 31)),
        verified_share=0.04,
    )
    current = db.session.merge(current)
    rounds.move(current, "closed")
    db.session.commit()
    return before_id, current.id


def _database(args: argparse.Namespace) -> tuple[str, Path, bool]:
    """The database URL, its instance folder, and whether it must be built."""
    folder = ROOT / "instance" / "bench" / f"league-{args.agencies}"
    folder.mkdir(parents=True, exist_ok=True)
    if args.database_url:
        return args.database_url, folder, True
    path = folder / "assess.db"
    if args.rebuild and path.exists():
        path.unlink()
    return f"sqlite:///{path}", folder, not path.exists()


def main() -> None:
    """Build or reuse the database, then time the league table page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agencies", type=int, default=8000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--database-url", help="an empty database (the schema is created)")
    parser.add_argument("--rebuild", action="store_true", help="build the SQLite file again")
    args = parser.parse_args()
    url, folder, fresh = _database(args)
    app = make_app(url, folder)
    from flask_migrate import upgrade

    from assess.extensions import db
    from assess.models import Response, Round

    with app.app_context():
        if fresh:
            upgrade()
            start = time.perf_counter()
            build(args.agencies)
            print(
                f"built {args.agencies:,} agencies and two rounds in {time.perf_counter() - start:.0f} s"
            )
        round_id = db.session.scalar(select(func.max(Round.id)))
        accepted = db.session.scalar(
            select(func.count()).where(Response.round_id == round_id, Response.status == "accepted")
        )
        client = app.test_client()
        client.post("/login", data={"email": EMAIL, "password": PASSWORD})
        base = f"/central/rounds/{round_id}/results"
        print(f"python {platform.python_version()} on {platform.machine()}, {url.split(':')[0]}")
        print(f"round {round_id}: {accepted:,} accepted responses of {args.agencies:,} agencies")
        start = time.perf_counter()
        reply = client.get(base)
        cold = (time.perf_counter() - start) * 1000
        assert reply.status_code == 200, reply.status_code
        print(f"  cold  {cold:7.1f} ms  {len(reply.data) / 1024:7.1f} KiB   {base}")
        for query in ("", "?sort=service&order=desc", "?page=100", "?type=local&sort=change"):
            timings, size = [], 0
            for _ in range(args.requests):
                start = time.perf_counter()
                reply = client.get(base + query)
                timings.append((time.perf_counter() - start) * 1000)
                assert reply.status_code == 200, reply.status_code
                size = len(reply.data)
            print(
                f"  warm  {statistics.median(timings):7.1f} ms  {size / 1024:7.1f} KiB   "
                f"(median of {args.requests}, max {max(timings):.1f} ms)  {base}{query}"
            )


if __name__ == "__main__":
    main()
