"""A fixed clock (``MISSING_EPISODES_NOW``) that cannot be read is refused in one line, exit 2, before any work."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cli import app


def test_an_unreadable_fixed_clock_is_one_line_and_exit_2(tmp_path: Path, monkeypatch) -> None:
    database = tmp_path / "never-created.db"
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("MISSING_EPISODES_NOW", "yesterday")
    result = CliRunner().invoke(app, ["actions", "--open"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "MISSING_EPISODES_NOW" in lines[0] and "ISO 8601" in lines[0]
    assert "Traceback" not in result.output and not database.exists()

