"""The one loader of what the rules read: a group of children's facts from the store, as columns.

Both evaluators read the same four things (children, their episodes, the police risk gradings, the case events),
so both load them here, in four set-based queries. The vectorised evaluator works on the columns; the per-child
one, and the bulk path's per-child fallback, turn them into ``facts`` objects with ``episode_facts``,
``outcome_facts`` and ``child_facts``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from missing_episodes.clock import COLUMN_TIME
from missing_episodes.db.models import Child, Episode, Outcome, RiskAssessment
from missing_episodes.facts import ChildFacts, EpisodeFacts, OutcomeFacts


@dataclass
class Facts:
    """Everything the rules read, as columns: one row per child, episode, risk grading and case event."""

    children: pd.DataFrame  # id, ref, legal_status, uasc, date_of_birth
    episodes: pd.DataFrame  # id, ref, incident_ref, child_id, kind, started_at, reported_at, found_at,
    #                         return_notified_at, other_authority
    risks: pd.DataFrame  # episode_id, assessed_at, risk_level, notification_id
    outcomes: pd.DataFrame  # child_id, event_id, event, recorded_at, incident_ref, by, rationale, notes, risk_level

    def of_children(self, child_ids: set[int]) -> Facts:
        """The episodes and risk gradings of these children only (``episode_facts`` reads nothing else)."""
        episodes = self.episodes[self.episodes["child_id"].isin(list(child_ids))]
        risks = self.risks[self.risks["episode_id"].isin(episodes["id"])]
        return Facts(self.children, episodes, risks, self.outcomes)


def _frame(rows: Iterable[Any], columns: list[str], times: tuple[str, ...] = ()) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(list(rows), columns=columns)
    for name in times:
        frame[name] = pd.to_datetime(frame[name], utc=True).astype(COLUMN_TIME)
    return frame


def load_facts(session: Session, child_ids: list[int] | None = None) -> Facts:
    """Read the facts of these children (all children when ``None``) in four set-based queries."""
    child_q = select(Child.id, Child.ref, Child.legal_status, Child.uasc, Child.date_of_birth)
    episode_q = select(
        Episode.id, Episode.ref, Episode.incident_ref, Episode.child_id, Episode.kind, Episode.started_at,
        Episode.reported_at, Episode.found_at, Episode.return_notified_at, Episode.other_authority,
    ).where(Episode.child_id.is_not(None))
    risk_q = select(
        RiskAssessment.episode_id, RiskAssessment.assessed_at, RiskAssessment.risk_level,
        RiskAssessment.notification_id,
    ).join(Episode, Episode.id == RiskAssessment.episode_id).where(Episode.child_id.is_not(None))
    outcome_q = select(
        Outcome.child_id, Outcome.event_id, Outcome.event, Outcome.recorded_at, Outcome.incident_ref, Outcome.by,
        Outcome.rationale, Outcome.notes, Outcome.risk_level,
    )
    if child_ids is not None:
        child_q = child_q.where(Child.id.in_(child_ids))
        episode_q = episode_q.where(Episode.child_id.in_(child_ids))
        risk_q = risk_q.where(Episode.child_id.in_(child_ids))
        outcome_q = outcome_q.where(Outcome.child_id.in_(child_ids))
    session.flush()  # as session.execute would; then Core rows, with no ORM result processing
    connection = session.connection()
    children = _frame(connection.execute(child_q), ["id", "ref", "legal_status", "uasc", "date_of_birth"])
    episodes = _frame(
        connection.execute(episode_q),
        ["id", "ref", "incident_ref", "child_id", "kind", "started_at", "reported_at", "found_at",
         "return_notified_at", "other_authority"],
        ("started_at", "reported_at", "found_at", "return_notified_at"),
    )
    risks = _frame(connection.execute(risk_q), ["episode_id", "assessed_at", "risk_level", "notification_id"],
                   ("assessed_at",))
    outcomes = _frame(
        connection.execute(outcome_q),
        ["child_id", "event_id", "event", "recorded_at", "incident_ref", "by", "rationale", "notes", "risk_level"],
        ("recorded_at",),
    )
    return Facts(children, episodes, risks, outcomes)


# --- the same facts as objects, for the per-child evaluator -----------------------------------------------------


def _py(value: Any) -> datetime | None:
    return None if value is None or pd.isna(value) else value.to_pydatetime()


def _none(value: Any) -> Any:
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value


def episode_facts(facts: Facts) -> dict[int, list[EpisodeFacts]]:
    """The episodes of each child as ``EpisodeFacts``, risk history in the stored order."""
    history: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    ordered = facts.risks.sort_values(["assessed_at", "notification_id"], kind="stable")
    for episode_id, at, level in zip(ordered["episode_id"], ordered["assessed_at"], ordered["risk_level"],
                                     strict=True):
        history[int(episode_id)].append((at.to_pydatetime(), level))
    by_child: dict[int, list[EpisodeFacts]] = defaultdict(list)
    e = facts.episodes
    for row in zip(e["id"], e["ref"], e["incident_ref"], e["child_id"], e["kind"], e["started_at"],
                   e["reported_at"], e["found_at"], e["return_notified_at"], e["other_authority"], strict=True):
        eid, ref, incident, child_id, kind, started, reported, found, notified, other = row
        by_child[int(child_id)].append(
            EpisodeFacts(ref, incident, _none(kind), _py(started), _py(reported), _py(found), _py(notified),
                         tuple(history.get(int(eid), ())), bool(other))
        )
    return by_child


def outcome_facts(facts: Facts) -> dict[int, list[OutcomeFacts]]:
    """The case events of each child as ``OutcomeFacts``."""
    by_child: dict[int, list[OutcomeFacts]] = defaultdict(list)
    o = facts.outcomes
    for row in zip(o["child_id"], o["event_id"], o["event"], o["recorded_at"], o["incident_ref"], o["by"],
                   o["rationale"], o["notes"], o["risk_level"], strict=True):
        child_id, event_id, event, at, incident, by, rationale, notes, risk = row
        by_child[int(child_id)].append(
            OutcomeFacts(event_id, event, at.to_pydatetime(), _none(incident), _none(by), _none(rationale),
                         _none(notes), _none(risk))
        )
    return by_child


def child_facts(facts: Facts) -> dict[int, ChildFacts]:
    """Each child as ``ChildFacts``, by id."""
    c = facts.children
    return {
        int(child_id): ChildFacts(ref, legal_status, bool(uasc), None if pd.isna(dob) else dob)
        for child_id, ref, legal_status, uasc, dob in zip(c["id"], c["ref"], c["legal_status"], c["uasc"],
                                                          c["date_of_birth"], strict=True)
    }
