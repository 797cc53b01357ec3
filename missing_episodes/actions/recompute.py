"""Running the rules for children and keeping the stored actions equal to what the rules say.

``recompute_children`` is the one place actions are written, whether from the per-child subflow (a few
children) or the bulk path (every child, after a first load or a policy change): the caller picks the
strategy (``PER_CHILD`` or ``VECTORISED``). New actions are inserted, changed ones updated, and ones the rules
no longer ask for are deleted if they never fired or marked ``withdrawn`` (with an audit event) if they had.
Running it twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from missing_episodes.actions.allocating import allocate_children, open_interview_loads
from missing_episodes.actions.context import RecomputeRun
from missing_episodes.actions.evaluators import PER_CHILD, Evaluator
from missing_episodes.actions.summary import RecomputeSummary
from missing_episodes.allocation import load_roster
from missing_episodes.batching import batched
from missing_episodes.collector import collecting_less
from missing_episodes.policy import Policy
from missing_episodes.store import audit, lock_keys

GROUP_SIZE = 500  # children evaluated and written together: bounds memory and statement sizes


@collecting_less()
def recompute_children(
    session: Session,
    child_ids: Iterable[int],
    policy: Policy,
    *,
    now: datetime,
    roster_path: Path | None = None,
    actor: str = "rules",
    audit_each: bool = True,
    evaluator: Evaluator = PER_CHILD,
) -> RecomputeSummary:
    """Evaluate the rules for these children and store the result (in the caller's transaction).

    ``evaluator`` is ``PER_CHILD`` (the per-episode path) or ``VECTORISED`` (the bulk path): the same stored
    result either way (tests/domain/test_bulk.py, tests/pipeline/test_flows.py), the second in a fraction of the
    time for many children. With ``audit_each`` off, one ``actions_recomputed`` event with the counts replaces the
    per-action events (withdrawals are always audited one by one).
    """
    ids = sorted(set(child_ids))
    if not ids:
        return RecomputeSummary()
    lock_keys(session, "child", ids)
    roster = load_roster(roster_path, policy.allocation.team) if roster_path else []
    run = RecomputeRun(
        session, policy, now, now + timedelta(days=policy.schedule_horizon_days), actor, audit_each, roster,
        open_interview_loads(session) if roster else {},
    )
    for group in batched(ids, GROUP_SIZE):
        evaluator.recompute_group(run, group)
        session.flush()
    if roster:
        # After every group, in one canonical order: the same worker for the same interview whatever order the
        # children were created in (the allocation module's docstring).
        run.summary.allocated += allocate_children(run, ids)
    if not audit_each and run.summary.changed:
        audit(session, actor, "actions_recomputed", "policy", policy.version, **run.summary.as_dict())
    return run.summary
