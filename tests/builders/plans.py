"""The statements a block sends to the database, and SQLite's plan for one: for tests that a lookup searches the
index it should (without statistics SQLite's planner can pick another; ``store.unindexed``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event

from missing_episodes.db.engine import make_engine, session_scope


@contextmanager
def statements_sent(url: str, matching: Callable[[str, object], bool]) -> Iterator[list[tuple[str, object]]]:
    """The (statement, parameters) the block sends through ``url``'s engine that ``matching`` accepts."""
    sent: list[tuple[str, object]] = []

    def record(_connection, _cursor, statement, parameters, _context, _many) -> None:
        if matching(statement, parameters):
            sent.append((statement, parameters))

    event.listen(make_engine(url), "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(make_engine(url), "before_cursor_execute", record)


def sqlite_plan(url: str, statement: str, parameters: object) -> str:
    """SQLite's ``EXPLAIN QUERY PLAN`` for a statement sent, its steps on one line."""
    with session_scope(url) as session:
        return " ".join(row[-1] for row in session.connection().exec_driver_sql(
            f"EXPLAIN QUERY PLAN {statement}", parameters))  # type: ignore[arg-type]
