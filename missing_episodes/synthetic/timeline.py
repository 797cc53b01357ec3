"""When the synthetic episodes happen: the sample's dates and the laying out of a child's episodes in time.

Every instant is an integer number of seconds since the epoch (UTC); London wall-clock times come from
``missing_episodes.clock`` (``london_epoch``, ``london_offset``).
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Sequence

import numpy as np

from missing_episodes.clock import SECONDS_PER_DAY, SECONDS_PER_HOUR, london_offset, utc_epoch
from missing_episodes.synthetic.draws import randint

HOUR = SECONDS_PER_HOUR
DAY = SECONDS_PER_DAY
MIN_GAP = 2 * HOUR  # a child is back for at least this long between two episodes

#: The sample feed stops here: Monday 2 November 2026, 08:30 in London (GMT, so also 08:30 UTC).
SAMPLE_AS_OF = utc_epoch(2026, 11, 2, 8, 30)
PERIOD_START = utc_epoch(2026, 1, 1)
PERIOD_END = utc_epoch(2026, 11, 1)  # the sample's ten months end at the close of 31 October

#: When episodes start, by London hour: evening-heavy, as in the reports.
_HOUR_WEIGHTS = (2, 1, 1, 1, 1, 1, 1, 2, 3, 3, 3, 3, 4, 4, 5, 8, 9, 9, 9, 8, 7, 6, 4, 3)
_CUM_HOURS = list(np.cumsum(_HOUR_WEIGHTS))


def _duration(rng: random.Random, kind: str) -> int:
    """Most episodes last hours; a tail runs past 24 and 72 hours (the strategy and serious-notification clocks)."""
    if kind == "absent":
        hours = rng.uniform(0.5, 6)
    else:
        r = rng.random()
        hours = (
            rng.uniform(1, 8)
            if r < 0.55
            else rng.uniform(8, 24)
            if r < 0.80
            else rng.uniform(24, 72)
            if r < 0.95
            else rng.uniform(72, 200)
        )
    return int(hours * HOUR) // 60 * 60


def sequence(rng: random.Random, kinds: Sequence[str], lo: int, hi: int) -> list[tuple[int, int, str]]:
    """Lay one child's episodes out in ``[lo, hi)`` without overlap: (start, end, kind), in order.

    Gaps are exponential draws normalised to the free time, i.e. uniformly scattered episodes, so frequent
    runaways cluster by chance and the repeat-missing triggers fire as they would in life. Starts then move to an
    evening-heavy hour of the same day where that keeps the order and the gaps.
    """
    n = len(kinds)
    if n == 0:
        return []
    durations = [_duration(rng, k) for k in kinds]
    room = hi - lo - n * MIN_GAP
    busy = sum(durations)
    if busy > room * 0.5:  # crowded window: shorten episodes rather than overflow it
        durations = [max(1800, int(d * room * 0.5 / busy)) // 60 * 60 for d in durations]
        busy = sum(durations)
    gaps = [rng.expovariate(1.0) for _ in range(n + 1)]
    scale = (room - busy) / sum(gaps)
    starts, ends = [], []
    t = float(lo)
    for i in range(n):
        t += gaps[i] * scale + (MIN_GAP if i else 0)
        start = int(t) // 60 * 60
        starts.append(start)
        ends.append(start + durations[i])
        t = start + durations[i]
    for i in range(n):
        hour = bisect_right(_CUM_HOURS, rng.random() * _CUM_HOURS[-1])
        offset = london_offset(starts[i])
        candidate = (starts[i] + offset) // DAY * DAY - offset + hour * HOUR + randint(rng, 0, 59) * 60
        floor_ = ends[i - 1] + MIN_GAP if i else lo
        ceiling = starts[i + 1] - MIN_GAP if i + 1 < n else hi
        if floor_ <= candidate and candidate + durations[i] <= ceiling:
            starts[i], ends[i] = candidate, candidate + durations[i]
    return [(starts[i], ends[i], kinds[i]) for i in range(n)]
