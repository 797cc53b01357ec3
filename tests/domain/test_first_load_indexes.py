"""A first load defers the secondary indexes it does not read and builds them at its end (``db.first_load``).

What must hold: the deferral happens only on a database without an episode; the indexes come back exactly as the
migrations made them, whether the load ends or a killed load leaves them missing (every flow's ``ensure_schema``
builds them); and a load with the indexes deferred stores the same rows as one without.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import inspect, select

from missing_episodes.config import DATA_DIR
from missing_episodes.db.engine import make_engine, session_scope
from missing_episodes.db.first_load import DEFERRED, build_indexes, defer_indexes
from missing_episodes.db.models import Base
from missing_episodes.feeds import DEFAULT_SOURCE
from missing_episodes.jobs.ingest import ensure_schema, ingest_path
from missing_episodes.jobs.rules import review_next_batch
from tests.builders.feeds import message, write_csv

SAMPLE = DATA_DIR / "sample"


def indexes(url: str) -> dict[str, tuple[tuple[str, ...], bool]]:
    """Every index of the schema: its columns and whether it is unique, by name."""
    inspector = inspect(make_engine(url))
    return {str(found["name"]): (tuple(found["column_names"]), bool(found["unique"]))
            for table in inspector.get_table_names() for found in inspector.get_indexes(table)}


@pytest.fixture
def use_db(db_url, monkeypatch):
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", db_url)
    return db_url


def test_an_empty_database_defers_the_indexes_and_gets_back_exactly_what_the_migrations_made(use_db):
    migrated = indexes(use_db)
    assert set(DEFERRED) <= migrated.keys()
    assert sorted(defer_indexes(make_engine(use_db))) == sorted(DEFERRED)
    assert indexes(use_db) == {name: shape for name, shape in migrated.items() if name not in DEFERRED}
    assert defer_indexes(make_engine(use_db)) == []  # nothing left to drop: nothing fails either
    assert sorted(build_indexes(make_engine(use_db))) == sorted(DEFERRED)
    assert indexes(use_db) == migrated
    assert build_indexes(make_engine(use_db)) == []


def test_a_database_holding_an_episode_keeps_its_indexes(use_db, tmp_path):
    feed = write_csv(tmp_path / "n.csv", [message("N1", "2026-03-27T22:00:00", "missing", "INC-1", child_id="P1",
                                                   last_seen_at="2026-03-27T20:00:00", risk_level="low")])
    ingest_path("notifications", feed, "police")
    migrated = indexes(use_db)
    assert defer_indexes(make_engine(use_db)) == []
    assert indexes(use_db) == migrated


def test_a_load_killed_before_its_end_gets_its_indexes_back_from_the_next_flows_schema_check(use_db):
    migrated = indexes(use_db)
    defer_indexes(make_engine(use_db))
    ensure_schema()  # what every flow that writes does first
    assert indexes(use_db) == migrated


def test_the_indexes_the_load_builds_are_the_ones_the_models_declare():
    declared = {index.name for table in Base.metadata.tables.values() for index in table.indexes}
    assert set(DEFERRED) <= declared


def _first_load(url: str, defer: bool) -> dict[str, list[tuple]]:
    """The sample region loaded as load-region does (the three feeds, then the bulk rules); every table's rows
    without the times of day the load ran at."""
    os.environ["MISSING_EPISODES_DATABASE_URL"] = url
    if defer:
        assert defer_indexes(make_engine(url))
    for kind in ("children", "notifications", "outcomes"):
        ingest_path(kind, SAMPLE / f"{kind}.csv", DEFAULT_SOURCE[kind])
    while review_next_batch(500)["children"]:
        pass
    if defer:
        assert sorted(build_indexes(make_engine(url))) == sorted(DEFERRED)
    clock = {"created_at", "updated_at", "recorded_at", "received_at", "at"}
    rows = {}
    with session_scope(url) as session:
        for table in Base.metadata.sorted_tables:
            columns = [column for column in table.columns if column.name not in clock]
            rows[table.name] = session.execute(select(*columns).order_by(*table.primary_key.columns)).all()
    return rows


def test_a_first_load_with_its_indexes_deferred_stores_the_same_rows(sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setenv("MISSING_EPISODES_NOW", "2026-11-02T07:00:00Z")
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", sqlite_url)
    other = Path(tmp_path / "deferred.db")
    from missing_episodes.db.engine import copy_sqlite

    deferred_url = copy_sqlite(Path(sqlite_url.removeprefix("sqlite:///")), other)
    plain = _first_load(sqlite_url, defer=False)
    deferred = _first_load(deferred_url, defer=True)
    assert sum(len(rows) for rows in plain.values()) > 1000
    assert plain["action"] and deferred == plain
