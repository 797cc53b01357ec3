"""Time as the statutory guidance counts it: Europe/London, real elapsed hours, working days.

Rules say "within 72 hours" (elapsed time: 72 real hours, so a deadline across the last Sunday of March is one
wall-clock hour later than naive arithmetic on local times would give) and "within 3 working days" (calendar
days that skip weekends and England and Wales bank holidays). Both live here, nowhere else, as do the London
calendar days documents and reports count in and the fast epoch-second formatter the synthetic feeds write with.
"""

from __future__ import annotations

import calendar
import os
from bisect import bisect_right
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

if TYPE_CHECKING:
    import pandas as pd

LONDON = ZoneInfo("Europe/London")


class TimeParseError(ValueError):
    """A time that cannot be read, or a local time that does not exist in Europe/London."""


def parse_time(text: str) -> datetime:
    """Read an ISO 8601 time; one without an offset is Europe/London local time.

    A local time inside the spring-forward gap (01:00-01:59 on the last Sunday of March) never happened, so it is
    refused rather than guessed. An ambiguous autumn time (01:00-01:59 on the last Sunday of October) is read as
    its first occurrence (BST), the conservative choice: clocks then start an hour earlier.
    """
    raw = text.strip()
    if not raw:
        raise TimeParseError("empty time")
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00") if raw.endswith("Z") else raw)
    except ValueError as exc:
        raise TimeParseError(f"not an ISO 8601 time: {raw!r}") from exc
    if parsed.tzinfo is None:
        day = _local_day(parsed)
        if day is None:  # the clocks change on this day: the zone, time by time
            offset = _local_offset(parsed)
            if offset is None:
                raise TimeParseError(f"{raw!r} does not exist in Europe/London (clocks went forward)")
            return (parsed - offset).replace(tzinfo=UTC)
        naive_midnight, utc_midnight = day
        return utc_midnight + (parsed - naive_midnight)
    return parsed.astimezone(UTC)


def _local_offset(local: datetime) -> timedelta | None:
    """London's offset at a naive London wall-clock time (its first occurrence), or None in the spring gap."""
    zoned = local.replace(tzinfo=LONDON, fold=0)
    if zoned.astimezone(UTC).astimezone(LONDON).replace(tzinfo=None) != local:
        return None
    return zoned.utcoffset()


_DAYS: dict[int, tuple[datetime, datetime] | None] = {}


def _local_day(local: datetime) -> tuple[datetime, datetime] | None:
    """The London day ``local`` falls on, as its naive midnight and that midnight's UTC instant, when one offset
    holds all day; None on a day the clocks change (or changed to a local mean time, as in 1847).

    A feed sends millions of local times, and three zone conversions each were a quarter of a row's validation;
    on all but two days a year one subtraction does. A day is taken as uniform when its offset is the same at
    every hour and at its last microsecond, so a change at any minute of the day is seen. Memoised by day (a
    ten-year history names 3,653).
    """
    number = local.toordinal()
    if number in _DAYS:
        return _DAYS[number]
    midnight = datetime(local.year, local.month, local.day)
    samples = [midnight + timedelta(hours=hour) for hour in range(24)] + [midnight + timedelta(days=1, microseconds=-1)]
    offsets = {_local_offset(sample) for sample in samples}
    offset = offsets.pop() if len(offsets) == 1 else None
    found = None if offset is None else (midnight, (midnight - offset).replace(tzinfo=UTC))
    if len(_DAYS) >= 1 << 16:
        _DAYS.clear()
    _DAYS[number] = found
    return found


def as_utc(moment: datetime) -> datetime:
    """Normalise an aware datetime to UTC; a naive one is refused (it is a bug, not data)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every time in missing-episodes carries its zone")
    return moment.astimezone(UTC)


def as_london(moment: datetime) -> datetime:
    return as_utc(moment).astimezone(LONDON)


# --- London days and instants; London time on integer epoch seconds ------------------------------------------
# One block for every helper that turns London calendar days into instants and back (documents, reports) and for
# the fast formatter the synthetic feeds use: writers that format millions of instants work in integer seconds
# since the epoch, where zoneinfo per call is too slow, so zoneinfo's transitions are read once into a table.

SECONDS_PER_HOUR = 3600
SECONDS_PER_DAY = 86400
#: ``format_epoch`` styles: London local time without an offset, with its offset, or UTC with ``Z``.
NAIVE_LOCAL, LOCAL_WITH_OFFSET, UTC_Z = 0, 1, 2


def london_instant(day: date, at: time = time.min) -> datetime:
    """The UTC instant a London wall clock shows ``at`` on ``day`` (an ambiguous autumn time: its first occurrence)."""
    return datetime.combine(day, at).replace(tzinfo=LONDON, fold=0).astimezone(UTC)


def london_date(moment: datetime | None) -> date | None:
    """The London calendar day of an instant: what boards, Ofsted and the DfE count in."""
    return None if moment is None else as_london(moment).date()


def hours_between(start: datetime | None, end: datetime) -> float | None:
    """Real elapsed hours (UTC arithmetic), so a clock change never adds or loses an hour."""
    if start is None:
        return None
    return (as_utc(end) - as_utc(start)).total_seconds() / 3600


def previous_working_day(day: date) -> date:
    """The working day before ``day`` (Monday looks back to Friday; bank holidays are skipped)."""
    day -= timedelta(days=1)
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def utc_epoch(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    """Integer seconds since the epoch of a UTC wall-clock time."""
    return calendar.timegm((year, month, day, hour, minute, 0))


def london_epoch(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    """The epoch second a London wall clock shows this time (first occurrence when ambiguous; never in the gap)."""
    naive = utc_epoch(year, month, day, hour, minute)
    guess = naive - SECONDS_PER_HOUR
    return guess if london_offset(guess) else naive


def london_offset(ts: int) -> int:
    """Seconds London is ahead of UTC at epoch second ``ts`` (3600 in BST, else 0)."""
    if not _TRANSITIONS:
        _load_epoch_tables()
    return SECONDS_PER_HOUR if bisect_right(_TRANSITIONS, ts) % 2 else 0


def london_day(ts: int) -> int:
    """The London calendar day of epoch second ``ts``, as days since 1 January 1970."""
    return (ts + london_offset(ts)) // SECONDS_PER_DAY


def epoch_day_text(day: int) -> str:
    """``YYYY-MM-DD`` of a day counted from 1 January 1970 (memoised: a feed names a few thousand days)."""
    text = _DAY_TEXT.get(day)
    if text is None:
        text = _DAY_TEXT[day] = date.fromordinal(_EPOCH_ORDINAL + day).isoformat()
    return text


def format_epoch(ts: int, style: int = NAIVE_LOCAL) -> str:
    """Write epoch second ``ts`` in ISO 8601 as London local time, local with its offset, or UTC with ``Z``.

    A naive time in the repeated autumn hour would be read back (``parse_time``) as its first (BST) occurrence,
    so such an instant is always written with its ``+00:00`` offset instead.
    """
    if not _HMS:
        _load_epoch_tables()
    if style == UTC_Z:
        return epoch_day_text(ts // SECONDS_PER_DAY) + "T" + _HMS[ts % SECONDS_PER_DAY] + "Z"
    i = bisect_right(_TRANSITIONS, ts)
    offset = SECONDS_PER_HOUR if i % 2 else 0
    local = ts + offset
    text = epoch_day_text(local // SECONDS_PER_DAY) + "T" + _HMS[local % SECONDS_PER_DAY]
    if style == LOCAL_WITH_OFFSET or (not offset and i and ts - _TRANSITIONS[i - 1] < SECONDS_PER_HOUR):
        return text + ("+01:00" if offset else "+00:00")
    return text


#: Alternating [BST starts, BST ends, ...] as epoch seconds (an odd bisect index: the instant is in BST), and
#: every second of a day as ``HH:MM:SS``; both filled on first use (about a tenth of a second), from zoneinfo,
#: for 1990 to 2060.
_TRANSITIONS: list[int] = []
_HMS: list[str] = []
_DAY_TEXT: dict[int, str] = {}
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def _zone_offset(ts: int) -> timedelta | None:
    return datetime.fromtimestamp(ts, LONDON).utcoffset()


def _load_epoch_tables() -> None:
    transitions = []
    for year in range(1990, 2061):
        bounds = (utc_epoch(year, 1, 1), utc_epoch(year, 7, 1), utc_epoch(year + 1, 1, 1))
        for lo, hi in pairwise(bounds):
            before = _zone_offset(lo)
            if _zone_offset(hi) == before:  # the table alternates: a year without both changes would break it
                raise ValueError(f"Europe/London has no clock change in the half-year from {lo}")
            while hi - lo > 1:  # bisect to the first second with the other offset
                middle = (lo + hi) // 2
                lo, hi = (middle, hi) if _zone_offset(middle) == before else (lo, middle)
            transitions.append(hi)
    _HMS[:] = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(SECONDS_PER_DAY)]
    _TRANSITIONS[:] = transitions


def add_hours(moment: datetime, hours: float) -> datetime:
    """Elapsed time: 24 hours is 24 real hours whatever the clocks do."""
    return as_utc(moment) + timedelta(hours=hours)


def add_days(moment: datetime, days: int) -> datetime:
    """Calendar days in London: the same wall-clock time ``days`` later (23 or 25 hours over a clock change)."""
    return _local_shift(moment, relativedelta(days=days))


def add_months(moment: datetime, months: int) -> datetime:
    """Calendar months in London (31 January + 1 month is 28/29 February)."""
    return _local_shift(moment, relativedelta(months=months))


def _local_shift(moment: datetime, delta: relativedelta) -> datetime:
    local = as_london(moment).replace(tzinfo=None) + delta
    return local.replace(tzinfo=LONDON, fold=0).astimezone(UTC)


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    # Imported here, not at the top: ``holidays`` costs a tenth of a second of CPU (its calendars and its version
    # check), which every command line start paid although most commands never count working days.
    import holidays

    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def is_working_day(day: date) -> bool:
    """Monday to Friday, and not an England and Wales bank holiday."""
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def add_working_days(moment: datetime, days: int) -> datetime:
    """The same London wall-clock time on the ``days``-th working day after ``moment``'s day.

    Assessed on Friday 16:00 with 3 working days: due Wednesday 16:00, or Thursday 16:00 when the Monday is a
    bank holiday. Starting on a weekend, the first working day is day 1.
    """
    if days < 0:
        raise ValueError("working days count forwards")
    local = as_london(moment)
    day = local.date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    wall = datetime.combine(day, local.time().replace(tzinfo=None))
    return wall.replace(tzinfo=LONDON, fold=0).astimezone(UTC)


def age_on(date_of_birth: date, moment: datetime) -> int:
    on = as_london(moment).date()
    return on.year - date_of_birth.year - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))


def birthday(date_of_birth: date, years: int) -> datetime:
    """Midnight London time on the ``years``-th birthday (29 February born: 1 March in common years)."""
    try:
        day = date_of_birth.replace(year=date_of_birth.year + years)
    except ValueError:
        day = date(date_of_birth.year + years, 3, 1)
    return datetime.combine(day, datetime.min.time()).replace(tzinfo=LONDON).astimezone(UTC)


#: Environment variable that fixes "now": ISO 8601 with an offset, or London local time (as ``parse_time`` reads).
NOW_VARIABLE = "MISSING_EPISODES_NOW"


def now() -> datetime:
    """The current instant in UTC: the wall clock, or the moment named by ``MISSING_EPISODES_NOW``.

    The override exists to replay a run as of a past moment (tests, reproducing an incident): rules store repeating
    schedules up to a horizon from now, documents print when they were prepared, and records carry received and
    updated times, so without it a run's output depends on the day it is made. The variable is read on every call
    (a worker or a test can set it after import; Prefect runs a CLI-started flow in the same process, so it
    reaches the flows too). A value that cannot be read is an error, never ignored: a replay silently run on the
    wall clock would store different actions. Every "now" in the product comes from here.
    """
    fixed = os.environ.get(NOW_VARIABLE)
    if fixed:
        return _fixed_now(fixed)
    return datetime.now(UTC)


@lru_cache(maxsize=8)
def wall_clock() -> datetime:
    """The real time, whatever ``MISSING_EPISODES_NOW`` says: only for talking to the outside world (a server's
    ``Retry-After`` date is about its clock and ours, not about the moment a replay is set to)."""
    return datetime.now(UTC)


def today() -> date:
    """Today's date in London (``now()``'s, so a fixed clock fixes it too)."""
    return as_london(now()).date()


def last_sunday() -> date:
    """The end of the last whole week (today if it is a Sunday): the weekly list's default week."""
    day = today()
    return day - timedelta(days=(day.weekday() + 1) % 7)


def _fixed_now(text: str) -> datetime:
    """Parse the override once per value: ``now()`` is called for every stored row."""
    try:
        return parse_time(text)
    except TimeParseError as exc:
        raise TimeParseError(f"{NOW_VARIABLE}: {exc}") from None


# --- the same clock for whole columns (the bulk path) ------------------------------------------------------------
# pandas is imported inside these functions so the many modules that read a single time never pay for it.

COLUMN_TIME = "datetime64[us, UTC]"  # the dtype of every column of instants: UTC, microseconds


def shift_london_column(ts: pd.Series, months: int = 0, days: int = 0) -> pd.Series:
    """``add_months`` / ``add_days`` for a column: shift the London wall clock, then back to UTC.

    An ambiguous autumn time is read as its first occurrence and a time in the spring gap at the offset before
    the change, as ``zoneinfo`` does with ``fold=0``, so each instant equals what ``add_days``/``add_months`` give.
    """
    import pandas as pd

    local = ts.dt.tz_convert(LONDON).dt.tz_localize(None)
    if months:
        local = local + pd.DateOffset(months=months)
    if days:
        local = local + pd.Timedelta(days=days)
    return _london_wall_to_utc(local)


def add_working_days_column(ts: pd.Series, days: int) -> pd.Series:
    """``add_working_days`` for a column: the same London wall-clock time on the ``days``-th working day after
    each instant's London day (NaT stays NaT).

    numpy's business-day arithmetic over the England and Wales bank holidays of the years spanned: a call of the
    scalar function per action was most of the bulk evaluation at a million episodes (issue 19). Rolling a weekend
    or holiday back to the working day before, then counting on, is the scalar's "the first working day after it
    is day 1".
    """
    import numpy as np

    if days < 0:
        raise ValueError("working days count forwards")
    local = ts.dt.tz_convert(LONDON).dt.tz_localize(None)
    day = local.dt.normalize()
    known = day.notna().to_numpy()
    if not days or not known.any():
        return _london_wall_to_utc(local)
    start = day.to_numpy()[known].astype("datetime64[D]")
    first, last = start.min().astype(object).year, start.max().astype(object).year
    last += days // 250 + 1  # far enough: a year has more than 250 working days
    closed = np.array(sorted(d for year in range(first, last + 1) for d in _bank_holidays(year)),
                      dtype="datetime64[D]")
    moved = day.copy()
    moved[known] = np.busday_offset(start, days, roll="backward", holidays=closed).astype("datetime64[us]")
    return _london_wall_to_utc(moved + (local - day))


def _london_wall_to_utc(local: pd.Series) -> pd.Series:
    """Naive London wall-clock times as UTC instants, as ``zoneinfo`` reads them with ``fold=0``: an ambiguous
    autumn time is its first occurrence, a time in the spring gap is taken at the offset before the change."""
    import numpy as np

    ambiguous = np.ones(len(local), dtype=bool)  # fold=0: the first (summer time) occurrence
    shifted = local.dt.tz_localize(LONDON, ambiguous=ambiguous, nonexistent="NaT")
    gap = shifted.isna() & local.notna()
    if gap.any():
        # zoneinfo reads a spring-gap time at the offset before the change: GMT, i.e. the wall clock as UTC.
        shifted = shifted.where(~gap, local.dt.tz_localize("UTC"))
    return shifted.dt.tz_convert("UTC").astype(COLUMN_TIME)


def under_age_column(dob: pd.Series, at: pd.Series, years: int = 18) -> pd.Series:
    """``age_on(dob, at) < years`` for columns (London date of ``at``); True where the birth date is unknown."""
    import pandas as pd

    local = at.dt.tz_convert(LONDON)
    born = pd.to_datetime(dob)
    age = local.dt.year - born.dt.year - (
        (local.dt.month < born.dt.month) | ((local.dt.month == born.dt.month) & (local.dt.day < born.dt.day))
    ).astype(int)
    return (age < years) | born.isna()
