"""What this Python's SQLite must offer the store, checked without importing SQLAlchemy (the CLI asks before
Prefect or SQLAlchemy load, the engine on every connection)."""

from __future__ import annotations

import sqlite3


def json_functions_problem(connection: sqlite3.Connection | None = None) -> str | None:
    """Why this SQLite cannot serve the store, in one line, or None: key lookups read their keys through
    ``json_each`` (``store.one_of``), built into SQLite since 3.38; an older or stripped build lacks it."""
    probe = connection or sqlite3.connect(":memory:")
    try:
        probe.execute("SELECT json_valid('[]')")
    except sqlite3.OperationalError as exc:
        return (f"this Python's SQLite {sqlite3.sqlite_version} has no JSON functions ({exc}): missing-episodes "
                "needs SQLite 3.38 or later, or one built with JSON1")
    finally:
        if connection is None:
            probe.close()
    return None
