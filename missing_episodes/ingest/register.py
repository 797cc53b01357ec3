"""The child register: a snapshot of the authority's children, not a message stream.

A register row is "new" when it changes the child it describes. A change to a field that decides which rules
apply (legal status, UASC, date of birth, responsible authority, placement distance) marks the child's actions
for recomputation. A child first met in a police notification (no person id) is merged into the register's child
with the same exact name and birth date (``matching.settle_keys``; the rules are in ``ingest.matching``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from missing_episodes.batching import key_batches
from missing_episodes.clock import london_date, now
from missing_episodes.db.models import Child, Episode, LegalStatusPeriod
from missing_episodes.feeds import ChildRecord
from missing_episodes.identity import child_ref, match_key
from missing_episodes.ingest.chunks import Valid
from missing_episodes.ingest.incidents import normalise_authority, rederive_authority
from missing_episodes.ingest.matching import flag_for_review, lock_identities, settle_keys
from missing_episodes.ingest.summary import IngestSummary
from missing_episodes.store import audit

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
    session: Session, valid: list[Valid], source: str, pseudonym_key: str, summary: IngestSummary, authority: str = ""
) -> None:
    """Create or update the child of each register row; count changed rows as new, the rest as duplicates.

    A row whose person id is new makes a child keyed by that id, never by adopting a provisional record: the
    name key it takes is then settled (``matching.settle_keys``), which merges the provisional child first met
    in a police notification under the same exact name and birth date. So the register arriving before or after
    the notifications ends in the same children, refs included. ``authority`` is ours (the policy's): the
    episodes of a child whose responsible authority changed, or that moved to a child, derive theirs again.
    """
    records: dict[str, ChildRecord] = {v.record.child_id: v.record for v in valid}  # type: ignore[union-attr,misc]
    keys = {person_id: match_key(r.first_name, r.last_name, r.date_of_birth) for person_id, r in records.items()}
    old_keys = [key for batch in key_batches(records)
                for key in session.scalars(select(Child.match_key).where(Child.person_id.in_(batch)))]  # fmt: skip
    lock_identities(session, records, [*keys.values(), *old_keys])
    children: dict[str, Child] = {}
    for batch in key_batches(records):
        children.update((c.person_id, c) for c in session.scalars(select(Child).where(Child.person_id.in_(batch))))
    taken: dict[str, dict[str, Any]] = {}
    authority_changed: list[int] = []
    with_period: set[int] = set()
    for batch in key_batches(c.id for c in children.values()):
        query = select(LegalStatusPeriod.child_id).where(LegalStatusPeriod.child_id.in_(batch))
        with_period.update(session.scalars(query))
    for person_id, record in sorted(records.items()):
        values = child_values(record)
        key = keys[person_id]
        names = {name: values[name] for name in ("first_name", "last_name", "date_of_birth")}
        child = children.get(person_id)
        if child is None:
            child = Child(ref=child_ref(pseudonym_key, person_id, None), person_id=person_id, match_key=key,
                          needs_review=True, **values)  # fmt: skip
            session.add(child)
            session.add(LegalStatusPeriod(child=child, legal_status=record.legal_status,
                                          effective_from=record.legal_status_from))
            if key:
                taken[key] = names
            summary.new += 1
            audit(session, "ingest", "child_created", "child", child.ref, source=source)
            continue
        if key != child.match_key:
            if child.match_key:
                # Episodes matched by the old name alone: to a provisional child of those names, if nobody else.
                taken[child.match_key] = {"first_name": child.first_name, "last_name": child.last_name,
                                          "date_of_birth": child.date_of_birth}  # fmt: skip
            if key:
                taken[key] = names
            child.match_key = key
        changed = {name: value for name, value in values.items() if getattr(child, name) != value}
        if child.id not in with_period:
            # First met in a feed (no register row yet): its first period, as if the register had come first.
            session.add(LegalStatusPeriod(child=child, legal_status=record.legal_status,
                                          effective_from=record.legal_status_from))
            with_period.add(child.id)
        elif "legal_status" in changed:
            # A new period, not an overwrite: the returns judge each episode by the status on its start date.
            session.add(LegalStatusPeriod(child=child, legal_status=record.legal_status,
                                          effective_from=record.legal_status_from or london_date(now())))
        if not changed:
            summary.duplicate += 1
            continue
        for name, value in changed.items():
            setattr(child, name, value)
        if "responsible_authority" in changed:
            authority_changed.append(child.id)
        if any(name in RULE_FIELDS for name in changed):
            child.needs_review = True
        summary.new += 1
        audit(session, "ingest", "child_updated", "child", child.ref, fields=sorted(changed))
    session.flush()
    settled = settle_keys(session, pseudonym_key, taken)
    moved = set(settled.moved)
    for batch in key_batches(authority_changed):
        moved.update(session.scalars(select(Episode.id).where(Episode.child_id.in_(batch))))
    rederive_authority(session, moved, normalise_authority(authority))
    flag_for_review(session, settled.review)
