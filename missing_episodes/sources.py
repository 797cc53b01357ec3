"""Where feeds come from: files in a drop folder (CSV, JSON array, JSON Lines; read by ``feedfiles``) and an HTTP
JSON endpoint.

Readers yield raw rows with their origin and row number and never judge them: validation and quarantine are the
ingest's job. A file that cannot be read at all yields one ``BrokenFile``: the file is refused as a whole, named,
and a drop folder moves it to its ``failed`` folder. Sources are configured in a YAML file
(``MISSING_EPISODES_SOURCES``), not in code.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx
import yaml
from pydantic import BaseModel, ConfigDict

FILE_SUFFIXES = (".csv", ".json", ".jsonl", ".ndjson")


@dataclass(frozen=True)
class RawRow:
    origin: str  # file name or URL: where a person finds the row
    row_number: int  # 1-based data row (a CSV's header is row 0)
    data: dict[str, Any]
    problem: str | None = None  # a row the reader could already tell is malformed
    problem_field: str = "row"  # the column at fault, when the reader can tell ("row": the row as a whole)


@dataclass(frozen=True)
class BrokenFile:
    """A file refused as a whole: why, the start of its text for a person (escaped), and its content's hash."""

    origin: str
    reason: str
    raw: str
    digest: str = ""


def _json_row(origin: str, number: int, item: Any) -> RawRow:
    if not isinstance(item, dict):
        return RawRow(origin, number, {"_raw": json.dumps(item)}, problem="a feed item must be a JSON object")
    return RawRow(origin, number, {str(k): v for k, v in item.items()})


# --- configured sources ---------------------------------------------------------------------------------------


class FolderSource(BaseModel):
    """A drop folder: files arrive in ``inbox``; each processed file is moved to ``archive``, never deleted.

    A file that cannot be used at all (unreadable, not text, another feed's file) goes to ``failed`` instead,
    with a note of why beside it, so the next poll does not meet it again and a person finds it in one place;
    by default a folder ``failed`` beside the archive.
    """

    model_config = ConfigDict(extra="forbid")
    name: str
    feed: Literal["notifications", "outcomes", "children"]
    type: Literal["folder"]
    inbox: Path
    archive: Path
    failed: Path | None = None

    @property
    def failed_folder(self) -> Path:
        return self.failed or self.archive.parent / "failed"

    def pending(self) -> list[Path]:
        if not self.inbox.is_dir():
            return []
        return sorted(p for p in self.inbox.iterdir() if p.is_file() and p.suffix.lower() in FILE_SUFFIXES)

    def archive_file(self, path: Path) -> Path:
        """Move a processed file aside; a same-named earlier file is kept (the new one gets a suffix)."""
        return _move_into(self.archive, path)

    def fail_file(self, path: Path, reason: str) -> Path:
        """Move a refused file to the failed folder and write why beside it (``<name>.reason.txt``)."""
        target = _move_into(self.failed_folder, path)
        target.with_name(f"{target.name}.reason.txt").write_text(reason + "\n", encoding="utf-8")
        return target


def _move_into(folder: Path, path: Path) -> Path:
    """Move ``path`` into ``folder``, never over an earlier file of the same name (the new one gets a suffix)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    counter = 1
    while target.exists():
        target = folder / f"{path.stem}.{counter}{path.suffix}"
        counter += 1
    shutil.move(str(path), target)
    return target


class HttpSource(BaseModel):
    """An HTTP JSON endpoint read with a since-cursor and paging.

    The endpoint answers ``GET url?since=CURSOR`` with ``{"items": [...], "next": "CURSOR or null",
    "cursor": "CURSOR"}``: ``next`` asks for another page, ``cursor`` is where the next poll starts.
    """

    model_config = ConfigDict(extra="forbid")
    name: str
    feed: Literal["notifications", "outcomes", "children"]
    type: Literal["http"]
    url: str
    timeout_seconds: float = 10.0
    retries: int = 3
    backoff_seconds: float = 1.0
    max_pages: int = 1000
    headers: dict[str, str] = {}


class SourcesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sources: list[FolderSource | HttpSource]


def load_sources(path: Path) -> list[FolderSource | HttpSource]:
    """Read the configured sources; relative folders are taken from the file's own folder."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {"sources": []}
    sources = SourcesFile.model_validate(data).sources
    for source in sources:
        if isinstance(source, FolderSource):
            source.inbox = (path.parent / source.inbox).resolve()
            source.archive = (path.parent / source.archive).resolve()
            if source.failed is not None:
                source.failed = (path.parent / source.failed).resolve()
    return sources


class FeedUnavailable(RuntimeError):
    """The endpoint did not answer usefully after every retry (the message names the source, not any data)."""


def poll_http(
    source: HttpSource, cursor: str | None, client: httpx.Client | None = None
) -> tuple[list[RawRow], str | None]:
    """All pages after ``cursor``; returns the rows and the cursor to store once they are safely ingested."""
    own_client = client is None
    client = client or httpx.Client(timeout=source.timeout_seconds, headers=source.headers)
    rows: list[RawRow] = []
    next_cursor = cursor
    try:
        page_cursor = cursor
        for page in range(1, source.max_pages + 1):
            body = _get_with_retries(client, source, page_cursor)
            items = body.get("items", [])
            for number, item in enumerate(items, start=1):
                rows.append(_json_row(f"{source.name} page {page}", number, item))
            next_cursor = body.get("cursor", next_cursor)
            page_cursor = body.get("next")
            if not page_cursor:
                break
    finally:
        if own_client:
            client.close()
    return rows, next_cursor


def _get_with_retries(client: httpx.Client, source: HttpSource, cursor: str | None) -> dict[str, Any]:
    params = {"since": cursor} if cursor else {}
    last_problem = ""
    for attempt in range(source.retries + 1):
        try:
            response = client.get(source.url, params=params, timeout=source.timeout_seconds)
            if response.status_code < 500 and response.status_code != 429:
                response.raise_for_status()
                body = response.json()
                if not isinstance(body, dict):
                    raise FeedUnavailable(f"{source.name}: the endpoint did not answer with a JSON object")
                return body
            last_problem = f"HTTP {response.status_code}"
        except (httpx.TransportError, httpx.TimeoutException) as exc:
            last_problem = type(exc).__name__
        except httpx.HTTPStatusError as exc:
            raise FeedUnavailable(f"{source.name}: HTTP {exc.response.status_code}") from None
        except ValueError:
            raise FeedUnavailable(f"{source.name}: the endpoint did not answer with JSON") from None
        if attempt < source.retries:
            time.sleep(source.backoff_seconds * 2**attempt)
    raise FeedUnavailable(f"{source.name}: no answer after {source.retries + 1} attempts ({last_problem})")
