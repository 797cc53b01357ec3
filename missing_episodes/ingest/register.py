"""The child register: a snapshot of the authority's children, not a message stream.

A register row is "new" when it changes the child it describes. A change to a field that decides which rules
apply (legal status, UASC, date of birth, responsible authority, placement distance) marks the child's actions
for recomputation. A child first met in a police notification (no person id) is merged into the register's child
with the same exact name and birth date (``matching.settle_keys``; the rules are in ``ingest.matching``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, select, update
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
from missing_episodes.store import audit_entry, audit_many, insert_many, insert_with_ids, one_of

# Register fields that change which rules apply: a change there means the child's actions are recomputed.
RULE_FIELDS = ("legal_status", "uasc", "date_of_birth", "responsible_authority", "placement_distance_miles",
               "immigration_solicitor")


#: The child columns a register row sets.
CHILD_FIELDS = ("first_name", "last_name", "date_of_birth", "legal_status", "uasc", "responsible_authority",
                "host_authority", "allocated_worker", "team", "placement", "placement_distance_miles", "photo_ref",
                "contacts", "likely_locations", "phone", "return_address", "immigration_solicitor")


def child_values(record: ChildRecord) -> dict[str, Any]:
    """The child columns a register row sets."""
    return {name: getattr(record, name) for name in CHILD_FIELDS}


def store_register(
    session: Session, valid: list[Valid], source: str, pseudonym_key: str, summary: IngestSummary, authority: str = ""
) -> None:
    """Create or update the child of each register row; count changed rows as new, the rest as duplicates.

    A row whose person id is new makes a child keyed by that id, never by adopting a provisional record: the
    name key it takes is then settled (``matching.settle_keys``), which merges the provisional child first met
    in a police notification under the same exact name and birth date. So the register arriving before or after
    the notifications ends in the same children, refs included. ``authority`` is ours (the policy's): the
    episodes of a child whose responsible authority changed, or that moved to a child, derive theirs again.

    Set-based, as the notifications' fold is: the chunk's children are read in one pass and written with one
    executemany per kind of write (new children, each set of changed fields, legal-status periods, audit
    entries), in person-id order, so the ids and the audit trail are those of one child at a time.
    """
    records: dict[str, ChildRecord] = {v.record.child_id: v.record for v in valid}  # type: ignore[union-attr,misc]
    keys = {person_id: match_key(r.first_name, r.last_name, r.date_of_birth) for person_id, r in records.items()}
    table = Child.__table__
    old_keys = [key for batch in key_batches(records)
                for key in session.scalars(
                    select(table.c.match_key).where(one_of(session, table.c.person_id, batch)))]  # fmt: skip
    lock_identities(session, records, [*keys.values(), *old_keys])
    columns = [table.c[name] for name in ("id", "ref", "person_id", "match_key", *CHILD_FIELDS)]
    stored = {
        row.person_id: row
        for batch in key_batches(records)
        for row in session.execute(select(*columns).where(one_of(session, table.c.person_id, batch)))
    }
    with_period = {
        child_id
        for batch in key_batches(row.id for row in stored.values())
        for child_id in session.scalars(
            select(LegalStatusPeriod.child_id).where(one_of(session, LegalStatusPeriod.child_id, batch)))
    }
    writes = _RegisterWrites()
    for person_id, record in sorted(records.items()):
        values = child_values(record)
        key = keys[person_id]
        names = {name: values[name] for name in ("first_name", "last_name", "date_of_birth")}
        child = stored.get(person_id)
        if child is None:
            ref = child_ref(pseudonym_key, person_id, None)
            writes.created.append({"ref": ref, "person_id": person_id, "match_key": key, "needs_review": True,
                                   **values})  # fmt: skip
            writes.periods.append({"child_id": ref, "legal_status": record.legal_status,
                                   "effective_from": record.legal_status_from})  # fmt: skip
            if key:
                writes.taken[key] = names
            summary.new += 1
            writes.audits.append(audit_entry("ingest", "child_created", "child", ref, source=source))
            continue
        set_values: dict[str, Any] = {}
        if key != child.match_key:
            if child.match_key:
                # Episodes matched by the old name alone: to a provisional child of those names, if nobody else.
                writes.taken[child.match_key] = {"first_name": child.first_name, "last_name": child.last_name,
                                                 "date_of_birth": child.date_of_birth}  # fmt: skip
            if key:
                writes.taken[key] = names
            set_values["match_key"] = key
        changed = {name: value for name, value in values.items() if getattr(child, name) != value}
        if child.id not in with_period:
            # First met in a feed (no register row yet): its first period, as if the register had come first.
            writes.periods.append({"child_id": child.id, "legal_status": record.legal_status,
                                   "effective_from": record.legal_status_from})  # fmt: skip
        elif "legal_status" in changed:
            # A new period, not an overwrite: the returns judge each episode by the status on its start date.
            writes.periods.append({"child_id": child.id, "legal_status": record.legal_status,
                                   "effective_from": record.legal_status_from or london_date(now())})  # fmt: skip
        set_values.update(changed)
        if set_values:
            writes.updated.setdefault(tuple(set_values), []).append({"child_key": child.id, **set_values})
        if not changed:
            summary.duplicate += 1
            continue
        if "responsible_authority" in changed:
            writes.authority_changed.append(child.id)
        if any(name in RULE_FIELDS for name in changed):
            writes.review.append(child.id)
        summary.new += 1
        writes.audits.append(audit_entry("ingest", "child_updated", "child", child.ref, fields=sorted(changed)))
    writes.store(session)
    settled = settle_keys(session, pseudonym_key, writes.taken)
    moved = set(settled.moved)
    for batch in key_batches(writes.authority_changed):
        moved.update(session.scalars(select(Episode.id).where(one_of(session, Episode.child_id, batch))))
    rederive_authority(session, moved, normalise_authority(authority))
    flag_for_review(session, settled.review)


@dataclass
class _RegisterWrites:
    """A register chunk's writes, gathered in person-id order and stored together (``store``)."""

    created: list[dict[str, Any]] = field(default_factory=list)
    #: Legal-status periods; a new child's names its ref as ``child_id`` until the child is inserted.
    periods: list[dict[str, Any]] = field(default_factory=list)
    #: Updates grouped by the columns they set: one executemany for each set of columns.
    updated: dict[tuple[str, ...], list[dict[str, Any]]] = field(default_factory=dict)
    review: list[int] = field(default_factory=list)
    authority_changed: list[int] = field(default_factory=list)
    taken: dict[str, dict[str, Any]] = field(default_factory=dict)
    audits: list[dict[str, Any]] = field(default_factory=list)

    def store(self, session: Session) -> None:
        table = Child.__table__
        for names, rows in self.updated.items():
            statement = update(table).where(table.c.id == bindparam("child_key"))
            session.execute(statement.values({name: bindparam(name) for name in names}), rows)
        flag_for_review(session, self.review)
        ids = insert_with_ids(session, Child, self.created, "ref")
        for period in self.periods:
            if isinstance(period["child_id"], str):
                period["child_id"] = ids[period["child_id"]]
        insert_many(session, LegalStatusPeriod, self.periods)
        audit_many(session, self.audits)
