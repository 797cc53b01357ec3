"""Steps several jobs share, not jobs themselves: a module whose name starts with ``_`` is not called by a task
(``tests/test_layers.py`` checks only the public modules of ``missing_episodes.jobs``)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from missing_episodes.db.engine import session_scope
from missing_episodes.ingest import IngestSummary, ingest_rows
from missing_episodes.jobs.context import Context
from missing_episodes.sources import BrokenFile, RawRow


def ingest_records(kind: str, rows: Iterable[RawRow | BrokenFile], source: str,
                   context: Context | None = None) -> IngestSummary:
    """Rows in hand (a file's, an HTTP page's, an outcome a coordinator recorded) through the one validation,
    quarantine and fold, in chunked transactions."""
    context = context or Context.load()
    return ingest_rows(partial(session_scope, context.settings.database_url), feed=kind, source=source, rows=rows,
                       settings=context.settings, policy=context.policy)
