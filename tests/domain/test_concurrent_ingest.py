"""Four ingests at once on PostgreSQL, of overlapping files in different orders (issue 16, item 7).

Each process ingests the bundled sample's register, police notifications and case outcomes, cut into overlapping
files, in its own shuffled order of files and of rows, in small chunks, then runs the rules. Inserts and locks are
taken in sorted order (and a chunk chosen as a deadlock's victim is run again), so none fails, nothing is stored
twice, and the database ends as one serial ingest leaves it (see ``_comparable`` for the two things the rules,
run at different moments in each process, may leave otherwise).
"""

from __future__ import annotations

import csv
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from missing_episodes.config import DATA_DIR
from missing_episodes.db.engine import make_engine, session_scope
from missing_episodes.db.models import Action, Child, Episode, Notification, Outcome
from tests.builders.feeds import write_csv
from tests.snapshot import snapshot

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

PROCESSES = 4

INGEST_SCRIPT = """
import os, sys, time
from pathlib import Path
from missing_episodes.jobs.ingest import ingest_path
from missing_episodes.jobs.rules import pending_reviews, review_children
time.sleep(max(0.0, float(os.environ.get("START_AT", "0")) - time.time()))  # all start at once
for spec in sys.argv[1:]:
    kind, source, path = spec.split("|")
    ingest_path(kind, Path(path), source)
review_children([i.child_ref for i in pending_reviews()])
"""

FEEDS = (("children", "register", "children.csv"), ("notifications", "police", "notifications.csv"),
         ("outcomes", "case-management", "outcomes.csv"))  # fmt: skip


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / "sample" / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _overlapping_files(folder: Path, seed: int) -> list[str]:
    """The sample cut into two overlapping files per feed (the first two thirds, the last two), each file's rows
    and the order of the files shuffled by ``seed``."""
    shuffle = random.Random(seed)
    specs = []
    for kind, source, name in FEEDS:
        rows = _rows(name)
        third = len(rows) // 3 + 1
        for part in range(2):
            piece = rows[part * third : (part + 2) * third]
            piece = shuffle.sample(piece, len(piece))
            path = write_csv(folder / f"{kind}-{part}.csv", piece, list(rows[0]))
            specs.append(f"{kind}|{source}|{path}")
    shuffle.shuffle(specs)
    return specs


def _run(url: str, specs: list[str], start_at: float = 0.0) -> subprocess.Popen:
    env = dict(os.environ, MISSING_EPISODES_DATABASE_URL=url, MISSING_EPISODES_INGEST_CHUNK_SIZE="300",
               START_AT=str(start_at))  # fmt: skip
    return subprocess.Popen([sys.executable, "-c", INGEST_SCRIPT, *specs], env=env, stderr=subprocess.PIPE, text=True)


def _review(url: str) -> None:
    """The rules for any child a late chunk flagged after a process's own review had run."""
    env = dict(os.environ, MISSING_EPISODES_DATABASE_URL=url)
    subprocess.run([sys.executable, "-c", INGEST_SCRIPT], env=env, check=True)


def _comparable(database: dict) -> dict:
    """The snapshot without who holds each interview and without withdrawn actions.

    Each process ran the rules on what it had stored so far: an action asked for by a part of an episode's
    messages and not by all of them is withdrawn (it had fired) rather than never made, and an allocation is
    kept once made. Everything else must equal the serial ingest.
    """
    drop = {"assigned_to", "assignment_note"}
    kept = [row for row in database["action"] if ("status", "withdrawn") not in row]
    return {**database, "action": sorted(tuple(p for p in row if p[0] not in drop) for row in kept)}


def test_four_concurrent_ingests_of_shuffled_overlapping_files_fail_nothing_and_store_everything_once(
    pg_url, pg_server, _pg_template, tmp_path
):
    serial_name = pg_server.create_database(template=_pg_template)
    serial_url = pg_server.url_for(serial_name)
    try:
        serial_folder = tmp_path / "serial"
        serial_folder.mkdir()
        serial = _run(serial_url, _overlapping_files(serial_folder, 0))
        assert serial.wait(timeout=900) == 0, serial.stderr.read()[-3000:] if serial.stderr else ""
        expected = snapshot(serial_url)
    finally:
        make_engine(serial_url).dispose()
        pg_server.drop_database(serial_name)

    processes = []
    start_at = time.time() + 20  # after every interpreter has imported the product, on a busy machine
    for number in range(PROCESSES):
        folder = tmp_path / f"p{number}"
        folder.mkdir()
        processes.append(_run(pg_url, _overlapping_files(folder, number + 1), start_at))
    failures = []
    for process in processes:
        code = process.wait(timeout=1200)
        errors = process.stderr.read() if process.stderr else ""
        if code != 0:
            failures.append(errors[-3000:])
    assert failures == []
    _review(pg_url)

    with session_scope(pg_url) as session:
        counts = {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                  for model in (Notification, Episode, Child, Outcome, Action)}  # fmt: skip
        assert session.scalar(select(func.count(func.distinct(Action.key)))) == counts["action"]
        assert session.scalar(select(func.count(func.distinct(Child.ref)))) == counts["child"]
    assert counts["notification"] == len(_rows("notifications.csv")) + len(_rows("outcomes.csv"))
    assert counts["episode"] == len(expected["episode"]) and counts["child"] == len(expected["child"])
    assert _comparable(snapshot(pg_url)) == _comparable(expected)
