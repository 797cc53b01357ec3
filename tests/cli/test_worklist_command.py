"""``actions``: filters, names on request, formula-safe CSV, the order a coordinator works in, 80 columns, and
feed values printed as data (rich markup in a ref never crashes a table)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from tests.cli.seed import AS_OF, FORMULA_CHILD, MARKUP_INCIDENT, seed


@pytest.fixture
def seeded(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The seeded worklist on SQLite and on PostgreSQL (the filters are SQL: both dialects must agree)."""
    seed(db_url)
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", db_url)
    return db_url


def run(*args: str, columns: int = 200) -> str:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": str(columns)}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def csv_rows(*args: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(run("actions", "--as-of", AS_OF, "--csv", *args))))


def test_the_table_sorts_overdue_first_then_due_soonest_then_closed(seeded: str) -> None:
    rows = csv_rows()
    assert [(row["status"], row["due_at"][:16]) for row in rows] == [
        ("overdue", "2026-11-01T12:00"), ("overdue", "2026-11-02T07:00"),
        ("open", "2026-11-03T09:00"), ("open", "2026-11-04T20:00"), ("done", "2026-11-01T10:00"),
    ]


def test_filters_by_worker_team_child_due_before_and_open(seeded: str) -> None:
    # Sam Patel: allocated worker of P000101 and P000303, and assigned the RHI of P000303.
    assert {row["child_id"] for row in csv_rows("--worker", "sam patel")} == {"P000101", "P000303"}
    assert {row["assigned_to"] for row in csv_rows("--worker", "Rhi Worker")} == {"Rhi Worker"}
    assert {row["child_ref"] for row in csv_rows("--team", "Team South")} == {"CH-BBBBBBBBBBBB"}
    assert {row["child_id"] for row in csv_rows("--child", "CH-CCCCCCCCCCCC")} == {"P000303"}
    assert {row["child_id"] for row in csv_rows("--child", "p000101")} == {"P000101"}
    assert [row["due_at"][:10] for row in csv_rows("--due-before", "2026-11-03T00:00", "--open")] == [
        "2026-11-01", "2026-11-02"]
    assert csv_rows("--kind", "strategy_meeting", "--team", "Team North")[0]["episode_ref"] == "EP-000000000001"
    assert csv_rows("--worker", "nobody at all") == []


def test_names_only_when_asked(seeded: str) -> None:
    assert "Zoë" not in run("actions", "--as-of", AS_OF)
    assert "name" not in csv_rows()[0]
    assert "Zoë [bold]Okafor[/bold]" in run("actions", "--as-of", AS_OF, "--names")
    assert {row["name"] for row in csv_rows("--names")} >= {"Zoë [bold]Okafor[/bold]", "Amir Shah"}


def test_csv_neutralises_formulas(seeded: str) -> None:
    values = [value for row in csv_rows() for value in row.values()]
    assert f"'{FORMULA_CHILD}" in values
    assert not any(value.startswith(("=", "+", "-", "@")) for value in values)


def test_the_json_keeps_its_stored_order_and_fields(seeded: str) -> None:
    items = json.loads(run("actions", "--as-of", AS_OF, "--json"))
    assert [item["due_at"][:16] for item in items] == sorted(item["due_at"][:16] for item in items)
    assert MARKUP_INCIDENT in {item["incident_ref"] for item in items}


@pytest.mark.parametrize("columns", [80, 200])
def test_the_table_shows_refs_and_years_and_fits_the_terminal(seeded: str, columns: int) -> None:
    text = run("actions", "--as-of", AS_OF, "--open", columns=columns)
    assert all(len(line) <= columns for line in text.splitlines()), text
    for ref in ("EP-000000000001", "EP-000000000003", "KBP-2026-000002", "P000303"):
        assert ref in text, (ref, text)
    assert "2026" in text.split("\n", 2)[2]  # dates carry their year (the title has it anyway)
    assert MARKUP_INCIDENT in text  # printed literally, no crash
    assert "4 actions, 2 overdue" in text


def test_help_shows_defaults_and_choices() -> None:
    text = CliRunner().invoke(app, ["actions", "--help"], env={"COLUMNS": "200"}).stdout
    assert "now" in text and "strategy_meeting" in text and "return_home_interview" in text
    weekly = CliRunner().invoke(app, ["weekly-list", "--help"], env={"COLUMNS": "200"}).stdout
    assert "the last Sunday" in weekly


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.startswith("missing-episodes ")


def test_an_empty_worklist_on_a_migrated_database_is_fine(sqlite_url: str, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", sqlite_url)
    assert "0 actions" in run("actions", "--as-of", AS_OF)
