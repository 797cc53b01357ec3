"""A chunk of raw rows sorted into what can be stored and what goes to quarantine, and why.

Validation is against the feed contract (``missing_episodes.feeds``); nothing here touches the database, so a
chunk is classified before its transaction opens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from missing_episodes.clock import now
from missing_episodes.feeds import CaseOutcome, ChildRecord, PoliceNotification, RowError, validate_row
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
    valid: list[Valid] = field(default_factory=list)
    quarantine: list[dict[str, Any]] = field(default_factory=list)


def quarantine_row(
    source: str, feed: str, origin: str, number: int | None, field_: str | None, reason: str, raw: str
) -> dict[str, Any]:
    """A ``quarantine`` table row, keyed by the hash of where it came from and what it said (a replay adds none)."""
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


def classify(batch: list[RawRow | BrokenFile], feed: str, source: str, events: frozenset[str]) -> Chunk:
    """Validate every row of a batch: a broken file, a row the reader could not split, or a contract breach is
    quarantined with the field and reason; the rest are kept with their canonical text."""
    chunk = Chunk()
    for item in batch:
        if isinstance(item, BrokenFile):
            chunk.quarantine.append(quarantine_row(source, feed, item.origin, None, None, item.reason, item.raw))
            continue
        payload = canonical_json(item.data)
        if item.problem:
            chunk.quarantine.append(
                quarantine_row(source, feed, item.origin, item.row_number, None, item.problem, payload)
            )
            continue
        result = validate_row(feed, item.data, events)
        if isinstance(result, RowError):
            chunk.quarantine.append(
                quarantine_row(source, feed, item.origin, item.row_number, result.field, result.reason, payload)
            )
            continue
        chunk.valid.append(Valid(item, result, payload, content_hash(payload)))
    return chunk
