"""Explicit recomputation: after a policy change (every child) or daily for children still missing.

The daily run keeps repeating schedules (weekly reviews, the long-term-missing reviews) stored ahead of time
up to the policy's horizon; a policy change recomputes every child through the bulk path. Both are audited.
"""

from __future__ import annotations

from flows.review import review_changed
from tasks.ingest import ensure_schema
from tasks.privacy import private_flow
from tasks.rules import flag_for_review


@private_flow(name="recompute-actions", flow_run_name="recompute-{everyone}")
async def recompute_actions(everyone: bool = False, reason: str = "daily long-term missing reviews") -> dict:
    ensure_schema()
    flagged = flag_for_review(everyone, reason)
    return {"flagged": flagged, "rules": await review_changed()}
