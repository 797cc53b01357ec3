"""The incident record of one episode (Lilac Alliance s5), as it stands at a moment: kept up during the episode.

"Comprehensive records of the incident, actions taken, and all related communications will be maintained ...
These should give clear records of the following: the time the person went missing, the location last seen, time
police contacted, what they were wearing, the areas searched, who has been contacted (including name/times and
information obtained or shared), who has been updated." And s5 before it: "Parents, guardians, social care teams
and EDT will be promptly informed". So the record lists each of those four parties with when they were told, by
whom and who was spoken to, or "not recorded"; the contacts made apart from the updates the service gave and the
police's own updates; the risk gradings; the Find Me plan the staff follow; and the actions raised with their
status. It names the child: it is written to the output store only, never into Prefect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from missing_episodes.clock import hours_between, now
from missing_episodes.db.models import RiskAssessment
from missing_episodes.documents.common import ChildView, FindMePlan, child_view, find_me_plan
from missing_episodes.documents.forms import (
    ActionEntry,
    ContactEntry,
    EpisodeView,
    RiskEntry,
    contact_entries,
    episode_actions,
    episode_and_child,
    episode_view,
    police_contacted_at,
)
from missing_episodes.feeds import INFORMED_EVENTS
from missing_episodes.policy import Policy
from missing_episodes.worklist import status_as_of


@dataclass(frozen=True)
class Informed:
    """One party the service must tell (parent, guardian, social care team, EDT) and the first time it did."""

    party: str
    event: str
    entry: ContactEntry | None  # None: not recorded


@dataclass(frozen=True)
class IncidentRecord:
    """Lilac Alliance s5: the record of one missing episode, with every communication, as of ``as_of``."""

    authority: str
    policy_version: str
    as_of: datetime
    prepared_at: datetime
    still_missing: bool
    hours_missing: float | None
    child: ChildView
    find_me: FindMePlan
    episode: EpisodeView
    risk_history: list[RiskEntry]
    informed: list[Informed]
    contacted: list[ContactEntry]
    updated: list[ContactEntry]
    police_updates: list[ContactEntry]
    actions: list[ActionEntry]

    @property
    def key(self) -> str:
        return f"incident_record:{self.episode.ref}:{self.as_of.isoformat()}"


def build_incident_record(session: Session, episode_ref: str, policy: Policy, *,
                          as_of: datetime | None = None) -> IncidentRecord:
    """The incident record of one episode as it stood at ``as_of`` (default now); ``DocumentError`` if no such
    episode (the message names the ref only)."""
    as_of = as_of or now()
    episode, child = episode_and_child(session, episode_ref)
    entries = contact_entries(session, episode, as_of)
    titles = {rule.id: rule.title for rule in policy.rules}
    risks = session.scalars(
        select(RiskAssessment).where(RiskAssessment.episode_id == episode.id).order_by(RiskAssessment.assessed_at)
    )
    still_missing = episode.found_at is None or episode.found_at > as_of
    return IncidentRecord(
        authority=policy.authority,
        policy_version=policy.version,
        as_of=as_of,
        prepared_at=now(),
        still_missing=still_missing,
        hours_missing=hours_between(episode.started_at, as_of if still_missing else episode.found_at),
        child=child_view(child, as_of),
        find_me=find_me_plan(child),
        episode=episode_view(episode, police_contacted_at(session, episode, as_of)),
        risk_history=[RiskEntry(r.assessed_at, r.risk_level) for r in risks if r.assessed_at <= as_of],
        informed=[
            Informed(party, event, next((e for e in entries if e.event == event), None))
            for event, party in INFORMED_EVENTS.items()
        ],
        contacted=[e for e in entries if e.direction == "contacted"],
        updated=[e for e in entries if e.direction == "updated"],
        police_updates=[e for e in entries if e.direction == "police_update"],
        actions=[
            ActionEntry(a.kind, titles.get(a.rule_id, a.rule_id), a.due_at, status_as_of(a, as_of), a.assigned_to)
            for a in episode_actions(session, episode, as_of)
        ],
    )
