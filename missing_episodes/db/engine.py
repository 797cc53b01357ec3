"""Engines, sessions and migrations for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from missing_episodes.config import MIGRATIONS_DIR
from missing_episodes.sqlite_support import json_functions_problem

if TYPE_CHECKING:
    from alembic.config import Config


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` as operators write it, and drive it with psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


#: SQLite's page cache per connection, in KiB (its default is 2 MiB). A region's first load inserts into indexes of
#: millions of rows at scattered keys (an action's key begins with its episode's hashed reference), and with 2 MiB
#: each insert read its pages back from the operating system. At 1,000,000 episodes (bench/results.md) the bulk
#: path's first 12 batches took 91.0 s with 256 MiB against 100.0 s with 2 MiB, and 83.6 s with 64 MiB against
#: 85.5 s with 256 MiB; the outcomes ingest 311.9 s (256 MiB) against 332.3 s. So 64 MiB: a process that reads a
#: large database grows by about that much; a small database costs nothing more.
SQLITE_CACHE_KIB = 64 * 1024


@lru_cache(maxsize=16)
def make_engine(url: str) -> Engine:
    """One engine per URL per process (engines pool connections; making one per call would leak them)."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        _make_sqlite_files_private(url)
        # hide_parameters: a failed statement's error must not quote the row's values (names, dates of birth):
        # Prefect stores a failed task's message in clear text.
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:
            # Let SQLAlchemy, not the driver, open transactions (see _begin_immediate).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
            cursor.close()
            if problem := json_functions_problem(dbapi_connection):
                raise RuntimeError(problem)

        @event.listens_for(engine, "begin")
        def _begin_immediate(connection) -> None:
            # Take SQLite's write lock at the start of every transaction: two writers then queue on the busy
            # timeout instead of one failing with "database is locked" when it upgrades a read to a write.
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def _make_sqlite_files_private(url: str) -> None:
    """A database made before the product ran with its umask (``missing_episodes.permissions``) is tightened to
    0600 when opened, with its ``-wal``/``-shm`` files (SQLite gives those the database file's mode)."""
    from missing_episodes.permissions import make_private

    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        for suffix in ("", "-wal", "-shm"):
            make_private(f"{database}{suffix}")


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A transaction: committed when the block ends, rolled back on any error (no half-written record)."""
    factory = sessionmaker(make_engine(url), expire_on_commit=False)
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str) -> Config:
    # Alembic is imported here and in ``upgrade``, not with the module: it costs a fifth of a second, and the
    # commands that only read or render never migrate.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Apply the migrations: ``missing-episodes db upgrade`` and every test database go through here."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def copy_sqlite(source: Path, target: Path) -> str:
    """Copy a SQLite database with its backup API (consistent whatever its journal state); return the URL.

    A migrated template copied per test or per benchmark costs about a millisecond; migrating costs 100.
    """
    import sqlite3

    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    origin, copy = sqlite3.connect(source), sqlite3.connect(target)
    try:
        origin.backup(copy)
    finally:
        origin.close()
        copy.close()
    return f"sqlite:///{target}"
