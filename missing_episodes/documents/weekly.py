"""The weekly list of every child who is or was missing in the week (Wolverhampton report, paragraph 3.15).

A week is seven London calendar days ending on ``week_ending`` (inclusive). An episode is on the list when it
overlapped the week: it started before the week ended and was not found before the week began. Children placed
here by other authorities are listed apart, as in the briefing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from missing_episodes.clock import hours_between, london_instant, now
from missing_episodes.db.models import Action, Child, Episode
from missing_episodes.documents.common import ChildView, child_view
from missing_episodes.policy import Policy
from missing_episodes.store import unindexed
from missing_episodes.worklist import status_as_of


@dataclass(frozen=True)
class WeeklyRow:
    child: ChildView
    episode_ref: str
    started_at: datetime
    found_at: datetime | None
    still_missing: bool
    hours_missing: float | None
    risk_level: str | None
    rhi_status: str | None
    responsible_authority: str | None


@dataclass(frozen=True)
class WeeklyList:
    authority: str
    week_start: date
    week_ending: date
    as_of: datetime
    generated_at: datetime
    rows: list[WeeklyRow] = field(default_factory=list)
    other_authority: list[WeeklyRow] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"weekly_list:{self.week_ending.isoformat()}"

    def counts(self) -> dict[str, int]:
        return {
            "episodes": len(self.rows),
            "children": len({row.child.ref for row in self.rows}),
            "still_missing": sum(1 for row in self.rows if row.still_missing),
            "other_authority": len(self.other_authority),
        }


def build_weekly_list(session: Session, week_ending: date, policy: Policy) -> WeeklyList:
    """Every missing episode that overlapped the week, read as of the end of the week (or now, if sooner)."""
    start, end = london_instant(week_ending - timedelta(days=6)), london_instant(week_ending + timedelta(days=1))
    as_of = min(end, now())
    query = (
        select(Episode, Child)
        .outerjoin(Child, Episode.child_id == Child.id)
        .where(
            Episode.kind == "missing",
            Episode.started_at.is_not(None),
            Episode.started_at < end,
            or_(Episode.found_at.is_(None), Episode.found_at >= start),
            or_(Episode.reported_at.is_(None), Episode.reported_at < end),
        )
        .order_by(Episode.started_at, Episode.ref)
    )
    pairs = [(row[0], row[1]) for row in session.execute(query)]
    rhi = {
        action.episode_id: status_as_of(action, as_of)
        for action in session.scalars(
            select(Action).where(
                unindexed(Action.kind) == "return_home_interview",
                Action.episode_id.in_([episode.id for episode, _ in pairs]),
                Action.trigger_at <= as_of,
                Action.status != "withdrawn",
            )
        )
    }
    weekly = WeeklyList(policy.authority, week_ending - timedelta(days=6), week_ending, as_of, now())
    for episode, child in pairs:
        found = episode.found_at if episode.found_at and episode.found_at <= as_of else None
        row = WeeklyRow(
            child=child_view(child, as_of),
            episode_ref=episode.ref,
            started_at=episode.started_at,
            found_at=found,
            still_missing=found is None,
            hours_missing=hours_between(episode.started_at, found or as_of),
            risk_level=episode.risk_level,
            rhi_status=rhi.get(episode.id),
            responsible_authority=episode.responsible_authority,
        )
        (weekly.other_authority if episode.other_authority else weekly.rows).append(row)
    weekly.rows.sort(key=lambda row: (not row.still_missing, row.child.last_name, row.child.first_name))
    return weekly
