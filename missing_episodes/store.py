"""Small database helpers shared by the ingest, the rules and the documents: keyed inserts, per-key locks, and the
audit trail's only writer (``audit`` for one event with the session's objects, ``audit_many`` for thousands at once;
both rows made by ``audit_entry``)."""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import (
    ARRAY,
    Column,
    ColumnElement,
    Dialect,
    Float,
    String,
    Table,
    UniqueConstraint,
    any_,
    bindparam,
    func,
    select,
    text,
)
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from missing_episodes.db.models import AuditEvent
from missing_episodes.db.types import UTCDateTime, sqlite_utc_texts, utc_instant
from missing_episodes.identity import canonical_json


def insert_ignoring_duplicates(session: Session, model: type, rows: list[dict[str, Any]]) -> None:
    """INSERT … ON CONFLICT DO NOTHING on either database: a replayed or concurrent insert changes nothing."""
    if rows:
        _insert_many(session, model.__table__, rows, ignore_duplicates=True)  # type: ignore[attr-defined]


def insert_many(session: Session, model: type, rows: list[dict[str, Any]]) -> None:
    """A plain INSERT of many rows in one executemany (rows of a table without a natural key, such as the audit
    trail and legal-status periods)."""
    if rows:
        _insert_many(session, model.__table__, rows, ignore_duplicates=False)  # type: ignore[attr-defined]


def insert_with_ids(
    session: Session, model: type, rows: list[dict[str, Any]], key: str, *, ignore_duplicates: bool = False
) -> dict[Any, int]:
    """Insert rows and give back the id of each row this call inserted, by the value of its ``key`` column.

    With ``ignore_duplicates`` a row whose unique key is already stored (a replay, a concurrent ingest) is
    skipped, and left out of the answer. On SQLite the transaction holds the database's one write lock (BEGIN
    IMMEDIATE) and a new id is always above the highest one, so the rows above the highest id before the insert
    are exactly this call's. On PostgreSQL the insert itself returns the ids of the rows it stored (one round trip;
    drawing them from the sequence first was a statement of its own, 5.5 s of a million-row ingest).
    """
    if not rows:
        return {}
    table = model.__table__  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "sqlite":
        highest = session.scalar(select(func.coalesce(func.max(table.c.id), 0)))
        _insert_many(session, table, rows, ignore_duplicates)
        return dict(session.execute(select(table.c[key], table.c.id).where(table.c.id > highest)).all())
    return dict(_insert_many(session, table, rows, ignore_duplicates, returning=key))


def _insert_many(session: Session, table: Table, rows: list[dict[str, Any]], ignore_duplicates: bool,
                 returning: str | None = None) -> list[Any]:
    """Insert plain values straight through the driver: the rows' columns (as the first row names them) and defaults.

    A chunk writes tens of thousands of rows; SQLAlchemy's per-value parameter processing was most of that
    time on SQLite, and psycopg's per-row executemany most of it on PostgreSQL. Values are converted here a
    column at a time, to exactly what the column types would send (see ``_converter``), and Python-side column
    defaults are filled once for the statement. SQLite gets sqlite3's executemany (its loop is in C);
    PostgreSQL gets one statement whose parameters are one array per column, unnested on the server, and
    ``returning`` names a column whose value and id it gives back for every row stored (PostgreSQL only).
    """
    dialect = session.get_bind().dialect
    if ignore_duplicates and dialect.name == "postgresql":  # SQLite has one writer at a time: nothing to order
        rows = sorted(rows, key=_unique_order(table, rows[0]))
    names = list(rows[0])
    columns = [_as_sent(table.c[name].type, [row[name] for row in rows], dialect) for name in names]
    # A default is one value for every row: converted once, not once per row (two of an action's five instants).
    for column in table.columns:
        if column.name not in rows[0] and column.default is not None:
            columns.append(_as_sent(column.type, [_default(column)], dialect) * len(rows))
            names.append(column.name)
    preparer = dialect.identifier_preparer
    into = f"INSERT INTO {preparer.format_table(table)} ({', '.join(preparer.quote(n) for n in names)}) "
    conflict = " ON CONFLICT DO NOTHING" if ignore_duplicates else ""
    connection = session.connection()
    if dialect.name == "sqlite":
        if returning:
            raise ValueError("SQLite's executemany returns nothing: insert_with_ids reads the new ids after it")
        statement = f"{into}VALUES ({', '.join('?' for _ in names)}){conflict}"
        connection.exec_driver_sql(statement, list(zip(*columns, strict=True)))
        return []
    # %b: binary arrays; psycopg's text array format escapes every element with a regular expression.
    arrays = ", ".join(f"CAST(%b AS {_array_element(table.c[name].type, dialect)}[])" for name in names)
    back = f" RETURNING {preparer.quote(returning)}, id" if returning else ""
    result = connection.exec_driver_sql(f"{into}SELECT * FROM unnest({arrays}){conflict}{back}", tuple(columns))
    return result.all() if returning else []


def _as_sent(type_: TypeEngine, values: list[Any], dialect: Dialect) -> list[Any]:
    """The values as the column type would send them (``_converter``), or as they are if it sends them so; on
    SQLite an instant column is written as text a column at a time (``sqlite_utc_texts``)."""
    if isinstance(type_, UTCDateTime) and dialect.name == "sqlite":
        return sqlite_utc_texts(values)
    convert = _converter(type_, dialect)
    return values if convert is None else list(map(convert, values))


def _array_element(type_: TypeEngine, dialect: Dialect) -> str:
    """The element type a column's array is cast to: ``text`` for a ``VARCHAR(n)`` column, because an explicit
    cast to ``varchar(n)`` cuts a longer value silently, while the insert's assignment to the column refuses it
    (the feed contract keeps over-long values out; this makes any that slip past an error, never a cut)."""
    if isinstance(type_, String):
        return "TEXT"
    return type_.compile(dialect=dialect)


def _unique_order(table: Table, first: dict[str, Any]) -> Callable[[dict[str, Any]], tuple]:
    """Rows sorted by the table's unique keys: the canonical order every conflicting insert takes.

    On PostgreSQL an insert that meets a key another transaction has just inserted waits for it; two ingests of
    overlapping files inserting the same keys in different orders waited on each other (DeadlockDetected). In one
    order, the second simply waits for the first and then skips what it stored.
    """
    columns = sorted(
        {c.name for k in table.constraints if isinstance(k, UniqueConstraint) for c in k.columns if c.name in first}
    )
    return lambda row: tuple((row[c] is None, "" if row[c] is None else row[c]) for c in columns)


def _converter(type_: TypeEngine, dialect: Dialect) -> Callable[[Any], Any] | None:
    """What the column type does to a value on the way to this driver; ``UTCDateTime`` without SQLAlchemy."""
    if isinstance(type_, UTCDateTime):
        return utc_instant  # PostgreSQL's; SQLite's are written as text a column at a time (``_as_sent``)
    if isinstance(type_, Float) and dialect.name == "postgresql":
        return _as_float  # psycopg dumps a list of one element type only: no ints among floats
    return type_.dialect_impl(dialect).bind_processor(dialect)


def _as_float(value: float | None) -> float | None:
    return None if value is None else float(value)


def _default(column: Column) -> Any:
    """A column's Python-side default (a value, or a function such as ``now``), evaluated once per statement."""
    default = column.default
    if default.is_scalar:  # type: ignore[union-attr]
        return default.arg  # type: ignore[union-attr]
    if default.is_callable:  # type: ignore[union-attr]
        return default.arg(None)  # type: ignore[union-attr]
    raise ValueError(f"{column}: only value and function defaults can be filled for a bulk insert")


def one_of(session: Session, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """``column IN values``, the values passed as one parameter: on PostgreSQL ``column = ANY(:array)``, on
    SQLite ``column IN (SELECT value FROM json_each(:json))`` (texts and integers; other values as plain ``IN``).

    A chunk looks thousands of keys up at once. Written as ``IN``, every value is a placeholder of its own, which
    SQLAlchemy renders again on every call, and psycopg parses: a fifth to a quarter of a PostgreSQL ingest's
    time, 3.5% of a SQLite one's (bench/results.md). One parameter makes the statement the same whatever
    the number of keys, so it is compiled once and takes any number of keys (``batching.key_batches``). Both
    databases look each key up in the column's index (SQLite's plan: a list subquery probing the index).
    """
    values = list(values)
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    if not all(type(value) in _JSON_KEYS for value in values):
        return column.in_(values)
    listed = func.json_each(bindparam(None, json.dumps(values), type_=String)).table_valued("value")
    return column.in_(select(listed.c.value))


_JSON_KEYS = (str, int)  # exactly: a bool is an int to Python but not to the column, numpy integers are no JSON


def unindexed(column: Any) -> ColumnElement[Any]:
    """A text column as a value no index is searched by (``column || ''``), for a condition that narrows less than
    the query's list of keys.

    Without statistics (SQLite has none, and a first load outgrows any), SQLite's planner searched the index
    ``ix_action_assigned`` for ``kind = 'return_home_interview'`` rather than the child's or the episode's index
    for a list of keys, and so read every interview of the region for each lookup: ten children's interviews took
    8 s against 4 ms at 1,000,000 episodes (bench/results.md). An expression is not an indexed column, which is
    how SQLite's documentation says to steer it (its unary ``+``, which PostgreSQL has not for text).
    """
    return column.concat("")


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
        "detail": canonical_json(detail) if detail else None,
    }


def audit(session: Session, actor: str, event: str, entity: str, ref: str | None, **detail: Any) -> None:
    """Append to the audit trail, flushed with the session's other objects."""
    session.add(AuditEvent(**audit_entry(actor, event, entity, ref, **detail)))


def audit_many(session: Session, entries: list[dict[str, Any]]) -> None:
    """Append many ``audit_entry`` rows in one executemany (an ingest chunk audits thousands of episodes)."""
    insert_many(session, AuditEvent, entries)
