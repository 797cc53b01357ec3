"""London calendar days and instants (``clock``'s block used by documents, reports and the synthetic feeds)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from missing_episodes.clock import (
    hours_between,
    london_date,
    london_epoch,
    london_instant,
    previous_working_day,
    utc_epoch,
)


def test_london_instants_and_days_across_the_clock_changes() -> None:
    # 08:30 in London is 07:30 UTC in summer and 08:30 in winter; the autumn 01:30 is its first (BST) occurrence.
    assert london_instant(date(2026, 7, 1), time(8, 30)) == datetime(2026, 7, 1, 7, 30, tzinfo=UTC)
    assert london_instant(date(2026, 11, 2), time(8, 30)) == datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
    assert london_instant(date(2026, 10, 25), time(1, 30)) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert london_date(datetime(2026, 3, 31, 23, 30, tzinfo=UTC)) == date(2026, 4, 1)  # 00:30 BST
    assert london_date(None) is None


def test_hours_between_counts_real_hours() -> None:
    # 00:59 to 03:59 London on the spring-forward Sunday is two real hours, not three.
    start, end = london_instant(date(2026, 3, 29), time(0, 59)), london_instant(date(2026, 3, 29), time(3, 59))
    assert hours_between(start, end) == 2.0
    assert hours_between(None, end) is None


def test_previous_working_day_skips_weekends_and_bank_holidays() -> None:
    # Easter 2026: Good Friday 3 April and Easter Monday 6 April are bank holidays.
    assert previous_working_day(date(2026, 4, 7)) == date(2026, 4, 2)
    assert previous_working_day(date(2026, 11, 2)) == date(2026, 10, 30)


def test_epoch_seconds_agree_with_the_datetime_forms() -> None:
    assert london_epoch(2026, 10, 25, 1, 30) == london_instant(date(2026, 10, 25), time(1, 30)).timestamp()
    assert london_epoch(2026, 7, 1, 8, 30) == utc_epoch(2026, 7, 1, 7, 30)
    assert london_epoch(2026, 12, 1, 8, 30) == utc_epoch(2026, 12, 1, 8, 30)
