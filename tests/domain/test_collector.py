"""The cyclic collector is held back while a load runs (``missing_episodes.collector``) and put back after, in
whichever thread the last load finishes; an ingest and a recomputation run under it."""

from __future__ import annotations

import gc
import threading
from pathlib import Path

import pytest

from missing_episodes import collector
from missing_episodes.actions import recompute
from missing_episodes.ingest import rows
from missing_episodes.jobs.ingest import ingest_path
from missing_episodes.jobs.rules import review_next_batch
from tests.builders.feeds import message, write_csv


def test_young_passes_are_rarer_inside_and_as_before_after() -> None:
    before = gc.get_threshold()
    with collector.collecting_less():
        assert gc.get_threshold() == (collector.LOAD_THRESHOLD, *before[1:])
        with collector.collecting_less():  # a load inside a load
            assert gc.get_threshold()[0] == collector.LOAD_THRESHOLD
        assert gc.get_threshold()[0] == collector.LOAD_THRESHOLD
    assert gc.get_threshold() == before


def test_the_thresholds_come_back_when_the_last_of_two_threads_leaves() -> None:
    before = gc.get_threshold()
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: list[int] = []

    def first() -> None:
        with collector.collecting_less():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with collector.collecting_less():
            second_in.set()
            first_out.wait(5)
            seen.append(gc.get_threshold()[0])  # the first thread has left: still a load running

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == [collector.LOAD_THRESHOLD]
    assert gc.get_threshold() == before


def test_an_ingest_and_a_recomputation_run_with_fewer_collections(sqlite_url: str, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", sqlite_url)
    thresholds: dict[str, int] = {}

    def watching(name: str, real):  # the loop each one batches its work with
        def batched(items, size):
            thresholds[name] = gc.get_threshold()[0]
            return real(items, size)
        return batched

    monkeypatch.setattr(rows, "batched", watching("ingest", rows.batched))
    monkeypatch.setattr(recompute, "batched", watching("recompute", recompute.batched))
    feed = [message("M1", "2026-06-01T10:00:00", "missing", "I1", child_id="P1", first_name="A", last_name="B",
                    date_of_birth="2011-01-01", last_seen_at="2026-06-01T09:00:00")]
    ingest_path("notifications", write_csv(tmp_path / "n.csv", feed), "police")
    review_next_batch(100)
    assert thresholds == {"ingest": collector.LOAD_THRESHOLD, "recompute": collector.LOAD_THRESHOLD}
    assert gc.get_threshold()[0] != collector.LOAD_THRESHOLD
