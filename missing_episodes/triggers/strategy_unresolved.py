"""``strategy_unresolved``: a return home interview is closed for an episode that called for a strategy meeting to be
considered, and neither the meeting nor management oversight saying why none was needed is on record.

Wakefield s5: "When the Missing episode has triggered a requirement for consideration of a strategy meeting. The
person responsible for authorising the return home interview module will take steps to enquire if the meeting has
taken place, or that management oversight is added as to why one was not considered necessary at that time prior
to closing the module." The interview itself stays done (it was held: holding its record back would show it
overdue and chase the interviewer); the enquiry is an action of its own, on the episode, at the moment the
interview was recorded, closed by the meeting or the oversight.

"Triggered a requirement" is read from the policy itself: the rules whose action is one of ``considered`` (the
strategy meetings at 24 and 72 hours, for repeat episodes, for high risk) are evaluated for the child, and an
episode one of them fired for before the interview was recorded called for a meeting. A follow-up raised by the
interview itself (harm found: a strategy discussion) fires at the interview's own time and is not counted: it is
the interviewer's finding, not a requirement the authoriser must check.

It reads other rules' results (``reads_other_rules``: a child's run and the column evaluator both evaluate it
after every other rule). On columns it reads the column rules' actions only: a child some rule off the columns
could concern is evaluated per child, this rule included (``bulk.evaluate``).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, ClassVar, Literal

from missing_episodes.triggers.base import (
    ChildRun,
    EpisodeColumns,
    Fired,
    InScope,
    TriggerType,
    action_episode,
    applies,
    children_with_event,
    high_risk,
)

if TYPE_CHECKING:
    import pandas as pd

    from missing_episodes.policy import Rule


class StrategyUnresolvedTrigger(TriggerType):
    """The interview (``event``) recorded for an episode a ``considered`` action fired for, with none of
    ``resolved_by`` recorded for that episode by then: fires at the interview's record, once per episode."""

    type: Literal["strategy_unresolved"]
    reads_other_rules: ClassVar[bool] = True  # the ``considered`` rules' actions
    # The event that closes the interview (the module the authoriser signs off).
    event: str = "rhi_completed"
    # Action kinds whose firing means a strategy meeting was to be considered.
    considered: list[str] = ["strategy_meeting"]
    # What answers the enquiry: the meeting held, or a manager's recorded reason for not holding one.
    resolved_by: list[str] = ["strategy_meeting_held", "strategy_meeting_not_required",
                              "management_oversight_recorded"]

    def evaluate(self, rule: Rule, run: ChildRun) -> None:
        if not any(o.event == self.event for o in run.outcomes):
            return  # no interview recorded: nothing to sign off (and the strategy rules are not run again)
        called = self._called_for(run)
        resolved = self._resolved_at(run)
        checked: set[str] = set()
        for outcome in sorted(run.outcomes, key=lambda o: (o.recorded_at, o.event_id)):
            if outcome.event != self.event:
                continue
            episode = run.episode_of(outcome)
            if episode is None or episode.ref in checked or not applies(rule, run.child, episode, outcome.recorded_at):
                continue
            first = called.get(episode.ref)
            if first is None or first >= outcome.recorded_at:
                continue
            checked.add(episode.ref)  # the first interview record after the requirement is the one authorised
            answered = resolved.get(episode.ref)
            if answered is None or answered > outcome.recorded_at:
                run.emit(rule, f"{episode.ref}:{rule.id}", episode, outcome.recorded_at, high_risk=high_risk(episode))

    def _called_for(self, run: ChildRun) -> dict[str, datetime]:
        """Episode ref -> when the first ``considered`` action fired for it, from the policy's own rules: their
        actions in this run (a child's run evaluates this rule after the others, ``reads_other_rules``), else,
        when this trigger is evaluated on its own, run again here."""
        rules = [other for other in run.policy.active_rules if self._calls_for_a_meeting(other)]
        if all(other.id in run.evaluated for other in rules):
            ids = {other.id for other in rules}
            specs = [spec for spec in run.specs if spec.rule_id in ids]
        else:
            scratch = ChildRun(run.policy, run.child, run.episodes, run.outcomes, run.horizon)
            for other in rules:
                other.trigger.evaluate(other, scratch)
            specs = scratch.specs
        called: dict[str, datetime] = {}
        for spec in specs:
            ref = action_episode(spec, run)
            if ref is not None and (ref not in called or spec.trigger_at < called[ref]):
                called[ref] = spec.trigger_at
        return called

    def _calls_for_a_meeting(self, rule: Rule) -> bool:
        """A rule whose action means a strategy meeting was to be considered (``considered``; not an enquiry)."""
        return rule.action in self.considered and not isinstance(rule.trigger, StrategyUnresolvedTrigger)

    def _resolved_at(self, run: ChildRun) -> dict[str, datetime]:
        """Episode ref -> when the first of ``resolved_by`` about it was recorded (one pass over the events, not
        one per interview)."""
        first: dict[str, datetime] = {}
        for outcome in run.outcomes:
            episode = run.episode_of(outcome) if outcome.event in self.resolved_by else None
            if episode is not None and (episode.ref not in first or outcome.recorded_at < first[episode.ref]):
                first[episode.ref] = outcome.recorded_at
        return first

    def vectorises(self) -> bool:
        return True

    def fire_columns(self, scope: InScope, columns: EpisodeColumns) -> Fired:
        import pandas as pd

        parts = [part for rule, part in columns.fired if self._calls_for_a_meeting(rule)]
        events = columns.events[columns.events["row"] >= 0]
        if not any(len(part) for part in parts):  # no meeting called for: nothing to enquire about
            none = columns.episodes.iloc[[]]
            return Fired(none, events["recorded_at"].iloc[[]], pd.Series([], dtype=bool))
        called = pd.concat(parts).groupby("episode_ref")["trigger_at"].min()
        resolved = events[events["event"].isin(self.resolved_by)].groupby("row")["recorded_at"].min()
        interviews = events[events["event"] == self.event]
        interviews = interviews[scope.at_instants(interviews["row"], interviews["recorded_at"], columns)]
        refs = columns.episodes["ref"].to_numpy()[interviews["row"].to_numpy()]
        first = pd.Series(called.reindex(refs).array, index=interviews.index)
        # The first interview record after the requirement, per episode, is the one authorised.
        interviews = interviews[first.notna() & (first < interviews["recorded_at"])].drop_duplicates("row")
        answered = pd.Series(resolved.reindex(interviews["row"]).array, index=interviews.index)
        interviews = interviews[answered.isna() | (answered > interviews["recorded_at"])]
        rows = interviews["row"].to_numpy()
        return Fired(columns.episodes.iloc[rows], interviews["recorded_at"],
                     pd.Series(columns.last_high.to_numpy()[rows], index=interviews.index))

    def could_concern(self, children: pd.DataFrame, events: pd.Series) -> pd.Series:
        """Only children with the interview recorded can get the enquiry."""
        return children_with_event(children, events, self.event)

