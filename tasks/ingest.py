"""Tasks that bring feeds in."""

from __future__ import annotations

from pathlib import Path

from prefect import task

from missing_episodes import service
from missing_episodes.sources import FolderSource, HttpSource
from tasks.privacy import ids_only_errors


@task(name="ensure-schema")
@ids_only_errors
def ensure_schema() -> None:
    service.ensure_schema()


@task(name="ingest-file", task_run_name="ingest-{kind}-{path.name}")
@ids_only_errors
def ingest_file(kind: str, path: Path, source: str) -> dict[str, object]:
    """One file, chunk by chunk. Not retried as a whole: chunks already stored would only be skipped."""
    return service.summary_dict(service.ingest_path(kind, path, source))


@task(name="archive-file")
@ids_only_errors
def archive_file(source: FolderSource, path: Path) -> str:
    return str(source.archive_file(path))


@task(name="poll-http-feed", task_run_name="poll-{source.name}", retries=3, retry_delay_seconds=[10, 60, 300],
      timeout_seconds=600)
@ids_only_errors
def poll_http_feed(source: HttpSource) -> dict[str, object]:
    """HTTP feeds fail transiently: retried with back-off (and each request retries inside, see sources)."""
    return service.summary_dict(service.ingest_http_source(source))
