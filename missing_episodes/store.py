"""Small database helpers shared by the ingest and the rules: keyed inserts and per-key locks."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from missing_episodes.db.models import AuditEvent


def insert_ignoring_duplicates(session: Session, model: type, rows: list[dict[str, Any]], returning=None):
    """INSERT … ON CONFLICT DO NOTHING on either database: a replayed or concurrent insert changes nothing.

    With ``returning`` (columns), gives back the rows this call actually inserted.
    """
    if not rows:
        return []
    dialect = sqlite if session.get_bind().dialect.name == "sqlite" else postgresql
    # The table, not the mapped class: a Core executemany, without the ORM's bulk-insert bookkeeping per row.
    statement = dialect.insert(model.__table__).on_conflict_do_nothing()
    if returning is not None:
        return list(session.execute(statement.returning(*returning), rows))
    session.execute(statement, rows)
    return []


def lock_keys(session: Session, namespace: str, keys: Iterable[str | int]) -> None:
    """Serialise work on the same incident or child across workers (PostgreSQL transaction-level locks).

    Keys are locked in sorted order so two workers can never wait on each other. SQLite needs nothing here:
    every write transaction there starts with BEGIN IMMEDIATE and so holds the single write lock.
    """
    if session.get_bind().dialect.name == "sqlite":
        return
    ids = sorted({zlib.crc32(f"{namespace}:{key}".encode()) - 2**31 for key in keys})
    if ids:
        # One round trip for the whole chunk; ORDER BY keeps the sorted locking order (no deadlock).
        session.execute(_LOCK_MANY, {"ids": ids}).all()


_LOCK_MANY = text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:ids AS bigint[])) AS k ORDER BY k")


def audit_entry(actor: str, event: str, entity: str, ref: str | None, **detail: Any) -> dict[str, Any]:
    """One audit-trail row's values (ids and facts about the process, no personal data needed)."""
    return {
        "actor": actor,
        "event": event,
        "entity": entity,
        "entity_ref": ref,
        "detail": json.dumps(detail, default=str, sort_keys=True) if detail else None,
    }


def audit(session: Session, actor: str, event: str, entity: str, ref: str | None, **detail: Any) -> None:
    """Append to the audit trail, flushed with the session's other objects."""
    session.add(AuditEvent(**audit_entry(actor, event, entity, ref, **detail)))


def audit_many(session: Session, entries: list[dict[str, Any]]) -> None:
    """Append many ``audit_entry`` rows in one executemany (an ingest chunk audits thousands of episodes)."""
    if entries:
        session.execute(insert(AuditEvent.__table__), entries)
