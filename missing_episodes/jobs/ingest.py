"""Ingest jobs: the schema, feed files, HTTP feeds and drop-folder archiving (and failing), each called by one task in
``tasks/ingest.py``.

Each returns an ``IngestSummary`` (source, feed and counts) or a path: nothing that names a child.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict
from functools import partial
from pathlib import Path

from missing_episodes.db.engine import make_engine, session_scope, upgrade
from missing_episodes.db.first_load import build_indexes, defer_indexes
from missing_episodes.db.models import FeedCursor
from missing_episodes.http_feed import HttpPoll, HttpPollSummary
from missing_episodes.ingest import IngestSummary, ingest_file
from missing_episodes.jobs._shared import ingest_records
from missing_episodes.jobs.context import Context
from missing_episodes.sources import FolderSource, HttpSource

log = logging.getLogger("missing_episodes")


def ensure_schema(context: Context | None = None) -> None:
    """Apply the migrations (idempotent), and build any index a first load stopped before its end left deferred:
    every flow that writes starts with it, so a fresh database just works."""
    url = (context or Context.load()).settings.database_url
    upgrade(url)
    built = build_indexes(make_engine(url))
    if built:
        log.warning("built %d index(es) a stopped first load had deferred: %s", len(built), ", ".join(built))


def defer_first_load_indexes(context: Context | None = None) -> list[str]:
    """A first load's secondary indexes dropped if the database holds no episode yet (``db.first_load``)."""
    return defer_indexes(make_engine((context or Context.load()).settings.database_url))


def build_first_load_indexes(context: Context | None = None) -> list[str]:
    """The indexes a first load deferred, built (those missing only)."""
    return build_indexes(make_engine((context or Context.load()).settings.database_url))


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


def ingest_http_source(source: HttpSource, context: Context | None = None, client=None,
                       sleep: Callable[[float], None] = time.sleep) -> HttpPollSummary:
    """Poll from the stored cursor, storing each page and then its resume cursor before asking for the next.

    At-least-once and keyed: a page stored but whose cursor was not (a kill in between) is read again next time
    and adds nothing. A page that cannot be had raises ``FeedUnavailable`` with the pages before it stored (the
    task's retries, and the next poll, resume there). A loop or ``max_pages`` ends the poll with an alert."""
    context = context or Context.load()
    with context.session() as session:
        stored = session.get(FeedCursor, source.name)
        since = stored.cursor if stored else None
    poll = HttpPoll(source, since, client, sleep)
    counts = IngestSummary(source=source.name, feed=source.feed)
    pages = 0
    for page in poll.pages():
        counts.add(ingest_records(source.feed, page.rows, source.name, context))
        pages += 1
        if page.resume != since:
            _store_cursor(context, source.name, page.resume)
            since = page.resume
    alert = poll.alert()
    if alert:
        log.warning(alert)
    return HttpPollSummary(**asdict(counts), pages=pages, stopped=poll.stop.value, alerts=[alert] if alert else [])


def _store_cursor(context: Context, source: str, cursor: str | None) -> None:
    with context.session() as session:
        stored = session.get(FeedCursor, source)
        if stored is None:
            session.add(FeedCursor(source=source, cursor=cursor))
        else:
            stored.cursor = cursor


def archive_file(source: FolderSource, path: Path, context: Context | None = None) -> Path:
    """Move a stored file from the drop folder to the source's archive, never deleting it (the folders are the
    source's own; the context is taken for the one signature every job shares)."""
    return source.archive_file(path)


def fail_file(source: FolderSource, path: Path, reason: str, context: Context | None = None) -> Path:
    """Move a refused file from the drop folder to the source's failed folder, with why beside it, so the next
    poll does not meet it again and a person finds it (never deleted)."""
    return source.fail_file(path, reason)
