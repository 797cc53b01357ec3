"""A span after a moment (``Offset``) and how it is added: to one instant, or to a whole column of instants.

Both additions live here side by side so they cannot drift: the per-child evaluator uses ``apply_offset``, the
vectorised one ``offset_series``, and tests/domain/test_bulk.py checks they agree across the clock changes.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import field_validator, model_validator

from missing_episodes.clock import (
    COLUMN_TIME,
    add_days,
    add_hours,
    add_months,
    add_working_days,
    add_working_days_column,
    shift_london_column,
)
from missing_episodes.schema import Strict

if TYPE_CHECKING:
    import pandas as pd


#: The longest span a policy may give in each unit: one year. A due, a trigger's delay, a repeat and a window all
#: live within a year in every seed document; a larger number is a typing slip (1e12 hours overflows every clock
#: and crashed every rules run), and a negative one turns a rule off or makes it due before it arises.
LIMITS: dict[str, float] = {"hours": 366 * 24, "days": 366, "months": 12, "working_days": 262}
#: Roughly how many days one unit spans, to keep a mixed offset (``{months: 12, days: 300}``) within a year too.
_DAYS_PER_UNIT = {"hours": 1 / 24, "days": 1, "months": 30.4375, "working_days": 7 / 5}


class Offset(Strict):
    """A span after a moment: real hours, London calendar days or months, or working days.

    Read from a policy file, each part is a finite number from 0 to a year (``LIMITS``): a load error names the
    field and the allowed range. The product itself builds negative offsets (``backwards``) without validation.
    """

    hours: float = 0
    days: int = 0
    months: int = 0
    working_days: int = 0

    @field_validator("hours", "days", "months", "working_days", mode="before")
    @classmethod
    def _finite_and_within_a_year(cls, value: Any, info: Any) -> Any:
        unit = info.field_name
        if isinstance(value, bool) or not isinstance(value, int | float):
            return value  # pydantic's own type check says what is wrong
        if not math.isfinite(value) or not 0 <= value <= LIMITS[unit]:
            raise ValueError(f"{value!r} is out of range: give a number of {unit} from 0 to {LIMITS[unit]:g}")
        return value

    @model_validator(mode="after")
    def _whole_span_within_a_year(self) -> Offset:
        if self.span_days() > 366:
            raise ValueError("the offset spans more than a year: its hours, days, months and working days together "
                             "must come to at most one year")
        return self

    def span_days(self) -> float:
        """About how many days the offset spans (months of 30.4 days, working weeks of 5 days in 7)."""
        return sum(getattr(self, unit) * per_day for unit, per_day in _DAYS_PER_UNIT.items())

    def is_zero(self) -> bool:
        return not (self.hours or self.days or self.months or self.working_days)

    def backwards(self) -> Offset:
        """The window before a moment (hours, days and months negated; working days only count forwards).

        Built without validation: a negative offset is the product's own arithmetic, never a policy's value."""
        return Offset.model_construct(hours=-self.hours, days=-self.days, months=-self.months, working_days=0)


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
        result = add_working_days_column(result, offset.working_days * times)
    return result
