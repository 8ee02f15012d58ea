"""Central office registers: agencies (import, edit), users (admin only), questionnaire
versions (import, readable rendering, diff between versions)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from flask import Response as HttpResponse
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user
from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased, selectinload
from werkzeug.wrappers import Response as WerkzeugResponse

from assess import i18n, labels, provinces, search
from assess.admin import bp
from assess.admin.forms import (
    AgencyForm,
    AgencyImportForm,
    QuestionnaireImportForm,
    UserEditForm,
    UserForm,
    UserImportForm,
)
from assess.app import current_language
from assess.auth import admin_required, central_required, sessions
from assess.extensions import db
from assess.labels import ROLE
from assess.models import (
    ADMIN,
    AGENCY_TYPES,
    COORDINATOR,
    ROLES,
    Agency,
    QuestionnaireVersion,
    Response,
    Round,
    User,
)
from assess.questionnaires.diff import diff as questionnaire_diff_of
from assess.questionnaires.model import BandScoring, LinearScoring
from assess.review.routes import csv_response, flash_problems, iso_local, paginate
from assess.services import agencies as agency_service
from assess.services import audit, questionnaires, users
from assess.services.errors import ServiceError
from assess.services.questionnaires import questionnaire_of

PER_PAGE = 50


def _upload_name(storage: Any, default: str) -> str:
    """The uploaded file's own name, without any folder (for messages only)."""
    return Path(getattr(storage, "filename", "") or default).name or default


# -- agencies ---------------------------------------------------------------------------------


def _tag_index() -> dict[int, list[str]]:
    return {
        ident: list(tags or [])
        for ident, tags in db.session.execute(select(Agency.id, Agency.tags))
    }


def _agency_query(tags_by_id: dict[int, list[str]]) -> Select[tuple[Agency]]:
    """The agencies as the page's filters choose them, with their parents."""
    return _filtered(select(Agency).options(selectinload(Agency.parent)), tags_by_id)


def _filtered(query: Select[Any], tags_by_id: dict[int, list[str]] | None = None) -> Select[Any]:
    """``query`` (of agencies) as the page's filters choose them, by code; ``tags_by_id``
    (:func:`_tag_index`) is read when a tag is asked for and not given."""
    args = request.args
    query = query.order_by(Agency.code).where(*search.agency_words(args.get("q")))
    kind = args.get("type", "")
    if kind in AGENCY_TYPES:
        query = query.where(Agency.type == kind)
    province = args.get("province", "").strip()
    if province:
        query = query.where(Agency.province.in_(provinces.spellings(province)))
    tag = args.get("tag", "").strip()
    if tag:
        # Tags are a JSON list; matching them in Python works the same on every database.
        tagged = tags_by_id if tags_by_id is not None else _tag_index()
        query = query.where(Agency.id.in_([i for i, tags in tagged.items() if tag in tags]))
    active = args.get("active", "")
    if active in ("1", "0"):
        query = query.where(Agency.active.is_(active == "1"))
    parent = args.get("parent", "").strip()
    if parent:
        parent_row = agency_service.find_agency(parent)
        query = query.where(Agency.parent_id == (parent_row.id if parent_row else -1))
    return query


def _agencies_page(
    import_form: AgencyImportForm, problems: list[str] | None = None, status: int = 200
) -> tuple[str, int]:
    tags_by_id = _tag_index()
    page = paginate(_agency_query(tags_by_id), per_page=PER_PAGE)
    provinces = db.session.scalars(
        select(Agency.province).where(Agency.province != "").distinct().order_by(Agency.province)
    ).all()
    return render_template(
        "admin/agencies.html",
        page=page,
        provinces=provinces,
        all_tags=sorted({t for tags in tags_by_id.values() for t in tags}),
        import_form=import_form,
        problems=problems or [],
    ), status


@bp.route("/agencies")
@central_required
def agencies() -> str | HttpResponse | tuple[str, int]:
    if request.args.get("format") == "csv":
        # The import's own columns, so an edited export can be imported back; plain columns
        # in one query (8,000 agencies as ORM objects with their parents took 0.5 s).
        parent = aliased(Agency)
        found = db.session.execute(
            _filtered(
                select(
                    Agency.code,
                    Agency.name_th,
                    Agency.name_en,
                    Agency.type,
                    parent.code,
                    Agency.province,
                    Agency.tags,
                ).outerjoin(parent, Agency.parent_id == parent.id)
            )
        )
        rows: list[list[Any]] = [list(agency_service.COLUMNS)]
        for *record, parent_code, province, tags in found:
            rows.append([*record, parent_code or "", province, "|".join(tags or [])])
        return csv_response(rows, "agencies.csv")
    return _agencies_page(AgencyImportForm(formdata=None))


#: Notes on an imported file shown on the next page (the command line prints them all).
NOTES_SHOWN = 5


@bp.route("/agencies/import", methods=["POST"])
@central_required
def import_agencies() -> WerkzeugResponse | tuple[str, int]:
    form = AgencyImportForm()
    if not form.validate_on_submit():
        problems = [e for errors in form.errors.values() for e in errors]
        return _agencies_page(form, [str(p) for p in problems], 422)
    filename = _upload_name(form.file.data, "agencies.csv")
    try:
        done = agency_service.import_csv(form.file.data.read(), filename)
        audit.record(
            "agency.import",
            current_user,
            new={"created": done.created, "updated": done.updated, "unchanged": done.unchanged},
            detail=filename,
        )
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        return _agencies_page(form, exc.problems, 422)
    flash(
        ngettext(
            "%(file)s imported: %(num)d agency created, %(updated)d updated, "
            "%(unchanged)d unchanged.",
            "%(file)s imported: %(num)d agencies created, %(updated)d updated, "
            "%(unchanged)d unchanged.",
            done.created,
            file=filename,
            updated=done.updated,
            unchanged=done.unchanged,
        ),
        "success",
    )
    # A few notes (they ride in the session cookie to the next page), then how many more.
    for note in done.notes[:NOTES_SHOWN]:
        flash(note, "warning")
    if len(done.notes) > NOTES_SHOWN:
        more = len(done.notes) - NOTES_SHOWN
        flash(ngettext("… and %(num)d more note", "… and %(num)d more notes", more), "warning")
    return redirect(url_for(".agencies"))


def _agency_fields(form: AgencyForm, problems: list[str]) -> dict[str, Any]:
    """The edited fields of an agency, as ``update_agency`` takes them."""
    parent_id = None
    parent_code = (form.parent_code.data or "").strip()
    if parent_code:
        parent = agency_service.find_agency(parent_code)
        if parent is None:
            problems.append(_("Parent agency %(code)s: no such agency.", code=parent_code))
        else:
            parent_id = parent.id
    tags = list(dict.fromkeys(t.strip() for t in (form.tags.data or "").split("|") if t.strip()))
    problems += [
        _("Tag %(tag)s: use letters, digits, '.', '_' or '-' only.", tag=t)
        for t in tags
        if not agency_service.is_tag(t)
    ]
    return {
        "name_th": (form.name_th.data or "").strip(),
        "name_en": (form.name_en.data or "").strip(),
        "type": form.type.data,
        "parent_id": parent_id,
        "province": form.province.data or "",
        "tags": tags,
        "active": bool(form.active.data),
    }


def _flash_province_note(code: str, province: str) -> None:
    """A warning when the saved province names none of Thailand's 77 (kept as typed)."""
    note = agency_service.province_note(province)
    if note:
        flash(_("Agency %(code)s: %(note)s", code=code, note=note), "warning")


def _snapshot(agency: Agency) -> dict[str, Any]:
    return {
        "name_th": agency.name_th,
        "name_en": agency.name_en,
        "type": agency.type,
        "parent": agency.parent.code if agency.parent else None,
        "province": agency.province,
        "tags": list(agency.tags or []),
        "active": agency.active,
    }


@bp.route("/agencies/new", methods=["GET", "POST"])
@central_required
def new_agency() -> str | WerkzeugResponse | tuple[str, int]:
    form = AgencyForm()
    if form.validate_on_submit():
        problems: list[str] = []
        code = (form.code.data or "").strip()
        if not agency_service.CODE.match(code):
            problems.append(
                _("Code %(code)s: use letters, digits, '.', '_' and '-' only.", code=code)
            )
        elif agency_service.find_agency(code) is not None:
            problems.append(_("An agency with code %(code)s already exists.", code=code))
        fields = _agency_fields(form, problems)
        if not problems:
            try:
                agency = Agency(code=code, tags=[])
                db.session.add(agency)
                agency_service.update_agency(agency, **fields)
                audit.record("agency.create", current_user, new=_snapshot(agency), detail=code)
                db.session.commit()
            except ServiceError as exc:
                db.session.rollback()
                problems = exc.problems
            else:
                flash(_("Agency %(code)s created.", code=code), "success")
                _flash_province_note(code, fields["province"])
                return redirect(url_for(".agency", code=code))
        flash_problems(problems)
        return render_template("admin/agency.html", form=form, agency=None), 422
    status = 422 if form.errors else 200
    return render_template("admin/agency.html", form=form, agency=None), status


@bp.route("/agencies/<code>", methods=["GET", "POST"])
@central_required
def agency(code: str) -> str | WerkzeugResponse | tuple[str, int]:
    found = agency_service.find_agency(code)
    if found is None:
        abort(404)
    if request.method == "GET":
        form = AgencyForm(
            formdata=None,
            code=found.code,
            name_th=found.name_th,
            name_en=found.name_en,
            type=found.type,
            parent_code=found.parent.code if found.parent else "",
            province=provinces.label(found.province, current_language()),
            tags="|".join(found.tags or []),
            active=found.active,
        )
    else:
        form = AgencyForm()
    del form.code  # the code identifies the agency; it is not edited here
    status = 200
    if form.validate_on_submit():
        problems: list[str] = []
        fields = _agency_fields(form, problems)
        if not problems:
            before = _snapshot(found)
            try:
                agency_service.update_agency(found, **fields)
                db.session.refresh(found, ["parent"])
                audit.record(
                    "agency.update", current_user, old=before, new=_snapshot(found), detail=code
                )
                db.session.commit()
            except ServiceError as exc:
                db.session.rollback()
                problems = exc.problems
            else:
                flash(_("Agency %(code)s saved.", code=code), "success")
                _flash_province_note(code, fields["province"])
                return redirect(url_for(".agency", code=code))
        flash_problems(problems)
        status = 422
    elif form.errors:
        status = 422
    coordinators = db.session.scalars(
        select(User).where(User.agency_id == found.id).order_by(User.email)
    ).all()
    invited = db.session.scalars(
        select(Response)
        .where(Response.agency_id == found.id)
        .options(selectinload(Response.round))
        .join(Round, Response.round_id == Round.id)
        .order_by(Round.fiscal_year.desc(), Round.id.desc())
    ).all()
    children = db.session.scalars(
        select(Agency).where(Agency.parent_id == found.id).order_by(Agency.code)
    ).all()
    return render_template(
        "admin/agency.html",
        form=form,
        agency=found,
        coordinators=coordinators,
        invited=invited,
        children=children,
    ), status


# -- users (admins only) ----------------------------------------------------------------------


def _user_query() -> Select[tuple[User]]:
    args = request.args
    query = select(User).options(selectinload(User.agency)).order_by(User.email)
    # Each word in the e-mail, the name, or the code or a name of the user's agency.
    query = query.where(
        *search.each_word(
            args.get("q"),
            [User.email, User.name],
            lambda word: [
                User.agency_id.in_(
                    select(Agency.id).where(*search.agency_words(word, province=False))
                )
            ],
        )
    )
    role = args.get("role", "")
    if role in ROLES:
        query = query.where(User.role == role)
    active = args.get("active", "")
    if active in ("1", "0"):
        query = query.where(User.active.is_(active == "1"))
    code = search.normalise(args.get("agency"))
    if code:
        query = query.join(Agency, User.agency_id == Agency.id).where(
            Agency.code.icontains(code, autoescape=True)
        )
    return query


@bp.route("/users", endpoint="users")
@admin_required
def users_list() -> HttpResponse | tuple[str, int]:
    if request.args.get("format") == "csv":
        rows: list[list[Any]] = [
            ["email", "name", "role", "agency", "active", "last_login", "created"]
        ]
        rows += [
            [
                u.email,
                u.name,
                u.role,
                u.agency.code if u.agency else "",
                "yes" if u.active else "no",
                iso_local(u.last_login_at),
                iso_local(u.created_at),
            ]
            for u in db.session.scalars(_user_query())
        ]
        return csv_response(rows, "users.csv")
    return _users_page(UserImportForm(formdata=None))


def _users_page(
    import_form: UserImportForm, problems: list[str] | None = None, status: int = 200
) -> tuple[str, int]:
    page = paginate(_user_query(), per_page=PER_PAGE)
    return render_template(
        "admin/users.html",
        page=page,
        roles=ROLES,
        import_form=import_form,
        problems=problems or [],
        import_limit=WEB_USER_IMPORT,
    ), status


#: The most users one upload creates on the web: their passwords are hashed while the
#: request waits (scrypt, some 80 ms each on a core). More: several files, or the command
#: line (``assess user import``).
WEB_USER_IMPORT = 100


@bp.route("/users/import", methods=["POST"])
@admin_required
def import_users() -> HttpResponse | tuple[str, int]:
    """Create the users of a CSV file, each with a generated password, shown once on the
    page that answers (never stored in clear, never sent again)."""
    form = UserImportForm()
    if not form.validate_on_submit():
        problems = [str(e) for errors in form.errors.values() for e in errors]
        return _users_page(form, problems, 422)
    filename = _upload_name(form.file.data, "users.csv")
    try:
        done = users.import_users(
            form.file.data.read(), filename, most=WEB_USER_IMPORT, actor=current_user
        )
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        return _users_page(form, exc.problems, 422)
    made = {
        u.email: u
        for u in db.session.scalars(
            select(User)
            .where(User.email.in_([email for email, _password in done.created]))
            .options(selectinload(User.agency))
        )
    }
    page = render_template(
        "admin/users_created.html",
        filename=filename,
        created=[(made[email], password) for email, password in done.created],
        unchanged=done.unchanged,
    )
    # Passwords: kept by no cache, the browser's back button included.
    return HttpResponse(page, headers={"Cache-Control": "no-store"})


def _agency_for(code: str, problems: list[str]) -> Agency | None:
    code = code.strip()
    if not code:
        return None
    found = agency_service.find_agency(code)
    if found is None:
        problems.append(_("Agency %(code)s: no such agency.", code=code))
    return found


@bp.route("/users/new", methods=["GET", "POST"])
@admin_required
def new_user() -> str | WerkzeugResponse | tuple[str, int]:
    form = UserForm()
    if form.validate_on_submit():
        problems: list[str] = []
        agency_row = _agency_for(form.agency_code.data or "", problems)
        generated = None
        password = form.password.data or None
        if password is None:
            generated = secrets.token_urlsafe(12)
            password = generated
        user = None
        if not problems:
            try:
                user = users.create_user(
                    form.email.data or "",
                    form.role.data or "",
                    agency=agency_row,
                    password=password,
                    name=(form.name.data or "").strip(),
                    language=form.language.data or "th",
                )
                audit.record(
                    "user.create",
                    current_user,
                    new={"role": user.role, "agency": agency_row.code if agency_row else None},
                    detail=user.email,
                )
                db.session.commit()
            except ServiceError as exc:
                db.session.rollback()
                problems = exc.problems
        if user is not None and not problems:
            if generated:
                page = render_template("admin/user_created.html", user=user, password=generated)
                return HttpResponse(page, headers={"Cache-Control": "no-store"})  # type: ignore[return-value]
            flash(_("User %(email)s created.", email=user.email), "success")
            return redirect(url_for(".users"))
        flash_problems(problems)
        return render_template("admin/user.html", form=form, user=None), 422
    status = 422 if form.errors else 200
    return render_template("admin/user.html", form=form, user=None), status


def _user_snapshot(user: User) -> dict[str, Any]:
    return {
        "name": user.name,
        "role": user.role,
        "agency": user.agency.code if user.agency else None,
        "language": user.language,
        "active": user.active,
    }


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
def user(user_id: int) -> str | WerkzeugResponse | tuple[str, int]:
    target = db.session.get(User, user_id)
    if target is None:
        abort(404)
    if request.method == "GET":
        form = UserEditForm(
            formdata=None,
            name=target.name,
            role=target.role,
            agency_code=target.agency.code if target.agency else "",
            language=target.language,
            active=target.active,
        )
    else:
        form = UserEditForm()
    myself = target.id == current_user.id
    status = 200
    if form.validate_on_submit():
        problems: list[str] = []
        role = form.role.data or ""
        agency_row = _agency_for(form.agency_code.data or "", problems)
        if role == COORDINATOR and agency_row is None and not problems:
            problems.append(_("A coordinator needs an agency."))
        if role != COORDINATOR and agency_row is not None:
            problems.append(
                _(
                    "The %(role)s role belongs to the central office, not to an agency.",
                    role=i18n.word(role, ROLE),
                )
            )
        if myself and not form.active.data:
            problems.append(_("You cannot deactivate yourself."))
        if myself and role != ADMIN:
            problems.append(_("You cannot take away your own administrator role."))
        password = form.password.data or ""
        if password:
            problems += users.check_password_strength(password)
        if not problems:
            before = _user_snapshot(target)
            target.name = (form.name.data or "").strip()
            target.role = role
            target.agency = agency_row if role == COORDINATOR else None
            target.language = form.language.data or target.language
            target.active = bool(form.active.data)
            if password:
                target.set_password(password)
            after = _user_snapshot(target)
            if password:
                after["password_reset"] = True
            deactivated = before["active"] and not target.active
            # A token made before a new password, role or agency must not outlive it, nor
            # one of an account deactivated (reactivating it must not bring it back).
            changed = (before["role"], before["agency"]) != (after["role"], after["agency"])
            if password or changed or deactivated:
                revoked = users.revoke_all_tokens(target)
                if revoked:
                    after["tokens_revoked"] = revoked
            if deactivated:
                # Every signed-in browser of the account ends now, copied cookies included.
                ended = sessions.end_all(target)
                target.session_epoch = (target.session_epoch or 0) + 1
                if ended:
                    after["sessions_ended"] = ended
            audit.record("user.update", current_user, old=before, new=after, detail=target.email)
            db.session.commit()
            if password and myself:
                login_user(target)  # the new epoch ended this session too
            flash(_("User %(email)s saved.", email=target.email), "success")
            return redirect(url_for(".user", user_id=target.id))
        flash_problems(problems)
        status = 422
    elif form.errors:
        status = 422
    return render_template("admin/user.html", form=form, user=target, myself=myself), status


# -- questionnaire versions -------------------------------------------------------------------


def _questionnaires_page(
    form: QuestionnaireImportForm, problems: list[str] | None = None, status: int = 200
) -> tuple[str, int]:
    query = select(QuestionnaireVersion).order_by(
        QuestionnaireVersion.code, QuestionnaireVersion.version.desc()
    )
    page = paginate(query, per_page=PER_PAGE)
    all_versions = questionnaires.versions()
    usage = dict(
        db.session.execute(
            select(Round.questionnaire_id, func.count()).group_by(Round.questionnaire_id)
        ).all()
    )
    return render_template(
        "admin/questionnaires.html",
        page=page,
        all_versions=all_versions,
        usage=usage,
        form=form,
        problems=problems or [],
    ), status


@bp.route("/questionnaires", endpoint="questionnaires")
@central_required
def questionnaires_list() -> tuple[str, int]:
    return _questionnaires_page(QuestionnaireImportForm(formdata=None))


@bp.route("/questionnaires/import", methods=["POST"])
@central_required
def import_questionnaire() -> WerkzeugResponse | tuple[str, int]:
    form = QuestionnaireImportForm()
    if not form.validate_on_submit():
        problems = [str(e) for errors in form.errors.values() for e in errors]
        return _questionnaires_page(form, problems, 422)
    filename = _upload_name(form.file.data, "questionnaire.yaml")
    try:
        imported = questionnaires.import_text(form.file.data.read(), filename)
        version, what = imported
        if what != "unchanged":
            audit.record(
                "questionnaire.import",
                current_user,
                new=version.key,
                detail=labels.import_detail(what, filename),
            )
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        return _questionnaires_page(form, exc.problems, 422)
    message = {
        "created": _("%(key)s imported as a new version.", key=version.key),
        "updated": _("%(key)s updated (no round uses it yet).", key=version.key),
        "unchanged": _(
            "%(key)s is already stored with the same content: nothing changed.", key=version.key
        ),
    }[what]
    flash(message, "info" if what == "unchanged" else "success")
    for note in imported.notes:
        flash(note, "warning")
    return redirect(url_for(".questionnaire", version_id=version.id))


def _version_or_404(version_id: int | None) -> QuestionnaireVersion:
    found = db.session.get(QuestionnaireVersion, version_id) if version_id else None
    if found is None:
        abort(404)
    return found


def scoring_text(scoring: Any) -> str:
    """A number question's scoring in words."""
    if isinstance(scoring, BandScoring):
        return ", ".join(
            f"≥ {format(b.min.normalize(), 'f')} → {format(b.points.normalize(), 'f')}"
            for b in scoring.bands
        )
    if isinstance(scoring, LinearScoring):
        return _(
            "linear from %(start)s (no credit) to %(end)s (full credit)",
            start=format(scoring.from_.normalize(), "f"),
            end=format(scoring.to.normalize(), "f"),
        )
    return ""


def decimal_text(value: Any) -> str:
    return "" if value is None else format(value.normalize(), "f")


@bp.route("/questionnaires/<int:version_id>")
@central_required
def questionnaire(version_id: int) -> str:
    version = _version_or_404(version_id)
    parsed = questionnaire_of(version)
    others = [v for v in questionnaires.versions() if v.id != version.id]
    previous = next(
        (v for v in others if v.code == version.code and v.version == parsed.supersedes), None
    )
    return render_template(
        "admin/questionnaire.html",
        version=version,
        q=parsed,
        others=others,
        previous=previous,
        rounds=sorted(version.rounds, key=lambda r: (-r.fiscal_year, -r.id)),
        scoring_text=scoring_text,
        decimal_text=decimal_text,
    )


@bp.route("/questionnaires/<int:version_id>/source")
@central_required
def questionnaire_source(version_id: int) -> HttpResponse:
    version = _version_or_404(version_id)
    # Named CODE-VERSION.yaml (.json for a JSON file); a version such as "๒๕๗๐" is given
    # encoded (filename*), with an ASCII fallback: a header holds Latin-1 only.
    disposition, mimetype = questionnaires.source_download(version)
    return HttpResponse(
        version.content,
        mimetype=mimetype,
        headers={"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff"},
    )


@bp.route("/questionnaires/diff")
@central_required
def questionnaire_diff() -> str:
    all_versions = questionnaires.versions()
    old_id = request.args.get("old", type=int)
    new_id = request.args.get("new", type=int)
    result = old_q = new_q = old_v = new_v = None
    if old_id or new_id:
        old_v, new_v = _version_or_404(old_id), _version_or_404(new_id)
        old_q, new_q = questionnaire_of(old_v), questionnaire_of(new_v)
        result = questionnaire_diff_of(old_q, new_q)
    return render_template(
        "admin/questionnaire_diff.html",
        all_versions=all_versions,
        old_v=old_v,
        new_v=new_v,
        old_q=old_q,
        new_q=new_q,
        d=result,
        lang=current_language(),
    )
