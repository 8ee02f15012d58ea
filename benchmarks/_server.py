"""Shared by the load, fault and saves benchmarks: a prepared database, gunicorn, PostgreSQL.

- :func:`prepare` empties a database, migrates it with the real migrations and adds a round
  of ``dg-readiness@2569`` open to N agencies, each with one coordinator (password
  :data:`PASSWORD`, hashed cheaply so that N sign-ins cost little).
- :class:`Server` runs ``gunicorn wsgi:app`` on a free port against that database, as in
  production (the ``ASSESS_*`` environment), and reports the CPU its processes used.
- :class:`PrivatePostgres` is a throwaway PostgreSQL cluster on a free port (``initdb``),
  for fault runs that restart PostgreSQL without disturbing anyone else's database;
  :func:`restart_system_postgres` restarts the machine's cluster instead.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password-1"
SECRET_KEY = "benchmark-secret-key-not-for-production"
QUESTIONNAIRE = ("dg-readiness", "2569")
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def default_url(name: str) -> str:
    """A database on the local PostgreSQL (``ASSESS_BENCH_POSTGRES`` overrides the server)."""
    return os.environ.get("ASSESS_BENCH_POSTGRES", DEFAULT_POSTGRES) + name


# -- the database -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Coordinator:
    email: str
    agency_id: int
    response_id: int


@dataclass
class Prepared:
    """What :func:`prepare` made: the database, the open round and its coordinators."""

    url: str
    folder: Path
    round_id: int
    coordinators: list[Coordinator] = field(default_factory=list)


def reset_database(url: str) -> None:
    """An empty database at ``url``: created when missing (PostgreSQL), emptied otherwise."""
    import sqlalchemy as sa

    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        found = conn.scalar(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}
        )
        if not found:
            conn.execute(sa.text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
    engine = sa.create_engine(parsed)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def app_for(url: str, folder: Path) -> Any:
    from assess import create_app

    return create_app(
        {
            "INSTANCE_PATH": str(folder),
            "DATABASE_URL": url,
            "SECRET_KEY": SECRET_KEY,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )


def prepare(url: str, agencies: int, folder: Path | None = None) -> Prepared:
    """Empty and migrate ``url``; one open round, ``agencies`` agencies and coordinators."""
    from flask_migrate import upgrade

    from assess.extensions import db
    from assess.models import Agency
    from assess.questionnaires.builtin import builtin_path
    from assess.services import questionnaires, responses, rounds, users

    folder = folder or Path(tempfile.mkdtemp(prefix="assess-bench-"))
    reset_database(url)
    app = app_for(url, folder)
    with app.app_context():
        upgrade()
        path = builtin_path(*QUESTIONNAIRE)
        assert path is not None
        version, _ = questionnaires.import_text(path.read_bytes(), str(path))
        rows = []
        for i in range(agencies):
            agency = Agency(
                code=f"BENCH-{i:04d}",
                name_th=f"หน่วยงานทดสอบ {i}",
                name_en=f"Benchmark agency {i}",
                type="department",
                tags=[],
            )
            db.session.add(agency)
            rows.append(agency)
        db.session.flush()
        emails = []
        for i, agency in enumerate(rows):
            email = f"coordinator{i:04d}@bench.assess.go.th"
            users.create_user(email, "coordinator", agency=agency, password=PASSWORD)
            emails.append(email)
        round_ = rounds.create_round(version, "Benchmark round", 2569, agencies=rows)
        rounds.move(round_, "open")
        db.session.commit()
        prepared = Prepared(url, folder, round_.id)
        for email, agency in zip(emails, rows, strict=True):
            response = responses.get_response(round_, agency)
            prepared.coordinators.append(Coordinator(email, agency.id, response.id))
        db.session.remove()
        db.engine.dispose()
    return prepared


# -- gunicorn -----------------------------------------------------------------------------------


def _proc_stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


_TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int, children: bool = False) -> float:
    """CPU seconds of a process (with ``children``: also of its reaped children)."""
    fields = _proc_stat(pid)
    if fields is None:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / _TICK


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _proc_stat(int(entry.name))
            if fields is not None and int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


_POST_FORK = f"""
import os
import sys
from pathlib import Path


def post_fork(server, worker):
    from wsgi import app
    from assess.extensions import db

    with app.app_context():
        db.engine.dispose(close=False)
    if os.environ.get("ASSESS_BENCH_PHASES"):  # saves.py --phases
        sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
        import _phases

        _phases.install(app)


def worker_exit(server, worker):
    if os.environ.get("ASSESS_BENCH_PHASES"):
        import _phases

        _phases.dump(Path(os.environ["ASSESS_BENCH_PHASES"]))
"""


#: gunicorn's sync workers: one more than the cores. The app is CPU-bound; with more, every
#: new connection wakes every worker waiting on the socket and the cores go to switching
#: between them (saves.py, 100 users, 2 cores: 3 workers 574-607 saves/s, 4: 508, 5: 413;
#: 2: 441, as a worker waiting for the database leaves its core idle).
WORKERS = (os.cpu_count() or 1) + 1


class Server:
    """``gunicorn wsgi:app`` on a free port, configured through the ``ASSESS_*`` variables."""

    def __init__(
        self,
        url: str,
        folder: Path,
        *,
        workers: int = WORKERS,
        threads: int = 1,
        timeout: int = 30,
        preload: bool = True,
        extra_env: dict[str, str] | None = None,
        app: str = "wsgi:app",
        config: Path | None = None,
        log_level: str = "warning",
    ) -> None:
        """``config``: a gunicorn configuration file (the project's ``gunicorn.conf.py``,
        say) instead of the benchmarks' own, which only drops the connections a worker
        inherits when ``preload``; the project's is never read unless given here."""
        self.url, self.folder, self.workers, self.threads = url, folder, workers, threads
        self.timeout, self.preload, self.app = timeout, preload, app
        self.config, self.log_level = config, log_level
        self.port = free_port()
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.log = folder / "gunicorn.log"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        env = {
            **os.environ,
            "ASSESS_DATABASE_URL": self.url,
            "ASSESS_INSTANCE_PATH": str(self.folder),
            "ASSESS_SECRET_KEY": SECRET_KEY,
            **self.extra_env,
        }
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(self.workers),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--backlog",
            "2048",
            "--timeout",
            str(self.timeout),
            "--graceful-timeout",
            "5",
            "--log-level",
            self.log_level,
            "--error-logfile",
            str(self.log),
        ]
        if self.threads > 1:
            command += ["--worker-class", "gthread", "--threads", str(self.threads)]
        if self.preload:
            # The app is imported once and forked: workers (and those replacing killed ones)
            # start at once. Each worker drops the connections inherited from the master.
            command.append("--preload")
        config = self.config
        if config is None:
            # Always a file of our own: gunicorn would otherwise read the project's
            # gunicorn.conf.py from the working folder.
            config = self.folder / "gunicorn_conf.py"
            config.write_text(_POST_FORK if self.preload else "")
        command += ["--config", str(config)]
        if self.app != "wsgi:app":  # another application of benchmarks/ (saves.py's ceiling)
            command += ["--pythonpath", str(Path(__file__).resolve().parent)]
        command.append(self.app)
        self.process = subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn stopped at start:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.base + "/login", timeout=5) as reply:  # noqa: S310
                    if reply.status == 200 and len(self.worker_pids()) >= self.workers:
                        break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            self.stop()
            raise RuntimeError(f"gunicorn did not answer in 90 s:\n{self.log_tail()}")
        # Every worker imports the app lazily on its first request: warm them all.
        for _ in range(self.workers * 3):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(self.base + "/login", timeout=10).close()  # noqa: S310
        return self

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def worker_pids(self) -> list[int]:
        return children_of(self.process.pid) if self.process else []

    def kill_worker(self, rng: random.Random) -> int | None:
        """SIGKILL one worker (gunicorn starts another); its pid, or ``None`` if none ran."""
        pids = self.worker_pids()
        if not pids:
            return None
        pid = rng.choice(pids)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        return pid

    def cpu_seconds(self) -> float:
        """CPU used so far by the master and its workers (killed workers included)."""
        if self.process is None:
            return 0.0
        total = process_cpu(self.process.pid, children=True)
        return total + sum(process_cpu(pid) for pid in self.worker_pids())

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # Quick shutdown: the runs stop the server once no request is left in flight.
        self.process.send_signal(signal.SIGQUIT)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- PostgreSQL ----------------------------------------------------------------------------------


def postgres_cpu(database: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend serving ``database`` (by process title)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres:") and f" {database} " in title:
            found[int(entry.name)] = process_cpu(int(entry.name))
    return found


def postgres_cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def _pg_bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if found:
        return str(found[-1])
    located = shutil.which(name)
    if located is None:
        raise RuntimeError(f"PostgreSQL's {name} is not installed")
    return located


def restart_system_postgres() -> None:
    """Restart the machine's cluster (every database on it goes away for a moment)."""
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(  # noqa: S603
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],  # noqa: S607
        check=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


class PrivatePostgres:
    """A throwaway PostgreSQL cluster on a free port, to restart at will.

    Made with ``initdb`` (trust authentication, user ``postgres``) in a temporary folder;
    as root, the server runs as the ``postgres`` system user.
    """

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="assess-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.user: str | None = None
        if os.geteuid() == 0:
            self.user = "postgres"
            entry = pwd.getpwnam(self.user)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)

    def _run(self, *args: str, check: bool = True) -> None:
        # Output to a file, never to a pipe: the server that pg_ctl starts keeps its
        # descriptors, and a pipe would stay open as long as the server runs.
        command = list(args)
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        with open(self.folder / "pg_ctl.out", "a") as out:
            done = subprocess.run(  # noqa: S603
                command, stdin=subprocess.DEVNULL, stdout=out, stderr=out, cwd=self.folder
            )
        if check and done.returncode != 0:
            raise RuntimeError(
                f"{' '.join(args[:1])} failed:\n{(self.folder / 'pg_ctl.out').read_text()[-2000:]}"
            )

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> PrivatePostgres:
        if not self.data.exists():
            self._run(
                _pg_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E",
                "UTF8", "--no-sync",
            )  # fmt: skip
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c max_connections=300 -c shared_buffers=64MB"
        )
        self._run(
            _pg_bin("pg_ctl"), "-D", str(self.data), "-o", options, "-l",
            str(self.folder / "postgres.log"), "-w", "-t", "60", "start",
        )  # fmt: skip
        return self

    def restart(self) -> None:
        self._run(
            _pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "postgres.log"),
            "-m", "fast", "-w", "-t", "60", "restart",
        )  # fmt: skip

    def stop(self) -> None:
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres().start()
    try:
        yield server
    finally:
        server.stop()
