"""``care-leavers``: refs and London dates in the table and the CSV, names only on request, feed values shown as
data (rich markup never parsed, spreadsheet formulas neutralised), and read-only."""

from __future__ import annotations

import csv
import io

import pytest
from typer.testing import CliRunner

from cli import app
from missing_episodes.jobs._shared import ingest_records
from missing_episodes.jobs.rules import review_next_batch
from missing_episodes.sources import RawRow

HOSTILE_TEAM = "[/bold] Leaving Care"
FORMULA_ADVISER = "=HYPERLINK(\"http://x\")"


@pytest.fixture
def recorded(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("MISSING_EPISODES_NOW", "2026-11-10T09:00:00")
    ingest_records("children", [
        RawRow("register", 1, {"child_id": "P000711", "first_name": "Kit", "last_name": "[bold]Leaver[/bold]",
                               "date_of_birth": "2005-04-06", "legal_status": "care_leaver",
                               "responsible_authority": "Wokingham", "allocated_worker": FORMULA_ADVISER,
                               "team": HOSTILE_TEAM}),
        RawRow("register", 2, {"child_id": "P000712", "first_name": "Lee", "last_name": "Quiet",
                               "date_of_birth": "2004-01-02", "legal_status": "care_leaver",
                               "responsible_authority": "Wokingham", "allocated_worker": "Jo Barker",
                               "team": "Leaving Care Team"}),
    ], "register")
    ingest_records("outcomes", [
        RawRow("case-management", 1, {"event_id": "E-1", "recorded_at": "2026-11-02T10:00:00",
                                      "child_id": "P000711", "event": "assessed_missing", "by": "Jo Barker"}),
        RawRow("case-management", 2, {"event_id": "E-2", "recorded_at": "2026-11-01T09:00:00",
                                      "child_id": "P000712", "event": "assessed_not_in_touch", "by": "Jo Barker"}),
    ], "case-management")
    review_next_batch(100)
    return sqlite_url


def run(*args: str, columns: int = 200) -> str:
    result = CliRunner().invoke(app, ["care-leavers", "--as-of", "2026-11-10T09:00", *args],
                                env={"COLUMNS": str(columns)}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_command_lists_refs_and_dates_and_escapes_feed_values(recorded: str) -> None:
    table = run()
    assert "P000711" in table and "P000712" in table
    assert "missing" in table and "not in touch" in table
    assert "02 Nov 2026 10:00" in table and "09 Nov 2026 10:00" in table  # since, and the weekly review due
    assert HOSTILE_TEAM in table and "Leaver" not in table  # markup shown as text; no names unless asked
    assert "1 assessed missing, 1 not in touch" in table
    assert "Kit [bold]Leaver[/bold]" in run("--names")
    narrow = run(columns=80)  # stacked, nothing cut off on the right
    assert max(map(len, narrow.splitlines())) <= 80
    assert "written confirmation" in narrow and "Leaving Care Team" in narrow and "09 Nov 2026" in narrow
    rows = list(csv.DictReader(io.StringIO(run("--csv"))))
    assert [(row["list"], row["child_id"], row["since"][:16]) for row in rows] == [
        ("missing", "P000711", "2026-11-02T10:00"), ("not_in_touch", "P000712", "2026-11-01T09:00")]
    assert rows[0]["personal_advisor"] == "'" + FORMULA_ADVISER  # neutralised for spreadsheets
    assert rows[0]["next_weekly_review"].startswith("2026-11-09T10:00") and not rows[1]["next_weekly_review"]
    assert "weekly_review overdue" in rows[0]["open_actions"] and "name" not in rows[0]
    assert rows[0]["child_ref"].startswith("CH-")
