"""What the daily missing briefing pack holds (Wakefield section 4): one dataclass per section's line.

Kept apart from the queries that fill it (``documents.briefing``), so the renderer and the templates depend on
the pack's shape only, and a newcomer reads what each section shows without reading SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from missing_episodes.documents.common import ChildView, FindMePlan


@dataclass(frozen=True)
class MissingNow:
    child: ChildView
    find_me: FindMePlan
    episode_ref: str
    started_at: datetime
    hours_missing: float
    risk_level: str | None
    last_seen_at: datetime | None
    last_seen_location: str | None
    reported_at: datetime | None
    clothing: str | None


@dataclass(frozen=True)
class ReportedEpisode:
    child: ChildView
    episode_ref: str
    kind: str | None
    still_missing: bool
    started_at: datetime | None
    reported_at: datetime | None
    found_at: datetime | None
    risk_level: str | None
    last_seen_location: str | None


@dataclass(frozen=True)
class HiddenMissing:
    """A hidden missing child recorded by the service since the last briefing (Wakefield s2: "missing, but has not
    been reported to the police"): no police episode, so listed apart from the police's reports."""

    child: ChildView
    recorded_at: datetime
    incident_ref: str | None


@dataclass(frozen=True)
class DueAction:
    child: ChildView
    episode_ref: str | None
    kind: str
    rule: str
    title: str
    due_at: datetime
    status: str  # open | overdue
    hours_to_due: float  # negative when overdue
    actor: str | None
    assigned_to: str | None
    recipients: str | None
    found_at: datetime | None
    # Which procedure the rule belongs to (``PROTOCOLS``), and, for a clock still running at the briefing, when it
    # fires (before the next briefing: "fires at 21:40 today"); None once fired.
    protocol: str = "home_or_care"
    fires_at: datetime | None = None


#: The briefing's protocols, in its order: the procedure a rule belongs to decides the section its work is in.
PROTOCOLS: dict[str, str] = {
    "home_or_care": "Children missing from home or care",
    "care_leavers": "Care leavers assessed missing or not in touch",
    "long_term": "UASC and care leavers missing long term",
}
#: Kinds the first protocol shows in sections of their own (the rest of its work is one "other work" table).
OWN_SECTIONS = ("return_home_interview", "strategy_meeting", "serious_notification")


@dataclass(frozen=True)
class RepeatChild:
    child: ChildView
    episodes_28_days: int
    thresholds_met: list[str]
    latest_start: datetime


@dataclass(frozen=True)
class OtherAuthorityEpisode(ReportedEpisode):
    """An episode of a child placed here by another authority: the same line, and who to forward it to."""

    responsible_authority: str | None


@dataclass(frozen=True)
class OverdueBacklog:
    """Overdue actions of one kind that fell due before the briefing's window: counted, not listed."""

    kind: str
    count: int
    oldest_due_at: datetime
    protocol: str = "home_or_care"


@dataclass(frozen=True)
class BriefingPack:
    day: date
    authority: str
    policy_version: str
    as_of: datetime
    since: datetime
    generated_at: datetime
    missing_now: list[MissingNow] = field(default_factory=list)
    reported_since: list[ReportedEpisode] = field(default_factory=list)
    hidden_missing: list[HiddenMissing] = field(default_factory=list)
    rhi_due: list[DueAction] = field(default_factory=list)
    meetings_due: list[DueAction] = field(default_factory=list)
    notifications_due: list[DueAction] = field(default_factory=list)
    # The rest of the work, by protocol (``PROTOCOLS``): every other kind the policy has for children missing
    # from home or care, and all the work of the care-leaver and long-term-missing procedures.
    other_work: dict[str, list[DueAction]] = field(default_factory=dict)
    # The next briefing's moment: clocks firing before it are listed with their time.
    next_as_of: datetime | None = None
    repeat: list[RepeatChild] = field(default_factory=list)
    other_authority: list[OtherAuthorityEpisode] = field(default_factory=list)
    # Overdue actions are listed when they fell due after this moment (the policy's window before ``as_of``) ...
    overdue_since: datetime | None = None
    # ... and the older ones are one summary line per kind.
    backlog: list[OverdueBacklog] = field(default_factory=list)

    @property
    def key(self) -> str:
        """The delivery key: one briefing per day, however often the flow runs."""
        return f"briefing:{self.day.isoformat()}"

    @property
    def protocols(self) -> dict[str, str]:
        """The protocols' headings (the template's group titles)."""
        return PROTOCOLS

    def work(self, protocol: str) -> list[DueAction]:
        """The protocol's work after its own sections (the template's per-protocol table)."""
        return self.other_work.get(protocol, [])

    def all_work(self) -> list[DueAction]:
        return [*self.rhi_due, *self.meetings_due, *self.notifications_due,
                *(item for items in self.other_work.values() for item in items)]

    def counts(self) -> dict[str, int]:
        """Section sizes: the only facts about the pack that may travel to Prefect. "Due" counts fired clocks;
        ``firing_later`` the clocks that fire before the next briefing."""
        def fired(items: list[DueAction]) -> int:
            return sum(1 for item in items if item.fires_at is None)

        return {
            "missing_now": len(self.missing_now),
            "reported_since": len(self.reported_since),
            "rhi_due": fired(self.rhi_due),
            "rhi_overdue": sum(1 for item in self.rhi_due if item.status == "overdue"),
            "meetings_due": fired(self.meetings_due),
            "notifications_due": fired(self.notifications_due),
            "other_due": sum(fired(items) for items in self.other_work.values()),
            "firing_later": sum(1 for item in self.all_work() if item.fires_at is not None),
            "repeat": len(self.repeat),
            "other_authority": len(self.other_authority),
            "overdue_backlog": sum(item.count for item in self.backlog),
        }

    def backlog_of(self, kind: str, protocol: str = "home_or_care") -> OverdueBacklog | None:
        """The summary line for ``kind``'s older overdue actions, if it has any (the template's section footer)."""
        return next((item for item in self.backlog if item.kind == kind and item.protocol == protocol), None)

    def backlog_in(self, protocol: str) -> list[OverdueBacklog]:
        """The older overdue lines of a protocol's work table: every kind without a section of its own."""
        own = OWN_SECTIONS if protocol == "home_or_care" else ()
        return [item for item in self.backlog if item.protocol == protocol and item.kind not in own]
