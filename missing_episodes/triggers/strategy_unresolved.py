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

Judged per child only (it reads other rules' results and the child's case events), like ``outcome``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, ClassVar, Literal

from missing_episodes.triggers.base import (
    ChildRun,
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
        rules = [other for other in run.policy.active_rules
                 if other.action in self.considered and not isinstance(other.trigger, StrategyUnresolvedTrigger)]
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
        """None: it reads other rules' results and the child's case events (see the module docstring)."""
        return False

    def could_concern(self, children: pd.DataFrame, events: pd.Series) -> pd.Series:
        """Only children with the interview recorded can get the enquiry."""
        return children_with_event(children, events, self.event)

