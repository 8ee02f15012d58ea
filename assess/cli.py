"""The ``assess`` command line (interfaces.md, "Command line").

A Flask CLI group, so ``flask --app assess …`` works too. Exit status 0 on success, 1 for a
refused operation or bad input (one line per problem on stderr), 2 for wrong usage (click's
own). Commands that need no database (``questionnaire validate|score|diff`` on files) do not
build the web application at all; the other commands build it without the web pages and
the API (:data:`WITH_VIEWS` lists those that need them).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click
from flask.cli import FlaskGroup

from assess import __version__, create_app
from assess.questionnaires import Questionnaire, QuestionnaireError, load
from assess.questionnaires.answers import AnswersFileError, read_answers
from assess.questionnaires.builtin import builtin_path
from assess.questionnaires.diff import diff as diff_versions

if TYPE_CHECKING:
    from flask import Flask

    from assess.models import Agency, Round, User

T = TypeVar("T")


#: Commands that serve or list the web's pages, or make scorecards: their app has the web
#: views (the job worker finds its job kinds through them: ``scorecards.bulk`` registers
#: its kind when the scorecards views import it). The others' app does without them and
#: starts about a second sooner (2.9 → 1.7 s for ``assess questionnaire list`` on 2
#: cores): the views and the API are neither imported nor registered.
WITH_VIEWS = {("run",), ("routes",), ("shell",), ("demo",), ("scorecard",), ("scorecards",),
              ("worker",)}  # fmt: skip


#: Commands whose app has Flask-Migrate: the demo (it migrates its database) and the root
#: group, which finds ``db`` (Flask-Migrate's commands) only in an app it loads. The
#: others start without Alembic (0.2 s sooner).
WITH_MIGRATIONS = {(), ("demo",)}


def command_app() -> Flask:
    """The app of the command being run (:data:`WITH_VIEWS`, :data:`WITH_MIGRATIONS`)."""
    path = _command_path()
    return create_app(views=path in WITH_VIEWS, migrations=path in WITH_MIGRATIONS)


def _command_path() -> tuple[str, ...]:
    """The names of the running command below the root group: ``("round", "open")``."""
    names = []
    ctx = click.get_current_context(silent=True)
    while ctx is not None and ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return tuple(reversed(names))


class _Group(FlaskGroup):
    """Flask's command group without other packages' plugin commands: Flask loads every
    ``flask.commands`` entry point before it looks a command up, and the one installed
    (Flask-Limiter's ``limiter``, not a command of assess) imports Flask-Limiter, its
    storage back-ends and the Redis client at every start."""

    def _load_plugin_commands(self) -> None:
        pass

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; a setting it refuses (``ASSESS_*``), a file it cannot read or
        write, or a database it cannot use, is one line on stderr and exit status 1, not a
        traceback."""
        from sqlalchemy.exc import ArgumentError, DBAPIError

        from assess.config import DATABASE_URL_EXAMPLE, ConfigurationError

        try:
            return super().invoke(ctx)
        except ConfigurationError as exc:
            fail(str(exc).splitlines())
        except ArgumentError as exc:  # NoSuchModuleError too: a database URL SQLAlchemy refuses
            if "URL" not in str(exc) and "plugin" not in str(exc):
                raise
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            fail(
                [f"ASSESS_DATABASE_URL cannot be used ({reason}): give e.g. {DATABASE_URL_EXAMPLE}"]
            )
        except DBAPIError as exc:
            fail([_database_problem(exc)])
        except OSError as exc:
            if exc.filename is None:
                raise
            fail([f"{exc.filename}: {exc.strerror or exc}"])

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The commands, for ``--help``: a setting the app refuses is one line on stderr (Flask
        would print its traceback), and the commands are still listed."""
        from flask.cli import ScriptInfo

        from assess.config import ConfigurationError

        try:
            ctx.ensure_object(ScriptInfo).load_app()
        except ConfigurationError as exc:
            click.echo(f"Error: {exc}", err=True)
            return sorted(click.Group.list_commands(self, ctx))
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command; Flask-Migrate's ``db upgrade`` also says where the database ends up."""
        command = super().get_command(ctx, cmd_name)
        if cmd_name == "db" and isinstance(command, click.Group):
            return _reporting_upgrade(command)
        return command


def _reporting_upgrade(group: click.Group) -> click.Group:
    """Flask-Migrate's ``db`` group whose ``upgrade`` ends with one line on stdout: "the
    database is up to date (revision 0012)", or the revisions it went from and to. (Alembic
    names each migration it runs on stderr; with nothing to run it said nothing useful.)"""
    import copy
    import functools

    upgrade = group.commands.get("upgrade")
    if upgrade is None or upgrade.callback is None:
        return group
    migrate = upgrade.callback

    @functools.wraps(migrate)
    def run(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("sql"):  # offline: SQL on stdout, no database to look at
            return migrate(*args, **kwargs)
        from assess import schema
        from assess.extensions import db

        # In the app context the ``db`` group pushed (Flask-Migrate keeps its options on g).
        before = schema.database_revisions(db.engine)
        done = migrate(*args, **kwargs)
        after = schema.database_revisions(db.engine)
        now = ", ".join(after) or "none"
        if before == after:
            click.echo(f"the database is up to date (revision {now})")
        elif not before:
            click.echo(f"the database's tables were created (revision {now})")
        else:
            click.echo(f"the database was upgraded from revision {', '.join(before)} to {now}")
        return done

    reporting = copy.copy(upgrade)
    reporting.callback = run
    wrapped = copy.copy(group)
    wrapped.commands = {**group.commands, "upgrade": reporting}
    return wrapped


#: What a database without assess's tables (or with older ones) answers, by engine.
_NO_SCHEMA = ("no such table", "no such column", "UndefinedTable", "UndefinedColumn")


def _database_problem(exc: Exception) -> str:
    """One line for a database error: the usual cause (no schema yet) named, with its cure."""
    original = getattr(exc, "orig", None) or exc
    text = f"{type(original).__name__}: {original}"
    if any(sign in text for sign in _NO_SCHEMA):
        return (
            "the database has no tables of assess, or older ones: run `assess db upgrade` "
            f"(ASSESS_DATABASE_URL, ASSESS_INSTANCE_PATH name the database) [{text.splitlines()[0]}]"
        )
    return f"the database cannot be used: {text.splitlines()[0]}"


@click.group(cls=_Group, create_app=command_app, add_version_option=False)
@click.version_option(__version__, prog_name="assess")
def main() -> None:
    """assess: digital-government maturity assessment (การประเมินความพร้อมรัฐบาลดิจิทัล)."""


def fail(problems: Iterable[object]) -> NoReturn:
    """Print one line per problem on stderr and exit with status 1."""
    for problem in problems:
        click.echo(str(problem), err=True)
    sys.exit(1)


#: The type of a file argument the command reads. A folder given for it is bad input, as a
#: missing file is (exit 1, ``FOLDER: cannot read: Is a directory``, told as the command
#: reads it), not wrong usage: click's own check (``dir_okay=False``) would exit 2.
INPUT_FILE = click.Path(path_type=Path)


def _read(path: Path) -> bytes:
    """The bytes of an input file; one that cannot be read (missing, a folder, not allowed)
    is one line, ``FILE: cannot read: reason``, and exit status 1, as the questionnaire
    commands tell it."""
    try:
        return path.read_bytes()
    except OSError as exc:
        fail([f"{path}: cannot read: {exc.strerror or exc}"])


def counted(count: int, one: str, many: str) -> str:
    """``count`` with its noun ("1 agency", "3 agencies", "0 agencies")."""
    return f"{count:,} {one if count == 1 else many}"


@main.group()
def questionnaire() -> None:
    """Questionnaire files: validate, try, compare."""


@questionnaire.command("validate", with_appcontext=False)
@click.argument("files", nargs=-1, required=True, type=INPUT_FILE)
def validate_command(files: tuple[Path, ...]) -> None:
    """Check FILES against the questionnaire format; print FILE:LINE: message per problem."""
    problems = []
    for path in files:
        try:
            loaded = load(path)
        except QuestionnaireError as exc:
            problems.extend(exc.problems)
            continue
        dims, count = len(loaded.dimensions), len(loaded.questions)
        click.echo(
            f"{path}: ok ({loaded.key}, {dims} dimension{'s' * (dims != 1)}, "
            f"{count} question{'s' * (count != 1)})"
        )
    if problems:
        fail(problems)


@questionnaire.command("score", with_appcontext=False)
@click.argument("file", type=INPUT_FILE)
@click.argument("answers", type=INPUT_FILE)
@click.option(
    "--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of stdout.",
)
def score_command(file: Path, answers: Path, fmt: str, output: Path | None) -> None:
    """Score ANSWERS (.json or .csv interchange form) against a questionnaire FILE.

    No database is involved: a methodologist can try a questionnaire before any round.
    """
    loaded = _load_or_fail(file)
    try:
        responses = read_answers(answers, loaded)
    except AnswersFileError as exc:
        fail(exc.problems)
    from assess.scoring.batch import score_many  # (pandas: only the commands that score)

    batch = score_many(loaded, {r.agency: r.answers for r in responses})
    records = batch.records()
    text = (
        json.dumps(records, ensure_ascii=False, indent=2) + "\n"
        if fmt == "json"
        else scores_csv(loaded, records)
    )
    _write(text, output)


@questionnaire.command("diff")
@click.argument("old")
@click.argument("new")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def diff_command(old: str, new: str, fmt: str) -> None:
    """Compare two versions: dimensions and questions added, removed, changed, remapped.

    OLD and NEW are questionnaire files or built-in versions named CODE@VERSION.
    """
    result = diff_versions(_resolve(old), _resolve(new))
    if fmt == "json":
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    else:
        for line in result.lines():
            click.echo(line)


def _resolve(name: str) -> Questionnaire:
    path = Path(name)
    if not path.exists() and "@" in name:
        stored = _stored(name)
        if stored is not None:
            return stored
        code, _, version = name.partition("@")
        found = builtin_path(code, version)
        if found is None:
            fail(
                [f"{name}: no such questionnaire version (give a file, or a built-in CODE@VERSION)"]
            )
        path = found
    return _load_or_fail(path)


def _stored(name: str) -> Questionnaire | None:
    """A version stored in the database, if the database has it (and exists at all)."""
    from sqlalchemy.exc import SQLAlchemyError

    from assess.services import questionnaires as stored_versions
    from assess.services.errors import NotFound

    try:
        return stored_versions.questionnaire_of(stored_versions.find_version(name))
    except (NotFound, SQLAlchemyError):
        return None


def _load_or_fail(path: Path) -> Questionnaire:
    try:
        return load(path)
    except QuestionnaireError as exc:
        fail(exc.problems)


def scores_csv(loaded: Questionnaire, records: list[dict[str, object]]) -> str:
    """Scores as CSV: ``agency[,status],completeness,overall_score,overall_level,<dim>_score,…``."""
    measures = ["overall", *(d.code for d in loaded.dimensions)]
    has_status = any("status" in r for r in records)
    header = ["agency", *(["status"] if has_status else []), "completeness"]
    header += [f"{m}_{part}" for m in measures for part in ("score", "level")]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for record in records:
        dims = record["dimensions"]
        assert isinstance(dims, dict)
        row: list[object] = [
            record["agency"],
            *([record.get("status", "")] if has_status else []),
            record["completeness"],
        ]
        for measure in measures:
            result = record["overall"] if measure == "overall" else dims[measure]
            assert isinstance(result, dict)
            row += [
                "" if result["score"] is None else f"{result['score']:.2f}",
                result["level"] or "",
            ]
        writer.writerow(row)
    return buffer.getvalue()


def _write(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


# -- commands on the database ---------------------------------------------------------------


def _commit(action: Callable[[], T]) -> T:
    """Run ``action`` in one transaction: commit on success; on a refusal, roll back and fail."""
    from assess.extensions import db
    from assess.services.errors import ServiceError

    try:
        result = action()
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        fail(exc.problems)
    return result


def _round(ident: str) -> Round:
    from assess.services import rounds
    from assess.services.errors import NotFound

    try:
        return rounds.get_round(ident)
    except NotFound as exc:
        fail(exc.problems)


@questionnaire.command("import")
@click.argument("files", nargs=-1, required=True, type=INPUT_FILE)
def import_command(files: tuple[Path, ...]) -> None:
    """Validate and store questionnaire FILES; print CODE@VERSION per file (all or nothing)."""
    from assess import labels
    from assess.services import audit
    from assess.services import questionnaires as stored_versions
    from assess.services.errors import ServiceError

    def run() -> list[str]:
        problems: list[str] = []
        keys = []
        # Each version's first file: another file of it must hold the same content (else
        # the last one would be stored, and both printed as imported).
        first: dict[str, tuple[bytes, Path]] = {}
        for path in files:
            try:
                data = path.read_bytes()
            except OSError as exc:
                problems.append(f"{path}: cannot read: {exc.strerror}")
                continue
            try:
                version, what = imported = stored_versions.import_text(data, str(path))
            except ServiceError as exc:
                problems.extend(exc.problems)
                continue
            earlier, earlier_path = first.setdefault(version.key, (data, path))
            if earlier != data:
                problems.append(
                    f"{path}: {version.key} is also in {earlier_path}, with different content; "
                    "import one of them"
                )
                continue
            if what != "unchanged":
                audit.record(
                    "questionnaire.import",
                    None,
                    new=version.key,
                    detail=labels.import_detail(what, str(path)),
                )
            keys.append(version.key)
            notes.extend(imported.notes)
        if problems:
            raise ServiceError(problems)
        return keys

    notes: list[str] = []
    for key in _commit(run):
        click.echo(key)
    # Kept, and possibly a mistake (a supersedes naming a version not stored).
    for note in notes:
        click.echo(f"note: {note}", err=True)


@questionnaire.command("list")
def list_command() -> None:
    """Stored questionnaire versions, with the rounds that use each."""
    from assess.services import questionnaires as stored_versions

    for version in stored_versions.versions():
        rounds = ", ".join(f"{r.id} ({r.name}, {r.status})" for r in version.rounds) or "-"
        click.echo(
            f"{version.key}\t{version.title('th')}\tsha256:{version.content_hash[:12]}\trounds: {rounds}"
        )


@main.group()
def agency() -> None:
    """Agencies that answer rounds."""


@agency.command("import")
@click.argument("file", type=INPUT_FILE)
def agency_import_command(file: Path) -> None:
    """Upsert agencies by code from FILE.csv (code,name_th,name_en,type,parent_code,province,tags)."""
    from assess.services import agencies, audit

    data = _read(file)

    def run() -> agencies.Imported:
        done = agencies.import_csv(data, str(file))
        audit.record(
            "agency.import",
            None,
            new={"created": done.created, "updated": done.updated, "unchanged": done.unchanged},
            detail=str(file),
        )
        return done

    done = _commit(run)
    for note in done.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(
        f"{file}: {counted(done.created, 'agency', 'agencies')} created, {done.updated} updated, "
        f"{done.unchanged} unchanged"
    )


@main.group()
def user() -> None:
    """People who sign in, and their API tokens."""


@user.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(["coordinator", "reviewer", "admin"]), required=True)
@click.option("--agency", "agency_code", help="The agency of a coordinator (its code).")
@click.option("--name", default="", help="The person's name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def user_create_command(
    email: str, role: str, agency_code: str | None, name: str, password_stdin: bool
) -> None:
    """Create a user; without --password-stdin a password is generated and printed once."""
    import secrets

    from assess.services import agencies, audit, users

    generated = None
    if password_stdin:
        try:
            line = click.get_binary_stream("stdin").readline().decode("utf-8-sig")
        except UnicodeDecodeError:
            fail(["the password on standard input is not UTF-8 text; nobody was created"])
        password = line.rstrip("\r\n")
    else:
        password = generated = secrets.token_urlsafe(12)
    if role == "coordinator" and not agency_code:
        fail(["a coordinator needs an agency: give --agency CODE"])
    found = None
    if agency_code:
        found = agencies.find_agency(agency_code)
        if found is None:
            fail([f"agency {agency_code}: no such agency (see 'assess agency import')"])

    def run() -> User:
        made = users.create_user(email, role, agency=found, password=password, name=name)
        audit.record(
            "user.create", None, new={"role": role, "agency": agency_code}, detail=made.email
        )
        return made

    created = _commit(run)
    click.echo(f"created {created.role} {created.email}" + (f" ({found.code})" if found else ""))
    if generated:
        click.echo(f"password: {generated}")


@user.command("import")
@click.argument("file", type=INPUT_FILE)
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="A new CSV file for the new users' passwords (email,password), readable by you alone.",
)
def user_import_command(file: Path, output: Path) -> None:
    """Create the users of FILE.csv (email,role,agency,name,language), each with a generated
    password written to -o; users already there as the file says are left as they are."""
    from assess.extensions import db
    from assess.services import users
    from assess.services.errors import ServiceError

    # Checked first: hashing a national round's passwords takes minutes.
    if output.exists():
        fail([f"{output}: exists already; give a new file for the passwords"])
    if not os.access(output.parent.resolve(), os.W_OK):
        fail([f"{output}: cannot write in {output.parent.resolve()}"])

    def hashing(count: int) -> None:
        if count:
            click.echo(f"hashing {count} new passwords…", err=True)

    try:
        done = users.import_users(_read(file), str(file), progress=hashing)
    except ServiceError as exc:
        db.session.rollback()
        fail(exc.problems)
    if done.created:
        # The passwords are on disk, readable by this account alone, before the users exist:
        # no account whose password nobody has.
        try:
            descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            db.session.rollback()
            fail([f"{output}: cannot write: {exc.strerror}; nobody was created"])
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle, lineterminator="\n")
                writer.writerow(["email", "password"])
                writer.writerows(done.created)
            db.session.commit()
        except BaseException:
            output.unlink(missing_ok=True)
            raise
    click.echo(
        f"{file}: {counted(len(done.created), 'user', 'users')} created, "
        f"{done.unchanged} already there"
        + (f"; their passwords are in {output} (readable by you alone)" if done.created else "")
    )


@user.command("token")
@click.argument("email")
@click.option("--label", default="command line", help="A note to recognise the token by.")
def user_token_command(email: str, label: str) -> None:
    """Print a new API token for EMAIL, alone on the last line."""
    from assess.services import audit, users

    found = users.find_user(email)
    if found is None:
        fail([f"{email}: no such user"])

    def run() -> str:
        token = users.issue_token(found, label)
        audit.record("token.create", None, detail=f"{found.email}: {label}")
        return token

    click.echo(_commit(run))


@main.group("round")
def round_group() -> None:
    """Rounds: create, open, close, publish."""


def _date(value: str | None, option: str, problems: list[str]) -> dt.date | None:
    """The date of ``option``; a malformed one goes into ``problems`` (told with the rest)."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        problems.append(f"{option} {value!r}: give a date as YYYY-MM-DD (Gregorian calendar)")
        return None


@round_group.command("create")
@click.option("--questionnaire", "key", required=True, help="CODE@VERSION of a stored version.")
@click.option("--name", required=True, help="The round's name (Thai).")
@click.option("--name-en", default="", help="Its English name (default: the Thai one).")
@click.option("--fiscal-year", type=int, required=True, help="Buddhist Era fiscal year, e.g. 2569.")
@click.option("--opens", help="YYYY-MM-DD")
@click.option("--closes", help="YYYY-MM-DD: the last day answers are accepted (Bangkok time).")
@click.option(
    "--agencies", "agency_list", default="all", show_default=True, help="all, or CODE,CODE…"
)
@click.option(
    "--live-preview/--no-live-preview", default=False, help="Show coordinators a score preview."
)
def round_create_command(
    key: str,
    name: str,
    name_en: str,
    fiscal_year: int,
    opens: str | None,
    closes: str | None,
    agency_list: str,
    live_preview: bool,
) -> None:
    """Create a round (in draft); print its id alone on the last line."""
    from assess.services import agencies, rounds
    from assess.services import questionnaires as stored_versions
    from assess.services.errors import ServiceError

    malformed: list[str] = []
    opens_on, closes_on = _date(opens, "--opens", malformed), _date(closes, "--closes", malformed)

    def run() -> int:
        # Every problem at once: the dates, the version, unknown agencies, and the round's
        # own checks.
        problems: list[str] = list(malformed)
        try:
            version = stored_versions.find_version(key)
        except ServiceError as exc:
            problems.extend(exc.problems)
        invited = None
        if agency_list != "all":
            codes = [c.strip() for c in agency_list.split(",") if c.strip()]
            found = {c: agencies.find_agency(c) for c in codes}
            problems += [f"agency {c}: no such agency" for c, a in found.items() if a is None]
            invited = [a for a in found.values() if a is not None]
        try:
            if problems:
                # Still run the round's own checks (name, year, dates) to report them too.
                rounds.check_round(name, fiscal_year, opens_on, closes_on)
                raise ServiceError(problems)
            created = rounds.create_round(
                version,
                name,
                fiscal_year,
                opens_on=opens_on,
                closes_on=closes_on,
                agencies=invited,
                live_preview=live_preview,
                name_en=name_en,
            )
        except ServiceError as exc:
            raise ServiceError(
                [*problems, *(p for p in exc.problems if p not in problems)]
            ) from None
        return created.id

    round_id = _commit(run)
    click.echo(f"created round {round_id} ({name}, {fiscal_year}), in draft")
    click.echo(round_id)


def _move(ident: str, target: str, **options: Any) -> None:
    from assess.services import results, rounds
    from assess.services.errors import ServiceError

    found = _round(ident)

    def run() -> None:
        late = rounds.deadline_passed(found) if target == "open" else None
        if late:
            raise ServiceError(late)
        rounds.move(found, target, **options)
        if target in ("preliminary", "published"):
            # Published figures are recomputed once more from the stored answers.
            results.recompute_round(found)

    _commit(run)
    click.echo(f"round {found.id} is {target}")


@round_group.command("open")
@click.argument("round_id", metavar="ROUND")
def round_open_command(round_id: str) -> None:
    """Open ROUND: coordinators may answer until its closing day."""
    _move(round_id, "open")


@round_group.command("close")
@click.argument("round_id", metavar="ROUND")
def round_close_command(round_id: str) -> None:
    """Close ROUND: no more answers."""
    _move(round_id, "closed")


@round_group.command("publish")
@click.argument("round_id", metavar="ROUND")
@click.option(
    "--preliminary",
    is_flag=True,
    help="Publish preliminary results: each agency sees its own and may dispute them.",
)
@click.option(
    "--disputes-until",
    "disputes_until",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Last day (Bangkok) of the dispute window; default: in 14 days.",
)
def round_publish_command(
    round_id: str, preliminary: bool, disputes_until: dt.datetime | None
) -> None:
    """Publish ROUND's results (final, or --preliminary with a dispute window)."""
    if disputes_until is not None and not preliminary:
        raise click.UsageError("--disputes-until goes with --preliminary")
    _move(
        round_id,
        "preliminary" if preliminary else "published",
        disputes_close_on=disputes_until.date() if disputes_until else None,
    )


def _agencies_named(codes: str) -> list[Agency]:
    """The agencies of a CODE,CODE… list (also separated by spaces); fails naming every
    unknown code."""
    from assess.services import agencies

    wanted = agencies.split_codes(codes)
    if not wanted:
        fail(["give the agencies' codes, CODE,CODE…"])
    found, unknown = agencies.find_codes(wanted)
    if unknown:
        fail([agencies.unknown_codes_problem(unknown)])
    return found


@round_group.command("invite")
@click.argument("round_id", metavar="ROUND")
@click.argument("codes", metavar="CODE[,CODE…]", required=False, default="")
@click.option(
    "--not-invited", is_flag=True, help="Every active agency the round does not invite yet."
)
def round_invite_command(round_id: str, codes: str, not_invited: bool) -> None:
    """Invite more agencies to ROUND while it is in draft or open."""
    from assess.services import rounds

    if bool(codes) == not_invited:
        raise click.UsageError("give CODE[,CODE…] or --not-invited (one of the two)")
    found = _round(round_id)
    chosen = rounds.not_invited(found) if not_invited else _agencies_named(codes)
    count = _commit(lambda: rounds.invite(found, chosen))
    if count:
        click.echo(f"round {found.id}: {counted(count, 'agency', 'agencies')} invited")
    else:
        click.echo(f"round {found.id}: nothing to invite (invited already)")


@round_group.command("uninvite")
@click.argument("round_id", metavar="ROUND")
@click.argument("codes", metavar="CODE[,CODE…]")
def round_uninvite_command(round_id: str, codes: str) -> None:
    """Take agencies that have not begun out of ROUND (in draft or open)."""
    from assess.services import rounds

    found = _round(round_id)
    chosen = _agencies_named(codes)
    count = _commit(lambda: rounds.uninvite(found, chosen))
    click.echo(f"round {found.id}: {counted(count, 'agency', 'agencies')} removed")


@round_group.command("delete")
@click.argument("round_id", metavar="ROUND")
def round_delete_command(round_id: str) -> None:
    """Delete ROUND, still in draft and holding no answers (a round made by mistake)."""
    from assess.services import rounds

    found = _round(round_id)
    name = found.name
    _commit(lambda: rounds.delete_draft(found))
    click.echo(f"round {round_id} ({name}) deleted")


@main.group()
def answers() -> None:
    """Answers of a round in the interchange forms (JSON, CSV, XLSX)."""


@answers.command("import")
@click.argument("round_id", metavar="ROUND")
@click.argument("file", type=INPUT_FILE)
@click.option(
    "--status",
    type=click.Choice(["draft", "submitted", "accepted"]),
    default=None,
    help="The status of every agency in FILE (default: the file's own status column or "
    "key, else draft; a file that gives another is refused).",
)
@click.option(
    "--no-evidence-check",
    "no_evidence_check",
    is_flag=True,
    help="Let agencies become submitted or accepted without the required evidence stored "
    "(a historical round whose evidence was never in the system); the import's audit "
    "events record it.",
)
def answers_import_command(
    round_id: str, file: Path, status: str | None, no_evidence_check: bool
) -> None:
    """Import answers (.json, .csv, .xlsx) into ROUND; all or nothing.

    Agencies that become submitted or accepted must have every required question answered
    and every required evidence already stored (FILE carries no evidence), as on the web.
    """
    from assess.services import interchange

    found = _round(round_id)
    data = _read(file)
    count = _commit(
        lambda: interchange.import_round(
            found, data, str(file), status=status, check_evidence=not no_evidence_check
        )
    )
    click.echo(
        f"{file}: answers of {counted(count, 'agency', 'agencies')} imported into round {found.id}"
    )


@answers.command("export")
@click.argument("round_id", metavar="ROUND")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "xlsx"]), required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--verified",
    is_flag=True,
    help="The answers as verified: each reviewer's verified value in place of the agency's "
    "answer (the agency's answer where there is none). `assess questionnaire score` on this "
    "file gives the verified scores of `assess scores ROUND`.",
)
def answers_export_command(round_id: str, fmt: str, output: Path | None, verified: bool) -> None:
    """Export ROUND's answers in an interchange form.

    \b
    Without --verified: every started response's answers as the agency gave them
    (self-assessed), the form `assess answers import` takes back; scoring them gives
    `assess scores ROUND --self`.
    With --verified: the answers as verified; scoring them gives `assess scores ROUND`.
    """
    from assess.services import interchange

    _needs_output(fmt, output)
    data = interchange.export_round(_round(round_id), fmt, verified=verified)
    if output is not None:
        output.write_bytes(data)
    else:
        click.echo(data.decode("utf-8"), nl=False)


@main.command("scores")
@click.argument("round_id", metavar="ROUND")
@click.option("--self", "self_assessed", is_flag=True, help="Self-assessed instead of verified.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "csv", "xlsx"]),
    default="json",
    show_default=True,
    help="xlsx (with the agencies' names) needs -o FILE.xlsx.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path))
def scores_command(round_id: str, self_assessed: bool, fmt: str, output: Path | None) -> None:
    """Scores of every response of ROUND (verified unless --self)."""
    from assess.services import results
    from assess.services.questionnaires import questionnaire_of

    _needs_output(fmt, output)
    found = _round(round_id)
    if fmt == "xlsx":
        from assess.services import exports

        columns, rows = exports.scores_table(found, verified=not self_assessed)
        _write_bytes(exports.xlsx_bytes([exports.Sheet("scores", columns, rows)]), output)
        return
    records = results.score_records(found, verified=not self_assessed)
    text = (
        json.dumps(records, ensure_ascii=False, indent=2) + "\n"
        if fmt == "json"
        else scores_csv(questionnaire_of(found.questionnaire), records)
    )
    _write(text, output)


# -- reports: benchmark, trend, exports (issue 5) -------------------------------------------
#
# JSON and CSV are the contract's shapes (interfaces.md): the keys of the JSON rows are the
# CSV header, in the same order; CSV is plain UTF-8 (no byte-order mark) with "\n" line ends,
# like `assess scores`, so scripts read it as they are. Text cells that a spreadsheet would
# run as a formula get a leading apostrophe (assess/services/exports.py). XLSX is for
# people: the same rows with the agencies' names, and it needs -o.

REPORT_FORMATS = click.Choice(["json", "csv", "xlsx"])


def _needs_output(fmt: str, output: Path | None) -> None:
    """A workbook is not for a terminal: --format xlsx without -o is wrong usage (exit 2)."""
    if fmt == "xlsx" and output is None:
        raise click.UsageError("--format xlsx needs -o FILE.xlsx")


def _write_bytes(data: bytes, output: Path | None) -> None:
    """Write a binary export to ``output`` (the callers made sure there is one)."""
    assert output is not None
    output.write_bytes(data)


def _report(
    records: list[dict[str, object]],
    columns: Iterable[str],
    fmt: str,
    output: Path | None,
    table: Callable[[], tuple[list[str], list[list[Any]]]],
    sheet: str,
) -> None:
    """Write report rows as the contract's JSON or CSV, or as a workbook (``table``)."""
    from assess.services import exports

    if fmt == "json":
        _write(json.dumps(records, ensure_ascii=False, indent=2) + "\n", output)
    elif fmt == "csv":
        keys = list(columns)
        data = exports.csv_bytes(keys, exports.rows_of(records, keys), bom=False, newline="\n")
        _write(data.decode("utf-8"), output)
    else:
        head, rows = table()
        _write_bytes(exports.xlsx_bytes([exports.Sheet(sheet, head, rows)]), output)


@main.command("benchmark")
@click.argument("round_id", metavar="ROUND")
@click.option(
    "--by",
    type=click.Choice(["all", "type", "parent", "province", "tag"]),
    default="all",
    show_default=True,
    help="Compare with every agency, or with those sharing this attribute.",
)
@click.option("--format", "fmt", type=REPORT_FORMATS, default="json", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path))
def benchmark_command(round_id: str, by: str, fmt: str, output: Path | None) -> None:
    """Benchmark figures (scoring.md §7) of ROUND's accepted responses, verified scores.

    One row per agency, comparison group and measure (overall and each dimension).
    """
    from functools import partial

    from assess.scoring.benchmark import BENCHMARK_COLUMNS
    from assess.services import exports, reports

    _needs_output(fmt, output)
    data = reports.load(_round(round_id))
    records = reports.benchmark_records(data, by)
    table = partial(exports.benchmark_table, data, by)
    _report(records, BENCHMARK_COLUMNS, fmt, output, table, "benchmark")


@main.command("trend")
@click.argument("round_id", metavar="ROUND")
@click.option("--against", "against", required=True, metavar="ROUND", help="The earlier round.")
@click.option("--format", "fmt", type=REPORT_FORMATS, default="json", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path))
def trend_command(round_id: str, against: str, fmt: str, output: Path | None) -> None:
    """Change per agency and measure (scoring.md §8) from the round --against to ROUND.

    Agencies whose response was accepted in both rounds; verified scores. A dimension merged
    or split between the two questionnaire versions is compared with the weighted average
    of the dimensions it continues, and the rows say "re-based".
    """
    from functools import partial

    from assess.scoring.trend import TREND_COLUMNS
    from assess.services import exports, reports

    _needs_output(fmt, output)
    newer, older = _round(round_id), _round(against)
    if newer.id == older.id:
        fail([f"round {newer.id}: compare it with another round (--against)"])
    if older.fiscal_year > newer.fiscal_year:
        fail(
            [
                f"round {older.id} (fiscal year {older.fiscal_year}) is later than round "
                f"{newer.id} ({newer.fiscal_year}): --against takes the earlier round "
                f"(assess trend {older.id} --against {newer.id})"
            ]
        )
    data, before = reports.load(newer), reports.load(older)
    records = reports.trend_records(data, before)
    table = partial(exports.trend_table, data, before)
    _report(records, TREND_COLUMNS, fmt, output, table, "trend")


@main.command("export")
@click.argument("round_id", metavar="ROUND")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["datapackage", "xlsx"]),
    required=True,
    help="datapackage: the published results as open data, into the folder -o; "
    "xlsx: scores, benchmark and answers in one workbook -o FILE.xlsx.",
)
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path))
def export_command(round_id: str, fmt: str, output: Path) -> None:
    """Export ROUND: the open-data package of its published results, or one workbook."""
    from assess.services import exports
    from assess.services.errors import ServiceError

    found = _round(round_id)
    if fmt == "xlsx":
        if output.is_dir():
            fail([f"{output}: is a folder; give a file name for the workbook (FILE.xlsx)"])
        output.write_bytes(exports.round_workbook(found))
        click.echo(f"{output}: scores, benchmark and answers of round {found.id}")
        return
    if output.exists() and not output.is_dir():
        fail([f"{output}: is a file; give a folder for the open-data package"])
    try:
        path = exports.datapackage(found, output)
    except ServiceError as exc:
        fail(exc.problems)
    click.echo(
        f"{path}: open-data package of round {found.id} ({len(exports.PACKAGE_FILES)} files)"
    )


@main.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Load the demo data, print the logins, and stop.")
def demo_command(host: str, port: int, no_serve: bool) -> None:
    """Set up a demo on the configured database, print the logins, then serve the app."""
    from flask import current_app

    from assess.demo import load_demo

    logins = load_demo(progress=sys.stdout.isatty())
    click.echo("")
    click.echo("Demo logins (ชื่อผู้ใช้สำหรับทดลอง):")
    for role, email, password, agency in logins:
        click.echo(f"  {role:<12} {email:<32} {password}" + (f"   {agency}" if agency else ""))
    if no_serve:
        return
    click.echo(f"\nServing on http://{host}:{port}/  (Ctrl+C to stop)")
    # Flask.run refuses to start inside the flask command line; serve with werkzeug directly.
    from werkzeug.serving import run_simple

    run_simple(host, port, current_app._get_current_object(), threaded=True)  # type: ignore[attr-defined]


# PDF scorecards and the background job worker (assess/scorecards/cli.py).
from assess.scorecards.cli import scorecard_command, scorecards_command, worker_command  # noqa: E402

main.add_command(scorecard_command)
main.add_command(scorecards_command)
main.add_command(worker_command)
