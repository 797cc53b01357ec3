"""What a command says when a flow fails inside (the cause and a real log file), the progress bar's counts, and
the command line's read-only paths staying free of Prefect."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from cli import progress as cli_progress
from cli.flows import error_log, run_flow
from missing_episodes import progress


def test_a_failure_inside_a_flow_prints_its_cause_and_a_log_file(capsys: pytest.CaptureFixture[str]) -> None:
    async def failing_flow(ref: str) -> None:
        raise LookupError(f"{ref}: no such episode")

    with pytest.raises(typer.Exit) as exit_info:
        run_flow("the serious notification", failing_flow, "EP-0001")
    assert exit_info.value.exit_code == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: the serious notification failed: LookupError: EP-0001: no such episode")
    log = error_log()
    assert str(log) in line and log.exists() and oct(log.stat().st_mode & 0o777) == "0o600"
    text = log.read_text(encoding="utf-8")
    assert "Traceback" in text and "failing_flow" in text


def test_run_flow_returns_what_a_sync_or_async_flow_returns() -> None:
    async def later() -> int:
        return 2

    assert run_flow("x", lambda: 1) == 1 and run_flow("x", later) == 2


def test_the_progress_bar_listens_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[tuple[str, int]] = []
    # Not a terminal under pytest: no bar, no output, and the counts still reach any other listener.
    with progress.listening(lambda unit, count: seen.append((unit, count))), cli_progress.Progress.activity("x"):
        progress.advance("rows", 5000)
    assert seen == [("rows", 5000)] and capsys.readouterr().err == ""
    monkeypatch.setattr(cli_progress, "wanted", lambda: True)
    with cli_progress.Progress.activity("ingest", unit="rows"):
        assert len(progress._listeners) == 1  # the bar's own listener
        progress.advance("rows", 5000)
    assert progress._listeners == []
    assert cli_progress.counted(45000, "rows", 3210.4) == "45,000 rows, 3,210/s"


@pytest.mark.parametrize("args", [
    ["actions", "--open"], ["quarantine"], ["quarantine", "show", "1"],
    # Commands that do run a flow refuse a mistake before importing Prefect:
    ["form", "serious-notification", "--episode", "EP-NOPE"], ["weekly-list", "--week-ending", "2026-11-04"],
    ["run", "--date", "2026-13-40"],
])
def test_read_only_commands_and_mistakes_never_import_prefect(args: list[str], sqlite_url: str,
                                                              tmp_path: Path) -> None:
    probe = ("import sys; from typer.testing import CliRunner; from cli import app; "
             f"r = CliRunner().invoke(app, {args!r}); print(r.exit_code, 'prefect' in sys.modules)")
    env = {**os.environ, "MISSING_EPISODES_DATABASE_URL": sqlite_url}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120,
                          cwd=tmp_path, check=False)
    assert done.stdout.split()[-1] == "False", done.stdout + done.stderr
    assert done.stdout.split()[-2] in ("0", "2")  # shown, or "no quarantine row 1": either way without Prefect
