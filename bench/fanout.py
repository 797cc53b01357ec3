"""Benchmark 7, scale-out: a recompute of every child fanned out as ``rules-range`` flow runs over one process worker,
then over two, on a PostgreSQL-backed Prefect server (the product's database on PostgreSQL too).

Each side (``recompute``) runs in its own process: it starts ``prefect server start`` on its own fresh Prefect
database, applies the deployments, starts ``workers`` process workers (one run at a time each) and then times only
the ``recompute-fan-out`` flow, run in this process against the server (the parent holds no worker slot). The
product database is a fresh copy of one built region for every side, so both sides recompute the same children
from the same state; each side returns a digest of the stored actions, which must equal the digest taken before
the recompute (same policy, same facts: a recompute changes nothing) and the other side's.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from pathlib import Path
from typing import Any


def actions_digest(url: str) -> dict[str, Any]:
    """Counts and a hash of every stored action (key, status, trigger, due, worker): what a recompute must keep."""
    from sqlalchemy import func, select

    from missing_episodes.db.engine import make_engine, session_scope
    from missing_episodes.db.models import Action, Child

    with session_scope(url) as session:
        rows = session.execute(select(Action.key, Action.status, Action.trigger_at, Action.due_at,
                                      Action.assigned_to).order_by(Action.key)).all()
        distinct = session.scalar(select(func.count(func.distinct(Action.key))))
        flagged = session.scalar(select(func.count()).select_from(Child).where(Child.needs_review.is_(True)))
        children = session.scalar(select(func.count()).select_from(Child))
    make_engine(url).dispose()  # no connection left open: the database is copied as a template next
    text = "\n".join("|".join("" if v is None else str(v) for v in row) for row in rows)
    return {"actions": len(rows), "distinct_keys": distinct, "flagged": flagged, "children": children,
            "hash": hashlib.sha256(text.encode()).hexdigest()}


def recompute(product_url: str, prefect_url: str, workers: int, batch_size: int, workdir: str
              ) -> tuple[float, dict[str, Any]]:
    """Start the stack with ``workers`` workers, then time ``recompute-fan-out`` (every child) end to end."""
    os.environ.update(MISSING_EPISODES_DATABASE_URL=product_url, PREFECT_LOGGING_LEVEL="WARNING",
                      PREFECT_SERVER_ANALYTICS_ENABLED="false")
    from deployments import WORK_POOL
    from deployments.apply import apply
    from deployments.local import running_server
    from flows.fanout import recompute_fan_out

    work = Path(workdir)
    worker_env = {"MISSING_EPISODES_DATABASE_URL": product_url, "MISSING_EPISODES_OUTPUT_DIR": str(work / "out"),
                  "PREFECT_WORKER_QUERY_SECONDS": "1", "PREFECT_LOGGING_LEVEL": "INFO"}  # its log counts runs
    with running_server(work / "prefect-home", database_url=prefect_url, ui=False) as server:
        with server.client_settings():
            # The batch deployment alone: a cron deployment's scheduled runs would take the workers' slots.
            asyncio.run(apply(pool_concurrency=max(4, workers), only={"rules-range"}))
        for number in range(workers):
            server.start_worker(WORK_POOL, f"worker-{number + 1}", limit=1, env=worker_env)
        with server.client_settings():
            started = time.perf_counter()
            summary = asyncio.run(recompute_fan_out(everyone=True, reason="benchmark: fan-out recompute",
                                                    batch_size=batch_size))
            seconds = time.perf_counter() - started
        executed = {f"worker-{n + 1}": len(server.runs_executed_by(f"worker-{n + 1}")) for n in range(workers)}
    return seconds, {**summary, "workers": workers, "runs_per_worker": executed, **actions_digest(product_url)}


