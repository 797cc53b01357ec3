"""Run the rules for every child whose facts changed: per-child subflows for a day's load, batches for a backlog.

Measured costs decide the path (Prefect 3.8, 2 cores): an async subflow costs about 0.3 s, a task about 5 ms.
Tens of changed children a day run as per-child subflows, concurrently up to a bound and each visible in the
UI; a backlog (the first load of years of history, a recomputation after a policy change) runs the same rules
in batches of children, one subflow run per batch (one task of the calling run when it fits in one batch), so it
costs seconds rather than hours of orchestration.
"""

from __future__ import annotations

import asyncio

from prefect import get_run_logger

from flows.child import child_checks
from missing_episodes.config import get_settings
from tasks.privacy import private_flow
from tasks.rules import ReviewItem, count_pending_reviews, flag_for_review, pending_reviews, run_rules_batch

BULK_BATCH = 2000


@private_flow(name="rules-batch", flow_run_name="rules-batch-{number}")
async def rules_batch(number: int, batch_size: int = BULK_BATCH) -> dict[str, int]:
    return run_rules_batch(batch_size)


@private_flow(name="review-changed", flow_run_name="review-changed")
async def review_changed(roll_forward: str | None = None) -> dict[str, int]:
    """Check every child flagged for review; with ``roll_forward`` (the audit reason), the children still missing too.

    Children whose facts changed get a per-child subflow each (a day's load) or go to the batches (a backlog).
    The roll-forward's children changed nothing anyone waits on, only the day moved their repeating schedules
    on, and a region has hundreds of them: they go to the batches, so they cost one run rather than a subflow
    each, and a child in both sets is checked once, in its subflow (the two paths store the same actions).
    """
    return await review(roll_forward)


async def review(roll_forward: str | None = None) -> dict[str, int]:
    """``review_changed``'s work inside the calling run: an ingest runs it so (its per-child subflows and batch
    task are the ingest's own), as a subflow around them would add 0.3-0.5 s to a one-file ingest a person waits
    for; the daily run and a recompute keep the ``review-changed`` subflow."""
    settings = get_settings()
    totals: dict[str, int] = {"children": 0, "created": 0, "updated": 0, "withdrawn": 0, "removed": 0,
                              "allocated": 0, "subflows": 0, "batches": 0, "still_missing": 0}
    pending = count_pending_reviews()
    items = pending_reviews() if 0 < pending <= settings.bulk_threshold else []
    if roll_forward:
        totals["still_missing"] = flag_for_review(False, roll_forward)
    if items:
        await _subflows(items, settings.episode_concurrency, totals)
    # A backlog, or the roll-forward's children not checked in a subflow above: whatever is still flagged (counted
    # again only when a subflow or the roll-forward changed the first count).
    if pending > len(items) or totals["still_missing"]:
        left = count_pending_reviews() if items or totals["still_missing"] else pending
        if left:
            await review_backlog(totals, left)
    get_run_logger().info("rules ran for %s children: %s", totals["children"], totals)
    return totals


async def _subflows(items: list[ReviewItem], concurrency: int, totals: dict[str, int]) -> None:
    """One ``child-checks`` subflow per child, at most ``concurrency`` at once (each visible in the UI)."""
    bound = asyncio.Semaphore(max(1, concurrency))

    async def checked(item: ReviewItem) -> dict[str, int]:
        async with bound:
            return await child_checks(item.child_ref, item.episode_refs)

    for summary in await asyncio.gather(*(checked(item) for item in items)):
        _add(totals, summary)
    totals["subflows"] += len(items)


async def review_backlog(totals: dict[str, int], pending: int | None = None) -> None:
    """``rules-batch`` runs of ``BULK_BATCH`` children until none is left flagged.

    A backlog known to fit in one batch (``pending``, counted by the caller: a one-file ingest's) is a task of this
    run instead: a subflow would group one task, and add its 0.3-0.5 s start to a command a person waits for.
    """
    if pending is not None and pending <= BULK_BATCH:
        _add(totals, run_rules_batch(BULK_BATCH))
        totals["batches"] = 1
        return
    number = 0
    while True:
        number += 1
        summary = await rules_batch(number)
        _add(totals, summary)
        totals["batches"] = number
        if summary["children"] < BULK_BATCH:  # the last, partial batch: nothing is left
            break


def _add(totals: dict[str, int], summary: dict[str, int]) -> None:
    for key, value in summary.items():
        totals[key] = totals.get(key, 0) + value
