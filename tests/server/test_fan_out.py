"""A recompute fanned out over two process workers (issue 19, goal 4): Prefect on PostgreSQL, the product too.

``recompute-fan-out`` flags every child of the sample and creates one ``rules-range`` run per batch of child ids
from its deployment; two workers on the pool take them. Each batch run is executed by exactly one worker, both
workers take some, nobody is left flagged, no action is stored twice, and one serial pass of the bulk path over
every child afterwards finds nothing to change.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from deployments import WORK_POOL
from deployments.apply import apply
from deployments.local import PrefectServer, running_server
from flows.fanout import recompute_fan_out
from missing_episodes.config import DATA_DIR, Settings
from missing_episodes.db.engine import make_engine, session_scope
from missing_episodes.db.models import Action
from missing_episodes.jobs import Context
from missing_episodes.jobs.ingest import ensure_schema, ingest_path
from missing_episodes.jobs.rules import flag_for_review, review_next_batch

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.xdist_group("prefect-server")]

BATCH = 12


def _executed(server: PrefectServer, workers: list[str]) -> dict[str, list[str]]:
    """Flow run id -> the workers that executed it."""
    executed: dict[str, list[str]] = {}
    for name in workers:
        for run_id in server.runs_executed_by(name):
            executed.setdefault(run_id, []).append(name)
    return executed


def test_two_workers_share_the_batches_of_a_recompute_and_store_nothing_twice(pg_server, pg_url, monkeypatch):
    root = Path(tempfile.mkdtemp(prefix="me-fanout-"))
    monkeypatch.setenv("MISSING_EPISODES_DATABASE_URL", pg_url)
    context = Context.load(Settings(database_url=pg_url))
    ensure_schema(context)
    for kind, source in (("children", "register"), ("notifications", "police"), ("outcomes", "case-management")):
        ingest_path(kind, DATA_DIR / "sample" / f"{kind}.csv", source, context)
    make_engine(pg_url).dispose()
    prefect_db = pg_server.create_database(prefix="me_test_prefect")
    prefect_url = pg_server.url_for(prefect_db)
    worker_env = {"MISSING_EPISODES_DATABASE_URL": pg_url, "MISSING_EPISODES_OUTPUT_DIR": str(root / "out"),
                  "PREFECT_WORKER_QUERY_SECONDS": "2"}
    try:
        with running_server(root / "prefect-home", database_url=prefect_url, ui=False) as server:
            with server.client_settings():
                asyncio.run(apply(pool_concurrency=4, only={"rules-range"}))  # no cron runs on the workers
            workers = ["worker-a", "worker-b"]
            for name in workers:
                server.start_worker(WORK_POOL, name, limit=1, env=worker_env)
            with server.client_settings():
                summary = asyncio.run(recompute_fan_out(everyone=True, reason="test: fan-out", batch_size=BATCH,
                                                        batch_timeout_s=600))

                async def batch_runs():
                    from prefect import get_client
                    from prefect.client.schemas.filters import FlowFilter, FlowFilterName

                    async with get_client() as client:
                        return await client.read_flow_runs(flow_filter=FlowFilter(
                            name=FlowFilterName(any_=["rules-range"])))

                runs = asyncio.run(batch_runs())
            executed = _executed(server, workers)
        assert summary["flagged"] > 3 * BATCH and summary["still_flagged"] == 0
        assert summary["batches"] == -(-summary["flagged"] // BATCH) == len(runs)
        for flow_run in runs:
            assert flow_run.state.is_completed() and flow_run.run_count == 1
            assert len(executed.get(str(flow_run.id), [])) == 1, executed
            assert re.fullmatch(r"rules-range-\d+-\d+", flow_run.name)  # ids only in Prefect's metadata
            assert set(flow_run.parameters) == {"first_id", "last_id"}
        assert {w for names in executed.values() for w in names} == set(workers)
        with session_scope(pg_url) as session:
            stored = session.scalar(select(func.count()).select_from(Action))
            assert stored and stored == session.scalar(select(func.count(func.distinct(Action.key))))
        flag_for_review(everyone=True, reason="test: serial pass after the fan-out", context=context)
        serial = review_next_batch(100_000, context)
        assert serial["children"] == summary["flagged"]
        assert (serial["created"], serial["updated"], serial["withdrawn"], serial["removed"]) == (0, 0, 0, 0)
    finally:
        make_engine(pg_url).dispose()
        pg_server.drop_database(prefect_db)
