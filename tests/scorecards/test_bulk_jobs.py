"""The bulk export's job through what goes wrong: a process that died under it (no
heartbeat), a queue that cannot be reached, two requests at once, another language's archive
under way, Cancel, an archive older than the round's latest changes, the first seconds before
the total is known, a failure's message, the files left behind, migration 0012 on a database
that already holds two jobs under way, and scorecards.js when the status does not answer.

The jobs' slow or failing work is a stand-in for :func:`assess.scorecards.bulk.export`: what
is tested is the job around it (the real export runs in test_routes.py and test_jobs.py).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import sqlite3
import subprocess
import threading
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from assess import jobs
from assess.extensions import db
from assess.models import Job, User, utcnow
from assess.scorecards import bulk
from assess.services import responses
from assess.thai import format_datetime
from tests.scorecards.conftest import Scene

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "assess" / "static" / "js" / "scorecards.js"
JSON = {"Accept": "application/json"}


def _start(client: Any, scene: Scene, lang: str = "th", **kwargs: Any) -> Any:
    return client.post(
        f"/central/rounds/{scene.round.id}/scorecards", data={"lang": lang}, **kwargs
    )


def _status(client: Any, scene: Scene, lang: str = "en") -> dict[str, Any]:
    reply = client.get(f"/central/rounds/{scene.round.id}/scorecards/status?lang={lang}")
    assert reply.status_code == 200
    return dict(reply.get_json())


def _cancel(client: Any, scene: Scene) -> Any:
    return client.post(f"/central/rounds/{scene.round.id}/scorecards/cancel", headers=JSON)


def _page(client: Any, scene: Scene, lang: str = "en") -> str:
    reply = client.get(f"/central/rounds/{scene.round.id}?lang={lang}")
    assert reply.status_code == 200
    return str(reply.get_data(as_text=True))


def _tag(html: str, marker: str) -> str:
    """The opening tag of the element marked with attribute ``marker``."""
    at = html.index(marker)
    return html[html.rindex("<", 0, at) : html.index(">", at) + 1]


def _job(round_id: int, status: str, lang: str = "th", **fields: Any) -> Job:
    """A job row as a process left it (none runs it)."""
    job = Job(
        kind=bulk.KIND,
        round_id=round_id,
        params={"lang": lang},
        status=status,
        done=fields.pop("done", 0),
        total=fields.pop("total", 0),
        error="",
        **fields,
    )
    db.session.add(job)
    db.session.commit()
    return job


def _ago(minutes: float) -> dt.datetime:
    return utcnow() - dt.timedelta(minutes=minutes)


def _row(job_id: int) -> Job:
    db.session.expire_all()
    found = db.session.get(Job, job_id)
    assert found is not None
    return found


def _active(scene: Scene) -> int:
    db.session.expire_all()
    return int(
        db.session.scalar(
            select(func.count(Job.id)).where(
                Job.round_id == scene.round.id, Job.status.in_(("queued", "running"))
            )
        )
    )


def _wait(job_id: int, statuses: tuple[str, ...] = ("done", "failed", "cancelled")) -> Job:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = _row(job_id)
        if job.status in statuses:
            return job
        time.sleep(0.05)
    pytest.fail(f"job {job_id} still {_row(job_id).status}")


@pytest.fixture
def no_worker(app):  # type: ignore[no-untyped-def]
    """Jobs are queued (instance/jobs.db) and nothing takes them."""
    app.config["JOBS_EMBEDDED_WORKER"] = False
    return jobs.init_app(app)


@pytest.fixture
def embedded(app):  # type: ignore[no-untyped-def]
    """The embedded queue and its consumer thread, stopped at the end."""
    app.config["SCORECARD_PROCESSES"] = 1
    queue = jobs.init_app(app)
    assert queue.embedded
    yield queue
    queue.stop()


@pytest.fixture
def reviewer(client, auth, scene):  # type: ignore[no-untyped-def]
    """The reviewer, reading English (the messages below are the English ones)."""
    user = db.session.scalar(select(User).filter_by(email="r@example.go.th"))
    user.language = "en"
    db.session.commit()
    auth.login("r@example.go.th")
    return client


class Stand:
    """A stand-in for bulk.export: writes its partial file, then ``steps`` progress writes
    ``pause`` seconds apart; ``fail`` raises instead; ``seen`` records the exports folder's
    files as it starts."""

    def __init__(self, steps: int = 3, pause: float = 0.0, fail: Exception | None = None):
        self.steps, self.pause, self.fail = steps, pause, fail
        self.seen: list[str] = []
        self.started = threading.Event()

    def __call__(self, round_: Any, target: Path, **options: Any) -> int:
        self.seen = sorted(p.name for p in target.parent.iterdir())
        target.write_bytes(b"PK partial")
        self.started.set()
        if self.fail is not None:
            raise self.fail
        progress = options["progress"]
        progress(0, self.steps)
        for step in range(1, self.steps + 1):
            time.sleep(self.pause)
            progress(step, self.steps)
        with zipfile.ZipFile(target, "w") as archive:
            archive.writestr("x.pdf", b"%PDF-")
        return self.steps


@pytest.fixture
def stand(monkeypatch):  # type: ignore[no-untyped-def]
    def use(**options: Any) -> Stand:
        made = Stand(**options)
        monkeypatch.setattr(bulk, "export", made)
        monkeypatch.setattr(jobs, "PROGRESS_EVERY", 0.0)
        return made

    return use


# -- 1. a job interrupted by a restart -----------------------------------------------------------


def test_a_running_job_without_heartbeat_is_interrupted_and_a_new_one_starts(
    reviewer, scene, no_worker
):
    dead = _job(scene.round.id, "running", started_at=_ago(10), done=3, total=5)
    state = _status(reviewer, scene)
    assert state["status"] == "failed"
    assert state["reason"] == "interrupted"
    assert state["message"] == (
        "The export failed: interrupted (the server stopped while it ran) — start again"
    )
    assert state["cancel_url"] is None
    assert _row(dead.id).status == "failed"  # recorded, not only shown
    assert _row(dead.id).error == jobs.INTERRUPTED
    html = _page(reviewer, scene)
    assert "interrupted (the server stopped while it ran)" in html
    assert "disabled" not in _tag(html, "data-start")  # the button starts a new one
    reply = _start(reviewer, scene, headers=JSON)
    assert reply.status_code == 202
    assert reply.get_json()["job"] != dead.id
    assert reply.get_json()["status"] == "queued"


def test_a_running_job_with_a_heartbeat_goes_on(reviewer, scene, no_worker):
    alive = _job(
        scene.round.id, "running", started_at=_ago(30), progress_at=_ago(0.2), done=3, total=5
    )
    assert _status(reviewer, scene)["status"] == "running"
    reply = _start(reviewer, scene, headers=JSON)
    assert reply.status_code == 202
    assert reply.get_json()["job"] == alive.id  # one at a time
    assert _active(scene) == 1


def test_a_queued_job_no_worker_takes_is_given_up_unless_workers_are_busy(
    reviewer, scene, no_worker
):
    waiting = _job(scene.round.id, "queued", created_at=_ago(2))
    assert _status(reviewer, scene)["status"] == "queued"  # waits a while
    waiting.created_at = _ago(30)
    # Another round's export runs (the workers are busy): this one waits its turn.
    busy = _job(scene.previous.id, "running", started_at=_ago(1), progress_at=utcnow())
    assert _status(reviewer, scene)["status"] == "queued"
    busy.progress_at = _ago(5)  # that one died too
    db.session.commit()
    state = _status(reviewer, scene)
    assert state["status"] == "failed"
    assert state["reason"] == "not_taken"
    assert "no background worker took it" in state["message"]
    assert _row(waiting.id).status == "failed"


def test_on_the_embedded_queue_a_job_lost_from_its_file_is_given_up(
    reviewer, scene, embedded, monkeypatch
):
    monkeypatch.setattr(jobs, "CONSUMER_SETTLED", 0.0)
    lost = _job(scene.round.id, "queued", created_at=_ago(5))  # never in jobs.db
    assert _status(reviewer, scene)["status"] == "failed"
    assert _row(lost.id).error == jobs.NOT_TAKEN


def test_an_unreachable_queue_fails_the_job_with_a_message(app, reviewer, scene, caplog):
    app.config.update(
        REDIS_URL="redis://127.0.0.1:6399/15", JOBS_QUEUE=f"assess-test-{uuid.uuid4().hex[:8]}"
    )
    with caplog.at_level(logging.ERROR, logger="assess.jobs"):
        reply = _start(reviewer, scene, headers=JSON)
    assert reply.status_code == 503
    body = reply.get_json()
    assert body["error"].startswith("background jobs are unavailable")
    assert body["status"] == "failed"
    assert "could not be queued" in caplog.text
    assert _row(body["job"]).status == "failed"
    assert _row(body["job"]).error == jobs.UNAVAILABLE
    # The page says why; the button starts another.
    assert "background jobs are unavailable" in _status(reviewer, scene)["message"]
    assert _start(reviewer, scene).status_code == 302


# -- 2. one at a time, in either language ---------------------------------------------------------


def test_two_requests_checking_at_once_start_one_job(reviewer, scene, no_worker, monkeypatch):
    first = _job(scene.round.id, "queued", created_at=utcnow())
    # The other request inserted its job after this one looked.
    monkeypatch.setattr(jobs, "latest", lambda kind, round_: None)
    reply = _start(reviewer, scene, headers=JSON)
    assert reply.status_code == 202
    assert reply.get_json()["job"] == first.id
    assert _active(scene) == 1


def test_two_requests_at_once_start_one_job(app, auth, scene, no_worker, monkeypatch):
    """Two central office users press the button together (on each backend)."""
    clients = [app.test_client(), app.test_client()]
    for client in clients:
        client.post(
            "/login", data={"email": "r@example.go.th", "password": "correct horse battery"}
        )
    real = jobs.latest
    barrier = threading.Barrier(2, timeout=20)
    local = threading.local()

    def together(kind: str, round_: Any) -> Job | None:
        found = real(kind, round_)
        if not getattr(local, "waited", False):
            local.waited = True
            barrier.wait()  # both have looked before either inserts
        return found

    monkeypatch.setattr(jobs, "latest", together)
    replies: list[Any] = [None, None]

    def press(i: int) -> None:
        with app.app_context():
            replies[i] = _start(clients[i], scene, headers=JSON)

    threads = [threading.Thread(target=press, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [r.status_code for r in replies] == [202, 202]
    assert replies[0].get_json()["job"] == replies[1].get_json()["job"]
    assert _active(scene) == 1


def test_asking_for_english_while_thai_is_made_says_so(reviewer, scene, no_worker):
    thai = _job(scene.round.id, "running", started_at=utcnow(), progress_at=utcnow(), total=5)
    reply = _start(reviewer, scene, lang="en", headers=JSON)
    assert reply.status_code == 409
    body = reply.get_json()
    assert body["job"] == thai.id
    assert body["error"] == (
        "A Thai archive of this round is being made: wait for it to finish, or cancel it, "
        "then make the English one."
    )
    page = _start(reviewer, scene, lang="en", follow_redirects=True, query_string={"lang": "en"})
    assert "A Thai archive of this round is being made" in page.get_data(as_text=True)
    assert _active(scene) == 1
    # The same language: the archive under way, as before.
    same = _start(reviewer, scene, lang="th", headers=JSON)
    assert (same.status_code, same.get_json()["job"]) == (202, thai.id)


# -- Cancel ---------------------------------------------------------------------------------------


def test_cancel_stops_a_running_job_and_removes_its_partial_file(
    app, reviewer, scene, embedded, stand
):
    slow = stand(steps=200, pause=0.05)
    job_id = _start(reviewer, scene, headers=JSON).get_json()["job"]
    assert slow.started.wait(30)
    _wait(job_id, ("running",))
    folder = jobs.exports_folder(app)
    assert [p.name for p in folder.glob(f"job-{job_id}-*.part")]
    assert _status(reviewer, scene)["cancel_url"].endswith("/scorecards/cancel")
    html = _page(reviewer, scene)
    assert f"/central/rounds/{scene.round.id}/scorecards/cancel" in html
    reply = _cancel(reviewer, scene)
    assert reply.status_code == 200
    assert reply.get_json()["status"] == "cancelled"
    assert reply.get_json()["message"] == "The export was cancelled."
    deadline = time.monotonic() + 10
    while list(folder.glob(f"job-{job_id}-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(folder.glob(f"job-{job_id}-*")) == []  # no partial file, no archive
    embedded.stop()  # the job's thread has ended
    job = _row(job_id)
    assert (job.status, job.file_name) == ("cancelled", None)
    assert job.done < 200


def test_cancel_a_queued_job(reviewer, scene, no_worker):
    job_id = _start(reviewer, scene, headers=JSON).get_json()["job"]
    assert _cancel(reviewer, scene).get_json()["status"] == "cancelled"
    jobs.run(job_id)  # its task, delivered later, does nothing
    assert _row(job_id).status == "cancelled"
    # Nothing under way: nothing to cancel, and a new export may start.
    assert _cancel(reviewer, scene).get_json()["status"] == "cancelled"
    assert _start(reviewer, scene, headers=JSON).get_json()["job"] != job_id


def test_cancel_is_the_central_offices(client, auth, scene, no_worker):
    _job(scene.round.id, "queued", created_at=utcnow())
    auth.login("a@example.go.th")
    assert _cancel(client, scene).status_code == 403
    assert _active(scene) == 1


# -- 3. when the archive was made, and whether it is outdated ---------------------------------------


def test_a_finished_archive_says_when_it_was_made_and_when_it_is_outdated(
    reviewer, scene, embedded, stand
):
    stand(steps=5)
    job_id = _start(reviewer, scene, headers=JSON).get_json()["job"]
    job = _wait(job_id)
    assert job.status == "done"
    state = _status(reviewer, scene, lang="th")
    made = format_datetime(job.finished_at, "th")
    assert made.endswith(" น.")
    assert state["made_at"] == made
    assert made in state["message"]
    assert state["outdated"] is False
    html = _page(reviewer, scene, lang="th")
    assert made in html
    assert "d-none" in _tag(html, "data-outdated")
    # A reviewer changes a verified value: the archive holds the old scores.
    responses.verify(scene.response, scene.reviewer, scene.question.code, True, "evidence found")
    db.session.commit()
    state = _status(reviewer, scene)
    assert state["outdated"] is True
    assert state["download_url"]  # still there, said to be outdated
    html = _page(reviewer, scene)
    assert "d-none" not in _tag(html, "data-outdated")
    assert "Made before the latest changes to the round's results or statuses" in html


def test_the_previous_archive_stays_on_offer_while_a_new_one_is_made(reviewer, scene, no_worker):
    from flask import current_app

    done = _job(scene.round.id, "done", finished_at=_ago(60), total=5)
    done.file_name = f"job-{done.id}-old.zip"
    db.session.commit()
    (jobs.exports_folder(current_app) / done.file_name).write_bytes(b"PK")
    _job(scene.round.id, "running", started_at=utcnow(), progress_at=utcnow(), total=5)
    previous = _status(reviewer, scene)["previous"]
    assert previous["download_url"].endswith(f"/central/scorecards/{done.id}.zip")
    assert previous["made_at"] == format_datetime(done.finished_at, "en")
    assert previous["outdated"] is False  # made before this was recorded: not said


# -- 4. the first seconds ---------------------------------------------------------------------------


def test_a_job_that_has_not_counted_its_scorecards_is_preparing(reviewer, scene, no_worker):
    _job(scene.round.id, "running", started_at=utcnow(), progress_at=utcnow())
    assert _status(reviewer, scene)["message"] == "Preparing…"
    html = _page(reviewer, scene)
    assert "Preparing…" in html
    assert "0 of 0" not in html


# -- 5. a failure's message -------------------------------------------------------------------------


def test_a_failed_job_says_so_in_the_pages_language_and_logs_the_details(
    reviewer, scene, embedded, stand, caplog
):
    stand(fail=FileExistsError(17, "File exists", "/srv/secret-place/exports"))
    with caplog.at_level(logging.ERROR, logger="assess.jobs"):
        job_id = _start(reviewer, scene, headers=JSON).get_json()["job"]
        job = _wait(job_id)
    assert (job.status, job.error) == ("failed", jobs.ERROR)
    assert "/srv/secret-place/exports" in caplog.text  # the details: in the log
    state = _status(reviewer, scene, lang="th")
    assert state["message"].startswith("การสร้างบัตรคะแนนล้มเหลว: ")
    for shown in (json.dumps(state, ensure_ascii=False), _page(reviewer, scene, lang="th")):
        assert "secret-place" not in shown
        assert "Errno" not in shown
    assert not list(jobs.exports_folder().glob(f"job-{job_id}-*"))  # its partial file too


# -- the files left behind, and the heartbeat -------------------------------------------------------


def test_a_new_job_removes_superseded_archives_and_dead_partial_files(
    app, reviewer, scene, embedded, stand
):
    folder = jobs.exports_folder(app)
    older = _job(scene.round.id, "done", finished_at=_ago(90), total=5)
    latest = _job(scene.round.id, "done", finished_at=_ago(60), total=5)
    dead = _job(scene.round.id, "failed")
    other = _job(scene.previous.id, "running", started_at=utcnow(), progress_at=utcnow())
    for job, name in ((older, "a.zip"), (latest, "b.zip")):
        job.file_name = f"job-{job.id}-{name}"
        (folder / job.file_name).write_bytes(b"PK")
    db.session.commit()
    (folder / f"job-{dead.id}-c.zip.part").write_bytes(b"PK")
    (folder / f"job-{other.id}-d.zip.part").write_bytes(b"PK")  # still being written
    made = stand(steps=2)
    job = _wait(_start(reviewer, scene, headers=JSON).get_json()["job"])
    assert job.status == "done"
    # As it started: the latest archive kept until the new one is made.
    assert made.seen == sorted([latest.file_name, f"job-{other.id}-d.zip.part"])
    # The worker tidies right after it marks the job done: give it the moment it takes.
    wanted = sorted([job.file_name, f"job-{other.id}-d.zip.part"])
    deadline = time.monotonic() + 10
    while sorted(p.name for p in folder.iterdir()) != wanted and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sorted(p.name for p in folder.iterdir()) == wanted


def test_a_running_job_writes_its_heartbeat_between_progress_writes(
    app, reviewer, scene, embedded, monkeypatch
):
    monkeypatch.setattr(jobs, "HEARTBEAT_EVERY", 0.05)
    beats: list[Any] = []

    def quiet(round_: Any, target: Path, **options: Any) -> int:
        """A long step that writes no progress (loading a big round)."""
        with db.engine.connect() as conn:
            first = conn.scalar(select(Job.progress_at))
            time.sleep(0.5)
            beats.extend([first, conn.scalar(select(Job.progress_at))])
        options["progress"](0, 0)
        target.write_bytes(b"PK")
        return 0

    monkeypatch.setattr(bulk, "export", quiet)
    job = _wait(_start(reviewer, scene, headers=JSON).get_json()["job"])
    assert job.status == "done"
    assert beats[0] is not None  # written as it started
    assert beats[1] > beats[0]  # and again while it wrote no progress


# -- migration 0012 on a database that holds two jobs under way -------------------------------------


def test_the_migration_keeps_the_newest_job_under_way(tmp_path):
    from flask_migrate import upgrade

    from tests.conftest import make_app

    url = f"sqlite:///{tmp_path / 'old.db'}"
    app = make_app(tmp_path, url)
    with app.app_context():
        upgrade(revision="0011")
        db.engine.dispose()
    plain = sqlite3.connect(tmp_path / "old.db")  # no foreign keys: the rounds are not needed
    for status in ("running", "queued", "queued"):
        plain.execute(
            "INSERT INTO job (kind, round_id, params, status, done, total, error, created_at) "
            "VALUES ('scorecards', 7, '{}', ?, 0, 0, '', '2026-01-01 00:00:00.000000')",
            (status,),
        )
    plain.commit()
    plain.close()
    with app.app_context():
        upgrade()
        rows = db.session.execute(select(Job.id, Job.status, Job.error).order_by(Job.id)).all()
        db.session.remove()
        db.engine.dispose()
    assert [tuple(r) for r in rows] == [
        (1, "failed", "interrupted"),
        (2, "failed", "interrupted"),
        (3, "queued", ""),
    ]


# -- 6. scorecards.js when the status does not answer ------------------------------------------------

HARNESS = r"""
const fs = require("fs");
function element(attrs) {
  const classes = new Set((attrs && attrs.class || "").split(" ").filter(Boolean));
  return {
    attrs: Object.assign({}, attrs || {}), textContent: "", style: {}, disabled: false, href: "",
    classList: {
      add: (c) => classes.add(c), remove: (c) => classes.delete(c),
      contains: (c) => classes.has(c),
      toggle: (c, on) => { if (on === undefined) on = !classes.has(c);
                           on ? classes.add(c) : classes.delete(c); return on; },
    },
    getAttribute(name) { return name in this.attrs ? this.attrs[name] : null; },
    setAttribute(name, value) { this.attrs[name] = String(value); },
    hidden() { return classes.has("d-none"); },
  };
}
const parts = {
  ".progress-bar": element(), "[role=progressbar]": element(),
  "[data-progress-area]": element({class: "d-none"}), "[data-message]": element(),
  "[data-outdated]": element({class: "d-none"}), "[data-poll-error]": element({class: "d-none"}),
  "[data-download]": element({class: "d-none"}), "[data-previous]": element({class: "d-none"}),
  "[data-previous-link]": element(), "[data-previous-outdated]": element({class: "d-none"}),
  "[data-start]": element(), "[data-cancel-form]": element(),
  "[data-messages]": element({
    "data-previous": "Download the previous archive (made %(when)s)",
    "data-poll-error": "No progress (%(status)s); again in %(seconds)s s",
  }),
};
const box = element({"data-status-url": "/status", "data-state": "running"});
box.querySelector = (selector) => parts[selector] || null;
global.document = { getElementById: (id) => (id === "scorecards-bulk" ? box : null) };
const timers = [];
global.window = { setTimeout: (fn, ms) => timers.push([fn, ms]) };
const replies = JSON.parse(process.argv[3]);
let asked = 0;
global.fetch = () => {
  const reply = replies[Math.min(asked++, replies.length - 1)];
  return Promise.resolve({ ok: reply.ok, status: reply.status,
                           json: () => Promise.resolve(reply.body) });
};
const seen = [];
function look() {
  seen.push({ asked, delays: timers.map((t) => t[1]),
              error: parts["[data-poll-error]"].textContent,
              errorShown: !parts["[data-poll-error]"].hidden(),
              message: parts["[data-message]"].textContent });
}
const settle = () => new Promise((done) => setTimeout(done, 10));
(async () => {
  eval(fs.readFileSync(process.argv[2], "utf8"));
  for (let i = 0; i < replies.length; i++) {
    await settle();
    look();
    const next = timers.shift();
    if (!next) break;
    next[0]();
  }
  console.log(JSON.stringify(seen));
})();
"""


def test_the_script_says_when_the_status_does_not_answer_and_tries_again(tmp_path):
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        pytest.skip("Node.js is not installed")
    harness = tmp_path / "harness.js"
    harness.write_text(HARNESS)
    running = {"job": 1, "status": "running", "done": 2, "total": 5, "message": "2 of 5"}
    replies = [
        {"ok": False, "status": 502, "body": None},
        {"ok": False, "status": 502, "body": None},
        {"ok": True, "status": 200, "body": running},
    ]
    done = subprocess.run(
        [node, str(harness), str(SCRIPT), json.dumps(replies)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    first, second, third = json.loads(done.stdout)
    assert first["errorShown"]
    assert first["error"] == "No progress (HTTP 502); again in 2 s"
    assert first["delays"] == [2000]  # tried again, later
    assert second["error"] == "No progress (HTTP 502); again in 4 s"
    assert second["delays"] == [4000]
    assert not third["errorShown"]  # answered: the error goes, polling goes on as usual
    assert third["message"] == "2 of 5"
    assert third["delays"] == [1500]


def test_an_archive_of_a_round_not_yet_out_is_outdated_by_an_agency_edit(
    reviewer, scene, embedded, stand
):
    """Its scorecards name the agency and compare it by type: an edit of the agency list
    outdates them (a round whose results are out keeps its records, so does not move)."""
    from assess.models import Agency, Response

    stand(steps=2)
    job = _wait(_start(reviewer, scene, headers=JSON).get_json()["job"])
    assert job.status == "done"
    assert _status(reviewer, scene)["outdated"] is False
    agency = db.session.get(Agency, db.session.get(Response, scene.response.id).agency_id)
    agency.name_en = "A new name"
    db.session.commit()
    assert _status(reviewer, scene)["outdated"] is True
