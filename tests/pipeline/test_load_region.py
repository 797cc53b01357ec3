"""``missing-episodes load-region``: a region's first load in one command stores what three ingests and the per-child
rules store, and running it again changes nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select

from missing_episodes.db.engine import copy_sqlite, session_scope
from missing_episodes.db.models import Child
from tests.pipeline.test_flows import _actions_without_allocation, _run, _slice_of_sample


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
    with session_scope(loaded) as session:
        assert session.scalar(select(func.count()).select_from(Child).where(Child.needs_review)) == 0

    from flows.first_load import load_region

    again = asyncio.run(load_region(folder))
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
