"""A kill during the first schema migration on SQLite leaves a database that ``db upgrade`` completes (issue 16,
item 11). Before, each ``CREATE`` committed on its own: a kill half-way left tables without ``alembic_version``
and every rerun failed with "table audit_event already exists".

A child process runs the upgrade and SIGKILLs itself right after its N-th SQL statement (a SQLAlchemy event, so
the kill lands exactly between two statements, the worst place); then the upgrade is run again here and the
database must match the models, with the audit table's append-only triggers in place.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from missing_episodes.db.engine import make_engine, upgrade
from missing_episodes.db.models import Base

KILLER = textwrap.dedent("""
    import os, signal, sys
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from missing_episodes.db.engine import upgrade

    url, kill_after = sys.argv[1], int(sys.argv[2])
    seen = 0

    @event.listens_for(Engine, "after_cursor_execute")
    def count(*_args):
        global seen
        seen += 1
        if seen == kill_after:
            os.kill(os.getpid(), signal.SIGKILL)

    upgrade(url)
    print(seen)
""")


def run_upgrade(url: str, kill_after: int) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", KILLER, url, str(kill_after)], capture_output=True, text=True,
                          timeout=120)


def statements_of_a_whole_upgrade(tmp_path: Path) -> int:
    done = run_upgrade(f"sqlite:///{tmp_path / 'whole.db'}", 0)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[-1])


def assert_complete(url: str, path: Path) -> None:
    with make_engine(url).connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    make_engine(url).dispose()
    with sqlite3.connect(path) as connection:
        triggers = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}
        heads = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    assert {"audit_event_no_update", "audit_event_no_delete"} <= triggers
    assert len(heads) == 1


def test_a_kill_anywhere_in_the_first_migration_leaves_a_database_a_rerun_completes(tmp_path: Path) -> None:
    total = statements_of_a_whole_upgrade(tmp_path)
    assert total > 20  # the schema is many statements: the points below are inside it
    for kill_after in sorted({1, 3, total // 4, total // 2, (3 * total) // 4, total - 2, total - 1}):
        path = tmp_path / f"killed-{kill_after}.db"
        url = f"sqlite:///{path}"
        killed = run_upgrade(url, kill_after)
        assert killed.returncode == -signal.SIGKILL, (kill_after, killed.stderr[-2000:])
        if path.exists():  # whatever the kill left is either nothing or the whole schema, never a part
            with sqlite3.connect(path) as connection:
                tables = {n for (n,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            assert not tables or set(Base.metadata.tables) <= tables, (kill_after, sorted(tables))
        upgrade(url)  # the rerun completes
        upgrade(url)  # and another changes nothing
        assert_complete(url, path)
