"""Column types that keep the product's invariants at the database edge."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

from missing_episodes.clock import UTC


def utc_instant(value: datetime | None) -> datetime | None:
    """The instant in UTC; a naive datetime is refused rather than silently taken as local time."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the database; times must carry their zone")
    return value if value.tzinfo is UTC else value.astimezone(UTC)


def sqlite_utc_text(value: datetime | None) -> str | None:
    """The text ``UTCDateTime`` stores on SQLite (SQLAlchemy's DATETIME format, naive UTC, microseconds).

    The ingest's bulk inserts hand this straight to the driver: the same bytes as a write through the type,
    without SQLAlchemy's two processors per value.
    """
    moment = utc_instant(value)
    # "YYYY-MM-DD HH:MM:SS.ffffff" and then the "+00:00" offset, which is cut off.
    return None if moment is None else moment.isoformat(" ", "microseconds")[:26]


def sqlite_utc_texts(values: Sequence[datetime | None]) -> list[str | None]:
    """``sqlite_utc_text`` of a whole column: the same texts, a column at a time.

    A bulk insert converts hundreds of thousands of instants (an action's trigger, due and done times, a
    notification's sent, seen and found times); one ``isoformat`` each was a sixth of writing a first load's
    actions. Each instant becomes its microseconds since the epoch (one exact subtraction, whatever its zone, a
    repeated autumn hour's fold included), and numpy writes the column out in C. A naive datetime is refused
    first, as ``utc_instant`` refuses it.
    """
    if len(values) < _COLUMN_AT_A_TIME:
        return [sqlite_utc_text(value) for value in values]
    if any(value is not None and value.tzinfo is None for value in values):
        raise ValueError("naive datetime given to the database; times must carry their zone")
    import numpy as np  # imported here: the CLI's commands that never bulk-insert start without it

    micros = [_NOT_A_TIME if value is None else (value - _EPOCH) // _MICROSECOND for value in values]
    texts = np.datetime_as_string(np.array(micros, dtype=np.int64).view("datetime64[us]"), unit="us").tolist()
    return [None if text == "NaT" else f"{text[:10]} {text[11:]}" for text in texts]


_COLUMN_AT_A_TIME = 256  # below this the per-value conversion is as quick
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_NOT_A_TIME = -(2**63)  # numpy's NaT as datetime64's int64


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware instant, stored as UTC.

    PostgreSQL keeps it as ``timestamptz``; SQLite has no zone type, so the value is written as naive UTC and
    the zone is put back on read. Either way Python only ever sees aware UTC datetimes, and a naive one is
    refused on the way in rather than silently taken as local time.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        moment = utc_instant(value)
        return moment.replace(tzinfo=None) if moment is not None and dialect.name == "sqlite" else moment

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
