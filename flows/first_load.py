"""The first load of a region: its register, police notifications and case outcomes from files, then every action.

One command (``missing-episodes load-region FOLDER``) instead of three ingests and a recomputation. The feeds go in
the order the five-minute ingest reads them (the register first, so notifications and outcomes find their
children), without the rules after each file; the rules then run once, in ``rules-batch`` runs of ``BULK_BATCH``
children (the vectorised bulk path) whatever the number of children, because a first load is always a backlog.
Nobody is notified: ten years of history are not news, and the next scheduled notify run tells people what is due.
Everything is keyed, so running it again after a failure stores what was missing and changes nothing else.
On a database without an episode the secondary indexes nothing in the load reads are dropped first and built once
at the end, whether the load finishes or fails (the tasks ``defer-indexes`` and ``build-indexes``).
"""

from __future__ import annotations

from pathlib import Path

from prefect import get_run_logger

from flows.review import review_backlog
from missing_episodes.feedfiles import region_files
from missing_episodes.feeds import DEFAULT_SOURCE
from tasks.ingest import build_indexes, defer_indexes, ensure_schema, ingest_file
from tasks.privacy import private_flow

COUNTS = ("read", "new", "duplicate", "quarantined", "refused")


@private_flow(name="load-region", flow_run_name="load-region")
async def load_region(folder: Path) -> dict[str, object]:
    """Ingest the region's three feed files, then run the rules for every child in batches; counts only."""
    ensure_schema()
    deferred = defer_indexes()
    ingested: dict[str, dict[str, object]] = {}
    totals: dict[str, int] = {}
    try:
        for kind, path in region_files(folder).items():
            summary = ingest_file(kind, path, DEFAULT_SOURCE[kind])
            ingested[kind] = {**{name: summary[name] for name in COUNTS}, "problems": summary["problems"]}
        await review_backlog(totals)
    finally:
        built = build_indexes()
    get_run_logger().info("region loaded: %s; rules: %s; indexes deferred and built: %d", ingested, totals, len(built))
    return {"ingest": ingested, "rules": totals, "indexes": {"deferred": deferred, "built": built}}
