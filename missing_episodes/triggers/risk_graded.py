"""``risk_graded``: the police graded the episode at this risk level (at any point in it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from missing_episodes.clock import COLUMN_TIME
from missing_episodes.triggers.base import ChildRun, EpisodeColumns, EpisodeTrigger, Fired, InScope

if TYPE_CHECKING:
    from missing_episodes.facts import EpisodeFacts
    from missing_episodes.policy import Rule


class RiskGradedTrigger(EpisodeTrigger):
    """The police graded the episode at this risk level (at any point in it); fires at the first such grading."""

    type: Literal["risk_graded"]
    level: Literal["high", "medium", "low", "no_apparent_risk"] = "high"

    def evaluate_episode(self, rule: Rule, run: ChildRun, episode: EpisodeFacts) -> None:
        graded = [at for at, level in episode.risk_history if level == self.level]
        if graded:
            run.emit(rule, f"{episode.ref}:{rule.id}", episode, min(graded), high_risk=True)

    def vectorises(self) -> bool:
        return True

    def fire_columns(self, scope: InScope, columns: EpisodeColumns) -> Fired:
        import pandas as pd

        chosen = scope.episodes
        risks = columns.risks
        graded = risks[risks["risk_level"] == self.level].groupby("episode_id")["assessed_at"].min()
        if len(graded):
            at = pd.to_datetime(chosen["id"].map(graded), utc=True).astype(COLUMN_TIME)
        else:
            at = pd.Series(pd.NaT, index=chosen.index, dtype=COLUMN_TIME)
        keep = at.notna()
        return Fired(chosen[keep], at[keep], pd.Series(True, index=at[keep].index))
