"""A chunk of raw rows sorted into what can be stored and what goes to quarantine, and why.

Validation is against the feed contract (``missing_episodes.feeds``); nothing here touches the database, so a
chunk is classified before its transaction opens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from missing_episodes.clock import now
from missing_episodes.db.models import Quarantine
from missing_episodes.feeds import (
    FILE,
    CaseOutcome,
    ChildRecord,
    PoliceNotification,
    RowError,
    column_length,
    printable,
    unstorable,
    validate_row,
)
from missing_episodes.identity import canonical_json, content_hash
from missing_episodes.sources import BrokenFile, RawRow


@dataclass
class Valid:
    """A row that passed its contract: the raw row, the parsed record, its canonical text and that text's hash."""

    raw: RawRow
    record: PoliceNotification | CaseOutcome | ChildRecord
    payload: str
    digest: str


@dataclass
class Chunk:
    """A batch sorted: rows to store, ``quarantine`` records (rows and refused files), and the refused files."""

    valid: list[Valid] = field(default_factory=list)
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    refused: list[BrokenFile] = field(default_factory=list)

    @property
    def quarantined_rows(self) -> int:
        """Rows quarantined (a refused file's record is not a row)."""
        return len(self.quarantine) - len(self.refused)


def quarantine_row(
    source: str,
    feed: str,
    origin: str,
    number: int | None,
    field_: str | None,
    reason: str,
    raw: str,
    digest: str | None = None,
) -> dict[str, Any]:
    """A ``quarantine`` table row, keyed by its source and the hash of what it said: the same bad row received
    again, in this file or another, adds no record (the first one names where it was first seen).

    Every text is made storable first (``printable``: a NUL or a byte that was not UTF-8 is written as an
    escape), so a record of a broken row or file can always be kept, on PostgreSQL as on SQLite.
    """
    raw = printable(raw)
    return {
        "source": source,
        "feed": feed,
        "origin": printable(origin)[:_ORIGIN_LENGTH],
        "row_number": number,
        "field": printable(field_)[:_FIELD_LENGTH] if field_ is not None else None,
        "reason": printable(reason),
        "raw": raw,
        "raw_hash": digest or content_hash(raw),
        "received_at": now(),
    }


_ORIGIN_LENGTH = column_length(Quarantine.origin)
_FIELD_LENGTH = column_length(Quarantine.field)


def classify(batch: list[RawRow | BrokenFile], feed: str, source: str, events: frozenset[str]) -> Chunk:
    """Validate every row of a batch: a refused file, a row the reader could not split or decode, a value that
    cannot be stored (a NUL, a lone surrogate) or a contract breach is quarantined with the field and reason;
    the rest are kept with their canonical text."""
    chunk = Chunk()
    for item in batch:
        if isinstance(item, BrokenFile):
            chunk.refused.append(item)
            chunk.quarantine.append(
                quarantine_row(source, feed, item.origin, None, FILE, item.reason, item.raw, item.digest or None)
            )
            continue
        payload = canonical_json(item.data)
        if item.problem:
            chunk.quarantine.append(
                quarantine_row(source, feed, item.origin, item.row_number, item.problem_field, item.problem, payload)
            )
            continue
        result = unstorable(item.data, payload) or validate_row(feed, item.data, events)
        if isinstance(result, RowError):
            chunk.quarantine.append(
                quarantine_row(source, feed, item.origin, item.row_number, result.field, result.reason, payload)
            )
            continue
        chunk.valid.append(Valid(item, result, payload, content_hash(payload)))
    return chunk
