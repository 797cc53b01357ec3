"""Test helpers: London times, and facts for the rules without a database."""

from __future__ import annotations

from datetime import date, datetime

from missing_episodes.clock import LONDON, UTC
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
