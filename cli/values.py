"""Reading what a user typed as option values: times, dates, weeks and years, each refused in one line.

Each reader raises ``typer.BadParameter`` naming the option, what was typed and the form expected; the root group
(``cli._app.OneLineErrors``) prints it as one line with exit status 2.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import typer

from missing_episodes.clock import TimeParseError, now, parse_time, today

#: The earliest year a statutory return or a board period can be about: SSDA903 has a Missing table since 2015.
FIRST_YEAR = 2015


def time_value(value: str | None, option: str) -> datetime:
    """An ISO 8601 time (London time without an offset); ``None`` is now."""
    if value is None:
        return now()
    try:
        return parse_time(value)
    except TimeParseError as exc:
        raise typer.BadParameter(f"{exc}; give ISO 8601 London time, e.g. 2026-11-02T08:30",
                                 param_hint=option) from None


def date_value(value: str, option: str) -> date:
    """A calendar date, YYYY-MM-DD."""
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date; give YYYY-MM-DD, e.g. 2026-11-02",
                                 param_hint=option) from None


def optional_date(value: str | None, option: str) -> date | None:
    return None if value is None else date_value(value, option)


def week_ending(value: str | None, option: str = "--week-ending") -> date | None:
    """A week's last day: a Sunday (the weekly list runs Monday to Sunday)."""
    day = optional_date(value, option)
    if day is not None and day.weekday() != 6:
        before = day - timedelta(days=(day.weekday() + 1) % 7)
        raise typer.BadParameter(f"{day:%A} {day.isoformat()} is not a Sunday; a week ends on a Sunday "
                                 f"(e.g. {before.isoformat()})", param_hint=option)
    return day


def collection_year(year: int, option: str = "--year") -> int:
    """A statutory collection year by its end (2027: April 2026 to March 2027), within reason."""
    latest = today().year + 1
    if not FIRST_YEAR <= year <= latest:
        raise typer.BadParameter(f"{year} is not a collection year we can report; give {FIRST_YEAR} to {latest} "
                                 "(the year the return's March falls in)", param_hint=option)
    return year


def plausible_day(day: date, option: str) -> date:
    """A day a report or briefing can be about: not before the first collection year, not years ahead."""
    latest = today().year + 1
    if not FIRST_YEAR <= day.year <= latest:
        raise typer.BadParameter(f"{day.isoformat()} is outside {FIRST_YEAR} to {latest}", param_hint=option)
    return day
