"""Reporting periods: inclusive runs of Europe/London calendar days.

Boards, Ofsted and the DfE all count in calendar days (an episode that started at 23:30 on 31 March BST belongs
to March), so a period is two dates, both included, and an instant is placed in it by its London date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta

from missing_episodes.clock import london_instant


@dataclass(frozen=True)
class Period:
    """From ``start`` to ``end``, both days included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period ends ({self.end}) before it starts ({self.start})")

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    @property
    def end_instant(self) -> datetime:
        """The last moment of the period (midnight London after ``end``), the ``as_of`` a report reads at."""
        return london_instant(self.end + timedelta(days=1)) - timedelta(microseconds=1)

    def months(self) -> list[date]:
        """First day of every calendar month the period touches, in order."""
        first = self.start.replace(day=1)
        out = []
        while first <= self.end:
            out.append(first)
            first += relativedelta(months=1)
        return out

    def label(self) -> str:
        return f"{self.start:%d %B %Y} to {self.end:%d %B %Y}"


def collection_year(year: int) -> Period:
    """The SSDA903 collection year named by the year it ends: 2025 is 1 April 2024 to 31 March 2025."""
    return Period(date(year - 1, 4, 1), date(year, 3, 31))


def last_month_end(today: date) -> date:
    """The last day of the month before ``today``'s (a scheduled report's period ends there)."""
    return today.replace(day=1) - timedelta(days=1)


def two_months_to(day: date) -> Period:
    """The bi-monthly oversight window: the two calendar months up to and including ``day``.

    Ending on a month's last day it is two whole months (to 28 February: from 1 January, not 29 December).
    """
    following = day + timedelta(days=1)
    if following.day == 1:
        return Period(following - relativedelta(months=2), day)
    return Period(day - relativedelta(months=2) + timedelta(days=1), day)


def twelve_months_to(day: date) -> Period:
    """Ofsted's "in the last 12 months" before an inspection date, the date included."""
    return Period(day - relativedelta(months=12) + timedelta(days=1), day)
