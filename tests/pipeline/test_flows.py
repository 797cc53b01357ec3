"""The ingest flow on Prefect's test harness: per-child subflows for a day's load, batches for a backlog.

Both paths run the same rules; on the same feed they must store the same actions. Which worker an interview is
allocated to is not a rule's output but a load-balancing effect that depends on the order children are
processed in (subflows run concurrently), so the comparison leaves the allocation out and checks instead that
every open interview was allocated on both paths.
"""

from __future__ import annotations

import asyncio
import csv
import shutil
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from missing_episodes.config import DATA_DIR
from missing_episodes.db.engine import copy_sqlite, make_engine, session_scope
from missing_episodes.db.first_load import DEFERRED, build_indexes
from missing_episodes.db.models import Action, AuditEvent, Child
from tests.snapshot import snapshot

SAMPLE = DATA_DIR / "sample"
ALLOCATION = {"assigned_to", "assignment_note"}


def _slice_of_sample(folder: Path, children: int) -> dict[str, Path]:
    """The bundled feed cut down to the busiest few children (a day's load, not a year's)."""
    folder.mkdir(parents=True, exist_ok=True)
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
def test_subflows_all_at_once_store_what_one_serial_pass_stores(prefect_harness, tmp_path, monkeypatch, db_url):
    """Twelve per-child subflows at once (the bound raised to twelve), each writing in its own transaction: SQLite
    takes one writer at a time (BEGIN IMMEDIATE, a 30 s busy timeout), PostgreSQL locks each child. Nothing
    collides, and one serial pass of the bulk path afterwards finds nothing to change."""
    from missing_episodes.jobs import Context
    from missing_episodes.jobs.rules import flag_for_review, review_next_batch

    files = _slice_of_sample(tmp_path, children=12)
    monkeypatch.setenv("MISSING_EPISODES_EPISODE_CONCURRENCY", "12")
    results = _run(monkeypatch, db_url, files, bulk_threshold=10_000)
    assert results["outcomes"]["rules"]["subflows"] == 12
    at_once = _actions_without_allocation(db_url)
    assert len(at_once) > 100
    context = Context.load()
    flag_for_review(everyone=True, reason="test: serial pass after concurrent subflows", context=context)
    serial = review_next_batch(10_000, context)
    assert serial["children"] >= 12
    assert (serial["created"], serial["updated"], serial["withdrawn"], serial["removed"]) == (0, 0, 0, 0)
    assert _actions_without_allocation(db_url) == at_once
    with session_scope(db_url) as session:
        assert session.scalar(select(func.count(func.distinct(Action.key)))) == len(at_once)


@pytest.mark.slow
def test_the_ingest_command_runs_the_flow_and_ends_with_a_one_line_summary(
    prefect_harness, tmp_path, monkeypatch, sqlite_url
):
    from typer.testing import CliRunner

    from cli import app

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


def _inboxes(folder: Path, files: dict[str, Path]) -> Path:
    """A sources file whose drop folders hold the given feeds (each run archives its own copy)."""
    from missing_episodes.feeds import DEFAULT_SOURCE

    lines = ["sources:"]
    for kind, path in files.items():
        inbox = folder / kind / "inbox"
        inbox.mkdir(parents=True)
        shutil.copy(path, inbox / path.name)
        name = DEFAULT_SOURCE[kind]  # the name the files were ingested under yesterday: a message is kept once
        lines.append(f"  - {{name: {name}, feed: {kind}, type: folder, inbox: {kind}/inbox, archive: {kind}/archive}}")
    sources = folder / "sources.yaml"
    sources.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return sources


@pytest.mark.slow
def test_the_daily_run_checks_changed_and_still_missing_children_once(
    prefect_harness, tmp_path, monkeypatch, _sqlite_template
):
    """One pass stores what a pass after the ingest plus a second for the roll-forward stored, with fewer runs.

    Yesterday's load is the 12 busiest children of the sample (two of them still missing); today's feed
    brings the next four (one of them still missing). Today the four get a subflow each, the two children
    still missing whose facts did not change one batch between them.
    """
    from prefect import flow

    from flows.daily import daily_run
    from flows.ingest import ingest_sources
    from flows.review import review_changed
    from tasks.rules import flag_for_review

    @flow(name="daily-run-two-passes")
    async def two_passes() -> dict[str, int]:
        await ingest_sources(None, False)
        first = await review_changed()
        flag_for_review(False, "daily roll-forward of schedules for children still missing")
        second = await review_changed()
        return {key: first[key] + second[key] for key in ("children", "subflows", "batches")}

    today = _slice_of_sample(tmp_path / "today", children=16)
    yesterday = {**_slice_of_sample(tmp_path / "yesterday", children=12), "children": today.pop("children")}
    monkeypatch.setenv("MISSING_EPISODES_BULK_THRESHOLD", "10000")
    results = {}
    for name, run in (("one", lambda: daily_run(date(2026, 11, 2))), ("two", two_passes)):
        url = copy_sqlite(_sqlite_template, tmp_path / f"{name}.db")
        _run(monkeypatch, url, yesterday, bulk_threshold=10_000)
        monkeypatch.setenv("MISSING_EPISODES_SOURCES", str(_inboxes(tmp_path / name, today)))
        results[name] = (url, asyncio.run(run()))

    (one_url, one), (two_url, two) = results["one"], results["two"]
    assert one["rules"]["still_missing"] == 3
    assert (one["rules"]["subflows"], one["rules"]["batches"], one["rules"]["children"]) == (4, 1, 4 + 2)
    assert two == {"children": 4 + 3, "subflows": 4 + 3, "batches": 0}
    assert _actions_without_allocation(one_url) == _actions_without_allocation(two_url)
    assert len(_actions_without_allocation(one_url)) > 100
    for url in (one_url, two_url):
        with session_scope(url) as session:
            assert session.scalar(select(func.count()).select_from(Child).where(Child.needs_review)) == 0


# --- load-region: a region's first load in one command ----------------------------------------------------------


@pytest.mark.slow
def test_load_region_stores_what_the_ingests_and_per_child_rules_store(prefect_harness, tmp_path, monkeypatch,
                                                                       _sqlite_template):
    from typer.testing import CliRunner

    from cli import app

    folder = tmp_path / "region"
    files = _slice_of_sample(folder, children=12)
    loaded = copy_sqlite(_sqlite_template, tmp_path / "loaded.db")
    per_child = copy_sqlite(_sqlite_template, tmp_path / "per-child.db")

    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", loaded)
    first = CliRunner().invoke(app, ["load-region", str(folder)])
    assert first.exit_code == 0, first.output
    lines = [line for line in first.output.splitlines() if line.startswith(("children:", "notifications:",
                                                                           "outcomes:", "rules:"))]
    assert [line.split(":")[0] for line in lines] == ["children", "notifications", "outcomes", "rules"]
    assert "duplicate 0, quarantined 0" in lines[1]
    assert f"indexes: {len(DEFERRED)} built once at the end" in first.output
    assert build_indexes(make_engine(loaded)) == []  # every index the load deferred is back
    with session_scope(loaded) as session:
        assert session.scalar(select(func.count()).select_from(Child).where(Child.needs_review)) == 0

    from flows.first_load import load_region

    again = asyncio.run(load_region(folder))
    assert again["indexes"] == {"deferred": [], "built": []}  # a database with episodes keeps its indexes
    assert all(counts["new"] == 0 and counts["duplicate"] == counts["read"] > 0
               for counts in again["ingest"].values())
    assert again["rules"]["created"] == again["rules"]["updated"] == again["rules"]["withdrawn"] == 0

    _run(monkeypatch, per_child, files, bulk_threshold=10_000)  # three ingests, the rules per child in subflows
    expected = _actions_without_allocation(per_child)
    assert len(expected) > 100
    assert _actions_without_allocation(loaded) == expected


def test_load_region_names_a_missing_feed_file_before_anything_runs(tmp_path, monkeypatch, sqlite_url):
    from typer.testing import CliRunner

    from cli import app

    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", sqlite_url)
    folder = tmp_path / "region"
    folder.mkdir()
    (folder / "children.csv").write_text("child_id\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["load-region", str(folder)])
    assert result.exit_code == 2
    assert "notifications.csv, outcomes.csv" in result.output


@pytest.mark.slow
def test_a_retried_fan_out_runs_only_the_batches_that_failed(prefect_harness, tmp_path, monkeypatch, sqlite_url):
    """README "Across workers": a retried parent cuts ranges again from what is still flagged."""
    from types import SimpleNamespace

    from prefect.states import Completed, Failed

    import flows.fanout as fanout
    from tasks.rules import run_rules_range

    files = _slice_of_sample(tmp_path / "region", children=12)
    _run(monkeypatch, sqlite_url, files, bulk_threshold=0)
    asked: list[tuple[str, int, int]] = []  # (attempt, first id, last id) of each batch run created

    async def one_worker(name, parameters, idempotency_key, **_):
        first, last = parameters["first_id"], parameters["last_id"]
        attempt = idempotency_key.split(":")[1]
        asked.append((attempt, first, last))
        if attempt == "1" and len(asked) == 1:  # the first batch fails on the first attempt
            return SimpleNamespace(state=Failed())
        run_rules_range.fn(first, last)
        return SimpleNamespace(state=Completed())

    monkeypatch.setattr(fanout, "run_deployment", one_worker)
    result = asyncio.run(fanout.recompute_fan_out.with_options(retries=1, retry_delay_seconds=0)(
        everyone=True, reason="test: recompute", batch_size=5))
    first_attempt = [(first, last) for attempt, first, last in asked if attempt == "1"]
    second_attempt = [(first, last) for attempt, first, last in asked if attempt == "2"]
    assert len(first_attempt) >= 2 and len(second_attempt) == 1
    (retried,) = second_attempt
    assert first_attempt[0][0] <= retried[0] and retried[1] <= first_attempt[0][1]  # within the failed range
    assert result["still_flagged"] == 0 and 0 < result["flagged"] <= 5
    with session_scope(sqlite_url) as session:
        requests = session.scalar(select(func.count()).select_from(AuditEvent)
                                  .where(AuditEvent.event == "review_requested"))
        assert requests == 1
