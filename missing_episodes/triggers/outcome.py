"""``outcome``: a case event (``media_interest``, ``assessed_missing`` ...) recorded for the child.

An action at the event itself is evaluated on columns too: the column evaluator finds each event's episode as a
child's run does (``EpisodeColumns.events``). A repeating or on-return rule is judged per child only: when the
child next returned is read across the child's whole history of episodes and events; ``could_concern`` narrows
the bulk path's per-child fallback to the children who have the event.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from missing_episodes.offsets import Offset, apply_offset
from missing_episodes.triggers.base import (
    ChildRun,
    EpisodeColumns,
    Fired,
    InScope,
    TriggerType,
    applies,
    children_with_event,
    high_risk,
)

if TYPE_CHECKING:
    import pandas as pd

    from missing_episodes.facts import EpisodeFacts, OutcomeFacts
    from missing_episodes.policy import Rule


class OutcomeTrigger(TriggerType):
    """A case event (``media_interest``, ``assessed_missing`` ...) recorded for the child."""

    type: Literal["outcome"]
    event: str
    # Repeat every ``every`` until the child returns (``returned`` outcome or a police ``found``).
    every: Offset | None = None
    # Fire at the child's return after this event, rather than at the event itself.
    on_return: bool = False

    def evaluate(self, rule: Rule, run: ChildRun) -> None:
        # A repeating or on-return rule follows a period: from the event to the child's return. The same event
        # recorded again before that return (a second ``assessed_missing`` while still missing) is the same period,
        # so it starts no second schedule and no second return duty.
        running = False  # a period is running
        returned: datetime | None = None  # the return that ends it (None: not yet)
        for outcome in sorted(run.outcomes, key=lambda o: (o.recorded_at, o.event_id)):
            if outcome.event != self.event:
                continue
            if running and (returned is None or outcome.recorded_at < returned):
                continue
            episode = run.episode_of(outcome) if rule.applies_to.episode_kinds else None
            if rule.applies_to.episode_kinds and episode is None:
                continue
            if not applies(rule, run.child, episode, outcome.recorded_at):
                continue
            base = f"{run.child.ref}:{rule.id}:{outcome.event_id}"
            high = outcome.risk_level == "high" or high_risk(episode)
            if not self.on_return and self.every is None:
                run.emit(rule, base, episode, outcome.recorded_at, high_risk=high)
                continue
            returned = return_after(outcome.recorded_at, run.episodes, run.outcomes)
            running = True
            if self.on_return:
                if returned is not None:
                    run.emit(rule, base, episode, returned, high_risk=high)
                continue
            occurrence = 1
            while True:
                at = apply_offset(outcome.recorded_at, self.every, occurrence)
                if (returned is not None and returned <= at) or at > run.horizon:
                    break
                run.emit(rule, f"{base}#{occurrence}", episode, at, high_risk=high)
                occurrence += 1

    def vectorises(self) -> bool:
        """An action at the event itself: a repeating or on-return one is judged per child (the module docstring)."""
        return self.every is None and not self.on_return

    def fire_columns(self, scope: InScope, columns: EpisodeColumns) -> Fired:
        events = columns.events
        chosen = events[(events["event"] == self.event) & (events["row"] >= 0)]
        chosen = chosen[scope.at_instants(chosen["row"], chosen["recorded_at"], columns)]
        rows = chosen["row"].to_numpy()
        high = (chosen["risk_level"] == "high") | columns.last_high.to_numpy()[rows]
        return Fired(columns.episodes.iloc[rows], chosen["recorded_at"], high, key_head=chosen["child_ref"],
                     key_tail=":" + chosen["event_id"])

    def could_concern(self, children: pd.DataFrame, events: pd.Series) -> pd.Series:
        """Only children with this case event recorded can get an action from it."""
        return children_with_event(children, events, self.event)


def return_after(moment: datetime, episodes: list[EpisodeFacts], outcomes: list[OutcomeFacts]) -> datetime | None:
    """The child's return after ``moment``: a ``returned`` case event or a police return, whichever is first.

    Public because the care leavers' list (``reports.care_leavers``) ends a missing period exactly where the
    rules stop the weekly reviews and fire the return duties."""
    times = [o.recorded_at for o in outcomes if o.event == "returned" and o.recorded_at > moment]
    times += [e.ended_at for e in episodes if e.ended_at is not None and e.ended_at > moment]
    return min(times) if times else None
