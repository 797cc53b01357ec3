"""One feed file through the ingest, judged as a whole as well as row by row: read, refused, or without rows.

One bad file never stops the others: a file that cannot be used (``feedfiles`` says why), or whose ingest stops
at an error the file itself caused, ends as a refused file (a quarantine record naming the file, an audit event
``file_refused``, a line in the summary's ``problems``), and the caller goes on to the next file; a drop folder
moves it to its ``failed`` folder. Only an error of the database itself (connection lost, deadlock, timeout)
stops the run: then no file could be stored, and every one stays where it is for the next run. A file with no
rows (zero bytes, a header only) is stored as read and reported (audit event ``file_empty``), since it usually
means an export went wrong upstream.
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from missing_episodes.config import Settings
from missing_episodes.feedfiles import file_origin, read_file, refused
from missing_episodes.feeds import columns_problem
from missing_episodes.ingest.chunks import classify
from missing_episodes.ingest.rows import check_source, ingest_rows, known_outcome_events, store_chunk
from missing_episodes.ingest.summary import IngestSummary
from missing_episodes.policy import Policy
from missing_episodes.store import audit

log = logging.getLogger("missing_episodes")

#: Errors of the database, not of the file: the run stops and the file stays in the inbox for the next one.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)


def ingest_file(
    session_factory, path: Path, *, feed: str, source: str, settings: Settings, policy: Policy
) -> IngestSummary:
    """Ingest one feed file; the summary says whether it was refused (``refused``) or had no rows (``empty``)."""
    check_source(source)
    origin = file_origin(path)
    summary = IngestSummary(source=source, feed=feed, origin=origin)
    try:
        rows = read_file(path, partial(columns_problem, feed))
        ingest_rows(
            session_factory, feed=feed, source=source, rows=rows, settings=settings, policy=policy, summary=summary
        )
    except DATABASE_UNAVAILABLE:
        raise
    except Exception as exc:  # the file caused it: refuse the file, carry on with the others
        # The product's own log (not Prefect's) may hold the full error, which can quote a value.
        log.error("ingest of %s from %s stopped; the file is refused", origin, source, exc_info=exc)
        reason = f"the ingest stopped at an unexpected error ({type(exc).__name__}); rows stored before it are kept"
        broken = refused(path, origin, reason)
        with session_factory() as session:
            part = store_chunk(
                session, classify([broken], feed, source, known_outcome_events(policy)),
                feed=feed, source=source, settings=settings, policy=policy,
            )  # fmt: skip
        summary.add(part)
        return summary
    if not summary.refused and summary.read == 0:
        _report_empty(session_factory, path, origin, feed, source, summary)
    return summary


def _report_empty(session_factory, path: Path, origin: str, feed: str, source: str, summary: IngestSummary) -> None:
    try:
        size = path.stat().st_size
    except OSError:
        size = -1
    why = "empty file (0 bytes)" if size == 0 else "no rows (a header, an empty array or blank lines only)"
    summary.empty += 1
    summary.problems.append(f"{origin}: {why}")
    with session_factory() as session:
        audit(session, "ingest", "file_empty", "feed", source, feed=feed, file=origin, reason=why)
