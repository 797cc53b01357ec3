"""The ingest flow on Prefect's test harness: per-episode subflows for a day's load, batches for a backlog.

Both paths run the same rules; on the same feed they must store the same actions. Which worker an interview is
allocated to is not a rule's output but a load-balancing effect that depends on the order children are
processed in (subflows run concurrently), so the comparison leaves the allocation out and checks instead that
every open interview was allocated on both paths.
"""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

import pytest
from sqlalchemy import func, select

from missing_episodes.config import DATA_DIR
from missing_episodes.db.engine import copy_sqlite, session_scope
from missing_episodes.db.models import Action, Child
from tests.snapshot import snapshot

SAMPLE = DATA_DIR / "sample"
ALLOCATION = {"assigned_to", "assignment_note"}


def _slice_of_sample(folder: Path, children: int) -> dict[str, Path]:
    """The bundled feed cut down to the busiest few children (a day's load, not a year's)."""
    with (SAMPLE / "notifications.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    counts: dict[str, int] = {}
    for row in rows:
        if row["child_id"]:
            counts[row["child_id"]] = counts.get(row["child_id"], 0) + 1
    keep = set(sorted(counts, key=lambda c: (-counts[c], c))[:children])
    incidents = {row["incident_ref"] for row in rows if row["child_id"] in keep}
    paths = {}
    for kind, wanted in (
        ("children", lambda r: r["child_id"] in keep),
        ("notifications", lambda r: r["incident_ref"] in incidents),
        ("outcomes", lambda r: r["child_id"] in keep),
    ):
        with (SAMPLE / f"{kind}.csv").open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            selected = [row for row in reader if wanted(row)]
            fields = reader.fieldnames
        paths[kind] = folder / f"{kind}.csv"
        with paths[kind].open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields)
            writer.writeheader()
            writer.writerows(selected)
    return paths


def _run(monkeypatch, url: str, files: dict[str, Path], bulk_threshold: int) -> dict:
    from flows.ingest import ingest_files

    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", url)
    monkeypatch.setenv("MISSING_EPISODES_BULK_THRESHOLD", str(bulk_threshold))
    results = {}
    for kind in ("children", "notifications"):
        results[kind] = asyncio.run(ingest_files(kind, [files[kind]], None, False))
    results["outcomes"] = asyncio.run(ingest_files("outcomes", [files["outcomes"]], None, True))
    return results


def _actions_without_allocation(url: str) -> list[tuple]:
    return sorted(tuple(pair for pair in row if pair[0] not in ALLOCATION) for row in snapshot(url)["action"])


@pytest.mark.slow
def test_subflow_path_and_bulk_path_store_identical_actions(prefect_harness, tmp_path, monkeypatch, _sqlite_template):
    files = _slice_of_sample(tmp_path, children=12)
    per_child = copy_sqlite(_sqlite_template, tmp_path / "subflows.db")
    bulk = copy_sqlite(_sqlite_template, tmp_path / "bulk.db")

    bulk_results = _run(monkeypatch, bulk, files, bulk_threshold=0)
    assert bulk_results["outcomes"]["rules"]["batches"] >= 1
    assert bulk_results["outcomes"]["rules"]["subflows"] == 0

    results = _run(monkeypatch, per_child, files, bulk_threshold=10_000)
    assert results["outcomes"]["rules"]["subflows"] == 12
    assert results["outcomes"]["rules"]["batches"] == 0

    expected = _actions_without_allocation(bulk)
    assert len(expected) > 100
    assert _actions_without_allocation(per_child) == expected
    for url in (per_child, bulk):
        with session_scope(url) as session:
            assert session.scalar(select(func.count()).select_from(Child).where(Child.needs_review)) == 0
            unallocated = (
                select(func.count())
                .select_from(Action)
                .where(Action.kind == "return_home_interview", Action.status == "open", Action.assigned_to.is_(None))
            )
            assert session.scalar(unallocated) == 0


@pytest.mark.slow
def test_the_ingest_command_runs_the_flow_and_ends_with_a_one_line_summary(
    prefect_harness, tmp_path, monkeypatch, sqlite_url
):
    from typer.testing import CliRunner

    from missing_episodes.cli import app

    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", sqlite_url)
    damaged = SAMPLE / "damaged.csv"
    result = CliRunner().invoke(app, ["ingest", "--kind", "notifications", str(damaged)])
    assert result.exit_code == 0, result.output
    assert _summary(result.output) == "notifications: read 8, new 2, duplicate 0, quarantined 6"
    again = CliRunner().invoke(app, ["ingest", "--kind", "notifications", str(damaged)])
    assert _summary(again.output) == "notifications: read 8, new 0, duplicate 2, quarantined 6"


def _summary(output: str) -> str:
    """The command's own line (Prefect's log lines share the captured output)."""
    [line] = [line for line in output.splitlines() if line.startswith("notifications: read")]
    return line
