"""Test helpers: London times, and facts for the rules without a database."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd

from missing_episodes import bulk
from missing_episodes.clock import COLUMN_TIME, LONDON, UTC
from missing_episodes.rules import ChildFacts, EpisodeFacts, OutcomeFacts


def london(text: str) -> datetime:
    """A London wall-clock time as an aware UTC instant ("2026-03-28 20:00")."""
    return datetime.fromisoformat(text).replace(tzinfo=LONDON).astimezone(UTC)


def child(
    ref: str = "CH-1", legal_status: str = "looked_after", uasc: bool = False, dob: date | None = date(2011, 6, 1),
    solicitor: bool = False,
) -> ChildFacts:
    return ChildFacts(ref, legal_status, uasc, dob, solicitor)


def episode(
    ref: str,
    start: str,
    *,
    found: str | None = None,
    notified: str | None = None,
    kind: str = "missing",
    reported: str | None = None,
    risk: tuple[tuple[str, str], ...] = (),
    incident: str | None = None,
    other_authority: bool = False,
) -> EpisodeFacts:
    return EpisodeFacts(
        ref=ref,
        incident_ref=incident or f"INC-{ref}",
        kind=kind,
        started_at=london(start),
        reported_at=london(reported or start),
        found_at=london(found) if found else None,
        return_notified_at=london(notified or found) if (notified or found) else None,
        risk_history=tuple((london(at), level) for at, level in risk),
        other_authority=other_authority,
    )


def outcome(
    event_id: str,
    event: str,
    at: str,
    incident: str | None = None,
    by: str = "worker",
    rationale: str | None = None,
    risk_level: str | None = None,
) -> OutcomeFacts:
    return OutcomeFacts(event_id, event, london(at), incident, by, rationale, None, risk_level)


def bulk_facts(person: ChildFacts, episodes: list[EpisodeFacts]) -> bulk.Facts:
    """The columns ``bulk.load_facts`` would read for one child (id 1) with these episodes and no case events."""
    children = pd.DataFrame([{"id": 1, "ref": person.ref, "legal_status": person.legal_status, "uasc": person.uasc,
                              "date_of_birth": person.date_of_birth,
                              "has_immigration_solicitor": person.has_immigration_solicitor}])
    frame = pd.DataFrame([
        {"id": n, "ref": e.ref, "incident_ref": e.incident_ref, "child_id": 1, "kind": e.kind,
         "started_at": e.started_at, "reported_at": e.reported_at, "found_at": e.found_at,
         "return_notified_at": e.return_notified_at, "other_authority": e.other_authority}
        for n, e in enumerate(episodes, start=1)
    ])
    for name in ("started_at", "reported_at", "found_at", "return_notified_at"):
        frame[name] = pd.to_datetime(frame[name], utc=True).astype(COLUMN_TIME)
    risks = pd.DataFrame(columns=["episode_id", "assessed_at", "risk_level", "notification_id"])
    risks["assessed_at"] = risks["assessed_at"].astype(COLUMN_TIME)
    outcomes = pd.DataFrame(columns=["child_id", "event_id", "event", "recorded_at", "incident_ref", "by",
                                     "rationale", "notes", "risk_level"])
    outcomes["recorded_at"] = outcomes["recorded_at"].astype(COLUMN_TIME)
    return bulk.Facts(children, frame, risks, outcomes)
