"""Every file the product writes is its owner's only: files 0600, folders 0700 (issue 16, item 14).

The product runs as a user would run it, through its own command line: the main job on the configured sources (drop
folders holding the bundled feed, dropped there world-readable as an SFTP server would leave them), so the
database and its ``-wal``/``-shm``, the briefing pack, the archived feed files and the quarantine are written, and
an export. Then every file and folder they wrote is walked: none is readable by the group or others.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from missing_episodes.config import DATA_DIR
from missing_episodes.permissions import PRIVATE_UMASK, make_private, readable_by_others
from missing_episodes.sources import FolderSource
from tests import golden

SAMPLE = DATA_DIR / "sample"


@pytest.mark.slow
def test_the_main_job_and_an_export_write_nothing_others_can_read(tmp_path: Path) -> None:
    var = tmp_path / "var"
    var.mkdir(mode=0o700)
    feeds = var / "feeds"
    sources = []
    for feed, files in (("children", ["children.csv"]), ("notifications", ["notifications.csv", "damaged.csv"]),
                        ("outcomes", ["outcomes.csv"])):
        inbox = tmp_path / "drop" / feed  # the drop folder is someone else's: outside var, world-readable
        inbox.mkdir(parents=True)
        for name in files:
            shutil.copy(SAMPLE / name, inbox / name)
            (inbox / name).chmod(0o644)
        sources.append(f"  - {{name: {feed}, feed: {feed}, type: folder, inbox: {inbox}, "
                       f"archive: {feeds / feed / 'archive'}}}")
    sources_file = tmp_path / "sources.yaml"
    sources_file.write_text("sources:\n" + "\n".join(sources) + "\n", encoding="utf-8")

    env = golden.environment(var, golden.SampleMoments.from_manifest().as_of,
                             {"MISSING_EPISODES_SOURCES": str(sources_file),
                              "MISSING_EPISODES_DATABASE_URL": f"sqlite:///{var / 'missing_episodes.db'}",
                              "MISSING_EPISODES_OUTPUT_DIR": str(var / "out"),
                              "PREFECT_HOME": str(tmp_path / "prefect")})

    def cli(*args: str) -> str:
        done = subprocess.run([str(golden.cli_path()), *args], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=900)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
        return done.stdout

    cli("run", "--no-sample", "--date", "2026-11-02")
    cli("export", "ssd", "--out", str(var / "out" / "ssd"))

    written = [p.relative_to(var).as_posix() for p in var.rglob("*")]
    for expected in ("missing_episodes.db", "out/briefing/briefing-2026-11-02.pdf",
                     "feeds/notifications/archive/damaged.csv", "feeds/children/archive/children.csv"):
        assert expected in written, (expected, sorted(written)[:40])
    assert any(name.startswith("out/ssd/") for name in written)
    assert [p.relative_to(var).as_posix() for p in readable_by_others(var)] == []


def test_every_flow_process_and_the_cli_set_the_private_umask() -> None:
    """``tasks.privacy`` (imported by every flow module) and the CLI's callback set it, in a fresh interpreter."""
    probe = "import os, tasks.privacy; print(oct(os.umask(0)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.split()[-1] == oct(PRIVATE_UMASK)
    probe = ("import os\nfrom typer.testing import CliRunner\nfrom cli import app\n"
             "os.umask(0o022)\nCliRunner().invoke(app, ['actions', '--help'])\nprint(oct(os.umask(0)))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.split()[-1] == oct(PRIVATE_UMASK)


def test_a_file_made_readable_before_the_product_took_it_over_is_tightened(tmp_path: Path) -> None:
    source = FolderSource(name="police", feed="notifications", type="folder", inbox=tmp_path / "in",
                          archive=tmp_path / "archive")
    source.inbox.mkdir()
    dropped = source.inbox / "police.csv"
    dropped.write_text("notification_id\n")
    dropped.chmod(0o644)
    archived = source.archive_file(dropped)
    assert stat.S_IMODE(os.stat(archived).st_mode) == 0o600
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    make_private(folder)
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert readable_by_others(folder) == []
    (folder / "open.txt").write_text("x")
    (folder / "open.txt").chmod(0o640)
    assert readable_by_others(folder) == [folder / "open.txt"]
