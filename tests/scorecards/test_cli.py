"""``assess scorecard`` and ``assess scorecards``, run as an operator would (subprocesses)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader

from assess.extensions import db
from tests.conftest import assess_executable

# Subprocesses are slow to start: SQLite only (the commands read what the tests on both
# backends check).
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
#: The site's address, as an operator sets it.
SITE = {"ASSESS_PUBLIC_URL": "https://assess.example.go.th"}


@pytest.fixture
def cli(app, database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Run `assess …` on the test's database; returns the completed process."""
    env = {
        **os.environ,
        "ASSESS_DATABASE_URL": database_url,
        "ASSESS_INSTANCE_PATH": str(tmp_path / "cli-instance"),
        "ASSESS_SCORECARD_PROCESSES": "2",
    }
    env.pop("ASSESS_PUBLIC_URL", None)

    def run(
        *args: str, ok: bool = True, extra: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [assess_executable(), *args],
            capture_output=True,
            text=True,
            env={**env, **(extra or {})},
            cwd=tmp_path,
            timeout=300,
        )
        if ok:
            assert done.returncode == 0, done.stderr
        return done

    run.env = env  # type: ignore[attr-defined]
    return run


def test_one_scorecard(cli, scene, tmp_path):
    out = tmp_path / "card.pdf"
    done = cli("scorecard", str(scene.round.id), "AG-A", "-o", str(out), "--lang", "en")
    assert "scorecard of AG-A" in done.stdout
    reader = PdfReader(io.BytesIO(out.read_bytes()))
    assert reader.trailer["/Root"]["/Lang"] == "en"
    record = json.loads(next(iter(reader.attachments.values()))[0])
    assert record["agency"]["code"] == "AG-A"
    # The operator sees peer figures, as the central office does.
    assert record["overall"]["peers"]


def test_without_the_sites_address_a_warning(cli, scene, tmp_path):
    """Off the web there is no request to take the address from: without ASSESS_PUBLIC_URL
    the scorecard can only name the verification page, and the operator is told."""
    out = tmp_path / "card.pdf"
    done = cli("scorecard", str(scene.round.id), "AG-A", "-o", str(out), "--lang", "en")
    assert "ASSESS_PUBLIC_URL is not set" in done.stderr
    done = cli("scorecard", str(scene.round.id), "AG-A", "-o", str(out), extra=SITE)
    assert done.stderr == ""
    reader = PdfReader(io.BytesIO(out.read_bytes()))
    links = [
        str(a.get_object()["/A"]["/URI"])
        for page in reader.pages
        for a in page.get("/Annots") or []
        if "/A" in a.get_object()
    ]
    assert any(
        link.startswith(SITE["ASSESS_PUBLIC_URL"] + "/scorecards/verify?code=") for link in links
    )


def test_one_scorecard_refusals(cli, scene, world, tmp_path):
    out = tmp_path / "card.pdf"
    done = cli("scorecard", str(scene.round.id), "NO-SUCH", "-o", str(out), ok=False)
    assert done.returncode == 1
    assert "NO-SUCH" in done.stderr
    still_open = world.round(agencies=[scene.a], name="Open round")
    done = cli("scorecard", str(still_open.id), "AG-A", "-o", str(out), ok=False)
    assert done.returncode == 1
    assert "is open" in done.stderr
    assert not out.exists()
    done = cli("scorecard", str(scene.round.id), "AG-A", "-o", str(out), "--lang", "fr", ok=False)
    assert done.returncode == 2


def test_every_scorecard_in_one_archive_with_a_progress_bar(cli, scene, tmp_path):
    out = tmp_path / "all.zip"
    done = cli("scorecards", str(scene.round.id), "-o", str(out), extra=SITE)
    # Off a terminal, no bar: the one line of what was written, nothing on stderr.
    assert done.stdout == f"{out}: 5 scorecards of round {scene.round.id} (th)\n"
    assert done.stderr == ""
    names = zipfile.ZipFile(out).namelist()
    assert sorted(names) == [f"scorecard-2569-AG-{c}-th.pdf" for c in "ABCPX"]
    assert not (tmp_path / "all.zip.part").exists()


def test_the_progress_bar_is_drawn_on_a_terminal(cli, scene, tmp_path):
    import pty

    leader, follower = pty.openpty()
    out = tmp_path / "all.zip"
    env = {**cli.env, "COLUMNS": "120"}
    with subprocess.Popen(
        [assess_executable(), "scorecards", str(scene.round.id), "-o", str(out)],
        stdout=follower, stderr=subprocess.PIPE, env=env, cwd=tmp_path,
    ) as running:  # fmt: skip
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the command ended: its terminal closed
                break
            if not chunk:
                break
            shown += chunk
        assert running.wait(timeout=300) == 0
    os.close(leader)
    text = shown.decode()
    assert f"round {scene.round.id}: 5 scorecards" in text
    assert "5/5" in text  # the bar's position, drawn as it moved
    assert f"{out}: 5 scorecards" in text


def test_no_scorecard_for_a_response_never_started(cli, scene, world, tmp_path):
    quiet = world.agency("AG-N", name_en="Never Started Office")
    world.invite(scene.round, quiet)
    db.session.commit()
    out = tmp_path / "card.pdf"
    done = cli("scorecard", str(scene.round.id), "AG-N", "-o", str(out), ok=False)
    assert done.returncode == 1
    assert "AG-N" in done.stderr
    assert "never started" in done.stderr
    assert not out.exists()
