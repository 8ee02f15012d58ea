"""Scorecard downloads, the public verification page and the central office's bulk export.

Who may download one agency's scorecard:

- its own coordinator, once the round's results are visible (preliminary or published),
  with peer figures only once published;
- the central office, for any response of a closed, preliminary or published round, with
  peer figures.

In a round that anonymises other agencies, a scorecard leaves out the figures of groups of
fewer than five agencies whoever downloads it (:func:`assess.scorecards.render.as_issued`).

Everything else is a 404 (a coordinator never learns whether another agency's scorecard
exists). The bulk export is the central office's: it runs as a background job
(:mod:`assess.jobs`), its page polls a JSON status and downloads the archive when done.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from assess import i18n, jobs
from assess.app import current_language
from assess.auth import central_required
from assess.extensions import db
from assess.labels import ROUND_STATUS
from assess.models import Agency, Job, Response, Round, User
from assess.reports import data as cache
from assess.scorecards import bulk, codes, render
from assess.services import agencies, rounds
from assess.services.errors import NotFound, WrongState
from assess.services.questionnaires import questionnaire_of
from assess.services.results import result_of
from assess.thai import format_datetime

bp = Blueprint("scorecards", __name__)
log = logging.getLogger(__name__)


# -- who may have what --------------------------------------------------------------------------


def allowed(user: User, response: Response) -> bool:
    """Whether ``user`` may download ``response``'s scorecard now."""
    round_ = response.round
    if user.is_central:
        return round_.status in bulk.ROUND_STATUSES
    return user.agency_id == response.agency_id and rounds.results_visible(round_)


def peers_visible(user: User, round_: Round) -> bool:
    """Peer figures: the central office always, agencies once the round is published."""
    return bool(user.is_central) or round_.status == "published"


def requested_language() -> str:
    """``?lang=th|en``, else the page's language."""
    wanted = request.args.get("lang")
    return wanted if wanted in render.LANGUAGES else current_language()


def find_response(round_id: int, agency_code: str) -> Response | None:
    """The response of an agency (by code) to a round, if there is one."""
    return db.session.scalar(
        select(Response)
        .join(Agency, Response.agency_id == Agency.id)
        .where(Response.round_id == round_id, Agency.code == agency_code)
    )


def pdf_reply(response: Response, user: User, lang: str) -> Any:
    """The scorecard as a PDF download."""
    result = cache.agency_results(response, peers_visible=peers_visible(user, response.round))
    # Small groups of a round that anonymises peers are left out for every caller, the
    # central office too (render.as_issued): one verification code, one content.
    prepared = render.prepare(result, lang)
    data = render.write_pdf(prepared)
    reply = current_app.response_class(data, mimetype="application/pdf")
    reply.headers["Content-Disposition"] = f'attachment; filename="{prepared.file_name}"'
    # Scores change while a round is preliminary: never a stale copy from a cache.
    reply.headers["Cache-Control"] = "private, no-store"
    return reply


# -- one scorecard ------------------------------------------------------------------------------


@bp.route("/rounds/<int:round_id>/responses/<agency_code>/scorecard.pdf")
@login_required
def download(round_id: int, agency_code: str) -> Any:
    """One agency's scorecard (``?lang=th|en``): its coordinator or the central office."""
    response = find_response(round_id, agency_code)
    if response is None or not allowed(current_user, response):
        if current_user.is_central:
            _why_not(round_id, agency_code, response)
        abort(404)  # an agency's coordinator learns nothing of what exists
    if not bulk.has_scores(response):
        raise NotFound(
            _(
                "%(agency)s never started its response to this round: it has no scores, so no "
                "scorecard.",
                agency=response.agency.code,
            )
        )
    return pdf_reply(response, current_user, requested_language())


def _why_not(round_id: int, agency_code: str, response: Response | None) -> None:
    """Why the central office gets no scorecard of ``agency_code`` in round ``round_id``
    (raises): no such round or agency, an agency not invited, results not out yet."""
    round_ = rounds.get_round(round_id)  # NotFound: "round N: no such round"
    if response is None:
        if agencies.find_agency(agency_code) is None:
            raise NotFound(_("Agency %(code)s: no such agency.", code=agency_code))
        raise NotFound(
            _(
                "agency %(agency)s is not invited to round %(round)s",
                agency=agency_code,
                round=round_id,
            )
        )
    raise WrongState(
        _(
            "Round %(round)s is %(status)s: its scorecards come once it is closed.",
            round=round_id,
            status=i18n.word(round_.status, ROUND_STATUS),
        )
    )


@bp.route("/scorecards/verify")
def verify() -> Any:
    """Public: whether a scorecard's verification code matches the current results."""
    code = (request.args.get("code") or "").strip()[:200]
    response = codes.check(code, current_app.config["SECRET_KEY"]) if code else None
    result = questionnaire = None
    if response is not None:
        result = result_of(response, "verified")
        questionnaire = questionnaire_of(response.questionnaire)
    return render_template(
        "scorecards/verify.html",
        code=code,
        response=response,
        result=result,
        questionnaire=questionnaire,
        well_formed=codes.parse(code) is not None,
    )


# -- the central office's bulk export -------------------------------------------------------------


def _round_or_404(round_id: int) -> Round:
    """The round, or 404."""
    found = db.session.get(Round, round_id)
    if found is None:
        abort(404)
    return found


def _when(moment: dt.datetime | None) -> str | None:
    """A time as the pages write it: "23 ม.ค. 2569 10:42 น." (Bangkok, Buddhist Era)."""
    return format_datetime(moment, current_language()) if moment is not None else None


def job_message(job: Job) -> str:
    """What the page says of a job, in the reader's language."""
    if job.status == "queued":
        return _("Waiting to start…")
    if job.status == "running":
        if not job.total:  # loading the round: the number of scorecards is not known yet
            return _("Preparing…")
        return _("%(done)s of %(total)s scorecards made", done=job.done, total=job.total)
    if job.status == "done":
        return _(
            "%(total)s scorecards made on %(when)s.", total=job.total, when=_when(job.finished_at)
        )
    if job.status == "cancelled":
        return _("The export was cancelled.")
    return _("The export failed: %(error)s", error=jobs.failure_message(job))


def job_state(job: Job | None, round_: Round | None = None) -> dict[str, Any]:
    """A job as the page's script reads it (``round_``: the job's round, to tell whether a
    finished archive is outdated and offer the previous one while a new one is made)."""
    if job is None:
        return {"job": None}
    round_ = round_ or job.round
    done = job.status == "done"
    busy = job.status in jobs.ACTIVE
    state: dict[str, Any] = {
        "job": job.id,
        "status": job.status,
        "done": job.done,
        "total": job.total,
        "lang": job.params.get("lang"),
        "download_url": url_for("scorecards.bulk_download", job_id=job.id) if done else None,
        "error": jobs.failure_message(job) if job.status == "failed" else None,
        "reason": (job.error or jobs.ERROR) if job.status == "failed" else None,
        "message": job_message(job),
        "made_at": _when(job.finished_at) if done else None,
        "outdated": bool(bulk.outdated(job, round_)) if done and round_ is not None else False,
        "cancel_url": None,
        "previous": None,
    }
    if busy and round_ is not None:
        state["cancel_url"] = url_for("scorecards.bulk_cancel", round_id=round_.id)
    if not done and round_ is not None:
        # The last archive made stays on offer until a new one is (jobs.tidy).
        before = jobs.finished(bulk.KIND, round_)
        if before is not None:
            state["previous"] = {
                "job": before.id,
                "lang": before.params.get("lang"),
                "download_url": url_for("scorecards.bulk_download", job_id=before.id),
                "made_at": _when(before.finished_at),
                "outdated": bool(bulk.outdated(before, round_)),
            }
    return state


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _back(round_: Round) -> Any:
    """To the round page's scorecards section."""
    return redirect(url_for("review.round", round_id=round_.id, _anchor="scorecards-bulk"))


def _busy_message(job: Job) -> str:
    """Another language's archive of the round is being made (one at a time)."""
    if job.params.get("lang", "th") == "th":
        return _(
            "A Thai archive of this round is being made: wait for it to finish, or cancel it, "
            "then make the English one."
        )
    return _(
        "An English archive of this round is being made: wait for it to finish, or cancel "
        "it, then make the Thai one."
    )


@bp.route("/central/rounds/<int:round_id>/scorecards", methods=["POST"])
@central_required
def bulk_start(round_id: int) -> Any:
    """Start the round's bulk export (a background job); back to the page, or JSON.

    One export of a round at a time, whatever its language: asked again for the same
    language, the export under way is the answer; for the other, a refusal that says so.
    """
    round_ = _round_or_404(round_id)
    if round_.status not in bulk.ROUND_STATUSES:
        abort(409)
    lang = request.form.get("lang") or request.args.get("lang") or current_language()
    if lang not in render.LANGUAGES:
        abort(400)
    # The job has no request: it prints the address the central office uses now.
    site = current_app.config.get("PUBLIC_URL") or request.host_url
    try:
        job = jobs.submit(bulk.KIND, round_, current_user, {"lang": lang, "site": site})
    except jobs.Busy as busy:
        found = busy.job or jobs.latest(bulk.KIND, round_)
        if found is None or found.params.get("lang", "th") == lang:
            job = found  # the same archive is under way: its progress
        else:
            message = _busy_message(found)
            if _wants_json():
                return jsonify({**job_state(found, round_), "error": message}), 409
            flash(message, "warning")
            return _back(round_)
    except jobs.Unavailable as failed:
        if _wants_json():
            return jsonify({**job_state(failed.job, round_), "error": str(failed)}), 503
        return _back(round_)  # the page shows the failed job and why
    if _wants_json():
        return jsonify(job_state(job, round_)), 202
    return _back(round_)


@bp.route("/central/rounds/<int:round_id>/scorecards/cancel", methods=["POST"])
@central_required
def bulk_cancel(round_id: int) -> Any:
    """Cancel the round's export under way (it stops at its next progress write and removes
    its partial file); back to the page, or JSON. Nothing under way: nothing to do."""
    round_ = _round_or_404(round_id)
    job = jobs.latest(bulk.KIND, round_)
    if job is not None and job.status in jobs.ACTIVE and jobs.cancel(job):
        log.info("job %s (%s): cancelled by user %s", job.id, job.kind, current_user.id)
    if _wants_json():
        return jsonify(job_state(job, round_))
    return _back(round_)


@bp.route("/central/rounds/<int:round_id>/scorecards/status")
@central_required
def bulk_status(round_id: int) -> Any:
    """The round's latest bulk export, as JSON (the page polls it). A job whose process died
    is reported as interrupted (jobs.latest)."""
    round_ = _round_or_404(round_id)
    reply = jsonify(job_state(jobs.latest(bulk.KIND, round_), round_))
    reply.headers["Cache-Control"] = "no-store"
    return reply


@bp.route("/central/scorecards/<int:job_id>.zip")
@central_required
def bulk_download(job_id: int) -> Any:
    """The archive a finished bulk export made (the central office only)."""
    job = db.session.get(Job, job_id)
    if job is None or job.kind != bulk.KIND or job.status != "done" or not job.file_name:
        abort(404)
    path = jobs.exports_folder() / job.file_name
    # The name is ours (bulk.run_job), but a path must still stay in the folder.
    if path.parent != jobs.exports_folder() or not path.is_file():
        abort(404)
    return send_file(
        path,
        mimetype="application/zip",
        as_attachment=True,
        download_name=job.file_name.removeprefix(f"job-{job.id}-"),
    )


@bp.app_context_processor
def _bulk_helpers() -> dict[str, Any]:
    """``scorecard_job(round)`` for the ``scorecards/_bulk.html`` include."""

    def scorecard_job(round_: Round) -> dict[str, Any]:
        """The round's latest bulk export, as :func:`job_state`."""
        return job_state(jobs.latest(bulk.KIND, round_), round_)

    return {"scorecard_job": scorecard_job, "scorecard_statuses": bulk.ROUND_STATUSES}
