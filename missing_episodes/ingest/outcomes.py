"""Case outcomes (interviews held or declined, meetings, notifications sent): stored, and their children flagged.

An outcome names its child by the authority's person id only, matched (or made) by the same matcher as the
episodes. Contact-log events (``contact_made``, ``update_given``: the Lilac Alliance log), the events saying who was
informed (``parent_informed``, ``guardian_informed``, ``social_care_informed``, ``edt_informed``) and any other event
naming who was spoken to (``who``; Wokingham: "the relevant name and contact number/details of those spoken to")
also join the incident's record of who was contacted, updated or informed, with the entry's event. An
``rhi_completed`` row may carry the interview's findings (``missing_episodes.findings``): they are stored in
``rhi_finding``, and each follow-up they ask for is stored as a case event of its own (``rhi_finding_...``,
event id ``<event id>/<follow-up>``, same time, incident and author) on which the policy's follow-up rules trigger.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from missing_episodes.db.models import ContactLog, Episode, Outcome, RhiFinding
from missing_episodes.feeds import INFORMED_EVENTS, CaseOutcome
from missing_episodes.findings import RhiFindings, parse_findings
from missing_episodes.ingest.matching import ChunkChildren, flag_for_review
from missing_episodes.store import insert_ignoring_duplicates, one_of

CONTACT_EVENTS = ("contact_made", "update_given")


def store_outcomes(session: Session, source: str, records: list[CaseOutcome], pseudonym_key: str) -> None:
    """Insert the outcomes and contact-log rows (keyed: a replay adds nothing) and flag each child for review."""
    children = ChunkChildren(session, pseudonym_key, (record.child_id for record in records))
    child_ids = {record.child_id: children.for_person(record.child_id) for record in records}
    children.store()
    flag_for_review(session, {child.id for child in child_ids.values()})
    episode_by_incident = _episodes_of(session, records)
    outcome_rows, log_rows = [], []
    found: dict[str, tuple[CaseOutcome, RhiFindings]] = {}
    for record in records:
        child_id = child_ids[record.child_id].id
        row = {
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
        outcome_rows.append(row)
        findings = parse_findings(record.event, record.extra)
        if findings is not None:
            found[record.event_id] = (record, findings)
            outcome_rows.extend(
                {**row, "event_id": f"{record.event_id}/{event}", "event": event, "rationale": None, "notes": None}
                for event in findings.follow_up_events()
            )
        if _logged(record):
            log_rows.append(
                {
                    "key": f"{source}:{record.event_id}",
                    "episode_id": episode_by_incident.get(record.incident_ref) if record.incident_ref else None,
                    "child_id": child_id,
                    "at": record.recorded_at,
                    "direction": _direction(record.event),
                    "who": record.who or (None if record.event in INFORMED_EVENTS else record.by),
                    "shared": record.notes,
                    "recorded_by": record.by,
                    "event": record.event,
                    "contact": record.contact,
                }
            )
    insert_ignoring_duplicates(session, Outcome, outcome_rows)
    insert_ignoring_duplicates(session, ContactLog, log_rows)
    if found:
        _store_findings(session, source, found, {r.child_id: child_ids[r.child_id].id for r, _ in found.values()})


def _store_findings(session: Session, source: str, found: dict[str, tuple[CaseOutcome, RhiFindings]],
                    child_of: dict[str, int]) -> None:
    """One ``rhi_finding`` row per interview outcome carrying findings (keyed on the outcome: a replay adds none)."""
    outcome_ids = dict(session.execute(
        select(Outcome.event_id, Outcome.id).where(Outcome.source == source, one_of(session, Outcome.event_id, found))
    ).all())
    rows = []
    for event_id, (record, findings) in found.items():
        rows.append({
            "outcome_id": outcome_ids[event_id],
            "child_id": child_of[record.child_id],
            "recorded_at": record.recorded_at,
            "incident_ref": record.incident_ref,
            "reasons": ";".join(findings.reasons) or None,
            "concerns": ";".join(findings.concerns) or None,
            "harm": findings.harm,
            "child_views": findings.child_views,
            "referral_made": findings.referral_made,
            "find_me_plan_update": findings.find_me_plan_update,
        })
    insert_ignoring_duplicates(session, RhiFinding, rows)


def _logged(record: CaseOutcome) -> bool:
    """Whether the event is an entry of the contact log: a contact, an update, someone informed, or any event that
    names who was spoken to."""
    return record.event in CONTACT_EVENTS or record.event in INFORMED_EVENTS or bool(record.who or record.contact)


def _direction(event: str) -> str:
    """The entry's kind: the service updated someone, informed a party of the missing, or contacted someone."""
    if event == "update_given":
        return "updated"
    return "informed" if event in INFORMED_EVENTS else "contacted"


def _episodes_of(session: Session, records: list[CaseOutcome]) -> dict[str, int]:
    """The episode of each incident a contact-log event names: any source's, the lowest id when several share it."""
    logged = sorted({r.incident_ref for r in records if _logged(r) and r.incident_ref})
    episode_by_incident: dict[str, int] = {}
    if logged:
        for incident, episode_id in session.execute(
            select(Episode.incident_ref, Episode.id)
            .where(one_of(session, Episode.incident_ref, logged))
            .order_by(Episode.id)
        ):
            episode_by_incident.setdefault(incident, episode_id)
    return episode_by_incident
