"""Run summaries that add up: the one way a chunk's or a batch's counts are folded into a run's total.

An ingest adds one summary per chunk, a recomputation one per group of children; both are dataclasses of
counts, so both add the same way: every integer field summed, every other field (which source, which feed) left
as the total's own.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Self


class Counts:
    """Mixin for a dataclass of counts: ``add`` sums another instance's integer fields into this one."""

    def add(self, other: Self) -> None:
        for item in fields(self):  # type: ignore[arg-type]
            value = getattr(self, item.name)
            if isinstance(value, int) and not isinstance(value, bool):
                setattr(self, item.name, value + getattr(other, item.name))
