"""Ingest jobs: the schema, feed files, HTTP feeds and drop-folder archiving, each called by one task in
``tasks/ingest.py``.

Each returns an ``IngestSummary`` (source, feed and counts) or a path: nothing that names a child.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from pathlib import Path

from missing_episodes.db.engine import session_scope, upgrade
from missing_episodes.db.models import FeedCursor
from missing_episodes.ingest import IngestSummary, ingest_rows
from missing_episodes.jobs.context import Context
from missing_episodes.sources import BrokenFile, FolderSource, HttpSource, RawRow, poll_http, read_file


def ensure_schema(context: Context | None = None) -> None:
    """Apply the migrations (idempotent): every flow that writes starts with it, so a fresh database just works."""
    upgrade((context or Context.load()).settings.database_url)


def ingest_path(kind: str, path: Path, source: str, context: Context | None = None) -> IngestSummary:
    """One feed file (CSV, JSON array, JSON Lines), stored chunk by chunk: a rerun skips what was stored."""
    return ingest_records(kind, read_file(path), source, context)


def ingest_records(kind: str, rows: Iterable[RawRow | BrokenFile], source: str,
                   context: Context | None = None) -> IngestSummary:
    """Rows already in hand (an HTTP page, an outcome typed by a coordinator) through the same validation,
    quarantine and fold as a file's rows."""
    context = context or Context.load()
    return ingest_rows(partial(session_scope, context.settings.database_url), feed=kind, source=source, rows=rows,
                       settings=context.settings, policy=context.policy)


def ingest_http_source(source: HttpSource, context: Context | None = None, client=None) -> IngestSummary:
    """Poll from the stored cursor; the cursor moves only after the rows are stored (at-least-once, deduped)."""
    context = context or Context.load()
    with context.session() as session:
        cursor = session.get(FeedCursor, source.name)
        since = cursor.cursor if cursor else None
    rows, next_cursor = poll_http(source, since, client)
    summary = ingest_records(source.feed, list(rows), source.name, context)
    with context.session() as session:
        cursor = session.get(FeedCursor, source.name)
        if cursor is None:
            session.add(FeedCursor(source=source.name, cursor=next_cursor))
        else:
            cursor.cursor = next_cursor
    return summary


def archive_file(source: FolderSource, path: Path, context: Context | None = None) -> Path:
    """Move a stored file from the drop folder to the source's archive, never deleting it (the folders are the
    source's own; the context is taken for the one signature every job shares)."""
    return source.archive_file(path)
