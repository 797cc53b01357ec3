"""A span after a moment (``Offset``) and how it is added: to one instant, or to a whole column of instants.

Both additions live here side by side so they cannot drift: the per-child evaluator uses ``apply_offset``, the
vectorised one ``offset_series``, and tests/domain/test_bulk.py checks they agree across the clock changes.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from missing_episodes.clock import (
    COLUMN_TIME,
    add_days,
    add_hours,
    add_months,
    add_working_days,
    shift_london_column,
)
from missing_episodes.schema import Strict

if TYPE_CHECKING:
    import pandas as pd


class Offset(Strict):
    """A span after a moment: real hours, London calendar days or months, or working days."""

    hours: float = 0
    days: int = 0
    months: int = 0
    working_days: int = 0

    def backwards(self) -> Offset:
        """The window before a moment (hours, days and months negated; working days only count forwards)."""
        return Offset(hours=-self.hours, days=-self.days, months=-self.months)


def apply_offset(moment: datetime, offset: Offset, times: int = 1) -> datetime:
    """Real hours, then London calendar months and days, then working days, ``times`` over."""
    result = moment
    if offset.hours:
        result = add_hours(result, offset.hours * times)
    if offset.months:
        result = add_months(result, offset.months * times)
    if offset.days:
        result = add_days(result, offset.days * times)
    if offset.working_days:
        result = add_working_days(result, offset.working_days * times)
    return result


def offset_series(ts: pd.Series, offset: Offset, times: int = 1) -> pd.Series:
    """``apply_offset`` for a column of UTC instants (NaT stays NaT)."""
    import pandas as pd

    result = ts.astype(COLUMN_TIME)
    if offset.hours:
        result = result + pd.to_timedelta(offset.hours * times, unit="h")
    if offset.months:
        result = shift_london_column(result, months=offset.months * times)
    if offset.days:
        result = shift_london_column(result, days=offset.days * times)
    if offset.working_days:
        working = Offset(working_days=offset.working_days)
        result = result.map(lambda t: t if pd.isna(t) else apply_offset(t.to_pydatetime(), working, times))
        result = pd.to_datetime(result, utc=True).astype(COLUMN_TIME)
    return result
