"""``still_missing_at_age``: the child reaches an age (a birthday) while still missing.

Surrey's schedule closes at 18 ("they will be closed to the Looked After Children's Service"), and for a young
person still missing then asks the police to "place the missing care leaver as an adult on missing persons
website": the moment is the birthday, not a time after the start. Judged per child (it reads the date of birth).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from missing_episodes.clock import age_on, birthday
from missing_episodes.triggers.base import ChildRun, EpisodeTrigger

if TYPE_CHECKING:
    from missing_episodes.facts import EpisodeFacts
    from missing_episodes.policy import Rule


class StillMissingAtAgeTrigger(EpisodeTrigger):
    """Fires at the child's ``age``-th birthday if an episode that began before it has not ended by then."""

    type: Literal["still_missing_at_age"]
    age: int = Field(ge=1, le=25)

    def evaluate_episode(self, rule: Rule, run: ChildRun, episode: EpisodeFacts) -> None:
        born = run.child.date_of_birth
        if born is None or episode.started_at is None or age_on(born, episode.started_at) >= self.age:
            return  # no date of birth, or already that age when the episode began: nothing to mark
        at = birthday(born, self.age)
        if episode.ended_at is not None and episode.ended_at <= at:
            return
        run.emit(rule, f"{episode.ref}:{rule.id}", episode, at)

    def vectorises(self) -> bool:
        """No: it reads the child's date of birth, which the column evaluator leaves to the per-child path."""
        return False
