"""Tasks that run the statutory rules and store the actions."""

from __future__ import annotations

import asyncio

from prefect import task

from missing_episodes import service
from tasks.privacy import ids_only_errors


@task(name="count-pending-reviews")
@ids_only_errors
def count_pending_reviews() -> int:
    return service.count_pending_reviews()


@task(name="pending-reviews")
@ids_only_errors
def pending_reviews() -> list[service.ReviewItem]:
    return service.pending_reviews()


@task(name="run-rules", task_run_name="rules-{child_ref}", retries=2, retry_delay_seconds=2)
@ids_only_errors
async def run_rules(child_ref: str) -> dict[str, int]:
    """Retried on a transient database error; storing actions is keyed, so a retry changes nothing twice."""
    return await asyncio.to_thread(service.review_children, [child_ref])


@task(name="run-rules-batch", retries=2, retry_delay_seconds=5)
@ids_only_errors
def run_rules_batch(batch_size: int) -> dict[str, int]:
    return service.review_next_batch(batch_size)


@task(name="flag-for-review")
@ids_only_errors
def flag_for_review(everyone: bool, reason: str) -> int:
    return service.flag_for_review(everyone=everyone, reason=reason)
