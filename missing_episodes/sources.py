"""Where feeds come from: files in a drop folder (CSV, JSON array, JSON Lines) and an HTTP JSON endpoint
(configured here, polled by ``missing_episodes.http_feed``).

Readers yield raw rows with their origin and row number and never judge them: validation and quarantine are the
ingest's job. A file that cannot be read at all yields one ``BrokenFile`` so the whole file is quarantined, named.
Sources are configured in a YAML file (``MISSING_EPISODES_SOURCES``), not in code.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterable, Iterator
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


@dataclass(frozen=True)
class BrokenFile:
    origin: str
    reason: str
    raw: str


def read_file(path: Path) -> Iterator[RawRow | BrokenFile]:
    """Rows of one feed file, by its suffix. Never raises for bad content: it yields ``BrokenFile``.

    CSV and JSON Lines are streamed (a million-row file is never in memory whole); a JSON array is read whole.
    """
    origin = path.name
    suffix = path.suffix.lower()
    if suffix in (".csv", ".jsonl", ".ndjson"):
        yield from _stream(path, origin, _read_csv if suffix == ".csv" else _read_json_lines)
        return
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        yield BrokenFile(origin, f"not UTF-8 text: {exc}", path.read_bytes()[:100_000].decode("latin-1"))
        return
    if suffix == ".json":
        yield from _read_json_array(text, origin)
    elif suffix in (".jsonl", ".ndjson"):
        yield from _read_json_lines(text, origin)
    else:
        yield BrokenFile(origin, f"unknown file type {suffix!r} (expected one of {', '.join(FILE_SUFFIXES)})", text)


class _NotUtf8(Exception):
    def __init__(self, line: int, error: UnicodeDecodeError) -> None:
        super().__init__(f"line {line}: {error}")
        self.line = line


def _decoded_lines(handle) -> Iterator[str]:
    """Lines decoded one at a time, so the rows before a line that is not UTF-8 are still read."""
    for number, raw in enumerate(handle, start=1):
        try:
            yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise _NotUtf8(number, exc) from None


def _stream(path: Path, origin: str, reader) -> Iterator[RawRow | BrokenFile]:
    """Rows read from the open file; from a line that is not UTF-8 on, the file is kept whole as ``BrokenFile``."""
    rows = 0
    try:
        with path.open("rb") as handle:
            for row in reader(_decoded_lines(handle), origin):
                rows += 1
                yield row
    except _NotUtf8 as exc:
        raw = path.read_bytes()[:100_000].decode("latin-1")
        yield BrokenFile(origin, f"not UTF-8 text after row {rows} (file {exc})", raw)


def _read_csv(handle: Iterable[str], origin: str) -> Iterator[RawRow | BrokenFile]:
    reader = csv.reader(handle)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        yield BrokenFile(origin, f"unreadable CSV header: {exc}", "")
        return
    header = [name.strip() for name in header]
    number = 0
    while True:
        number += 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield RawRow(origin, number, {}, problem=f"unreadable CSV row: {exc}")
            continue
        if not values or values == [""]:
            continue
        problem = None
        if len(values) != len(header):
            problem = f"row has {len(values)} fields, the header has {len(header)}"
        yield RawRow(origin, number, dict(zip(header, values, strict=False)), problem)


def _read_json_array(text: str, origin: str) -> Iterator[RawRow | BrokenFile]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        yield BrokenFile(origin, f"not valid JSON: {exc}", text[:100_000])
        return
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        data = data["items"]
    if not isinstance(data, list):
        yield BrokenFile(origin, "a JSON feed file must hold an array of objects", text[:100_000])
        return
    for number, item in enumerate(data, start=1):
        yield _json_row(origin, number, item)


def _read_json_lines(handle: Iterable[str], origin: str) -> Iterator[RawRow]:
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            yield RawRow(origin, number, {"_raw": line.rstrip("\n")}, problem=f"not valid JSON: {exc}")
            continue
        yield _json_row(origin, number, item)


def _json_row(origin: str, number: int, item: Any) -> RawRow:
    if not isinstance(item, dict):
        return RawRow(origin, number, {"_raw": json.dumps(item)}, problem="a feed item must be a JSON object")
    return RawRow(origin, number, {str(k): v for k, v in item.items()})


# --- configured sources ---------------------------------------------------------------------------------------


class FolderSource(BaseModel):
    """A drop folder: files arrive in ``inbox``; each processed file is moved to ``archive``, never deleted."""

    model_config = ConfigDict(extra="forbid")
    name: str
    feed: Literal["notifications", "outcomes", "children"]
    type: Literal["folder"]
    inbox: Path
    archive: Path

    def pending(self) -> list[Path]:
        if not self.inbox.is_dir():
            return []
        return sorted(p for p in self.inbox.iterdir() if p.is_file() and p.suffix.lower() in FILE_SUFFIXES)

    def archive_file(self, path: Path) -> Path:
        """Move a processed file aside; a same-named earlier file is kept (the new one gets a suffix)."""
        self.archive.mkdir(parents=True, exist_ok=True)
        target = self.archive / path.name
        counter = 1
        while target.exists():
            target = self.archive / f"{path.stem}.{counter}{path.suffix}"
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
    return sources
