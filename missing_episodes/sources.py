"""Where feeds come from: files in a drop folder (CSV, JSON array, JSON Lines; read by ``feedfiles``) and an HTTP
JSON endpoint (configured here, polled by ``missing_episodes.http_feed``).

Readers yield raw rows with their origin and row number and never judge them: validation and quarantine are the
ingest's job. A file that cannot be read at all yields one ``BrokenFile``: the file is refused as a whole, named,
and a drop folder moves it to its ``failed`` folder. Sources are configured in a YAML file
(``MISSING_EPISODES_SOURCES``), not in code.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from missing_episodes.permissions import make_private

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
    make_private(target)  # the drop folder's writer may have left it readable by everyone
    return target


class HttpSource(BaseModel):
    """An HTTP JSON endpoint read with a since-cursor and paging (``missing_episodes.http_feed`` polls it).

    The endpoint answers ``GET url?since=CURSOR`` with ``{"items": [...], "next": "CURSOR or null",
    "cursor": "CURSOR"}``: ``next`` asks for another page, ``cursor`` is where the next poll starts.
    """

    model_config = ConfigDict(extra="forbid")
    name: str
    feed: Literal["notifications", "outcomes", "children"]
    type: Literal["http"]
    url: str
    timeout_seconds: float = Field(default=10.0, gt=0, le=600)
    retries: int = Field(default=3, ge=0, le=20)
    backoff_seconds: float = Field(default=1.0, ge=0, le=600)
    #: The longest ``Retry-After`` (429/503) honoured; a longer one waits this long.
    max_retry_after_seconds: float = Field(default=120.0, ge=0, le=3600)
    max_pages: int = Field(default=1000, ge=1)
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
