"""The store as pandas frames: the one place reports read episodes, actions and outcomes.

Why one loader: the board figures, the oversight list and the statutory returns must count the same things the
worklist shows. So the filters live here once: episodes placed with us by another authority are recorded but
kept out of our figures (Wakefield s3); withdrawn actions are off the worklist and so off every report; an
action's status is read as of a moment with ``worklist.status_as_of`` (a meeting recorded tomorrow was not held
today). Times stay aware UTC instants; ``*_date`` columns are the Europe/London calendar day, which is the day a
practitioner (and the DfE return) would write down.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from missing_episodes.clock import as_utc, london_date
from missing_episodes.db.models import Action, Child, Episode, LegalStatusPeriod, Outcome
from missing_episodes.worklist import status_as_of

EPISODE_KINDS = ("missing", "absent")
#: Episodes the police send that are neither missing nor absent, kept apart from both in every figure and return:
#: missing from curfew (Wolverhampton 3.13: "distinguising the difference between missing episodes from those
#: missing from curfew").
APART_KINDS = ("curfew",)
#: The case event of a hidden missing child (Wakefield s2: "missing, but has not been reported to the police").
HIDDEN_MISSING = "hidden_missing"
RHI = "return_home_interview"
STRATEGY = "strategy_meeting"
LOOKED_AFTER = "looked_after"

CHILD_COLUMNS = [
    "child_id",
    "child_ref",
    "person_id",
    "first_name",
    "last_name",
    "date_of_birth",
    "legal_status",
    "team",
    "allocated_worker",
]
EPISODE_COLUMNS = [
    "episode_id",
    "episode_ref",
    "child_id",
    "kind",
    "status",
    "started_at",
    "ended_at",
    "return_notified_at",
    "start_date",
    "end_date",
    "legal_status",  # the child's legal status on the day the episode began (``legal_status_period``)
]
ACTION_COLUMNS = [
    "action_id",
    "child_id",
    "episode_id",
    "kind",
    "rule_id",
    "trigger_at",
    "due_at",
    "status",
    "done_at",
    "trigger_date",
]
OUTCOME_COLUMNS = ["child_id", "incident_ref", "event", "recorded_at", "recorded_date",
                   "legal_status"]  # the child's legal status on the day it was recorded


@dataclass(frozen=True)
class Records:
    """Our children, episodes, actions and outcomes as of ``as_of``; one frame per table, keyed by store ids."""

    as_of: datetime
    children: pd.DataFrame
    episodes: pd.DataFrame
    actions: pd.DataFrame
    outcomes: pd.DataFrame
    # Missing-from-curfew episodes (``APART_KINDS``), in ``episodes``' columns: counted apart, never in a return.
    curfew: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=EPISODE_COLUMNS))

    def looked_after_ids(self) -> set[int]:
        """Children in care: legal status ``looked_after`` on record now (the annual list of children in care)."""
        frame = self.children
        return set(frame.loc[frame["legal_status"] == LOOKED_AFTER, "child_id"])

    def in_care_episodes(self) -> pd.Series:
        """Episodes that began while the child was looked after (a boolean mask over ``episodes``): the returns and
        the board's "children in care" figures count an episode by the status on its start date, so a child who
        has since left care keeps the months in care in that year's figures."""
        return self.episodes["legal_status"] == LOOKED_AFTER


def _status_history(session: Session, current: dict[int, str]) -> Callable[[int, date | None], str]:
    """``status_on(child_id, day)``: the legal status in force that day, from the child's periods.

    The last period that had begun by then; before a child's first period, the first one (nothing earlier is
    known); a child with no period at all (met only in a notification) has its status on record.
    """
    periods: dict[int, list[tuple[date | None, str]]] = defaultdict(list)
    query = select(LegalStatusPeriod.child_id, LegalStatusPeriod.effective_from, LegalStatusPeriod.legal_status)
    for child_id, effective_from, status in session.execute(query.order_by(LegalStatusPeriod.id)):
        periods[child_id].append((effective_from, status))
    for history in periods.values():
        history.sort(key=lambda period: (period[0] is not None, period[0] or date.min))

    def status_on(child_id: int, day: date | None) -> str:
        history = periods.get(child_id)
        if not history:
            return current.get(child_id, "none")
        began = [status for start, status in history if start is None or day is None or start <= day]
        return began[-1] if began else history[0][1]

    return status_on


def load_records(session: Session, as_of: datetime) -> Records:
    """Read the store as it stood at ``as_of``: what had started, fired or been recorded by then.

    Episodes need a kind (``unconfirmed`` ones are not yet an episode), a start and a child; other authorities'
    episodes and the actions hanging off them are left out. Actions are those whose trigger had fired by
    ``as_of``, never withdrawn ones, with the status the worklist would show at that moment.
    """
    as_of = as_utc(as_of)
    children = [
        {
            "child_id": c.id,
            "child_ref": c.ref,
            "person_id": c.person_id,
            "first_name": c.first_name,
            "last_name": c.last_name,
            "date_of_birth": c.date_of_birth,
            "legal_status": c.legal_status,
            "team": c.team,
            "allocated_worker": c.allocated_worker,
        }
        for c in session.scalars(select(Child).order_by(Child.id))
    ]
    episode_query = (
        select(Episode)
        .where(
            Episode.kind.in_(EPISODE_KINDS + APART_KINDS),
            Episode.child_id.is_not(None),
            Episode.started_at.is_not(None),
            Episode.started_at <= as_of,
            Episode.other_authority.is_(False),
        )
        .order_by(Episode.started_at, Episode.id)
    )
    status_on = _status_history(session, {c["child_id"]: c["legal_status"] for c in children})
    episodes, curfew = [], []
    for e in session.scalars(episode_query):
        ended = e.found_at or e.return_notified_at
        if ended is not None and ended > as_of:
            ended = None  # not yet back at the moment the report is read for
        (curfew if e.kind in APART_KINDS else episodes).append(
            {
                "episode_id": e.id,
                "episode_ref": e.ref,
                "child_id": e.child_id,
                "kind": e.kind,
                "status": e.status if ended is not None or e.status != "returned" else "open",
                "started_at": e.started_at,
                "ended_at": ended,
                "return_notified_at": e.return_notified_at,
                "start_date": (started := london_date(e.started_at)),
                "end_date": london_date(ended),
                "legal_status": status_on(e.child_id, started),
            }
        )
    foreign = select(Episode.id).where(Episode.other_authority.is_(True))
    action_query = (
        select(Action)
        .where(Action.status != "withdrawn", Action.trigger_at <= as_of)
        .where((Action.episode_id.is_(None)) | (Action.episode_id.not_in(foreign)))
        .order_by(Action.trigger_at, Action.id)
    )
    actions = [
        {
            "action_id": a.id,
            "child_id": a.child_id,
            "episode_id": a.episode_id,
            "kind": a.kind,
            "rule_id": a.rule_id,
            "trigger_at": a.trigger_at,
            "due_at": a.due_at,
            "status": status_as_of(a, as_of),
            "done_at": a.done_at if a.done_at is not None and a.done_at <= as_of else None,
            "trigger_date": london_date(a.trigger_at),
        }
        for a in session.scalars(action_query)
    ]
    outcomes = [
        {
            "child_id": o.child_id,
            "incident_ref": o.incident_ref,
            "event": o.event,
            "recorded_at": o.recorded_at,
            "recorded_date": (recorded := london_date(o.recorded_at)),
            "legal_status": status_on(o.child_id, recorded),
        }
        for o in session.scalars(select(Outcome).where(Outcome.recorded_at <= as_of).order_by(Outcome.recorded_at))
    ]
    return Records(
        as_of=as_of,
        children=pd.DataFrame(children, columns=CHILD_COLUMNS),
        episodes=pd.DataFrame(episodes, columns=EPISODE_COLUMNS),
        actions=pd.DataFrame(actions, columns=ACTION_COLUMNS),
        outcomes=pd.DataFrame(outcomes, columns=OUTCOME_COLUMNS),
        curfew=pd.DataFrame(curfew, columns=EPISODE_COLUMNS),
    )
