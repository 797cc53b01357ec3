"""``returned``: the episode ended; fires when the return is notified (the police ``found`` message)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from missing_episodes.triggers.base import ChildRun, EpisodeColumns, EpisodeTrigger, Fired, InScope

if TYPE_CHECKING:
    from missing_episodes.facts import EpisodeFacts
    from missing_episodes.policy import Rule


class ReturnedTrigger(EpisodeTrigger):
    """The episode ended: fires when the return is notified (the police ``found`` message)."""

    type: Literal["returned"]

    def evaluate_episode(self, rule: Rule, run: ChildRun, episode: EpisodeFacts) -> None:
        if episode.return_notified_at is not None:
            run.emit(rule, f"{episode.ref}:{rule.id}", episode, episode.return_notified_at)

    def vectorises(self) -> bool:
        return True

    def fire_columns(self, scope: InScope, columns: EpisodeColumns) -> Fired:
        import pandas as pd

        chosen = scope.episodes
        keep = chosen["return_notified_at"].notna()
        at = chosen.loc[keep, "return_notified_at"]
        return Fired(chosen[keep], at, pd.Series(False, index=at.index))
