"""``missing_for``: still missing ``after`` the start (last seen; for a care leaver, when assessed missing where
the rule says so), optionally repeating while still missing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from missing_episodes.offsets import Offset, apply_offset, offset_series
from missing_episodes.triggers.base import (
    ChildRun,
    EpisodeColumns,
    EpisodeTrigger,
    Fired,
    InScope,
    clock_start,
    high_risk,
)

if TYPE_CHECKING:
    from missing_episodes.facts import EpisodeFacts
    from missing_episodes.policy import Rule


class MissingForTrigger(EpisodeTrigger):
    """Still missing ``after`` the start (last seen): fires at start + after, if not found by then."""

    type: Literal["missing_for"]
    after: Offset
    # Repeat every ``every`` while still missing (a weekly review, a six-monthly audit) ...
    every: Offset | None = None
    # ... and stop repeating at ``until`` after the start (exclusive): "monthly, up to 6 months".
    until: Offset | None = None

    def evaluate_episode(self, rule: Rule, run: ChildRun, episode: EpisodeFacts) -> None:
        start = clock_start(rule, run, episode)
        if start is None:
            return
        ended = episode.ended_at
        closes = run.stop_at_age(rule, start)
        limit = apply_offset(start, self.until) if self.until else None
        occurrence = 0
        while True:
            at = apply_offset(start, self.after)
            if occurrence and self.every:
                at = apply_offset(at, self.every, occurrence)
            if ended is not None and ended <= at:
                return
            if closes is not None and at >= closes:
                return
            if limit is not None and at >= limit:
                return
            if self.every is not None and at > run.horizon:
                return
            suffix = f"#{occurrence + 1}" if self.every else ""
            run.emit(rule, f"{episode.ref}:{rule.id}{suffix}", episode, at, high_risk=high_risk(episode))
            if self.every is None:
                return
            occurrence += 1

    def vectorises(self) -> bool:
        """A one-off deadline only: a repeating schedule (``every``, ``until``) is evaluated per child."""
        return self.every is None and self.until is None

    def fire_columns(self, scope: InScope, columns: EpisodeColumns) -> Fired:
        at = offset_series(scope.episodes["started_at"], self.after)
        end = columns.ended[scope.mask]
        keep = end.isna() | (end > at)
        return Fired(scope.episodes[keep], at[keep], scope.last_high[keep])
