"""Recording feeds: every message kept verbatim, bad rows quarantined, episodes and children kept true.

The unit of work is a chunk of rows in one transaction: a chunk is stored whole or not at all, so a run killed
mid-file leaves no half-written record, and running it again skips what was stored (messages are keyed by
source and message id) and finishes the rest. Rules do not run here: changed children are flagged
``needs_review`` and the flows run the rules for them, so nothing is lost between the two steps either.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.orm import Session

from missing_episodes.clock import now
from missing_episodes.config import Settings
from missing_episodes.db.models import (
    Child,
    ContactLog,
    Episode,
    Notification,
    Outcome,
    Quarantine,
    RiskAssessment,
)
from missing_episodes.episodes import EpisodeState, Message, fold
from missing_episodes.feeds import (
    OUTCOME_EVENTS,
    CaseOutcome,
    ChildRecord,
    PoliceNotification,
    RowError,
    validate_row,
)
from missing_episodes.identity import canonical_json, child_ref, content_hash, episode_ref, match_key
from missing_episodes.policy import Policy
from missing_episodes.sources import BrokenFile, RawRow
from missing_episodes.store import (
    audit,
    audit_entry,
    audit_many,
    insert_ignoring_duplicates,
    insert_with_ids,
    lock_keys,
)

_Key = TypeVar("_Key", str, int)

# Register fields that change which rules apply: a change there means the child's actions are recomputed.
_RULE_FIELDS = ("legal_status", "uasc", "date_of_birth", "responsible_authority", "placement_distance_miles")


@dataclass
class IngestSummary:
    source: str
    feed: str
    read: int = 0
    new: int = 0
    duplicate: int = 0
    quarantined: int = 0
    changed_episodes: int = 0

    def line(self) -> str:
        return (
            f"{self.feed} from {self.source}: read {self.read}, new {self.new}, duplicate {self.duplicate}, "
            f"quarantined {self.quarantined}, episodes changed {self.changed_episodes}"
        )

    def add(self, other: IngestSummary) -> None:
        for name in ("read", "new", "duplicate", "quarantined", "changed_episodes"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class _Valid:
    raw: RawRow
    record: PoliceNotification | CaseOutcome | ChildRecord
    payload: str
    digest: str


@dataclass
class _Chunk:
    valid: list[_Valid] = field(default_factory=list)
    quarantine: list[dict[str, Any]] = field(default_factory=list)


def known_outcome_events(policy: Policy) -> frozenset[str]:
    """The standard events plus every event the policy's rules close actions with."""
    named = {e for r in policy.rules for e in (*r.done_by, *r.declined_by, *r.not_required_by)}
    return OUTCOME_EVENTS | named


def ingest_rows(
    session_factory,
    *,
    feed: str,
    source: str,
    rows: Iterable[RawRow | BrokenFile],
    settings: Settings,
    policy: Policy,
) -> IngestSummary:
    """Store a stream of rows, chunk by chunk (``settings.ingest_chunk_size`` rows), each in its own transaction."""
    summary = IngestSummary(source=source, feed=feed)
    events = known_outcome_events(policy)
    statistics = _PlannerStatistics(session_factory)
    for batch in _chunks(rows, settings.ingest_chunk_size):
        chunk = _classify(batch, feed, source, events)
        with session_factory() as session:
            part = _store_chunk(session, chunk, feed=feed, source=source, settings=settings, policy=policy)
        summary.add(part)
        statistics.grown(part.new + part.changed_episodes)
    return summary


class _PlannerStatistics:
    """Keeps PostgreSQL's table statistics in step with a big load (SQLite plans from its indexes alone).

    Every chunk looks up thousands of keys (message ids, incidents, children). Planned from the statistics of a
    table that was nearly empty when last analysed, PostgreSQL scanned every row stored since for each chunk,
    which made a million-row first load quadratic; autovacuum analyses too late, or not at all where it is off.
    So the ingest analyses the tables it writes each time they have doubled since: a handful of times a load.
    """

    TABLES = "notification, episode, child, risk_assessment, outcome, audit_event"

    def __init__(self, session_factory) -> None:
        self.session_factory = session_factory
        with session_factory() as session:
            self.postgresql = session.get_bind().dialect.name == "postgresql"
            rows = session.scalar(text("SELECT reltuples FROM pg_class WHERE relname = 'notification'")) \
                if self.postgresql else 0
        self.threshold, self.since = max(float(rows or 0), 1000.0), 0

    def grown(self, rows: int) -> None:
        self.since += rows
        if self.postgresql and self.since >= self.threshold:
            with self.session_factory() as session:
                session.execute(text(f"ANALYZE {self.TABLES}"))
            self.threshold, self.since = self.threshold + self.since, 0


def _chunks(rows: Iterable[RawRow | BrokenFile], size: int) -> Iterator[list[RawRow | BrokenFile]]:
    batch: list[RawRow | BrokenFile] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _quarantine_row(
    source: str, feed: str, origin: str, number: int | None, field_: str | None, reason: str, raw: str
) -> dict[str, Any]:
    return {
        "source": source,
        "feed": feed,
        "origin": origin,
        "row_number": number,
        "field": field_,
        "reason": reason,
        "raw": raw,
        "raw_hash": content_hash(f"{origin}|{number}|{raw}"),
        "received_at": now(),
    }


def _classify(batch: list[RawRow | BrokenFile], feed: str, source: str, events: frozenset[str]) -> _Chunk:
    chunk = _Chunk()
    for item in batch:
        if isinstance(item, BrokenFile):
            chunk.quarantine.append(_quarantine_row(source, feed, item.origin, None, None, item.reason, item.raw))
            continue
        payload = canonical_json(item.data)
        if item.problem:
            chunk.quarantine.append(
                _quarantine_row(source, feed, item.origin, item.row_number, None, item.problem, payload)
            )
            continue
        result = validate_row(feed, item.data, events)
        if isinstance(result, RowError):
            chunk.quarantine.append(
                _quarantine_row(source, feed, item.origin, item.row_number, result.field, result.reason, payload)
            )
            continue
        chunk.valid.append(_Valid(item, result, payload, content_hash(payload)))
    return chunk


def _store_chunk(
    session: Session, chunk: _Chunk, *, feed: str, source: str, settings: Settings, policy: Policy
) -> IngestSummary:
    summary = IngestSummary(source=source, feed=feed, read=len(chunk.valid) + len(chunk.quarantine))
    inserted = insert_with_ids(session, Quarantine, chunk.quarantine, "raw_hash", ignore_duplicates=True)
    summary.quarantined += len(chunk.quarantine)

    # The register is a snapshot, not a message stream: a row is "new" when it changes the child.
    if feed == "children":
        _store_register(session, chunk.valid, source, settings, summary)
        return summary

    # Keep every message verbatim, keyed by (source, message id); a replay inserts nothing.
    first_seen: dict[str, _Valid] = {}
    for valid in chunk.valid:
        first_seen.setdefault(valid.record.message_id, valid)
    existing = dict(
        session.execute(
            select(Notification.message_id, Notification.content_hash).where(
                Notification.source == source, Notification.message_id.in_(list(first_seen))
            )
        ).all()
    )
    rows = []
    for message_id, valid in first_seen.items():
        if message_id in existing:
            continue
        record = valid.record
        rows.append(
            {
                "source": source,
                "feed": feed,
                "message_id": message_id,
                "received_at": now(),
                "origin": f"{valid.raw.origin} row {valid.raw.row_number}",
                "payload": valid.payload,
                "content_hash": valid.digest,
                "outcome": "applied",
                "incident_ref": getattr(record, "incident_ref", None),
                "sent_at": getattr(record, "sent_at", None) or getattr(record, "recorded_at", None),
            }
        )
    stored = insert_with_ids(session, Notification, rows, "message_id", ignore_duplicates=True)
    conflicts = []
    for valid in chunk.valid:
        message_id = valid.record.message_id
        known_hash = existing.get(message_id)
        if known_hash is not None and known_hash != valid.digest:
            conflicts.append(
                _quarantine_row(
                    source,
                    feed,
                    valid.raw.origin,
                    valid.raw.row_number,
                    "notification_id" if feed == "notifications" else "event_id",
                    "this id was already received with different content; the first message is kept",
                    valid.payload,
                )
            )
    insert_ignoring_duplicates(session, Quarantine, conflicts)
    summary.quarantined += len(conflicts)
    summary.new = len(stored)
    summary.duplicate = len(chunk.valid) - len(stored) - len(conflicts)

    new_records = [
        (stored[v.record.message_id], v.record) for v in first_seen.values() if v.record.message_id in stored
    ]
    if feed == "notifications":
        incidents = {record.incident_ref for _, record in new_records}  # type: ignore[union-attr]
        parsed = {row_id: record for row_id, record in new_records}
        summary.changed_episodes = refold_incidents(session, source, incidents, settings, policy, parsed=parsed)
        _police_updates_to_log(session, source, new_records)
    else:
        _store_outcomes(session, source, new_records, settings)
    if inserted or conflicts or stored:
        audit(
            session,
            "ingest",
            "chunk_stored",
            "feed",
            source,
            feed=feed,
            new=summary.new,
            duplicate=summary.duplicate,
            quarantined=summary.quarantined,
        )
    return summary


# --- children -------------------------------------------------------------------------------------------------


def _child_values(record: ChildRecord) -> dict[str, Any]:
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
    }


def _store_register(
    session: Session, valid: list[_Valid], source: str, settings: Settings, summary: IngestSummary
) -> None:
    records = {v.record.child_id: v.record for v in valid}  # type: ignore[union-attr]
    lock_keys(session, "child", records)
    children = {c.person_id: c for c in session.scalars(select(Child).where(Child.person_id.in_(list(records))))}
    # Children first met in a notification (no person id), by match key: one query for the chunk, not one a row.
    keys = {
        match_key(r.first_name, r.last_name, r.date_of_birth)  # type: ignore[union-attr]
        for person_id, r in records.items()
        if person_id not in children
    }
    keys.discard(None)
    unregistered_by_key: dict[str, list[Child]] = defaultdict(list)
    if keys:
        for found in session.scalars(
            select(Child).where(Child.match_key.in_(list(keys)), Child.person_id.is_(None)).order_by(Child.id)
        ):
            unregistered_by_key[found.match_key].append(found)  # type: ignore[index]
    for person_id, record in records.items():
        assert isinstance(record, ChildRecord)
        values = _child_values(record)
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
                ref=child_ref(settings.pseudonym_key, person_id, None),
                person_id=person_id,
                match_key=key,
                needs_review=True,
                **values,
            )
            session.add(child)
            summary.new += 1
            audit(session, "ingest", "child_created", "child", child.ref, source=source)
            continue
        changed = {name: value for name, value in values.items() if getattr(child, name) != value}
        if key != child.match_key:
            child.match_key = key
        if not changed:
            summary.duplicate += 1
            continue
        for name, value in changed.items():
            setattr(child, name, value)
        if any(name in _RULE_FIELDS for name in changed):
            child.needs_review = True
        summary.new += 1
        audit(session, "ingest", "child_updated", "child", child.ref, fields=sorted(changed))
    session.flush()


def _child_for_person(session: Session, person_id: str, settings: Settings, known: dict[str, Child]) -> Child:
    """The child with this person id, made if new (an outcome names a child by the authority's id only).

    ``known`` is the chunk's prefetch of every person id it names (``_children_by_person``): a miss there means
    the child is new, so there is no query per row. A new child is added, not flushed: the chunk's one flush
    inserts them all.
    """
    child = known.get(person_id)
    if child is None:
        # The authority's own id: a real child the register has not sent yet. Not a guess, so no MASH flag.
        child = Child(
            ref=child_ref(settings.pseudonym_key, person_id, None), person_id=person_id, needs_mash_screening=False
        )
        session.add(child)
        audit(session, "ingest", "child_created", "child", child.ref, reason="person id first seen in a feed")
        known[person_id] = child
    return child


def _batches(values: Iterable[_Key | None], size: int = 1000) -> Iterator[list[_Key]]:
    """The distinct non-empty values, sorted, in slices small enough for one ``IN (...)`` each."""
    wanted = sorted({v for v in values if v})
    for start in range(0, len(wanted), size):
        yield wanted[start : start + size]


def _children_by_person(session: Session, person_ids: Iterable[str | None]) -> dict[str, Child]:
    """Prefetch the children of many person ids in one query per 1000 (instead of one query a row)."""
    known: dict[str, Child] = {}
    for batch in _batches(person_ids):
        for child in session.scalars(select(Child).where(Child.person_id.in_(batch))):
            known[child.person_id] = child  # type: ignore[index]
    return known


@dataclass
class _ChildRow:
    """A child as an episode needs it; ``id`` is None until the chunk's one insert of new children."""

    ref: str
    id: int | None
    responsible_authority: str | None = None


class _ChunkChildren:
    """The children of a chunk's changed episodes, matched and created without ORM objects.

    The matching is ``resolve`` below; lookups are two prefetch queries per 1000 keys and the new children are
    one executemany, because building and flushing an ORM object per child was most of a chunk's time.
    """

    def __init__(self, session: Session, settings: Settings, states: Iterable[EpisodeState]) -> None:
        states = list(states)
        self.session, self.key = session, settings.pseudonym_key
        self.by_person: dict[str, _ChildRow] = {}
        self.by_key: dict[str, list[_ChildRow]] = {}
        self.new: list[tuple[_ChildRow, dict[str, Any]]] = []
        self.audits: list[dict[str, Any]] = []
        for row in self._stored(Child.person_id, (s.person_id for s in states)):
            self.by_person[row.person_id] = _ChildRow(row.ref, row.id, row.responsible_authority)
        keys = {_state_key(s) for s in states if not s.person_id} - {None}
        self.by_key = {key: [] for key in keys}  # type: ignore[misc]
        for row in self._stored(Child.match_key, keys):
            self.by_key[row.match_key].append(_ChildRow(row.ref, row.id, row.responsible_authority))

    def _stored(self, column, values: Iterable[str | None]) -> Iterator[Any]:
        columns = (Child.id, Child.ref, Child.person_id, Child.match_key, Child.responsible_authority)
        for batch in _batches(values):
            yield from self.session.execute(select(*columns).where(column.in_(batch)))

    def resolve(self, state: EpisodeState) -> _ChildRow | None:
        """child_id when given; otherwise exact normalised name and date of birth; otherwise a new record for MASH.

        Never a guess: when two registered children share the exact name and date of birth, the episode is left
        without a child, for a person to decide.
        """
        names = {"first_name": state.first_name, "last_name": state.last_name, "date_of_birth": state.date_of_birth}
        if state.person_id:
            child = self.by_person.get(state.person_id)
            if child is None:
                # The authority's own id: a real child the register has not sent yet. Not a guess, so no MASH flag.
                child = self._add(state.person_id, _state_key(state), False, names, "person id first seen in a feed")
                self.by_person[state.person_id] = child
            return child
        key = _state_key(state)
        if key is None:
            return None
        matches = self.by_key[key][:2]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            return None
        child = self._add(None, key, True, names, "not on the register: MASH to screen")
        self.by_key[key] = [child]
        return child

    def _add(self, person_id: str | None, key: str | None, mash: bool, names: dict[str, Any], why: str) -> _ChildRow:
        child = _ChildRow(child_ref(self.key, person_id, None if person_id else key), None)
        values = {"ref": child.ref, "person_id": person_id, "match_key": key, "needs_mash_screening": mash}
        self.new.append((child, {**values, **names, "needs_review": True}))
        self.audits.append(audit_entry("ingest", "child_created", "child", child.ref, reason=why))
        return child

    def store(self) -> None:
        """Insert the new children in one statement and give each its id."""
        if not self.new:
            return
        ids = insert_with_ids(self.session, Child, [values for _, values in self.new], "ref")
        for child, _values in self.new:
            child.id = ids[child.ref]


def _state_key(state: EpisodeState) -> str | None:
    return match_key(state.first_name, state.last_name, state.date_of_birth)


# --- episodes -------------------------------------------------------------------------------------------------


def refold_incidents(
    session: Session,
    source: str,
    incidents: set[str],
    settings: Settings,
    policy: Policy,
    parsed: dict[int, PoliceNotification] | None = None,
) -> int:
    """Recompute the episodes of these incidents from all their stored messages. Returns how many changed.

    Set-based for speed (a chunk is thousands of incidents): messages validated in this chunk (``parsed``, by
    row id) are not read or parsed again, children are fetched in one query, and episodes, children, risk
    history and audit entries are written with one Core executemany each. The result is the same as one
    incident at a time.
    """
    if not incidents:
        return 0
    lock_keys(session, f"incident:{source}", incidents)
    messages = _incident_messages(session, source, incidents, parsed or {})
    stored = {
        row.incident_ref: row
        for row in session.execute(
            select(Episode.id, Episode.ref, Episode.incident_ref, Episode.state_hash, Episode.child_id).where(
                Episode.source == source, Episode.incident_ref.in_(list(incidents))
            )
        )
    }
    changed: dict[str, tuple[EpisodeState, str]] = {}
    for incident in sorted(incidents):
        state = fold(messages[incident])
        fingerprint = state.fingerprint()
        previous = stored.get(incident)
        if previous is None or previous.state_hash != fingerprint:
            changed[incident] = (state, fingerprint)
    if not changed:
        return 0
    children = _ChunkChildren(session, settings, (state for state, _ in changed.values()))
    resolved = {incident: children.resolve(state) for incident, (state, _) in changed.items()}
    children.store()
    ours = _normalise_authority(policy.authority)
    audits, created, updates, review = children.audits, [], [], set()
    for incident, (state, fingerprint) in changed.items():
        child = resolved[incident]
        values = _episode_values(state, fingerprint, child, ours)
        previous = stored.get(incident)
        if previous is None:
            ref = episode_ref(settings.pseudonym_key, source, incident)
            created.append({"ref": ref, "source": source, "incident_ref": incident, **values})
            audits.append(audit_entry("ingest", "episode_created", "episode", ref, status=state.status))
        else:
            updates.append({"episode_key": previous.id, **values})
            if previous.child_id is not None and previous.child_id != values["child_id"]:
                review.add(previous.child_id)
            audits.append(
                audit_entry(
                    "ingest",
                    "episode_changed",
                    "episode",
                    previous.ref,
                    status=state.status,
                    messages=state.message_count,
                )
            )
        if child is not None:
            review.add(child.id)
    episode_ids = {incident: row.id for incident, row in stored.items()}
    episode_ids.update(_write_episodes(session, created, updates))
    _flag_for_review(session, review)
    _store_risk_history(session, [(episode_ids[incident], state) for incident, (state, _) in changed.items()])
    audit_many(session, audits)
    return len(changed)


def _incident_messages(
    session: Session, source: str, incidents: set[str], parsed: dict[int, PoliceNotification]
) -> dict[str, list[Message]]:
    """Every applied message of these incidents; only those not validated in this chunk are read and parsed."""
    located = session.execute(
        select(Notification.id, Notification.incident_ref).where(
            Notification.source == source,
            Notification.feed == "notifications",
            Notification.outcome == "applied",
            Notification.incident_ref.in_(list(incidents)),
        )
    ).all()
    records = dict(parsed)
    for batch in _batches(row_id for row_id, _ in located if row_id not in parsed):
        for row_id, payload in session.execute(
            select(Notification.id, Notification.payload).where(Notification.id.in_(batch))
        ):
            records[row_id] = PoliceNotification.model_validate_json(payload)
    messages: dict[str, list[Message]] = {ref: [] for ref in incidents}
    for row_id, incident in located:
        messages[incident].append(Message(row_id, records[row_id]))
    return messages


def _episode_values(state: EpisodeState, fingerprint: str, child: _ChildRow | None, ours: str) -> dict[str, Any]:
    """The episode row's derived columns (every row of one executemany needs the same keys)."""
    authority = state.responsible_authority or (child.responsible_authority if child else None)
    return {
        "child_id": child.id if child else None,
        "kind": state.kind,
        "status": state.status,
        "started_at": state.started_at,
        "last_seen_at": state.last_seen_at,
        "last_seen_location": state.last_seen_location,
        "reported_at": state.reported_at,
        "found_at": state.found_at,
        "found_location": state.found_location,
        "return_notified_at": state.return_notified_at,
        "risk_level": state.risk_level,
        "clothing": state.clothing,
        "areas_searched": state.areas_searched,
        "responsible_authority": authority,
        "other_authority": bool(authority) and _normalise_authority(authority) != ours,
        "message_count": state.message_count,
        "state_hash": fingerprint,
    }


def _write_episodes(session: Session, created: list[dict[str, Any]], updates: list[dict[str, Any]]) -> dict[str, int]:
    """Insert the new episodes and update the changed ones, one executemany each; the new ids by incident."""
    table = Episode.__table__
    if updates:
        names = [name for name in updates[0] if name != "episode_key"]
        statement = update(table).where(table.c.id == bindparam("episode_key"))
        session.execute(statement.values({name: bindparam(name) for name in names}), updates)
    return insert_with_ids(session, Episode, created, "incident_ref")


def _flag_for_review(session: Session, child_ids: set[int | None]) -> None:
    """Mark these children's rules as to be run again (only those not already marked are written)."""
    table = Child.__table__
    for batch in _batches(child_ids):
        session.execute(
            update(table).where(table.c.id.in_(batch), table.c.needs_review.is_(False)).values(needs_review=True)
        )


def _normalise_authority(name: str) -> str:
    return " ".join(name.casefold().replace("council", "").replace("borough", "").split())


def _store_risk_history(session: Session, pending: list[tuple[int, EpisodeState]]) -> None:
    """The risk gradings of these (stored) episodes, in one keyed insert."""
    insert_ignoring_duplicates(
        session,
        RiskAssessment,
        [
            {"episode_id": episode_id, "notification_id": message_id, "risk_level": level, "assessed_at": at}
            for episode_id, state in pending
            for at, level, message_id, _nid in state.risk_history
        ],
    )


def _police_updates_to_log(session: Session, source: str, records: list[tuple[int, Any]]) -> None:
    """Police updates with notes join the incident record (who updated us, when, what was shared)."""
    rows = []
    noted = [record for _row_id, record in records if record.event == "update" and record.notes]
    episode_ids: dict[str, int] = {}
    if noted:
        episode_ids = dict(
            session.execute(
                select(Episode.incident_ref, Episode.id).where(
                    Episode.source == source, Episode.incident_ref.in_(sorted({r.incident_ref for r in noted}))
                )
            ).all()
        )
    for record in noted:
        episode_id = episode_ids.get(record.incident_ref)
        rows.append(
            {
                "key": f"{source}:{record.notification_id}",
                "episode_id": episode_id,
                "child_id": None,
                "at": record.sent_at,
                "direction": "police_update",
                "who": "Police",
                "shared": record.notes,
                "recorded_by": source,
            }
        )
    insert_ignoring_duplicates(session, ContactLog, rows)


# --- outcomes -------------------------------------------------------------------------------------------------


def _store_outcomes(session: Session, source: str, records: list[tuple[int, Any]], settings: Settings) -> None:
    outcome_rows, log_rows = [], []
    known = _children_by_person(session, (record.child_id for _row_id, record in records))
    logged = sorted(
        {r.incident_ref for _, r in records if r.event in ("contact_made", "update_given") and r.incident_ref}
    )
    episode_by_incident: dict[str, int] = {}
    if logged:
        # Any source's episode with that incident reference, as before: the lowest id when several share it.
        for incident, episode_id in session.execute(
            select(Episode.incident_ref, Episode.id).where(Episode.incident_ref.in_(logged)).order_by(Episode.id)
        ):
            episode_by_incident.setdefault(incident, episode_id)
    children = {}
    for _row_id, record in records:
        assert isinstance(record, CaseOutcome)
        children[record.child_id] = child = _child_for_person(session, record.child_id, settings, known)
        child.needs_review = True
    session.flush()  # new children get their ids, once for the chunk
    for _row_id, record in records:
        child = children[record.child_id]
        outcome_rows.append(
            {
                "source": source,
                "event_id": record.event_id,
                "recorded_at": record.recorded_at,
                "child_id": child.id,
                "incident_ref": record.incident_ref,
                "event": record.event,
                "by": record.by,
                "rationale": record.rationale,
                "notes": record.notes,
                "risk_level": record.risk_level,
            }
        )
        if record.event in ("contact_made", "update_given"):
            episode_id = None
            if record.incident_ref:
                episode_id = episode_by_incident.get(record.incident_ref)
            log_rows.append(
                {
                    "key": f"{source}:{record.event_id}",
                    "episode_id": episode_id,
                    "child_id": child.id,
                    "at": record.recorded_at,
                    "direction": "contacted" if record.event == "contact_made" else "updated",
                    "who": record.extra.get("who") or record.by,
                    "shared": record.notes,
                    "recorded_by": record.by,
                }
            )
    insert_ignoring_duplicates(session, Outcome, outcome_rows)
    insert_ignoring_duplicates(session, ContactLog, log_rows)
    session.flush()
