"""The first load of a region: its register, police notifications and case outcomes from files, then every action.

One command (``missing-episodes load-region FOLDER``) instead of three ingests and a recomputation. The feeds go in
the order the five-minute ingest reads them (the register first, so notifications and outcomes find their
children), without the rules after each file; the rules then run once, in ``rules-batch`` runs of ``BULK_BATCH``
children (the vectorised bulk path) whatever the number of children, because a first load is always a backlog.
Nobody is notified: ten years of history are not news, and the next scheduled notify run tells people what is due.
Everything is keyed, so running it again after a failure stores what was missing and changes nothing else.
"""

from __future__ import annotations

from pathlib import Path

from prefect import get_run_logger

from flows.review import review_backlog
from missing_episodes.feedfiles import region_files
from missing_episodes.feeds import DEFAULT_SOURCE
from tasks.ingest import ensure_schema, ingest_file
from tasks.privacy import private_flow

COUNTS = ("read", "new", "duplicate", "quarantined", "refused")


@private_flow(name="load-region", flow_run_name="load-region")
async def load_region(folder: Path) -> dict[str, object]:
    """Ingest the region's three feed files, then run the rules for every child in batches; counts only."""
    ensure_schema()
    ingested: dict[str, dict[str, object]] = {}
    for kind, path in region_files(folder).items():
        summary = ingest_file(kind, path, DEFAULT_SOURCE[kind])
        ingested[kind] = {**{name: summary[name] for name in COUNTS}, "problems": summary["problems"]}
    totals: dict[str, int] = {}
    await review_backlog(totals)
    get_run_logger().info("region loaded: %s; rules: %s", ingested, totals)
    return {"ingest": ingested, "rules": totals}
