"""A first load's secondary indexes: dropped while an empty database is filled, built once at the end.

A region's first load writes millions of rows, and every secondary index is a B-tree each insert updates at a
random place; built once from the finished table, an index is one sort. Only the indexes nothing in the load reads
are deferred. The load looks messages up by source and id and by incident, children by person id and name key,
episodes by incident, child and name key, actions by key, child and (allocation) kind and status: those indexes
stay. The deferred ones serve people afterwards: the worklist, briefing and notices (actions by due and trigger
time, episodes by start and status), the audit trail's views, contact logs by episode, actions by episode (which
the ingest's episode moves use, on an action table a first load has not filled yet).

Deferring happens only on a database without an episode (a first load, never a live service), and the indexes
come back however the load ends: ``build_indexes`` runs when it finishes or fails, and ``ensure_schema`` (every
flow's first step) builds any that a killed load left missing. Where they exist already nothing is locked: the
catalogue is read, and ``CREATE INDEX`` runs only for an index that is not there.
"""

from __future__ import annotations

from sqlalchemy import Engine, Index, inspect, select
from sqlalchemy.schema import CreateIndex, DropIndex

from missing_episodes.db.models import Base, Episode

#: The indexes a first load builds at its end, by name (each is declared on its model).
DEFERRED = (
    "ix_action_due",
    "ix_action_trigger",
    "ix_action_episode_id",
    "ix_audit_event_at",
    "ix_audit_event_entity_ref",
    "ix_episode_started",
    "ix_episode_status",
    "ix_contact_log_episode_id",
)


def deferred_indexes() -> list[Index]:
    """The ``DEFERRED`` indexes as the models declare them (a name no model declares is a bug, said here)."""
    declared = {index.name: index for table in Base.metadata.tables.values() for index in table.indexes}
    missing = sorted(set(DEFERRED) - declared.keys())
    if missing:
        raise LookupError(f"no model declares the deferred index(es) {', '.join(missing)}")
    return [declared[name] for name in DEFERRED]


def defer_indexes(engine: Engine) -> list[str]:
    """Drop the deferred indexes if the database holds no episode yet; the names of those dropped."""
    with engine.begin() as connection:
        if connection.scalar(select(Episode.id).limit(1)) is not None:
            return []
        present = _present(connection)
        dropped = [index for index in deferred_indexes() if index.name in present]
        for index in dropped:
            connection.execute(DropIndex(index, if_exists=True))
    return [str(index.name) for index in dropped]


def build_indexes(engine: Engine) -> list[str]:
    """Build every deferred index that is missing; the names of those built (none, almost always)."""
    with engine.connect() as connection:
        present = _present(connection)
    missing = [index for index in deferred_indexes() if index.name not in present]
    if missing:
        with engine.begin() as connection:
            for index in missing:
                connection.execute(CreateIndex(index, if_not_exists=True))
    return [str(index.name) for index in missing]


def _present(connection) -> set[str]:
    """The names of the indexes the deferred ones' tables have now (a read of the catalogue, no lock)."""
    inspector = inspect(connection)
    tables = {index.table.name for index in deferred_indexes()}  # type: ignore[union-attr]
    return {str(found["name"]) for table in tables for found in inspector.get_indexes(table)}
