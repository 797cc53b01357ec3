"""Ingest jobs: the schema, feed files, HTTP feeds and drop-folder archiving (and failing), each called by one task in
``tasks/ingest.py``.

Each returns an ``IngestSummary`` (source, feed and counts) or a path: nothing that names a child.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from missing_episodes.db.engine import session_scope, upgrade
from missing_episodes.db.models import FeedCursor
from missing_episodes.ingest import IngestSummary, ingest_file
from missing_episodes.jobs._shared import ingest_records
from missing_episodes.jobs.context import Context
from missing_episodes.sources import FolderSource, HttpSource, poll_http


def ensure_schema(context: Context | None = None) -> None:
    """Apply the migrations (idempotent): every flow that writes starts with it, so a fresh database just works."""
    upgrade((context or Context.load()).settings.database_url)


def ingest_path(kind: str, path: Path, source: str, context: Context | None = None) -> IngestSummary:
    """One feed file (CSV, JSON array, JSON Lines), stored chunk by chunk: a rerun skips what was stored.

    Never raises for the file's content: a file that cannot be used comes back ``refused`` (with why in
    ``problems``), so the caller carries on with the next file.
    """
    context = context or Context.load()
    return ingest_file(
        partial(session_scope, context.settings.database_url), path, feed=kind, source=source,
        settings=context.settings, policy=context.policy,
    )  # fmt: skip


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


def fail_file(source: FolderSource, path: Path, reason: str, context: Context | None = None) -> Path:
    """Move a refused file from the drop folder to the source's failed folder, with why beside it, so the next
    poll does not meet it again and a person finds it (never deleted)."""
    return source.fail_file(path, reason)
