"""Case outcomes (interviews held or declined, meetings, notifications sent): stored, and their children flagged.

An outcome names its child by the authority's person id only, matched (or made) by the same matcher as the
episodes. Contact-log events (``contact_made``, ``update_given``: the Lilac Alliance log) also join the incident's
record of who was contacted or updated.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from missing_episodes.db.models import ContactLog, Episode, Outcome
from missing_episodes.feeds import CaseOutcome
from missing_episodes.ingest.matching import ChunkChildren, flag_for_review
from missing_episodes.store import insert_ignoring_duplicates

CONTACT_EVENTS = ("contact_made", "update_given")


def store_outcomes(session: Session, source: str, records: list[CaseOutcome], pseudonym_key: str) -> None:
    """Insert the outcomes and contact-log rows (keyed: a replay adds nothing) and flag each child for review."""
    children = ChunkChildren(session, pseudonym_key, (record.child_id for record in records))
    child_ids = {record.child_id: children.for_person(record.child_id) for record in records}
    children.store()
    flag_for_review(session, {child.id for child in child_ids.values()})
    episode_by_incident = _episodes_of(session, records)
    outcome_rows, log_rows = [], []
    for record in records:
        child_id = child_ids[record.child_id].id
        outcome_rows.append(
            {
                "source": source,
                "event_id": record.event_id,
                "recorded_at": record.recorded_at,
                "child_id": child_id,
                "incident_ref": record.incident_ref,
                "event": record.event,
                "by": record.by,
                "rationale": record.rationale,
                "notes": record.notes,
                "risk_level": record.risk_level,
            }
        )
        if record.event in CONTACT_EVENTS:
            log_rows.append(
                {
                    "key": f"{source}:{record.event_id}",
                    "episode_id": episode_by_incident.get(record.incident_ref) if record.incident_ref else None,
                    "child_id": child_id,
                    "at": record.recorded_at,
                    "direction": "contacted" if record.event == "contact_made" else "updated",
                    "who": record.who or record.by,
                    "shared": record.notes,
                    "recorded_by": record.by,
                }
            )
    insert_ignoring_duplicates(session, Outcome, outcome_rows)
    insert_ignoring_duplicates(session, ContactLog, log_rows)


def _episodes_of(session: Session, records: list[CaseOutcome]) -> dict[str, int]:
    """The episode of each incident a contact-log event names: any source's, the lowest id when several share it."""
    logged = sorted({r.incident_ref for r in records if r.event in CONTACT_EVENTS and r.incident_ref})
    episode_by_incident: dict[str, int] = {}
    if logged:
        for incident, episode_id in session.execute(
            select(Episode.incident_ref, Episode.id).where(Episode.incident_ref.in_(logged)).order_by(Episode.id)
        ):
            episode_by_incident.setdefault(incident, episode_id)
    return episode_by_incident
