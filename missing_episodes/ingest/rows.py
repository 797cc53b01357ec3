"""The ingest's unit of work: a stream of rows stored chunk by chunk, each chunk in its own transaction.

A chunk is stored whole or not at all, so a run killed mid-file leaves no half-written record, and running it
again skips what was stored (messages are keyed by source and message id) and finishes the rest. Rules do not
run here: changed children are flagged ``needs_review`` and the flows run the rules for them, so nothing is lost
between the two steps either.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from missing_episodes.batching import batched
from missing_episodes.collector import collecting_less
from missing_episodes.config import Settings
from missing_episodes.db.models import Quarantine
from missing_episodes.feeds import SOURCE_LENGTH
from missing_episodes.ingest.chunks import Chunk, Valid, classify, quarantine_row
from missing_episodes.ingest.incidents import police_updates_to_log, refold_incidents
from missing_episodes.ingest.messages import store_messages
from missing_episodes.ingest.outcomes import store_outcomes
from missing_episodes.ingest.register import store_register
from missing_episodes.ingest.statistics import PlannerStatistics
from missing_episodes.ingest.summary import IngestSummary
from missing_episodes.policy import Policy
from missing_episodes.progress import advance
from missing_episodes.sources import BrokenFile, RawRow
from missing_episodes.store import audit, insert_with_ids
from missing_episodes.vocabulary import outcome_vocabulary


def known_outcome_events(policy: Policy) -> frozenset[str]:
    """The standard events plus every event the policy's rules close actions with (and which need a rationale):
    the one vocabulary the form and the CLI also read."""
    return outcome_vocabulary(policy)


@collecting_less()
def ingest_rows(
    session_factory,
    *,
    feed: str,
    source: str,
    rows: Iterable[RawRow | BrokenFile],
    settings: Settings,
    policy: Policy,
    summary: IngestSummary | None = None,
) -> IngestSummary:
    """Store a stream of rows, chunk by chunk (``settings.ingest_chunk_size`` rows), each in its own transaction.

    ``summary`` is added to as each chunk is stored, so a caller that meets an error still knows what was stored.
    """
    check_source(source)
    summary = summary or IngestSummary(source=source, feed=feed)
    events = known_outcome_events(policy)
    statistics = PlannerStatistics(session_factory)
    register = RegisterRows(source, feed) if feed == "children" else None
    for batch in batched(rows, settings.ingest_chunk_size):
        chunk = classify(batch, feed, source, events)
        repeated = register.first_of_each(chunk) if register else 0
        part = _store_chunk_retrying(session_factory, chunk, feed=feed, source=source, settings=settings,
                                     policy=policy)  # fmt: skip
        part.read += repeated
        part.duplicate += repeated
        summary.add(part)
        statistics.grown(part.new + part.changed_episodes)
        advance("rows", len(batch))
    return summary


def check_source(source: str) -> None:
    """A source name must fit ``Notification.source`` (a configuration mistake, refused before any row is read)."""
    if not source or len(source) > SOURCE_LENGTH:
        raise ValueError(f"a source name is 1 to {SOURCE_LENGTH} characters")


class RegisterRows:
    """A register file's rows by child id, across its chunks: the first row of a child is applied; a later row
    the same is a duplicate, a later row that differs is quarantined (one snapshot cannot say two things of one
    child, and which to believe is for a person), whatever chunks the rows fall in."""

    REASON = "this child_id is earlier in the file with different content; the earlier row is kept"

    def __init__(self, source: str, feed: str) -> None:
        self.source, self.feed = source, feed
        self.seen: dict[str, str] = {}

    def first_of_each(self, chunk: Chunk) -> int:
        """Keep in ``chunk.valid`` the first row of each child; quarantine the differing repeats; return how many
        identical repeats were dropped (duplicates)."""
        kept: list[Valid] = []
        duplicates = 0
        for item in chunk.valid:
            child_id = item.record.message_id
            if child_id not in self.seen:
                self.seen[child_id] = item.digest
                kept.append(item)
            elif self.seen[child_id] == item.digest:
                duplicates += 1
            else:
                chunk.quarantine.append(
                    quarantine_row(
                        self.source, self.feed, item.raw.origin, item.raw.row_number, "child_id", self.REASON,
                        item.payload,
                    )
                )
        chunk.valid = kept
        return duplicates


# PostgreSQL's "deadlock detected" and "could not serialize": the chunk's transaction was rolled back whole.
_RETRYABLE = {"40P01", "40001"}
_ATTEMPTS = 5


def _store_chunk_retrying(session_factory, chunk: Chunk, **kwargs) -> IngestSummary:
    """``store_chunk`` in its own transaction, run again if PostgreSQL chose it as a deadlock's victim.

    Inserts and locks are taken in sorted order, so two ingests of overlapping files wait for each other rather
    than deadlock; but a chunk also updates children and actions a concurrent chunk or recomputation may hold.
    A chunk is stored whole or not at all and is keyed, so running it again is safe and stores it once.
    """
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            with session_factory() as session:
                return store_chunk(session, chunk, **kwargs)
        except DBAPIError as error:
            if getattr(error.orig, "sqlstate", None) not in _RETRYABLE or attempt == _ATTEMPTS:
                raise
            time.sleep(random.uniform(0.05, 0.2) * attempt)
    raise AssertionError("unreachable")


def store_chunk(
    session: Session, chunk: Chunk, *, feed: str, source: str, settings: Settings, policy: Policy
) -> IngestSummary:
    """One chunk's transaction: quarantine (and a refused file's alert), then the register or the messages and
    what they change."""
    summary = IngestSummary(source=source, feed=feed, read=len(chunk.valid) + chunk.quarantined_rows)
    inserted = insert_with_ids(session, Quarantine, chunk.quarantine, "raw_hash", ignore_duplicates=True)
    summary.quarantined += chunk.quarantined_rows
    for broken in chunk.refused:
        summary.refused += 1
        summary.problems.append(f"{broken.origin}: {broken.reason}")
        audit(session, "ingest", "file_refused", "feed", source, feed=feed, file=broken.origin, reason=broken.reason)

    # The register is a snapshot, not a message stream: a row is "new" when it changes the child.
    if feed == "children":
        store_register(session, chunk.valid, source, settings.pseudonym_key, summary, policy.authority)
        return summary

    messages = store_messages(session, chunk.valid, feed=feed, source=source)
    summary.quarantined += messages.conflicts
    summary.new = len(messages.new)
    summary.duplicate = messages.duplicates
    records = [record for _row_id, record in messages.new]
    if feed == "notifications":
        incidents = {record.incident_ref for record in records}
        parsed = dict(messages.new)
        summary.changed_episodes = refold_incidents(session, source, incidents, settings, policy, parsed=parsed)
        police_updates_to_log(session, source, records)
    else:
        store_outcomes(session, source, records, settings.pseudonym_key)
    if inserted or messages.conflicts or messages.new:
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
