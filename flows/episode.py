"""The per-episode subflow: when an episode changes, check every trigger for its child and store the actions.

The parameters are pseudonymous refs only (``CH-…``, ``EP-…``): Prefect keeps parameters in clear text. The
rules are evaluated for the whole child, because "four missing episodes in 28 days" and an RHI declined
without an incident reference can only be judged against the child's history.
"""

from __future__ import annotations

from prefect import flow, get_run_logger

from tasks.rules import run_rules


@flow(name="episode-checks", flow_run_name="checks-{child_ref}", log_prints=False)
async def episode_checks(child_ref: str, episode_refs: list[str] | None = None) -> dict[str, int]:
    summary = await run_rules(child_ref)
    get_run_logger().info(
        "child %s (episodes %s): %s", child_ref, ", ".join(episode_refs or []) or "-", summary
    )
    return summary
