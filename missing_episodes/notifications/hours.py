"""Office hours: London wall-clock hours on working days (weekends and England and Wales bank holidays are out)."""

from __future__ import annotations

from datetime import datetime

from missing_episodes.clock import as_london, is_working_day
from missing_episodes.policy import Hours


def in_office_hours(moment: datetime, hours: Hours) -> bool:
    """Whether ``moment`` falls in ``[start, end)`` London time on a working day."""
    local = as_london(moment)
    return is_working_day(local.date()) and hours.start <= f"{local:%H:%M}" < hours.end
