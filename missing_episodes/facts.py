"""What the rules read (a child, its episodes, its case events) and what they produce (keyed action specs).

Plain frozen data, with no database and no pandas, so the per-child evaluator, every trigger type and the tests
build and compare them directly. ``missing_episodes.bulk.facts`` is the one loader that fills them from the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class ChildFacts:
    ref: str
    legal_status: str = "none"
    uasc: bool = False
    date_of_birth: date | None = None
    has_immigration_solicitor: bool = False


@dataclass(frozen=True)
class EpisodeFacts:
    ref: str
    incident_ref: str
    kind: str | None  # missing | absent | curfew | None (not yet reported)
    started_at: datetime | None
    reported_at: datetime | None
    found_at: datetime | None = None
    return_notified_at: datetime | None = None
    risk_history: tuple[tuple[datetime, str], ...] = ()
    other_authority: bool = False

    @property
    def ended_at(self) -> datetime | None:
        """When the child stopped being missing: found, else (no time given) when the return was notified."""
        return self.found_at or self.return_notified_at


@dataclass(frozen=True)
class OutcomeFacts:
    event_id: str
    event: str
    recorded_at: datetime
    incident_ref: str | None = None
    by: str | None = None
    rationale: str | None = None
    notes: str | None = None
    risk_level: str | None = None


@dataclass(frozen=True)
class ActionSpec:
    key: str
    kind: str
    rule_id: str
    policy_version: str
    episode_ref: str | None
    trigger_at: datetime
    due_at: datetime
    actor: str
    recipients: tuple[str, ...] = ()
    status: str = "open"
    done_at: datetime | None = None
    done_by: str | None = None
    evidence: str | None = None
    detail: str | None = None
    # Other rules asking for the same thing of the same episode, folded into this action (``same_duty_as``).
    also_rule_ids: tuple[str, ...] = ()
