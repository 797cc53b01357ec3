"""Scale-out on one machine: Prefect on PostgreSQL, two process workers on one pool, overlapping ingests at once.

The product's database is PostgreSQL too (two workers' flow runs write at once; SQLite would serialise them).
Six ``ingest-files`` runs of overlapping slices of the police feed start together; each must be executed by
exactly one worker (the server hands a run to one worker: a Pending transition succeeds once), and the product
must end with exactly the episodes a single serial ingest makes (its keys make a replay a no-op).
"""

from __future__ import annotations

import asyncio
import csv
import re
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from deployments import WORK_POOL
from deployments.apply import apply
from deployments.local import running_server
from missing_episodes.config import DATA_DIR, Settings
from missing_episodes.db.engine import make_engine, session_scope
from missing_episodes.db.models import Action, Episode, Notification
from missing_episodes.jobs import Context
from missing_episodes.jobs.ingest import ensure_schema, ingest_path

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.xdist_group("prefect-server")]

RUNS = 6


def _slices(folder: Path, count: int) -> list[Path]:
    """``count`` overlapping slices of notifications.csv: each holds its share plus the next slice's first half."""
    with open(DATA_DIR / "sample" / "notifications.csv", encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header, rows = next(reader), list(reader)
    size = len(rows) // count + 1
    paths = []
    for index in range(count):
        path = folder / f"notifications-{index}.csv"
        with open(path, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows[index * size : (index + 1) * size + size // 2])
        paths.append(path)
    return paths


def test_two_workers_share_one_pool_without_double_processing(pg_server, pg_url) -> None:
    root = Path(tempfile.mkdtemp(prefix="me-scale-"))
    children = DATA_DIR / "sample" / "children.csv"
    # The register first, outside Prefect, so every slice finds its children (as the real order does).
    engine_env = {"MISSING_EPISODES_DATABASE_URL": pg_url, "MISSING_EPISODES_OUTPUT_DIR": str(root / "out"),
                  "PREFECT_WORKER_QUERY_SECONDS": "2"}
    prefect_db = pg_server.create_database(prefix="me_test_prefect")
    prefect_url = pg_server.url_for(prefect_db)
    try:
        with running_server(root / "prefect-home", database_url=prefect_url, ui=False) as server:
            with server.client_settings():
                asyncio.run(apply(pool_concurrency=RUNS))
            workers = {name: server.start_worker(WORK_POOL, name, limit=1, env=engine_env)
                       for name in ("worker-a", "worker-b")}
            assert len(workers) == 2
            paths = _slices(root, RUNS)

            async def run_all():
                from prefect.deployments import run_deployment

                first = await run_deployment("ingest-files/Ingest named files (operators)", parameters={
                    "kind": "children", "paths": [str(children)], "run_rules": False}, timeout=300, poll_interval=1)
                assert first.state.is_completed(), first.state.message
                return await asyncio.gather(*(
                    run_deployment("ingest-files/Ingest named files (operators)", parameters={"kind": "notifications",
                                                                         "paths": [str(path)]},
                                   timeout=600, poll_interval=1)
                    for path in paths
                ))

            with server.client_settings():
                runs = asyncio.run(run_all())
            for flow_run in runs:
                assert flow_run.state.is_completed(), flow_run.state.message

            # Each flow run was executed by exactly one worker, and both workers took some. Two workers may both
            # pick up a scheduled run and log "submitting" it; the server lets one move it to Pending and tells
            # the other to abort ("Aborted submission of flow run ..."), so a submission that was aborted is not
            # an execution. Each run also ran once (run_count 1).
            executed: dict[str, list[str]] = {}
            for name in workers:
                log = (server.home / f"worker-{name}.log").read_text(errors="replace")
                aborted = set(re.findall(r"Aborted submission of flow run '([0-9a-f-]{36})'", log))
                for run_id in re.findall(r"submitting flow run '([0-9a-f-]{36})'", log):
                    if run_id not in aborted:
                        executed.setdefault(run_id, []).append(name)
            for flow_run in runs:
                assert len(executed.get(str(flow_run.id), [])) == 1, executed
                assert flow_run.run_count == 1
            assert {w for names in executed.values() for w in names} == set(workers)
        # No row twice: episodes by incident, messages by id, actions by key (the keys guarantee it; this checks).
        with session_scope(pg_url) as session:
            episodes = session.scalar(select(func.count()).select_from(Episode))
            assert episodes == session.scalar(select(func.count(func.distinct(Episode.incident_ref))))
            assert session.scalar(select(func.count()).select_from(Notification)) == session.scalar(
                select(func.count(func.distinct(Notification.message_id))))
            actions = session.scalar(select(func.count()).select_from(Action))
            assert actions and actions == session.scalar(select(func.count(func.distinct(Action.key))))
        # The same feed ingested serially into a fresh database gives the same episodes. (The message log may
        # differ by a few rows: whether a message is quarantined can depend on what arrived before it.)
        expected_db = pg_server.create_database(prefix="me_test_expected")
        expected_url = pg_server.url_for(expected_db)
        try:
            context = Context.load(Settings(database_url=expected_url))
            ensure_schema(context)
            ingest_path("children", children, "register", context)
            ingest_path("notifications", DATA_DIR / "sample" / "notifications.csv", "police", context)
            with session_scope(expected_url) as session:
                assert session.scalar(select(func.count()).select_from(Episode)) == episodes
        finally:
            make_engine(expected_url).dispose()
            pg_server.drop_database(expected_db)
    finally:
        pg_server.drop_database(prefect_db)
