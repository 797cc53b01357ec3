"""What a command checks before it does anything: the database URL, the database itself, the policy file.

The checks run before Prefect is imported and before any file is written, so a mistake costs a fraction of a
second and leaves nothing behind. Each failure is a ``Mistake``: one line naming what was wrong and what to do,
exit status 2 (``cli._app.OneLineErrors`` prints it).

Read-only commands (the worklist, quarantine, exports, render-only forms, and the documents and reports, which
read what the main job stored) need a database that exists and is migrated; they never create one. Commands that
store (``db upgrade``, ``run``, ``ingest``) may create it, in a folder that exists (the default folder, ``var/``,
is made for them).
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from cli._app import PROGRAM, click_errors, one_line
from missing_episodes.config import DEFAULT_DATABASE_PATH, MIGRATIONS_DIR, get_settings
from missing_episodes.sqlite_support import json_functions_problem

UPGRADE_HINT = f"run `{PROGRAM} db upgrade` (or `bash scripts/demo` for the bundled sample)"
URL_HINT = "set MISSING_EPISODES_DATABASE_URL to sqlite:///path/to/file.db or postgresql://user@host:5432/name"
_CONNECT_TIMEOUT_SECONDS = 5
#: A plain SQLite file URL (no query string, no percent-escapes), which SQLAlchemy's ``make_url`` would read as the
#: path after ``:///``: read here without importing SQLAlchemy (another half second of CPU on every command).
_PLAIN_SQLITE_URL = re.compile(r"(?P<driver>sqlite(?:\+pysqlite)?):///(?P<database>[^?%#]+)")


class Mistake(click_errors.ClickException):
    """A user mistake: printed as one line ``error: …`` on stderr, exit status 2."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))


@dataclass(frozen=True)
class Database:
    """A database URL that parsed and names a backend the product runs on."""

    url: str  # as configured (may hold a password: never print it, print ``shown``)
    shown: str  # the URL with its password hidden
    backend: str  # "sqlite" or "postgresql"
    path: Path | None  # the SQLite file


def database(url: str | None = None) -> Database:
    """The configured database URL, parsed and checked (no connection yet)."""
    url = url or get_settings().database_url
    if plain := _PLAIN_SQLITE_URL.fullmatch(url):
        return _sqlite_file(Database(url, url, "sqlite", Path(plain["database"])))
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        shown = url if "@" not in url and len(url) < 80 else "(value hidden)"
        raise Mistake(f"database URL {shown!r} is not a URL: {URL_HINT}") from None
    shown = parsed.render_as_string(hide_password=True)
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "sqlite" and driver in ("", "pysqlite"):
        if not parsed.database:
            raise Mistake(f"database URL {shown!r} names no file (an in-memory database keeps nothing): {URL_HINT}")
        return _sqlite_file(Database(url, shown, "sqlite", Path(parsed.database)))
    if backend in ("postgresql", "postgres") and driver in ("", "psycopg"):
        if not parsed.database:
            raise Mistake(f"database URL {shown!r} names no database: {URL_HINT}")
        return Database(url, shown, "postgresql", None)
    raise Mistake(f"database URL {shown!r}: {parsed.drivername} is not supported (SQLite or PostgreSQL "
                  f"with psycopg 3 only): {URL_HINT}")


def _sqlite_file(target: Database) -> Database:
    """A SQLite URL that names a file: an in-memory database (``:memory:``, ``file:`` URIs) keeps nothing."""
    assert target.path is not None
    name = str(target.path)
    if name == ":memory:" or name.startswith("file:"):
        raise Mistake(f"database URL {target.shown!r} names no file (an in-memory database keeps nothing): {URL_HINT}")
    if problem := json_functions_problem():
        raise Mistake(problem)
    return target


def writable_database(url: str | None = None) -> Database:
    """For commands that may create the database: its folder exists (the default ``var/`` is made) and a
    PostgreSQL server answers."""
    target = database(url)
    if target.path is not None:
        folder = target.path.resolve().parent
        if not folder.is_dir():
            if target.path.resolve() != DEFAULT_DATABASE_PATH.resolve():
                raise Mistake(f"no folder {folder} for the database file {target.path.name}: create the folder "
                              f"or {URL_HINT}")
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if target.path.exists():
            _sqlite_revision(target)  # a file that is not a database is refused here, not deep in a flow
    else:
        _postgresql_revision(target)
    return target


def migrated_database(url: str | None = None) -> Database:
    """For every command that reads: the database exists, answers and is migrated to this code's schema."""
    target = database(url)
    if target.path is not None:
        if not target.path.exists():
            raise Mistake(f"no database at {target.path}: {UPGRADE_HINT}")
        revision = _sqlite_revision(target)
    else:
        revision = _postgresql_revision(target)
    heads = _schema_heads()
    if revision is None:
        raise Mistake(f"the database at {target.shown} has no tables yet: {UPGRADE_HINT}")
    if revision not in heads:
        raise Mistake(f"the database at {target.shown} is at schema {revision}, this version needs "
                      f"{', '.join(sorted(heads))}: run `{PROGRAM} db upgrade`")
    return target


def _sqlite_revision(target: Database) -> str | None:
    """The Alembic revision stored in an existing SQLite file (None: no schema), opened without creating it."""
    assert target.path is not None
    try:
        # mode=rw: open the file that is there, never create one (a URI, percent-encoded by as_uri).
        connection = sqlite3.connect(f"{target.path.resolve().as_uri()}?mode=rw", uri=True,
                                     timeout=_CONNECT_TIMEOUT_SECONDS)
    except sqlite3.Error as exc:
        raise Mistake(f"cannot open the database file {target.path} ({exc}): check its permissions") from None
    try:
        tables = {name for (name,) in connection.execute("select name from sqlite_master where type = 'table'")}
        if "alembic_version" not in tables:
            return None
        row = connection.execute("select version_num from alembic_version").fetchone()
        return row[0] if row else None
    except sqlite3.DatabaseError as exc:
        raise Mistake(f"{target.path} is not a SQLite database ({exc}): {URL_HINT}") from None
    finally:
        connection.close()


def _postgresql_revision(target: Database) -> str | None:
    """The Alembic revision stored on a PostgreSQL server, with a short connection timeout."""
    from sqlalchemy import create_engine, inspect, text
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.pool import NullPool

    from missing_episodes.db.engine import normalise_url

    engine = create_engine(normalise_url(target.url), poolclass=NullPool,
                           connect_args={"connect_timeout": _CONNECT_TIMEOUT_SECONDS})
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            return connection.execute(text("select version_num from alembic_version")).scalar()
    except DBAPIError as exc:
        cause = str(exc.orig or exc).strip().splitlines()
        raise Mistake(f"cannot use the PostgreSQL database {target.shown} ({cause[0] if cause else 'no answer'}): "
                      f"start the server or {URL_HINT}") from None
    finally:
        engine.dispose()


def _schema_heads() -> set[str]:
    """The revisions no migration builds on, read from the migration files' ``revision`` and ``down_revision``
    assignments, as Alembic's script directory would find them, without importing Alembic (half a second of CPU
    on every command; ``tests/cli/test_schema_heads.py`` holds the two to the same answer)."""
    import ast

    revisions: set[str] = set()
    built_on: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            target, value = _assignment(node)
            if target == "revision" and isinstance(value, str):
                revisions.add(value)
            elif target == "down_revision" and value:
                built_on.update([value] if isinstance(value, str) else value)
    return revisions - built_on


def _assignment(node: object) -> tuple[str | None, object]:
    """``name = literal`` or ``name: type = literal`` at a module's top level: (name, value); else (None, None)."""
    import ast

    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        target, value = node.targets[0].id, node.value
    elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
        target, value = node.target.id, node.value
    else:
        return None, None
    try:
        return target, ast.literal_eval(value)
    except ValueError:
        return None, None


def policy(*, on_desk: bool = False) -> None:
    """The policy file validates (the one-line reason otherwise): flows would fail on it much later, in Prefect.

    ``on_desk``: the command's flow runs on the desk when a Prefect server is configured, so then the desk checks
    the policy it will use (``desk_check``)."""
    desk_check("policy", on_desk=on_desk)


def desk_check(check: str, *arguments: str | None, on_desk: bool = True, hint: str = "") -> None:
    """One of ``missing_episodes.desk.CHECKS``, asked of the desk when the command's flow runs there (``on_desk``
    and a Prefect server configured: it answers in a hundredth of a second, with what it has loaded), else made
    here; a refusal is a ``Mistake`` (with ``hint``)."""
    from cli.flows import prefect_server_configured
    from missing_episodes import desk

    try:
        if on_desk and prefect_server_configured():
            desk.checked(check, *arguments)
        else:
            desk.CHECKS[check](*arguments)
    except desk.Refused as exc:
        raise Mistake(f"{exc}{hint}") from None
