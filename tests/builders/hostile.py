"""A hostile feed corpus: thousands of rows each broken (or merely strange) in one known way, mixed with good rows,
and every kind of broken file, laid out as three drop folders, with what the ingest must make of each file.

Deterministic for a seed. Every row is unique (its id or a counter is in it), so each quarantined row is its own
quarantine record and the counts can be checked against the database. A row is one of:

* good: plain, or hostile content that is still valid data (formula-like, markup-like, bidi controls, emoji and
  CJK, quotes and newlines), which must be stored as it came;
* bad, with the field the quarantine record must name: a NUL character, a lone surrogate, a byte that is not UTF-8,
  a value longer than its column, an empty required field, a wrong type, an unknown choice, impossible times, a
  row that is not an object, not JSON or has too many fields;
* a duplicate (the same row again) or a reused id with different content (quarantined, the first kept).

Files: CSV, JSON Lines and JSON arrays of such rows for each feed, and the broken kinds: binary, broken JSON, a JSON
object, another feed's file, a header that is not UTF-8, an unreadable file, zero bytes, a header only, an empty
array, a JSON Lines file with a lone surrogate.
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from missing_episodes.feeds import MESSAGE_ID_LENGTH, NOTIFICATION_FIELDS

#: Stands for a byte that is not UTF-8 until the row is encoded (a private-use character no row holds otherwise).
BAD_BYTE = "\ue000"
#: A lone surrogate, written into JSON as the escape ``\ud800``.
SURROGATE = "\ud800"
OUTCOME_FIELDS = ("event_id", "recorded_at", "child_id", "incident_ref", "event", "by", "rationale", "notes", "who")
REGISTER_FIELDS = ("child_id", "first_name", "last_name", "date_of_birth", "legal_status", "uasc", "placement",
                   "placement_distance_miles", "phone")  # fmt: skip

#: Valid values a person could take for a command or markup; stored as they came.
STRANGE = [
    '=HYPERLINK("http://evil.example","click")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)", "[/bold]",
    "[red]x[/red]", "<script>alert(1)</script>", "{{ 7*7 }}", "{% raw %}", "\u202eevil\u202c", "\u200fRTL",
    "李小龙 🙂", "Zoë O'Brien-Ñúñez", 'quote " and, comma', "line\nbreak", "\t tabbed \t", "'; DROP TABLE child;--",
]  # fmt: skip


@dataclass
class Expected:
    """What the ingest must make of one file."""

    name: str
    feed: str
    read: int = 0
    new: int = 0
    duplicate: int = 0
    quarantined: int = 0
    fields: dict[int, str] = field(default_factory=dict)  # row number -> the field its quarantine record names
    stored: set[str] = field(default_factory=set)  # message (or child) ids that must be stored
    refused: bool = False
    empty: bool = False
    hostile: int = 0  # rows that are bad, duplicated, reused or strange

    def row(self, number: int, outcome: str, field_: str | None = None, stored_id: str | None = None) -> None:
        self.read += 1
        if outcome == "new":
            self.new += 1
            self.stored.add(stored_id)  # type: ignore[arg-type]
        elif outcome == "duplicate":
            self.duplicate += 1
        else:
            self.quarantined += 1
            self.fields[number] = field_  # type: ignore[assignment]


@dataclass
class Corpus:
    sources_file: Path
    inboxes: dict[str, Path]
    files: dict[str, Expected]

    @property
    def hostile_rows(self) -> int:
        return sum(e.hostile for e in self.files.values())


Row = dict[str, Any]
#: A way to break a row: it changes the row and gives the field the quarantine must name (None: still valid).
Breaker = Callable[[Row, random.Random], str | None]


def _notification(n: int, prefix: str) -> Row:
    row = dict.fromkeys(NOTIFICATION_FIELDS, "")
    day = 1 + n % 27
    row.update(
        notification_id=f"{prefix}-{n}", sent_at=f"2026-05-{day:02d}T10:{n % 60:02d}:00", event="missing",
        incident_ref=f"{prefix}-INC-{n}", child_id=f"{prefix}-P{n}", first_name="Amy", last_name=f"Stone{n}",
        date_of_birth="2011-05-01", last_seen_at=f"2026-05-{day:02d}T09:00:00", risk_level="medium",
        force_division="North",
    )  # fmt: skip
    return row


def _set(name: str, value: Any) -> Breaker:
    def breaker(row: Row, rng: random.Random) -> str:
        row[name] = value
        return name

    return breaker


def _strange(row: Row, rng: random.Random) -> None:
    for name in ("first_name", "last_seen_location", "notes", "clothing"):
        row[name] = rng.choice(STRANGE)
    if rng.random() < 0.3:
        row["child_id"] = rng.choice(STRANGE[:5])[:60] + row["child_id"][-4:]
    return None


def _found_before_seen(row: Row, rng: random.Random) -> str:
    row.update(event="found", found_at="2026-05-01T08:00:00", last_seen_at="2026-05-01T09:00:00")
    return "found_at"


def _longer(name: str, extra: int) -> Breaker:
    """The field made ``extra`` characters longer than it was (still unique: its start is the row's own)."""

    def breaker(row: Row, rng: random.Random) -> str:
        row[name] = row[name] + name[0].upper() * extra
        return name

    return breaker


def _no_identity(row: Row, rng: random.Random) -> str:
    row.update(child_id="", first_name="", last_name="")
    return "child_id"


def _id_a_number(row: Row, rng: random.Random) -> str:
    row["notification_id"] = rng.randint(1, 10**12)
    return "notification_id"


def _unrequired_without_rationale(row: Row, rng: random.Random) -> str:
    row["event"] = "strategy_meeting_not_required"
    return "rationale"


def _named_too_long(row: Row, rng: random.Random) -> str:
    row["first_name"] = "F" * rng.choice([201, 5004])
    return "first_name"


#: Breakers any file can hold (CSV and JSON alike), with the field each must be quarantined under.
NOTIFICATION_BREAKERS: dict[str, Breaker] = {
    "nul in a name": _set("first_name", "A\x00my"),
    "nul in notes": _set("notes", "seen at\x00 the park"),
    "nul in an extra column": _set("force_division", "No\x00rth"),
    "bad byte in a name": _set("first_name", f"Zo{BAD_BYTE}e"),
    "bad byte in notes": _set("notes", f"caf{BAD_BYTE} by the station"),
    "id too long": _longer("notification_id", MESSAGE_ID_LENGTH),
    "incident too long": _longer("incident_ref", 150),
    "child id too long": _longer("child_id", 65),
    "name too long": _named_too_long,
    "authority too long": _set("responsible_authority", "A" * 201),
    "empty incident": _set("incident_ref", ""),
    "empty time": _set("sent_at", "  "),
    "unknown event": _set("event", "lost"),
    "bad time": _set("sent_at", "yesterday evening"),
    "spring gap time": _set("sent_at", "2026-03-29T01:30:00"),
    "impossible birth date": _set("date_of_birth", "2011-02-31"),
    "unknown risk": _set("risk_level", "extreme"),
    "found before last seen": _found_before_seen,
    "no identity": _no_identity,
}
#: Only JSON can say these.
JSON_BREAKERS: dict[str, Breaker] = {
    "lone surrogate in a name": _set("first_name", f"A{SURROGATE}my"),
    "lone surrogate in notes": _set("notes", f"x{SURROGATE}"),
    "id a number": _id_a_number,
    "time a boolean": _set("sent_at", True),
    "event a list": _set("event", ["missing"]),
    "name an object": _set("first_name", {"first": "Amy"}),
}


def _encode_line(text: str) -> bytes:
    return text.encode("utf-8").replace(BAD_BYTE.encode("utf-8"), b"\xff")


def _json_text(row: Row) -> str:
    """JSON with non-ASCII written as itself; a lone surrogate (which UTF-8 cannot hold) as its escape."""
    text = json.dumps(row, ensure_ascii=False)
    return text.replace(SURROGATE, "\\ud800")


class _FileBuilder:
    """Rows of one notification file: each row good, strange, broken, a duplicate or a reused id."""

    def __init__(self, name: str, rng: random.Random, json_rows: bool) -> None:
        self.expected = Expected(name, "notifications")
        self.rng, self.json_rows = rng, json_rows
        self.prefix = name.split(".")[0]
        self.good: list[Row] = []
        self.rows: list[Row | str] = []  # a str is a raw line (JSON Lines only)
        self.counter = 0

    def add(self) -> None:
        rng, number = self.rng, len(self.rows) + 1
        self.counter += 1
        row = _notification(self.counter, self.prefix)
        roll = rng.random()
        if roll < 0.30 or not self.good:
            self.rows.append(row)
            self.good.append(row)
            self.expected.row(number, "new", stored_id=row["notification_id"])
            return
        self.expected.hostile += 1
        if roll < 0.40:
            _strange(row, rng)
            self.rows.append(row)
            self.good.append(row)
            self.expected.row(number, "new", stored_id=row["notification_id"])
        elif roll < 0.45:
            self.rows.append(dict(rng.choice(self.good)))
            self.expected.row(number, "duplicate")
        elif roll < 0.50:
            reused = dict(rng.choice(self.good), notes=f"changed {self.counter}")
            self.rows.append(reused)
            self.expected.row(number, "quarantined", "notification_id")
        elif self.json_rows and roll < 0.60:
            self._json_only(row, number)
        else:
            breakers = {**NOTIFICATION_BREAKERS, **(JSON_BREAKERS if self.json_rows else {})}
            name = rng.choice(sorted(breakers))
            self.rows.append(row)
            self.expected.row(number, "quarantined", breakers[name](row, rng))

    def _json_only(self, row: Row, number: int) -> None:
        choice = self.rng.randrange(4)
        if choice == 0:
            self.rows.append(json.dumps(row)[:-5] + "\n")  # cut short: not JSON
        elif choice == 1:
            self.rows.append(json.dumps([row["notification_id"], 1]))  # not an object
        elif choice == 2:
            self.rows.append(json.dumps({"_n": self.counter}))  # no fields at all
            self.expected.row(number, "quarantined", "notification_id")
            return
        else:
            self.rows.append(_json_text(row)[:-1] + f', "x{BAD_BYTE}": 1' + "}")  # a bad byte in a key
            self.expected.row(number, "quarantined", "x\\xff")
            return
        self.expected.row(number, "quarantined", "row")

    def csv_bytes(self) -> bytes:
        columns = [*NOTIFICATION_FIELDS, "force_division"]
        out = io.StringIO(newline="")
        writer = csv.writer(out, lineterminator="\r\n" if self.rng.random() < 0.5 else "\n")
        writer.writerow(columns)
        for row in self.rows:
            if isinstance(row, str):
                out.write(row + "\n")
            else:
                writer.writerow([row.get(name, "") for name in columns])
        return _encode_line(out.getvalue())

    def jsonl_bytes(self) -> bytes:
        lines = [row.rstrip("\n") if isinstance(row, str) else _json_text(row) for row in self.rows]
        return _encode_line("\n".join(lines) + "\n")


def _csv_extras(builder: _FileBuilder) -> None:
    """The CSV-only row kinds: a row of empty fields, and one with more fields than the header."""
    builder.rows.append(dict.fromkeys(NOTIFICATION_FIELDS, ""))
    builder.expected.row(len(builder.rows), "quarantined", "notification_id")
    builder.rows.append(",".join(["X-extra", *["x"] * (len(NOTIFICATION_FIELDS) + 2)]))
    builder.expected.row(len(builder.rows), "quarantined", "row")
    builder.expected.hostile += 2


def _outcomes(name: str, count: int, rng: random.Random) -> tuple[bytes, Expected]:
    expected = Expected(name, "outcomes")
    rows: list[Row] = []
    breakers: dict[str, Breaker] = {
        "unknown event": _set("event", "tea_drunk"),
        "no rationale": _unrequired_without_rationale,
        "nul in notes": _set("notes", "\x00"),
        "event too long": _set("event", "e" * 65),
        "who too long": _set("who", "W" * 201),
        "child id too long": _set("child_id", "C" * 65),
        "bad byte in notes": _set("notes", f"caf{BAD_BYTE}"),
        "bad time": _set("recorded_at", "2026-13-01T10:00"),
    }
    def outcome(n: int) -> Row:
        return {"event_id": f"{name}-E{n}", "recorded_at": f"2026-05-{1 + n % 27:02d}T12:00:00",
                "child_id": f"{name}-P{n % 50}", "incident_ref": "", "event": "contact_made", "by": "Alex",
                "rationale": "", "notes": rng.choice(STRANGE), "who": "Carer"}  # fmt: skip

    _mix(count, rng, outcome, "event_id", lambda good, n: dict(good, notes=f"changed {n}"), breakers, rows,
         expected)
    return _csv_of(OUTCOME_FIELDS, rows), expected


def _register(name: str, count: int, rng: random.Random) -> tuple[bytes, Expected]:
    expected = Expected(name, "children")
    rows: list[Row] = []
    breakers: dict[str, Breaker] = {
        "phone too long": _set("phone", "0" * 65),
        "placement too long": _set("placement", "H" * 501),
        "uasc maybe": _set("uasc", "maybe"),
        "distance nan": _set("placement_distance_miles", "nan"),
        "distance words": _set("placement_distance_miles", "far"),
        "unknown status": _set("legal_status", "alien"),
        "nul in placement": _set("placement", "Home\x00"),
        "bad byte in a name": _set("last_name", f"Pe{BAD_BYTE}a"),
    }
    def child(n: int) -> Row:
        return {"child_id": f"{name}-C{n}", "first_name": rng.choice(STRANGE[:12]), "last_name": f"Stone{n}",
                "date_of_birth": "2010-01-01", "legal_status": "looked_after", "uasc": "no",
                "placement": "Home A", "placement_distance_miles": "3.5", "phone": "07700 900000"}  # fmt: skip

    _mix(count, rng, child, "child_id", lambda good, n: dict(good, placement=f"Home {n}"), breakers, rows,
         expected)
    return _csv_of(REGISTER_FIELDS, rows), expected


def _mix(count: int, rng: random.Random, make: Callable[[int], Row], id_field: str,
         changed: Callable[[Row, int], Row], breakers: dict[str, Breaker], rows: list[Row],
         expected: Expected) -> None:
    """``count`` rows of one feed: 40% good; of the rest a tenth repeat a good row (duplicates), a tenth reuse a good
    row's id with other content (quarantined on the id), and the others are broken by one of ``breakers``."""
    good: list[Row] = []
    for n in range(1, count + 1):
        row = make(n)
        roll = rng.random()
        if roll < 0.4 or not good:
            good.append(row)
            rows.append(row)
            expected.row(n, "new", stored_id=row[id_field])
            continue
        expected.hostile += 1
        if roll < 0.5:
            rows.append(dict(rng.choice(good)))
            expected.row(n, "duplicate")
        elif roll < 0.6:
            rows.append(changed(rng.choice(good), n))
            expected.row(n, "quarantined", id_field)
        else:
            key = rng.choice(sorted(breakers))
            rows.append(row)
            expected.row(n, "quarantined", breakers[key](row, rng))


def _csv_of(columns: tuple[str, ...], rows: list[Row]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return _encode_line(out.getvalue())


def build_corpus(folder: Path, notifications: int = 13_000, seed: int = 16) -> Corpus:
    """Write the corpus under ``folder`` (a sources file and three drop folders) and say what each file must give.

    ``notifications`` rows are split over a CSV, a JSON Lines and a JSON array file; the outcomes and register
    files are a tenth of that each.
    """
    rng = random.Random(seed)
    inboxes = {feed: folder / feed / "inbox" for feed in ("children", "notifications", "outcomes")}
    for inbox in inboxes.values():
        inbox.mkdir(parents=True)
    files: dict[str, Expected] = {}

    def put(feed: str, name: str, data: bytes, expected: Expected | None = None) -> None:
        (inboxes[feed] / name).write_bytes(data)
        files[name] = expected or Expected(name, feed)

    shares = {"hostile-a.csv": 0.45, "hostile-b.jsonl": 0.45, "hostile-c.json": 0.10}
    for name, share in shares.items():
        builder = _FileBuilder(name, rng, json_rows=not name.endswith(".csv"))
        for _ in range(int(notifications * share)):
            builder.add()
        if name.endswith(".csv"):
            _csv_extras(builder)
            put("notifications", name, builder.csv_bytes(), builder.expected)
        elif name.endswith(".jsonl"):
            put("notifications", name, builder.jsonl_bytes(), builder.expected)
        else:
            rows = [row for row in builder.rows if not isinstance(row, str)]
            kept = Expected(name, "notifications")
            _rebuild_expected(builder.expected, kept, builder.rows)
            text = "[" + ",\n".join(_json_text(row) for row in rows) + "]"
            put("notifications", name, _encode_line(text), kept)
    surrogate = _FileBuilder("surrogate.jsonl", rng, json_rows=False)
    for _ in range(20):
        surrogate.add()
    surrogate.rows.append(dict(_notification(999, "surrogate"), first_name=f"A{SURROGATE}my"))
    surrogate.expected.row(len(surrogate.rows), "quarantined", "first_name")
    put("notifications", "surrogate.jsonl", surrogate.jsonl_bytes(), surrogate.expected)

    data, expected = _outcomes("hostile-outcomes.csv", notifications // 10, rng)
    put("outcomes", "hostile-outcomes.csv", data, expected)
    data, expected = _register("hostile-register.csv", notifications // 10, rng)
    put("children", "hostile-register.csv", data, expected)

    # Broken files: refused whole (to failed/) or without rows (archived, reported).
    refused = {
        "binary.csv": bytes(rng.randrange(256) for _ in range(50_000)),
        "broken.json": b'[{"notification_id": "X1", "sent_at": ',
        "object.json": b'{"notification_id": "X1"}',
        "misfiled-outcomes.csv": _outcomes("misfiled", 30, rng)[0],
        "bad-header.csv": _encode_line(f"notification_id,sent_at,ev{BAD_BYTE}nt,incident_ref\nX1,2026-05-01,a,b\n"),
    }
    for name, data in refused.items():
        put("notifications", name, data, Expected(name, "notifications", refused=True))
    if Path("/proc/self/mem").exists():  # a file whose bytes cannot be read: an I/O error at the first read
        (inboxes["notifications"] / "unreadable.csv").symlink_to("/proc/self/mem")
        files["unreadable.csv"] = Expected("unreadable.csv", "notifications", refused=True)
    header = ",".join(NOTIFICATION_FIELDS).encode() + b"\n"
    for name, data in {"zero.csv": b"", "header-only.csv": header, "empty.json": b"[]", "blank.jsonl": b"\n\n"}.items():
        put("notifications", name, data, Expected(name, "notifications", empty=True))

    sources = folder / "sources.yaml"
    lines = ["sources:"]
    for feed, source in (("children", "register"), ("notifications", "police"), ("outcomes", "case-management")):
        lines.append(f"  - {{name: {source}, feed: {feed}, type: folder, inbox: {feed}/inbox, "
                     f"archive: {feed}/archive, failed: {feed}/failed}}")  # fmt: skip
    sources.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Corpus(sources, inboxes, files)


def _rebuild_expected(source: Expected, target: Expected, rows: list[Row | str]) -> None:
    """A JSON array holds objects only: the raw-line rows are left out and the rest renumbered."""
    number = 0
    for old, row in enumerate(rows, start=1):
        if isinstance(row, str):
            continue
        number += 1
        target.read += 1
        if old in source.fields:
            target.quarantined += 1
            target.fields[number] = source.fields[old]
        elif row.get("notification_id") in source.stored and row["notification_id"] not in target.stored:
            target.new += 1
            target.stored.add(row["notification_id"])
        else:
            target.duplicate += 1
    target.hostile = source.hostile - sum(isinstance(row, str) for row in rows)
