"""Scale-out of a recompute: the flagged children cut into id ranges, each range a flow run on the work pool.

A first load or a policy change flags every child of a region. ``review-changed`` works through them as
``rules-batch`` subflows in its own process, one batch after the other: one core, however many workers the pool
has. ``recompute-fan-out`` instead creates one ``rules-range`` flow run per batch from its deployment
(``run_deployment``), so every process worker on the pool takes batches and they run side by side, each in its
own process and transaction.

Nothing is stored twice. A batch is keyed by its range of child ids (never "the next N flagged", which two workers
would both take), each run is created with an idempotency key (the parent run, its attempt and the range: a
retried parent does not create a range's run twice), the server hands a run to one worker, and a range run again
finds its children reviewed already (``needs_review`` is cleared in the transaction that stores their actions)
or recomputes them to the same keyed actions. A parent that is retried cuts ranges again from what is still
flagged, so only the batches that failed are done again.

Parameters and run names are child ids and counts: no personal data reaches Prefect.
"""

from __future__ import annotations

import asyncio

from prefect import get_run_logger
from prefect.deployments import run_deployment
from prefect.runtime import flow_run

from tasks.ingest import ensure_schema
from tasks.privacy import private_flow
from tasks.rules import count_pending_reviews, flag_for_review, review_ranges, run_rules_range

#: Children per ``rules-range`` run. A run costs a process start on the worker (~3 s of imports on two cores), the
#: vectorised rules about 1 ms a child: 5,000 children keep that start under a tenth of a batch.
FANOUT_BATCH = 5000
#: The name of the batch deployment, declared in ``deployments`` (this layer does not import it).
RULES_RANGE_DEPLOYMENT = "rules-range/Rules for a range of children (fan-out)"
#: How long the parent waits for one batch's run to end (a batch of 5,000 children takes seconds).
BATCH_TIMEOUT_S = 3600.0


@private_flow(name="rules-range", flow_run_name="rules-range-{first_id}-{last_id}")
async def rules_range(first_id: int, last_id: int) -> dict[str, int]:
    """One batch of a fanned-out recompute: the flagged children with ids from ``first_id`` to ``last_id``."""
    summary = run_rules_range(first_id, last_id)
    get_run_logger().info("children %s-%s: %s", first_id, last_id, summary)
    return summary


@private_flow(name="recompute-fan-out", flow_run_name="recompute-fan-out-{everyone}")
async def recompute_fan_out(everyone: bool = True, reason: str = "policy change: recompute across the workers",
                            batch_size: int = FANOUT_BATCH, batch_timeout_s: float = BATCH_TIMEOUT_S
                            ) -> dict[str, int]:
    """Flag children (all of them, or those still missing), then one ``rules-range`` run per batch on the pool.

    Waits for every batch; a batch that did not complete fails this run, naming its id range, after the others
    have ended (a retry of this run then does only what is still flagged).
    """
    ensure_schema()
    attempt = flow_run.get_run_count() or 1
    # A retry flags nothing again: what the first attempt flagged and the failed batches left is still flagged, so
    # only those ranges are cut and run (and the audit trail keeps one request).
    flagged = flag_for_review(everyone, reason) if attempt == 1 else count_pending_reviews()
    ranges = review_ranges(batch_size)
    parent = flow_run.get_id()

    async def batch(first_id: int, last_id: int):
        return await run_deployment(
            RULES_RANGE_DEPLOYMENT, parameters={"first_id": first_id, "last_id": last_id},
            idempotency_key=f"{parent}:{attempt}:{first_id}-{last_id}", timeout=batch_timeout_s, poll_interval=2,
        )

    runs = await asyncio.gather(*(batch(first, last) for first, last in ranges))
    failed = [f"{first}-{last}" for (first, last), run in zip(ranges, runs, strict=True)
              if run.state is None or not run.state.is_completed()]
    if failed:
        raise RuntimeError(f"{len(failed)} of {len(ranges)} batches did not complete: child ids {', '.join(failed)}")
    left = count_pending_reviews()
    get_run_logger().info("%s children flagged, %s batches run, %s still flagged", flagged, len(ranges), left)
    return {"flagged": flagged, "batches": len(ranges), "still_flagged": left}
