"""``repeat_episodes``: this episode is the ``count``-th of the counted kinds within a window ending at its start."""

from __future__ import annotations

from bisect import bisect_right
from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from missing_episodes.clock import COLUMN_TIME
from missing_episodes.offsets import Offset, apply_offset, offset_series
from missing_episodes.schema import EpisodeKind
from missing_episodes.triggers.base import (
    ChildRun,
    EpisodeColumns,
    EpisodeTrigger,
    Fired,
    InScope,
    RepeatThreshold,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from missing_episodes.facts import EpisodeFacts
    from missing_episodes.policy import Rule


class RepeatEpisodesTrigger(EpisodeTrigger):
    """The ``count``-th episode of the kinds counted within the window ending at this episode's start."""

    type: Literal["repeat_episodes"]
    count: int = Field(ge=2)
    window: Offset
    count_kinds: list[EpisodeKind] = ["missing"]

    @model_validator(mode="after")
    def _calendar_window(self) -> RepeatEpisodesTrigger:
        if self.window.working_days:
            raise ValueError("a repeat window counts hours, days or months, not working days")
        return self

    def evaluate_episode(self, rule: Rule, run: ChildRun, episode: EpisodeFacts) -> None:
        """Fires at the report (else the start) of the episode that makes exactly ``count`` in the window."""
        if episode.kind not in self.count_kinds:
            return
        counted = run.counted_starts(self.count_kinds)
        start = episode.started_at
        assert start is not None
        window_start = apply_offset(start, self.window.backwards())
        # Episodes starting in (window_start, start]: one exactly a whole window earlier is outside it.
        in_window = bisect_right(counted, start) - bisect_right(counted, window_start)
        if in_window == self.count:
            run.emit(rule, f"{episode.ref}:{rule.id}", episode, episode.reported_at or start)

    def vectorises(self) -> bool:
        return True

    def fire_columns(self, scope: InScope, columns: EpisodeColumns) -> Fired:
        import numpy as np
        import pandas as pd

        episodes = columns.episodes
        counted = episodes[episodes["kind"].isin(self.count_kinds) & ~episodes["other_authority"].astype(bool)]
        chosen = scope.episodes[scope.episodes["kind"].isin(self.count_kinds)]
        start = chosen["started_at"]
        window_start = offset_series(start, self.window.backwards())
        child_c = counted["child_id"].to_numpy(np.int64)
        time_c = _micros(counted["started_at"])
        child_q = chosen["child_id"].to_numpy(np.int64)
        upto = _count_le(child_c, time_c, child_q, _micros(start))
        before = _count_le(child_c, time_c, child_q, _micros(window_start))
        chosen = chosen[(upto - before) == self.count]
        at = chosen["reported_at"].fillna(chosen["started_at"]).astype(COLUMN_TIME)
        return Fired(chosen, at, pd.Series(False, index=chosen.index))

    def briefing_threshold(self) -> RepeatThreshold:
        return RepeatThreshold(self.window, self.count, tuple(self.count_kinds))


def _micros(ts: pd.Series) -> np.ndarray:
    """UTC instants as integer microseconds since the epoch (for sorting and counting)."""
    return ts.astype(COLUMN_TIME).astype("int64").to_numpy()


def _count_le(child_c: np.ndarray, time_c: np.ndarray, child_q: np.ndarray, time_q: np.ndarray) -> np.ndarray:
    """For each query (child, t): how many counted (child, time) pairs of the same child have time <= t."""
    import numpy as np

    n_c = len(child_c)
    child = np.concatenate([child_c, child_q])
    time = np.concatenate([time_c, time_q])
    is_query = np.concatenate([np.zeros(n_c, dtype=np.int8), np.ones(len(child_q), dtype=np.int8)])
    order = np.lexsort((is_query, time, child))  # at equal times a counted start sorts before the query: <=
    counted = (is_query[order] == 0).astype(np.int64)
    cumulative = np.cumsum(counted)
    sorted_child = child[order]
    first = np.searchsorted(sorted_child, sorted_child, side="left")
    in_group = cumulative - (cumulative[first] - counted[first])
    result = np.empty(len(child_q), dtype=np.int64)
    queries = order >= n_c
    result[order[queries] - n_c] = in_group[queries]
    return result
