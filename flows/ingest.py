"""The ingest flow: feeds into the database, then the rules for every child whose facts changed."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from prefect import get_run_logger
from prefect.artifacts import acreate_table_artifact
from prefect.concurrency.asyncio import concurrency

from flows.notify import notify
from flows.review import review_changed
from missing_episodes.config import get_settings
from missing_episodes.feeds import DEFAULT_SOURCE
from missing_episodes.sources import FolderSource, HttpSource, load_sources
from tasks.ingest import archive_file, ensure_schema, ingest_file, poll_http_feed
from tasks.privacy import private_flow, scrub_hooks

FeedKindParam = Literal["children", "notifications", "outcomes"]
#: The global concurrency limit ``ingest_sources`` holds while it reads the drop folders; ``deployments`` creates it
#: from this name.
FEED_CONCURRENCY_LIMIT = "missing-episodes-feeds"


@private_flow(name="ingest-files", flow_run_name="ingest-{kind}", **scrub_hooks("ingest-files"))
async def ingest_files(
    kind: FeedKindParam, paths: list[Path], source: str | None = None, run_rules: bool = True
) -> dict[str, object]:
    """Ingest the given files of one feed (CSV, JSON array, JSON Lines), then run the rules for what changed."""
    ensure_schema()
    source = source or DEFAULT_SOURCE[kind]
    summaries = [ingest_file(kind, Path(path), source) for path in paths]
    totals = _total(summaries)
    review = await review_changed() if run_rules else {}
    await _publish(kind, summaries, review)
    if run_rules:  # the new actions' people are told now, not at the next scheduled notify run
        await notify(check_schema=False)
    return {"ingest": totals, "rules": review}


@private_flow(name="ingest-sources", flow_run_name="ingest-sources")
async def ingest_sources(sources_file: Path | None = None, run_rules: bool = True) -> dict[str, object]:
    """Every configured source: drop folders (files archived once stored) and HTTP endpoints (since-cursor)."""
    ensure_schema()
    path = Path(sources_file) if sources_file else get_settings().sources_path
    summaries: list[dict[str, object]] = []
    # The register first, so notifications and outcomes find the children they refer to.
    order = {"children": 0, "notifications": 1, "outcomes": 2}
    # One reader at a time (the 08:30 daily run and the five-minute ingest can overlap): two readers of one drop
    # folder would both pick up a file, and the second would fail to archive it. Storing is keyed anyway.
    async with concurrency(FEED_CONCURRENCY_LIMIT, occupy=1):
        for source in sorted(load_sources(path), key=lambda s: order[s.feed]):
            if isinstance(source, FolderSource):
                for file in source.pending():
                    summaries.append(ingest_file(source.feed, file, source.name))
                    archive_file(source, file)
            elif isinstance(source, HttpSource):
                summaries.append(poll_http_feed(source))
    review = await review_changed() if run_rules else {}
    await _publish("all", summaries, review)
    if run_rules:
        await notify(check_schema=False)
    return {"ingest": _total(summaries), "rules": review}


def _total(summaries: list[dict[str, object]]) -> dict[str, int]:
    keys = ("read", "new", "duplicate", "quarantined", "changed_episodes")
    return {key: sum(int(s[key]) for s in summaries) for key in keys}  # type: ignore[call-overload]


async def _publish(kind: str, summaries: list[dict[str, object]], review: dict[str, int]) -> None:
    """Counts only: the artifact is stored in Prefect's database in clear text."""
    rows = [{k: s[k] for k in ("feed", "source", "read", "new", "duplicate", "quarantined", "changed_episodes")}
            for s in summaries]
    await acreate_table_artifact(key=f"ingest-{kind}", table=rows or [{"feed": kind, "read": 0}],
                                 description=f"Ingest summary; rules: {review}")
    totals = _total(summaries)
    get_run_logger().info("ingest %s: %s; rules: %s", kind, totals, review)
