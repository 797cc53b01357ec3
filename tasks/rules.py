"""Tasks that run the statutory rules and store the actions: one per job of ``missing_episodes.jobs.rules``."""

from __future__ import annotations

import asyncio

from missing_episodes.jobs import rules as jobs
from missing_episodes.jobs.rules import ReviewItem
from tasks.privacy import private_task

__all__ = ["ReviewItem", "count_pending_reviews", "flag_for_review", "pending_reviews", "review_ranges",
           "run_rules", "run_rules_batch", "run_rules_range"]


@private_task(name="count-pending-reviews")
def count_pending_reviews() -> int:
    return jobs.count_pending_reviews()


@private_task(name="pending-reviews")
def pending_reviews() -> list[ReviewItem]:
    return jobs.pending_reviews()


@private_task(name="run-rules", task_run_name="rules-{child_ref}", retries=2, retry_delay_seconds=2)
async def run_rules(child_ref: str) -> dict[str, int]:
    """Retried on a transient database error; storing actions is keyed, so a retry changes nothing twice."""
    return await asyncio.to_thread(jobs.review_children, [child_ref])


@private_task(name="run-rules-batch", retries=2, retry_delay_seconds=5)
def run_rules_batch(batch_size: int) -> dict[str, int]:
    return jobs.review_next_batch(batch_size)


@private_task(name="review-ranges")
def review_ranges(batch_size: int) -> list[tuple[int, int]]:
    return jobs.review_ranges(batch_size)


@private_task(name="run-rules-range", task_run_name="rules-{first_id}-{last_id}", retries=2, retry_delay_seconds=5)
def run_rules_range(first_id: int, last_id: int) -> dict[str, int]:
    """Retried on a transient database error (a PostgreSQL deadlock victim, a busy SQLite): the range is keyed and
    the actions too, so a retry changes nothing twice."""
    return jobs.review_range(first_id, last_id)


@private_task(name="flag-for-review")
def flag_for_review(everyone: bool, reason: str) -> int:
    return jobs.flag_for_review(everyone=everyone, reason=reason)
