"""One recomputation's settings and running totals, carried whole instead of ten parameters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from missing_episodes.actions.diff import Change, record
from missing_episodes.actions.summary import RecomputeSummary
from missing_episodes.allocation import Worker
from missing_episodes.policy import Policy


@dataclass
class RecomputeRun:
    """What every group of a recomputation shares: the transaction, the policy, the clock, who acts, the roster.

    ``horizon`` bounds repeating schedules (``now`` + the policy's ``schedule_horizon_days``); ``loads`` are the
    workers' open interviews, moved by each allocation so the next one reads them; ``summary`` adds up the run.
    """

    session: Session
    policy: Policy
    now: datetime
    horizon: datetime
    actor: str = "rules"
    audit_each: bool = True
    roster: list[Worker] = field(default_factory=list)
    loads: dict[str, int] = field(default_factory=dict)
    summary: RecomputeSummary = field(default_factory=RecomputeSummary)

    def record(self, change: Change) -> None:
        """Count a change and write its audit event (see ``diff.record``)."""
        record(self.session, change, self.actor, self.audit_each, self.summary)
