"""The task layer called through ``.fn()``: the wrapped work without orchestration (no server, no harness)."""

from __future__ import annotations

import asyncio

from missing_episodes.config import DATA_DIR
from tasks.ingest import ingest_file
from tasks.rules import count_pending_reviews, run_rules, run_rules_batch


def test_ingest_and_rules_tasks_do_their_work_without_prefect_running(sqlite_url, monkeypatch):
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", sqlite_url)
    children = ingest_file.fn("children", DATA_DIR / "sample" / "children.csv", "register")
    notifications = ingest_file.fn("notifications", DATA_DIR / "sample" / "damaged.csv", "police")
    assert (children["new"], children["quarantined"]) == (59, 0)
    assert (notifications["read"], notifications["new"], notifications["quarantined"]) == (8, 2, 6)
    pending = count_pending_reviews.fn()
    assert pending == 60  # the register's children and Riley Holt, new to the register: flagged for MASH
    first = run_rules_batch.fn(10)
    assert first["children"] == 10 and count_pending_reviews.fn() == 50
    rest = run_rules_batch.fn(1000)
    assert rest["children"] == 50 and count_pending_reviews.fn() == 0
    assert asyncio.run(run_rules.fn("CH-NOT-A-CHILD"))["children"] == 0
