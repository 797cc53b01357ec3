"""Alembic environment: migrations run against the URL the caller configured (see db.engine.upgrade).

Every pending migration runs in ONE transaction, on SQLite too, so a process killed half-way through the first
creation of the schema leaves the database as it was (empty) and a rerun of ``db upgrade`` completes. SQLite
supports transactional DDL, but Python's sqlite3 driver commits each ``CREATE`` on its own unless SQLAlchemy is
left to open the transaction itself: hence the two listeners below (the recipe in SQLAlchemy's SQLite dialect
documentation) and ``transactional_ddl=True``, which Alembic leaves off for SQLite by default.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine, create_engine, event

from missing_episodes.db.models import Base

target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=context.config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


def _sqlite_transactional_ddl(engine: Engine) -> None:
    """Let SQLAlchemy, not the driver, begin transactions, so DDL is inside them (and rolled back on a kill)."""

    @event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin_exclusive(connection) -> None:
        # EXCLUSIVE: a second ``db upgrade`` started at the same moment waits instead of creating tables twice.
        connection.exec_driver_sql("BEGIN EXCLUSIVE")


def run_migrations_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    sqlite = url.startswith("sqlite")
    engine = create_engine(url, connect_args={"timeout": 30} if sqlite else {})
    if sqlite:
        _sqlite_transactional_ddl(engine)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            transactional_ddl=True,
            transaction_per_migration=False,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
