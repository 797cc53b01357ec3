"""Small database helpers shared by the ingest and the rules: keyed inserts and per-key locks."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Integer, any_, bindparam, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from missing_episodes.db.models import AuditEvent


def insert_ignoring_duplicates(session: Session, model: type, rows: list[dict[str, Any]]) -> None:
    """INSERT … ON CONFLICT DO NOTHING on either database: a replayed or concurrent insert changes nothing."""
    if rows:
        session.execute(_insert(session, model, ignore_duplicates=True), rows)


def insert_with_ids(
    session: Session, model: type, rows: list[dict[str, Any]], key: str, *, ignore_duplicates: bool = False
) -> dict[Any, int]:
    """Insert rows and give back the id of each row this call inserted, by the value of its ``key`` column.

    With ``ignore_duplicates`` a row whose unique key is already stored (a replay, a concurrent ingest) is
    skipped, and left out of the answer. SQLite answers with RETURNING. On PostgreSQL the ids are drawn from
    the table's sequence first and the rows inserted with a plain executemany (psycopg's pipeline, one prepared
    statement): RETURNING there renders every row's parameters into one statement text that psycopg parses
    again for each batch, which cost more than the insert itself.
    """
    if not rows:
        return {}
    table = model.__table__  # type: ignore[attr-defined]
    statement = _insert(session, model, ignore_duplicates)
    if session.get_bind().dialect.name == "sqlite":
        return dict(session.execute(statement.returning(table.c[key], table.c.id), rows).all())
    ids = session.scalars(_NEXT_IDS, {"table": table.name, "count": len(rows)}).all()
    session.execute(statement, [{**row, "id": row_id} for row, row_id in zip(rows, ids, strict=True)])
    if not ignore_duplicates:
        return {row[key]: row_id for row, row_id in zip(rows, ids, strict=True)}
    inserted = select(table.c[key], table.c.id).where(table.c.id == any_(bindparam("ids", type_=ARRAY(Integer))))
    return dict(session.execute(inserted, {"ids": ids}).all())


_NEXT_IDS = text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :count)")


def _insert(session: Session, model: type, ignore_duplicates: bool):
    """A Core INSERT into the model's table (not the mapped class: no ORM bulk-insert bookkeeping per row)."""
    dialect = sqlite if session.get_bind().dialect.name == "sqlite" else postgresql
    statement = dialect.insert(model.__table__)  # type: ignore[attr-defined]
    return statement.on_conflict_do_nothing() if ignore_duplicates else statement


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
