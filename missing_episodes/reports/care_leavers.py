"""The care leavers' list: who is assessed missing, who is assessed not in touch, since when, and what is open.

Wokingham's care-leaver procedure: "The case will then be allocated to the Assistant Manager on Mosaic who will
continue to track and review those missing on a weekly basis and keep the relevant Service Manager updated." That
manager needs one list of the care leavers currently assessed missing and of those assessed not in touch (issue
15), each with since when, the Personal Advisor and team, the open actions and the next weekly review.

A period is read from the case events the way the rules read them, so the list and the worklist never disagree:

* **missing** starts at an ``assessed_missing`` event and ends at the care leaver's return after it (a
  ``returned`` event or a police return, ``triggers.outcome.return_after``), exactly where the rules stop the
  weekly reviews and fire the return duties. Several assessments without a return in between are one period,
  since the first.
* **not in touch** starts at an ``assessed_not_in_touch`` event and ends when contact is re-established: a
  ``contact_made`` event ("Contact made with the young person"), a ``returned`` event, or a later
  ``assessed_missing`` (the young person is then on the missing list instead). A care leaver assessed missing is
  listed as missing only, whatever else was recorded meanwhile.

Only care leavers (legal status ``care_leaver``, as the ``care_leaver.*`` rules scope themselves) are listed, and
only what was recorded by ``as_of``. The entries carry names-free refs; a caller that shows names (the CLI's own
terminal output) looks them up itself, and nothing here goes to Prefect.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from missing_episodes.clock import as_utc
from missing_episodes.db.models import Action, Child, Episode, Outcome
from missing_episodes.facts import EpisodeFacts, OutcomeFacts
from missing_episodes.triggers.outcome import return_after
from missing_episodes.worklist import CLOSED_STATUSES, Filters, WorklistItem, status_at, worklist_items

CARE_LEAVER = "care_leaver"
ASSESSED_MISSING = "assessed_missing"
ASSESSED_NOT_IN_TOUCH = "assessed_not_in_touch"
#: Events that end a "not in touch" period (besides a return): contact with the young person re-established.
CONTACT_EVENTS = frozenset({"contact_made"})
WEEKLY_REVIEW = "weekly_review"
_EVENTS = (ASSESSED_MISSING, ASSESSED_NOT_IN_TOUCH, "returned", *CONTACT_EVENTS)

Listed = Literal["missing", "not_in_touch"]


@dataclass(frozen=True)
class CareLeaverEntry:
    """One care leaver on the list: refs only (no name), times aware UTC."""

    status: Listed
    child_ref: str
    person_id: str | None
    since: datetime
    assessed_by: str | None
    personal_advisor: str | None  # the register's allocated worker
    team: str | None
    open_actions: tuple[WorklistItem, ...]  # fired by as_of, open or overdue then, by due time
    next_weekly_review: datetime | None  # the earliest weekly review not closed by as_of (None: none scheduled)


def care_leavers_list(session: Session, as_of: datetime) -> list[CareLeaverEntry]:
    """The care leavers assessed missing (first) and assessed not in touch at ``as_of``, each longest first."""
    as_of = as_utc(as_of)
    events: dict[int, list[OutcomeFacts]] = defaultdict(list)
    query = (
        select(Outcome.child_id, Outcome.event_id, Outcome.event, Outcome.recorded_at, Outcome.by)
        .join(Child, Outcome.child_id == Child.id)
        .where(Child.legal_status == CARE_LEAVER, Outcome.event.in_(_EVENTS), Outcome.recorded_at <= as_of)
    )
    for child_id, event_id, event, recorded_at, by in session.execute(query):
        events[child_id].append(OutcomeFacts(event_id, event, recorded_at, by=by))
    if not events:
        return []
    returns = _police_returns(session, list(events), as_of)
    entries: list[CareLeaverEntry] = []
    for child_id, recorded in events.items():
        recorded.sort(key=lambda o: (o.recorded_at, o.event_id))
        period = _current_period(recorded, returns.get(child_id, []))
        if period is None:
            continue
        status, first = period
        child = session.get(Child, child_id)
        assert child is not None  # joined above
        entries.append(CareLeaverEntry(
            status=status, child_ref=child.ref, person_id=child.person_id, since=first.recorded_at,
            assessed_by=first.by, personal_advisor=child.allocated_worker, team=child.team,
            open_actions=_open_actions(session, child.ref, as_of),
            next_weekly_review=_next_weekly_review(session, child_id, as_of) if status == "missing" else None,
        ))
    entries.sort(key=lambda e: (e.status != "missing", e.since, e.child_ref))
    return entries


def _current_period(recorded: list[OutcomeFacts], returns: list[EpisodeFacts]) -> tuple[Listed, OutcomeFacts] | None:
    """The period open at the end of ``recorded`` (ordered, all by as_of): missing first, else not in touch."""
    missing = _open_since(recorded, ASSESSED_MISSING, lambda o: return_after(o.recorded_at, returns, recorded))
    if missing is not None:
        return "missing", missing
    ends = CONTACT_EVENTS | {"returned", ASSESSED_MISSING}

    def contact_after(assessment: OutcomeFacts) -> datetime | None:
        later = [o.recorded_at for o in recorded if o.event in ends and o.recorded_at > assessment.recorded_at]
        return min(later) if later else None

    not_in_touch = _open_since(recorded, ASSESSED_NOT_IN_TOUCH, contact_after)
    return None if not_in_touch is None else ("not_in_touch", not_in_touch)


def _open_since(recorded: list[OutcomeFacts], event: str,
                end_after: Callable[[OutcomeFacts], datetime | None]) -> OutcomeFacts | None:
    """The first ``event`` of the run of assessments still open (each with no end after it); None when ended."""
    first: OutcomeFacts | None = None
    for outcome in recorded:
        if outcome.event != event:
            continue
        if end_after(outcome) is not None:
            first = None  # ended (by as_of: only what was recorded by then is read)
        elif first is None:
            first = outcome
    return first


def _police_returns(session: Session, child_ids: list[int], as_of: datetime) -> dict[int, list[EpisodeFacts]]:
    """The children's police returns known by ``as_of``, as the rules' episode facts (only the end is read)."""
    returns: dict[int, list[EpisodeFacts]] = defaultdict(list)
    query = select(Episode.child_id, Episode.ref, Episode.incident_ref, Episode.kind, Episode.started_at,
                   Episode.reported_at, Episode.found_at, Episode.return_notified_at).where(
        Episode.child_id.in_(child_ids))
    for child_id, *facts in session.execute(query):
        episode = EpisodeFacts(*facts)
        if episode.ended_at is not None and episode.ended_at <= as_of:
            returns[child_id].append(episode)
    return returns


def _open_actions(session: Session, child_ref: str, as_of: datetime) -> tuple[WorklistItem, ...]:
    """The child's actions fired by ``as_of`` and still open or overdue then (the worklist's own reading)."""
    return tuple(worklist_items(session, as_of, include_closed=False, filters=Filters(child=child_ref)))


def _next_weekly_review(session: Session, child_id: int, as_of: datetime) -> datetime | None:
    """The earliest weekly review not closed by ``as_of``: an overdue one, else the next one to fall due."""
    query = select(Action.status, Action.done_at, Action.due_at).where(
        Action.child_id == child_id, Action.kind == WEEKLY_REVIEW, Action.status != "withdrawn")
    due = [due_at for stored, done_at, due_at in session.execute(query)
           if status_at(stored, done_at, due_at, as_of) not in CLOSED_STATUSES]
    return min(due, default=None)
