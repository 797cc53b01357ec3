"""The search for personal data in Prefect's database, shared by the privacy and browser-form tests.

Every text/JSON/blob column of every table is dumped and searched for each child's full name (first + last: a short
first name alone matches unrelated words) and date of birth in the forms it could take, in clear, JSON-escaped and
SQL-quoted.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from datetime import date
from pathlib import Path

from missing_episodes.config import DATA_DIR

SAMPLE = DATA_DIR / "sample"


def personal_strings() -> set[str]:
    """Full names and DOBs of every child in the bundled register and police feed, in every likely spelling."""
    needles: set[str] = set()
    for name in ("children.csv", "notifications.csv"):
        with open(SAMPLE / name, encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                if row.get("first_name") and row.get("last_name"):
                    needles.add(f"{row['first_name']} {row['last_name']}")
                    needles.add(f"{row['last_name']}, {row['first_name']}")
                if row.get("date_of_birth"):
                    born = date.fromisoformat(row["date_of_birth"])
                    needles |= {born.isoformat(), born.strftime("%d/%m/%Y"), f"{born.day} {born:%B %Y}"}
    return spellings(needles)


def spellings(needles: set[str]) -> set[str]:
    """Each needle lower-cased as stored in clear, JSON-escaped ("zo\\u00eb") and SQL-quoted ("o''brien")."""
    spelled: set[str] = set()
    for needle in needles:
        spelled |= {needle.lower(), json.dumps(needle)[1:-1].lower(), needle.replace("'", "''").lower()}
    return spelled


def dump_prefect_database(path: Path) -> dict[str, str]:
    """Table name -> every textual value of every column, lower-cased, one per line."""
    dumped: dict[str, str] = {}
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            columns = [row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')]
            values: list[str] = []
            for column in columns:
                for (value,) in connection.execute(f'SELECT "{column}" FROM "{table}"'):
                    if isinstance(value, bytes):
                        value = value.decode("utf-8", "replace")
                    if isinstance(value, str):
                        values.append(value.lower())
            dumped[table] = "\n".join(values)
    return dumped


def leaks(dumped: dict[str, str], needles: set[str]) -> dict[str, list[str]]:
    """Table name -> up to five of the needles found in it, for the tables where any is found."""
    return {table: sorted(n for n in needles if n in text)[:5]
            for table, text in dumped.items() if any(n in text for n in needles)}
