"""Who is who, for notifications: the staff file and the on-call/EDT rota (both CSV files in ``data/``).

The staff file (``MISSING_EPISODES_STAFF``, ``data/staff.csv``) has ``name,email,role,team`` and optionally
``digest`` (``yes``: one morning digest instead of single messages, except on-call messages and forms).
Allocated workers and return-interview workers are found by the name the register or the allocation stored,
role-holders by role and team (a blank team: the holder for every team, such as the Service Manager). The rota
(``MISSING_EPISODES_ROTA``, ``data/rota.csv``) has ``from,to,name,email`` in London local time; the first row whose
period covers a moment is on call then, and a row with neither ``from`` nor ``to`` is the standing contact (the
Emergency Duty Team's mailbox) when no period covers it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from missing_episodes.clock import parse_time


class DirectoryError(ValueError):
    """A staff or rota file that cannot be used; names the file and the row, never a person's details."""


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    role: str
    team: str = ""
    # One morning digest instead of single messages (the optional ``digest`` column: yes/no).
    digest: bool = False


def _rows(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    try:
        with Path(path).open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in columns if c not in (reader.fieldnames or [])]
            if missing:
                raise DirectoryError(f"{path}: missing column(s) {', '.join(missing)}")
            return [{k: (v or "").strip() for k, v in row.items() if k} for row in reader]
    except FileNotFoundError:
        raise DirectoryError(f"{path}: file not found") from None


@dataclass(frozen=True)
class Staff:
    people: tuple[Person, ...]

    @classmethod
    def load(cls, path: Path) -> Staff:
        people = []
        for number, row in enumerate(_rows(path, ("name", "email", "role", "team")), start=2):
            if not row["name"] or "@" not in row["email"] or not row["role"]:
                raise DirectoryError(f"{path}: row {number} needs a name, an e-mail address and a role")
            digest = row.get("digest", "").lower() in ("yes", "y", "true", "1")
            people.append(Person(row["name"], row["email"].lower(), row["role"], row["team"], digest))
        return cls(tuple(people))

    def named(self, name: str | None) -> Person | None:
        """The person of that name (as the register or the allocation stored it), case and spacing folded."""
        if not name:
            return None
        wanted = " ".join(name.split()).casefold()
        return next((p for p in self.people if " ".join(p.name.split()).casefold() == wanted), None)

    def digest_addresses(self) -> set[str]:
        """The people who asked for one morning digest instead of single messages."""
        return {p.email for p in self.people if p.digest}

    def holders(self, role: str, team: str | None) -> list[Person]:
        """Who holds ``role`` for ``team``: the team's own holders, else those with no team (every team's)."""
        wanted = role.casefold()
        with_role = [p for p in self.people if p.role.casefold() == wanted]
        own = [p for p in with_role if team and p.team.casefold() == team.casefold()]
        return own or [p for p in with_role if not p.team]


@dataclass(frozen=True)
class RotaEntry:
    person: Person
    start: datetime | None
    end: datetime | None


@dataclass(frozen=True)
class Rota:
    entries: tuple[RotaEntry, ...]

    @classmethod
    def load(cls, path: Path) -> Rota:
        entries = []
        for number, row in enumerate(_rows(path, ("from", "to", "name", "email")), start=2):
            if not row["name"] or "@" not in row["email"] or bool(row["from"]) != bool(row["to"]):
                raise DirectoryError(f"{path}: row {number} needs a name, an e-mail address, and both or neither of "
                                     "from/to")
            try:
                start = parse_time(row["from"]) if row["from"] else None
                end = parse_time(row["to"]) if row["to"] else None
            except ValueError as exc:
                raise DirectoryError(f"{path}: row {number}: {exc}") from None
            if start and end and start >= end:
                raise DirectoryError(f"{path}: row {number}: 'from' must be before 'to'")
            entries.append(RotaEntry(Person(row["name"], row["email"].lower(), "On call"), start, end))
        return cls(tuple(entries))

    def on_call(self, moment: datetime) -> Person | None:
        """Who is on call at ``moment``: the first period covering it, else the standing contact, else nobody."""
        for entry in self.entries:
            if entry.start is not None and entry.end is not None and entry.start <= moment < entry.end:
                return entry.person
        return next((e.person for e in self.entries if e.start is None), None)
