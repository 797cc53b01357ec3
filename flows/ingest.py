"""The ingest flow: feeds into the database, then the rules for every child whose facts changed."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from prefect import get_run_logger
from prefect.artifacts import acreate_table_artifact
from prefect.concurrency.asyncio import concurrency
from prefect.events import emit_event

from flows.notify import tell_now
from flows.review import review
from missing_episodes.config import get_settings
from missing_episodes.feeds import DEFAULT_SOURCE
from missing_episodes.sources import FolderSource, HttpSource, load_sources
from tasks.ingest import archive_file, ensure_schema, fail_file, ingest_file, poll_http_feed
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
    _warn(summaries)
    totals = _total(summaries)
    rules = await review() if run_rules else {}
    await _publish(kind, summaries, rules)
    if run_rules:  # the new actions' people are told now, not at the next scheduled notify run
        await tell_now(check_schema=False)
    return {"ingest": totals, "rules": rules, "files": [_counts(s) for s in summaries]}


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
    # A refused file goes to the source's failed folder and every other file and feed carries on.
    async with concurrency(FEED_CONCURRENCY_LIMIT, occupy=1):
        for source in sorted(load_sources(path), key=lambda s: order[s.feed]):
            if isinstance(source, FolderSource):
                for file in source.pending():
                    summary = ingest_file(source.feed, file, source.name)
                    summaries.append(summary)
                    if summary["refused"]:
                        fail_file(source, file, _reasons(summary))
                    else:
                        archive_file(source, file)
            elif isinstance(source, HttpSource):
                summaries.append(poll_http_feed(source))
    raise_feed_alerts(summaries)
    _warn(summaries)
    rules = await review() if run_rules else {}
    await _publish("all", summaries, rules)
    if run_rules:
        await tell_now(check_schema=False)
    return {"ingest": _total(summaries), "rules": rules, "files": [_counts(s) for s in summaries]}


#: The event a feed problem that is not a failure (a looping cursor, ``max_pages`` reached) emits;
#: ``deployments.apply`` points an automation at it that posts to the on-call webhook.
FEED_ALERT_EVENT = "missing-episodes.feed.alert"


def raise_feed_alerts(summaries: list[dict[str, object]]) -> None:
    """Each alert a source reported (one line naming the source and pages, no data) as an error in the run's log
    and an event the on-call automation posts: the poll stored what it read and the run carries on."""
    logger = get_run_logger()
    for summary in summaries:
        for alert in summary.get("alerts", []) or []:  # type: ignore[union-attr]
            logger.error("feed alert: %s", alert)
            emit_event(event=FEED_ALERT_EVENT, payload={"alert": alert},
                       resource={"prefect.resource.id": f"missing-episodes.feed.{summary['source']}",
                                 "prefect.resource.name": str(summary["source"])})


COUNTS = ("read", "new", "duplicate", "quarantined", "changed_episodes", "refused", "empty")


def _total(summaries: list[dict[str, object]]) -> dict[str, object]:
    """The run's counts, and every refused or empty file's line (file name and why: never a value)."""
    totals: dict[str, object] = {key: sum(int(s[key]) for s in summaries) for key in COUNTS}  # type: ignore[call-overload]
    totals["problems"] = [line for s in summaries for line in s["problems"]]  # type: ignore[attr-defined]
    return totals


def _reasons(summary: dict[str, object]) -> str:
    """Why one file was refused, without its name (the note sits beside the file)."""
    prefix = f"{summary['origin']}: "
    return "; ".join(line.removeprefix(prefix) for line in summary["problems"])  # type: ignore[attr-defined]


def _counts(summary: dict[str, object]) -> dict[str, object]:
    return {k: summary[k] for k in ("feed", "source", "origin", *COUNTS, "problems")}


def _warn(summaries: list[dict[str, object]]) -> None:
    """The alert for a refused or empty file, in the run's log: file names, sources and reasons, no values."""
    logger = get_run_logger()
    for summary in summaries:
        for line in summary["problems"]:  # type: ignore[attr-defined]
            state = "refused (moved to failed/ if from a drop folder)" if summary["refused"] else "has no rows"
            logger.warning("%s feed from %s: file %s: %s", summary["feed"], summary["source"], state, line)


async def _publish(kind: str, summaries: list[dict[str, object]], review: dict[str, int]) -> None:
    """Counts, file names and reasons only: the artifact is stored in Prefect's database in clear text."""
    rows = [_counts(s) | {"problems": "; ".join(s["problems"])} for s in summaries]  # type: ignore[arg-type]
    await acreate_table_artifact(key=f"ingest-{kind}", table=rows or [{"feed": kind, "read": 0}],
                                 description=f"Ingest summary; rules: {review}")
    totals = _total(summaries)
    get_run_logger().info("ingest %s: %s; rules: %s", kind, totals, review)
