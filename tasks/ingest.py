"""Tasks that bring feeds in: one per job of ``missing_episodes.jobs.ingest``."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from missing_episodes.jobs import ingest as jobs
from missing_episodes.sources import FolderSource, HttpSource
from tasks.privacy import private_task


@private_task(name="ensure-schema")
def ensure_schema() -> None:
    jobs.ensure_schema()


@private_task(name="defer-indexes")
def defer_indexes() -> list[str]:
    """A first load's secondary indexes dropped (only on a database without an episode); their names."""
    return jobs.defer_first_load_indexes()


@private_task(name="build-indexes")
def build_indexes() -> list[str]:
    """The indexes a first load deferred, built; their names."""
    return jobs.build_first_load_indexes()


@private_task(name="ingest-file", task_run_name="ingest-{kind}-{path.name}")
def ingest_file(kind: str, path: Path, source: str) -> dict[str, object]:
    """One file, chunk by chunk. Not retried as a whole: chunks already stored would only be skipped."""
    return asdict(jobs.ingest_path(kind, path, source))


@private_task(name="archive-file")
def archive_file(source: FolderSource, path: Path) -> str:
    return str(jobs.archive_file(source, path))


@private_task(name="fail-file")
def fail_file(source: FolderSource, path: Path, reason: str) -> str:
    return str(jobs.fail_file(source, path, reason))


@private_task(name="poll-http-feed", task_run_name="poll-{source.name}", retries=3,
              retry_delay_seconds=[10, 60, 300], timeout_seconds=600)
def poll_http_feed(source: HttpSource) -> dict[str, object]:
    """HTTP feeds fail transiently: retried with back-off (and each request retries inside, see sources)."""
    return asdict(jobs.ingest_http_source(source))
