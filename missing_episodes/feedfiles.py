"""Feed files (CSV, JSON array, JSON Lines) read into raw rows: one bad byte, line or value affects its row only.

A file is read as bytes and decoded a line at a time, so a byte that is not UTF-8 makes its own row a problem
("not valid UTF-8 at byte N", N counted from 0 at the start of the file) and every other row is read as usual;
``read = stored + duplicates + quarantined`` holds for every file. A file is refused as a whole (one
``BrokenFile``, which a drop folder moves to its ``failed`` folder) only when it cannot be a feed file at all: it
cannot be read (an I/O error), it is not text (NUL bytes or bytes that are not UTF-8 throughout its start), its CSV
header is not valid text or is another feed's, it is a JSON file that does not parse or holds no array, or its
suffix is unknown. Nothing here judges a row's values: validation and quarantine are the ingest's job.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO

from missing_episodes.db.models import Notification, Quarantine
from missing_episodes.feeds import ROW, column_length, printable
from missing_episodes.sources import FILE_SUFFIXES, BrokenFile, RawRow, _json_row

#: A check of a file's columns (a CSV header, or a JSON file's first object's keys, ``from_header`` False): the
#: reason the file is not of the feed asked for, or None (``feeds.columns_problem`` with the kind bound).
ColumnsCheck = Callable[[Iterable[str], bool], str | None]

#: How much of a file's start is looked at to tell text from binary.
SNIFF_BYTES = 8192
#: A file whose start has more than this share (and more than ``BINARY_BYTES``) of NUL bytes or bytes that are
#: not UTF-8 is not text; fewer are a few bad values, quarantined row by row.
BINARY_SHARE = 0.05
BINARY_BYTES = 16
#: How much of a refused file's text is kept with its quarantine record (the file itself is kept whole).
RAW_KEPT = 100_000
#: The longest file name kept as a row's origin: room for " row N" in ``Notification.origin``.
ORIGIN_LENGTH = column_length(Notification.origin, Quarantine.origin) - 20


def read_file(path: Path, check: ColumnsCheck | None = None) -> Iterator[RawRow | BrokenFile]:
    """Rows of one feed file, by its suffix. Never raises for bad content or an unreadable file: a file that cannot
    be used at all yields one ``BrokenFile`` (after the rows read before an I/O error, if any).

    CSV and JSON Lines are streamed (a million-row file is never in memory whole); a JSON array is read whole.
    """
    origin = file_origin(path)
    suffix = path.suffix.lower()
    try:
        if suffix not in FILE_SUFFIXES:
            expected = ", ".join(FILE_SUFFIXES)
            yield refused(path, origin, f"unknown file type {printable(suffix)!r} (expected one of {expected})")
            return
        if (reason := _not_text(path)) is not None:
            yield refused(path, origin, reason)
            return
        if suffix == ".json":
            yield from _read_json_array(path, origin, check)
            return
        with path.open("rb") as handle:
            lines = _Lines(handle)
            if suffix == ".csv":
                yield from _read_csv(lines, path, origin, check)
            else:
                yield from _read_json_lines(lines, path, origin, check)
    except OSError as exc:
        yield refused(path, origin, f"the file cannot be read ({type(exc).__name__}: {exc.strerror or 'no detail'})")


def file_origin(path: Path) -> str:
    """Where a person finds a file's rows: its name, escaped where it is not UTF-8 and cut to fit every origin
    column (``Notification.origin`` adds " row N")."""
    return printable(path.name)[:ORIGIN_LENGTH]


def refused(path: Path, origin: str, reason: str) -> BrokenFile:
    """A refused file: the reason, the start of its text escaped for storage, and the hash of all its bytes (the
    quarantine key, so the same file refused again adds no record)."""
    digest = hashlib.sha256()
    raw = ""
    try:
        with path.open("rb") as handle:
            head = handle.read(RAW_KEPT)
            raw = printable(head.decode("utf-8", "surrogateescape"))
            digest.update(head)
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        digest.update(f"{origin}|{reason}".encode())
    return BrokenFile(origin, printable(reason), raw, digest.hexdigest())


def _not_text(path: Path) -> str | None:
    """Why the file's start is not text (too many NUL bytes or bytes that are not UTF-8), or None."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if not head:
        return None
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "UTF-16 text, not UTF-8 (save or export the file as UTF-8)"
    decoded = head.decode("utf-8", "surrogateescape")
    bad = decoded.count("\x00") + sum(1 for ch in decoded if "\udc80" <= ch <= "\udcff")
    if bad > max(BINARY_SHARE * len(head), BINARY_BYTES):
        return f"not a text file: {bad} of its first {len(head)} bytes are NUL or not UTF-8"
    return None


class _Lines:
    """A file's lines decoded one at a time, and for the lines read since the last ``take``, their text and the
    offset of their first byte that is not UTF-8.

    A bad line is decoded with ``surrogateescape`` (each bad byte becomes one character U+DC80..U+DCFF), so the
    CSV or JSON reader still splits it and the row's raw text can be kept, escaped, for a person.
    """

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.bad_at: int | None = None
        self.since: list[str] = []

    def __iter__(self) -> Iterator[str]:
        offset = 0
        for number, raw in enumerate(self.handle, start=1):
            skip = len(codecs.BOM_UTF8) if number == 1 and raw.startswith(codecs.BOM_UTF8) else 0
            try:
                text = raw[skip:].decode("utf-8") if skip else raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                if self.bad_at is None:
                    self.bad_at = offset + skip + exc.start
                text = raw[skip:].decode("utf-8", "surrogateescape")
            offset += len(raw)
            self.since.append(text)
            yield text

    def take(self) -> tuple[int | None, str]:
        """The first bad byte's offset (None when all were UTF-8) and the text of the lines read since last asked."""
        bad_at, text = self.bad_at, "".join(self.since)
        self.bad_at, self.since = None, []
        return bad_at, text


def _read_csv(lines: _Lines, path: Path, origin: str, check: ColumnsCheck | None) -> Iterator[RawRow | BrokenFile]:
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        yield refused(path, origin, f"unreadable CSV header: {exc}")
        return
    if (at := lines.take()[0]) is not None:
        yield refused(path, origin, f"the header is not valid UTF-8 at byte {at}")
        return
    header = [name.strip() for name in header]
    if any("\x00" in name for name in header):
        yield refused(path, origin, "the header holds a NUL character")
        return
    if check is not None and (reason := check(header, True)):
        yield refused(path, origin, reason)
        return
    number = 0
    while True:
        number += 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield RawRow(origin, number, {"_raw": lines.take()[1]}, problem=f"unreadable CSV row: {exc}")
            continue
        bad_at = lines.take()[0]
        if not values or values == [""]:
            continue
        row = dict(zip(header, values, strict=False))
        if bad_at is not None:
            extra = {f"column {n}": v for n, v in enumerate(values[len(header):], start=len(header) + 1)}
            yield _not_utf8(RawRow(origin, number, {**row, **extra}), f"not valid UTF-8 at byte {bad_at}")
        elif len(values) != len(header):
            yield RawRow(origin, number, row, f"row has {len(values)} fields, the header has {len(header)}")
        else:
            yield RawRow(origin, number, row)


def _read_json_lines(
    lines: _Lines, path: Path, origin: str, check: ColumnsCheck | None
) -> Iterator[RawRow | BrokenFile]:
    checked = check is None
    for number, line in enumerate(lines, start=1):
        bad_at = lines.take()[0]
        if not line.strip():
            continue
        not_utf8 = f"not valid UTF-8 at byte {bad_at}" if bad_at is not None else None
        try:
            item = json.loads(line)
        except (ValueError, RecursionError) as exc:
            problem = not_utf8 or f"not valid JSON: {_json_error(exc)}"
            yield RawRow(origin, number, {"_raw": line.rstrip("\r\n")}, problem=problem)
            continue
        if not checked and isinstance(item, dict):
            checked = True
            if reason := check(item.keys(), False):  # type: ignore[misc]
                yield refused(path, origin, reason)
                return
        row = _json_row(origin, number, item)
        yield _not_utf8(row, not_utf8) if not_utf8 and row.problem is None else row


def _read_json_array(path: Path, origin: str, check: ColumnsCheck | None) -> Iterator[RawRow | BrokenFile]:
    data = path.read_bytes().removeprefix(codecs.BOM_UTF8)
    try:
        text, clean = data.decode("utf-8"), True
    except UnicodeDecodeError:
        text, clean = data.decode("utf-8", "surrogateescape"), False
    try:
        parsed: Any = json.loads(text)
    except (ValueError, RecursionError) as exc:
        yield refused(path, origin, f"not valid JSON: {_json_error(exc)}")
        return
    if isinstance(parsed, dict) and isinstance(parsed.get("items"), list):
        parsed = parsed["items"]
    if not isinstance(parsed, list):
        yield refused(path, origin, "a JSON feed file must hold an array of objects")
        return
    first = next((item for item in parsed if isinstance(item, dict)), None)
    if check is not None and first is not None and (reason := check(first.keys(), False)):
        yield refused(path, origin, reason)
        return
    for number, item in enumerate(parsed, start=1):
        row = _json_row(origin, number, item)
        if not clean and row.problem is None and _escaped_field(row.data) is not None:
            row = _not_utf8(row, "not valid UTF-8")
        yield row


def _json_error(exc: BaseException) -> str:
    """A JSON error's own words (position, not content); a nesting too deep for the parser said so."""
    return "nested too deeply" if isinstance(exc, RecursionError) else str(exc)


def _not_utf8(row: RawRow, reason: str) -> RawRow:
    """The row marked as not UTF-8, naming the column that holds the bad byte when one does."""
    return replace(row, problem=reason, problem_field=_escaped_field(row.data) or ROW)


def _escaped_field(data: dict[str, Any]) -> str | None:
    """The first key whose name or value holds a byte that was not UTF-8 (a ``surrogateescape`` character)."""
    for key, value in data.items():
        if _has_escape(key) or (isinstance(value, str) and _has_escape(value)):
            return printable(key)
    return None


def _has_escape(text: str) -> bool:
    return not text.isascii() and any("\udc80" <= ch <= "\udcff" for ch in text)


#: The three feeds of a region's folder, in the order they are loaded (``missing-episodes generate`` writes these).
REGION_FILES = {"children": "children.csv", "notifications": "notifications.csv", "outcomes": "outcomes.csv"}


def region_files(folder: Path) -> dict[str, Path]:
    """The feed files of a region's folder, by kind; a missing one is named in the error."""
    files = {kind: Path(folder) / name for kind, name in REGION_FILES.items()}
    missing = [path.name for path in files.values() if not path.is_file()]
    if missing:
        raise FileNotFoundError(f"{folder} has no {', '.join(missing)} (a region folder holds "
                                f"{', '.join(REGION_FILES.values())})")
    return files
