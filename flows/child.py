"""The per-child subflow: when a child's episodes or outcomes change, check every trigger for the child and store
the actions.

The parameters are pseudonymous refs only (``CH-…``, ``EP-…``): Prefect keeps parameters in clear text. The
rules are evaluated for the whole child, because "four missing episodes in 28 days" and an RHI declined
without an incident reference can only be judged against the child's history; the episode refs are there for
the log (the child's latest episodes), not to narrow the check.
"""

from __future__ import annotations

from prefect import get_run_logger

from tasks.privacy import private_flow
from tasks.rules import run_rules


@private_flow(name="child-checks", flow_run_name="checks-{child_ref}", log_prints=False)
async def child_checks(child_ref: str, episode_refs: list[str] | None = None) -> dict[str, int]:
    summary = await run_rules(child_ref)
    get_run_logger().info(
        "child %s (episodes %s): %s", child_ref, ", ".join(episode_refs or []) or "-", summary
    )
    return summary
