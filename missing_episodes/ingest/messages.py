"""Every message kept verbatim, keyed by (source, message id): a replay stores nothing twice.

A message id received again with the same content is a duplicate; with different content it is a conflict: the
first message is kept and the second goes to quarantine, naming the id field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from missing_episodes.clock import now
from missing_episodes.db.models import Notification, Quarantine
from missing_episodes.ingest.chunks import Valid, quarantine_row
from missing_episodes.store import insert_ignoring_duplicates, insert_with_ids, one_of

_CONFLICT = "this id was already received with different content; the first message is kept"


@dataclass
class StoredMessages:
    """What became of a chunk's valid messages: the new ones (row id, record), and counts."""

    new: list[tuple[int, Any]]
    conflicts: int
    duplicates: int


def store_messages(session: Session, valid: list[Valid], *, feed: str, source: str) -> StoredMessages:
    """Insert the chunk's messages not already stored; quarantine ids reused with different content.

    The message kept for an id is the one stored before, or else the chunk's first; every other row with that id
    is a duplicate when its content is the same and a conflict (quarantined) when it differs, so a reused id is
    treated the same whether its two rows share a chunk or not. An id another ingest stored between this
    chunk's lookup and its insert is read back and judged the same way.
    """
    first_seen: dict[str, Valid] = {}
    for item in valid:
        first_seen.setdefault(item.record.message_id, item)
    existing = _stored_hashes(session, source, list(first_seen))
    received = now()  # one instant for the chunk: its transaction stores it whole
    rows = [
        _notification_row(item, message_id, feed, source, received)
        for message_id, item in first_seen.items()
        if message_id not in existing
    ]
    stored = insert_with_ids(session, Notification, rows, "message_id", ignore_duplicates=True)
    raced = [row["message_id"] for row in rows if row["message_id"] not in stored]
    existing.update(_stored_hashes(session, source, raced))
    kept = {message_id: existing.get(message_id, item.digest) for message_id, item in first_seen.items()}
    id_field = "notification_id" if feed == "notifications" else "event_id"
    conflicts = [
        quarantine_row(source, feed, item.raw.origin, item.raw.row_number, id_field, _CONFLICT, item.payload)
        for item in valid
        if kept[item.record.message_id] != item.digest
    ]
    insert_ignoring_duplicates(session, Quarantine, conflicts)
    new = [(stored[v.record.message_id], v.record) for v in first_seen.values() if v.record.message_id in stored]
    return StoredMessages(new, len(conflicts), len(valid) - len(stored) - len(conflicts))


def _stored_hashes(session: Session, source: str, message_ids: list[str]) -> dict[str, str]:
    """The content hash of each of these message ids already stored for this source."""
    if not message_ids:
        return {}
    return dict(
        session.execute(
            select(Notification.message_id, Notification.content_hash).where(
                Notification.source == source, one_of(session, Notification.message_id, message_ids)
            )
        ).all()
    )


def _notification_row(item: Valid, message_id: str, feed: str, source: str, received: datetime) -> dict[str, Any]:
    record = item.record
    return {
        "source": source,
        "feed": feed,
        "message_id": message_id,
        "received_at": received,
        "origin": f"{item.raw.origin} row {item.raw.row_number}",
        "payload": item.payload,
        "content_hash": item.digest,
        "outcome": "applied",
        "incident_ref": record.incident_ref,
        "sent_at": record.message_time,
    }
