"""The README's commands, copied in order into a shell on a fresh copy after ``bash scripts/demo``, all succeed.

The commands are read from README.md itself: every fenced code block that follows a ``<!-- readme-commands -->``
line. A line is a command (a leading ``$ `` is dropped, a trailing ``\\`` continues it, ``#`` comments and blank
lines are skipped); ``bash scripts/demo`` is the first step and not repeated.

A fresh copy: the repository's tracked files copied into a temporary folder, the project's ``.venv`` linked into
it (``scripts/setup`` then finds its install current and installs nothing), and the copy's own code put first on
``PYTHONPATH``, so every path the product derives from its code (``var/``, ``data/``) is the copy's. No
``MISSING_EPISODES_*`` setting is passed on: the commands run on the defaults, as a newcomer's do.
``MISSING_EPISODES_README`` names another file to read the commands from (to try a README change first).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from missing_episodes.config import PROJECT_ROOT

MARKER = "<!-- readme-commands -->"
_FENCE = re.compile(r"^\s*(```|~~~)")

pytestmark = pytest.mark.slow


def readme_commands(text: str) -> list[str]:
    """The shell commands of every fenced block that follows the marker, in order."""
    commands: list[str] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        if lines[index].strip() != MARKER:
            index += 1
            continue
        index += 1
        while index < len(lines) and not _FENCE.match(lines[index]):
            index += 1  # blank lines (or a sentence) between the marker and its block
        index += 1
        pending = ""
        while index < len(lines) and not _FENCE.match(lines[index]):
            line = lines[index].strip()
            index += 1
            if line.startswith("$ "):
                line = line[2:]
            if not line or line.startswith("#"):
                continue
            if line.endswith("\\"):
                pending += line[:-1].rstrip() + " "
                continue
            commands.append(pending + line)
            pending = ""
    return commands


def test_commands_are_read_from_marked_blocks_only() -> None:
    text = "\n".join([
        "```console", "$ not this", "```", MARKER, "", "```console", "$ first --a \\", "    --b", "# note",
        "second", "```", "text", MARKER, "~~~", "third", "~~~"])
    assert readme_commands(text) == ["first --a --b", "second", "third"]


def _fresh_copy(target: Path) -> Path:
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT_ROOT, capture_output=True, check=True).stdout
    for name in tracked.decode().split("\0"):
        source = PROJECT_ROOT / name
        if name and source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    (target / ".venv").symlink_to(Path(sys.prefix))  # the environment running this test
    return target


def test_the_readme_commands_work_after_the_demo(tmp_path: Path) -> None:
    readme = Path(os.environ.get("MISSING_EPISODES_README", PROJECT_ROOT / "README.md"))
    commands = readme_commands(readme.read_text(encoding="utf-8"))
    if not commands:
        pytest.skip(f"{readme.name} has no {MARKER} line before a fenced block of commands: nothing to run "
                    "(see the CLI notes for the block to add)")
    copy = _fresh_copy(tmp_path / "clone")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MISSING_EPISODES_", "PREFECT_"))}
    env.update({"PYTHONPATH": str(copy), "PREFECT_HOME": str(copy / "var" / "prefect"), "COLUMNS": "100",
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180"})
    steps = ["bash scripts/demo", *(command for command in commands if command != "bash scripts/demo")]
    for step in steps:
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", step], cwd=copy, env=env, capture_output=True,
                              text=True, timeout=900, check=False)
        assert done.returncode == 0, f"{step!r} exited {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert (copy / "var" / "missing_episodes.db").exists()
    assert not (copy / "missing_episodes.db").exists()  # one default: the demo's
