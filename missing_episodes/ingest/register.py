"""The child register: a snapshot of the authority's children, not a message stream.

A register row is "new" when it changes the child it describes. A change to a field that decides which rules
apply (legal status, UASC, date of birth, responsible authority, placement distance) marks the child's actions
for recomputation. A child first met in a police notification (no person id) is adopted by the register row with
the same exact name and birth date, when exactly one such record exists.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from missing_episodes.batching import key_batches
from missing_episodes.clock import london_date, now
from missing_episodes.db.models import Child, LegalStatusPeriod
from missing_episodes.feeds import ChildRecord
from missing_episodes.identity import child_ref, match_key
from missing_episodes.ingest.chunks import Valid
from missing_episodes.ingest.summary import IngestSummary
from missing_episodes.store import audit, lock_keys

# Register fields that change which rules apply: a change there means the child's actions are recomputed.
RULE_FIELDS = ("legal_status", "uasc", "date_of_birth", "responsible_authority", "placement_distance_miles",
               "immigration_solicitor")


def child_values(record: ChildRecord) -> dict[str, Any]:
    """The child columns a register row sets."""
    return {
        "first_name": record.first_name,
        "last_name": record.last_name,
        "date_of_birth": record.date_of_birth,
        "legal_status": record.legal_status,
        "uasc": record.uasc,
        "responsible_authority": record.responsible_authority,
        "host_authority": record.host_authority,
        "allocated_worker": record.allocated_worker,
        "team": record.team,
        "placement": record.placement,
        "placement_distance_miles": record.placement_distance_miles,
        "photo_ref": record.photo_ref,
        "contacts": record.contacts,
        "likely_locations": record.likely_locations,
        "phone": record.phone,
        "return_address": record.return_address,
        "immigration_solicitor": record.immigration_solicitor,
    }


def store_register(
    session: Session, valid: list[Valid], source: str, pseudonym_key: str, summary: IngestSummary
) -> None:
    """Create, adopt or update the child of each register row; count changed rows as new, the rest as duplicates."""
    records: dict[str, ChildRecord] = {v.record.child_id: v.record for v in valid}  # type: ignore[union-attr,misc]
    lock_keys(session, "child", records)
    children: dict[str, Child] = {}
    for batch in key_batches(records):
        children.update((c.person_id, c) for c in session.scalars(select(Child).where(Child.person_id.in_(batch))))
    # Children first met in a notification (no person id), by match key: one query for the chunk, not one a row.
    keys = {
        match_key(r.first_name, r.last_name, r.date_of_birth) for person_id, r in records.items()
        if person_id not in children
    }  # fmt: skip
    unregistered_by_key: dict[str, list[Child]] = defaultdict(list)
    for batch in key_batches(keys):
        for found in session.scalars(
            select(Child).where(Child.match_key.in_(batch), Child.person_id.is_(None)).order_by(Child.id)
        ):
            unregistered_by_key[found.match_key].append(found)  # type: ignore[index]
    for person_id, record in records.items():
        values = child_values(record)
        key = match_key(record.first_name, record.last_name, record.date_of_birth)
        child = children.get(person_id)
        if child is None and key:
            # Adopt the one record first met in a police notification under the same exact name and birth date.
            unregistered = unregistered_by_key.get(key, [])
            if len(unregistered) == 1:
                child = unregistered.pop()
                child.person_id = person_id
                child.needs_mash_screening = False
                child.needs_review = True
                audit(session, "ingest", "child_registered", "child", child.ref, person_id=person_id)
        if child is None:
            child = Child(
                ref=child_ref(pseudonym_key, person_id, None),
                person_id=person_id,
                match_key=key,
                needs_review=True,
                **values,
            )
            session.add(child)
            session.add(LegalStatusPeriod(child=child, legal_status=record.legal_status,
                                          effective_from=record.legal_status_from))
            summary.new += 1
            audit(session, "ingest", "child_created", "child", child.ref, source=source)
            continue
        changed = {name: value for name, value in values.items() if getattr(child, name) != value}
        if key != child.match_key:
            child.match_key = key
        if not changed:
            summary.duplicate += 1
            continue
        if "legal_status" in changed:
            # A new period, not an overwrite: the returns judge each episode by the status on its start date.
            session.add(LegalStatusPeriod(child=child, legal_status=record.legal_status,
                                          effective_from=record.legal_status_from or london_date(now())))
        for name, value in changed.items():
            setattr(child, name, value)
        if any(name in RULE_FIELDS for name in changed):
            child.needs_review = True
        summary.new += 1
        audit(session, "ingest", "child_updated", "child", child.ref, fields=sorted(changed))
    session.flush()
